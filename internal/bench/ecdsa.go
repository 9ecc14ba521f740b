package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"runtime"
	"sync"
	"time"
)

// measureECDSA runs P-256 signatures, then verifications, on every CPU
// for d each and returns their rates per second: the machine's ceiling for
// work that is mostly signatures.
func measureECDSA(ctx context.Context, d time.Duration) (signsPerS, verifiesPerS float64) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	digest := sha256.Sum256([]byte("pushsim bench"))
	sig, _ := ecdsa.SignASN1(rand.Reader, key, digest[:])
	rate := func(op func()) float64 {
		var wg sync.WaitGroup
		counts := make([]int, cpusUsed())
		deadline := time.Now().Add(d)
		start := time.Now()
		for w := range counts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) && ctx.Err() == nil {
					op()
					counts[w]++
				}
			}()
		}
		wg.Wait()
		total := 0
		for _, n := range counts {
			total += n
		}
		return float64(total) / time.Since(start).Seconds()
	}
	signsPerS = rate(func() { ecdsa.SignASN1(rand.Reader, key, digest[:]) })
	verifiesPerS = rate(func() { ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) })
	return signsPerS, verifiesPerS
}

// cpusUsed is how many CPUs the process can keep busy: the ECDSA rates
// are measured with one signer on each, as more goroutines than CPUs
// (GOMAXPROCS set above them) would only take turns.
func cpusUsed() int { return min(runtime.GOMAXPROCS(0), runtime.NumCPU()) }

// cryptoBound is the approvals per second that signatures alone allow: an
// approval costs the phone 4 signatures (3 device tokens, 1 answer) and
// the server 4 verifications.
func cryptoBound(signsPerS, verifiesPerS float64) float64 {
	if signsPerS <= 0 || verifiesPerS <= 0 {
		return 0
	}
	return 1 / (4/signsPerS + 4/verifiesPerS)
}
