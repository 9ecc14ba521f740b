package workshop

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// enrollOnlyAs is a workshop phone's network: it lets the phone enroll
// under its owner's name and no other. The phone's enrolment screen takes
// any identity, and a server on loopback hands an access token to anyone
// who asks, so without this an attendee could enroll a factor for someone
// else's name from their own phone and approve that person's sign-ins.
type enrollOnlyAs struct {
	name        string
	accessToken *url.URL // the backend's enrolment endpoint
	next        http.RoundTripper
}

func (g enrollOnlyAs) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || !sameEndpoint(req.URL, g.accessToken) {
		return g.next.RoundTrip(req)
	}
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(req.Body, 1<<20))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("identity") != g.name {
		return nil, fmt.Errorf("this workshop phone enrolls only as %q, the name your SSH key owns", g.name)
	}
	// The body was read to check it; the request goes on with a copy.
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	out.ContentLength = int64(len(body))
	return g.next.RoundTrip(out)
}

func sameEndpoint(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host && a.Path == b.Path
}
