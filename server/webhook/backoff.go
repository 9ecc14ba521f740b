package webhook

import "time"

// DefaultMaxAttempts is how many attempts a delivery gets before it is
// recorded as failed: with Backoff's schedule that spans about two minutes.
const DefaultMaxAttempts = 8

const (
	firstRetryWait = time.Second
	maxRetryWait   = 5 * time.Minute
)

// Backoff is the wait after the n-th failed attempt (n from 1): 1s, 2s, 4s,
// … doubling, capped at 5 minutes. It has no jitter so that retry times are
// predictable in tests and in the request log; deliveries to one receiver
// are spread out anyway by their different creation times.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	d := firstRetryWait
	for i := 1; i < n; i++ {
		d *= 2
		if d >= maxRetryWait {
			return maxRetryWait
		}
	}
	return d
}
