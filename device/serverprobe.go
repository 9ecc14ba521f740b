package device

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// UnreachableError says nothing answered at a server's address. Err is the
// network's reason, kept whole ("dial tcp 127.0.0.1:4010: connect:
// connection refused"), so a message built on it can say what to do and
// still show why.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return "nothing answers at " + e.URL + ": " + e.Err.Error()
}
func (e *UnreachableError) Unwrap() error { return e.Err }

// probeTimeout bounds CheckServer when ctx has no earlier deadline: a
// server that is there answers its health check at once.
const probeTimeout = 5 * time.Second

// CheckServer asks the pushsim server at serverURL whether it is up, with
// GET /_pushsim/health. It returns an *UnreachableError when nothing
// answers, and another error when something answers but not as a pushsim
// server that is ready.
func CheckServer(ctx context.Context, client *http.Client, serverURL string) error {
	if client == nil {
		client = http.DefaultClient
	}
	base := strings.TrimRight(serverURL, "/")
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_pushsim/health", nil)
	if err != nil {
		return fmt.Errorf("server URL %q: %w", serverURL, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return &UnreachableError{URL: base, Err: networkCause(err)}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s is not a pushsim server that is ready: GET /_pushsim/health answered %s", base, resp.Status)
	}
	return nil
}

// networkCause is the part of a request's failure that says what the
// network did, without the request line the caller already names.
func networkCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns
	}
	var u *url.Error
	if errors.As(err, &u) {
		return u.Err
	}
	return err
}
