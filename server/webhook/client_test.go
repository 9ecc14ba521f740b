package webhook

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	twilio "github.com/twilio/twilio-go/client"
)

func url1() url.Values { return url.Values{"type": {"factor.verified"}} }

func TestPostSendsSignedForm(t *testing.T) {
	type seen struct {
		method, ctype, sig, idem, ua string
		form                         url.Values
	}
	got := make(chan seen, 1)
	srv, _ := loopbackReceiver(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got <- seen{r.Method, r.Header.Get("Content-Type"), r.Header.Get("X-Twilio-Signature"),
			r.Header.Get("I-Twilio-Idempotency-Token"), r.UserAgent(), r.PostForm}
		w.WriteHeader(http.StatusNoContent)
	}))
	hook := srv.URL + "/hooks/verify?tenant=7"
	c := NewClient(ClientConfig{Policy: Dev})
	params := verifyEvent()
	a := c.Post(context.Background(), Request{URL: hook, AuthToken: "tok", IdempotencyToken: "idem-1", Params: params})
	if !a.OK() || a.Status != http.StatusNoContent || a.Err != "" || a.At.IsZero() {
		t.Fatalf("attempt %+v", a)
	}
	s := <-got
	if s.method != http.MethodPost || s.ctype != "application/x-www-form-urlencoded" {
		t.Fatalf("method %s, content type %s", s.method, s.ctype)
	}
	if s.form.Get("challenge_details") != params.Get("challenge_details") || len(s.form) != len(params) {
		t.Fatalf("form %v", s.form)
	}
	v := twilio.NewRequestValidator("tok")
	if !v.Validate(hook, flat(s.form), s.sig) {
		t.Fatal("received signature does not validate with twilio-go")
	}
	if s.idem != "idem-1" || !strings.Contains(s.ua, "pushsim") {
		t.Fatalf("idempotency %q, user agent %q", s.idem, s.ua)
	}
}

func TestPostFailures(t *testing.T) {
	var redirectTargetHits atomic.Int32
	release := make(chan struct{})
	defer close(release)
	srv, _ := loopbackReceiver(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/target", http.StatusTemporaryRedirect)
		case "/target":
			redirectTargetHits.Add(1)
		case "/error":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/slow":
			<-release
		case "/huge":
			w.Write([]byte(strings.Repeat("x", 1<<20)))
		}
	}))
	c := NewClient(ClientConfig{Policy: Dev, Timeout: 200 * time.Millisecond})
	post := func(path string) Attempt {
		return c.Post(context.Background(), Request{URL: srv.URL + path, AuthToken: "t", IdempotencyToken: "u", Params: url1()})
	}

	if a := post("/redirect"); a.OK() || a.Status != http.StatusTemporaryRedirect || !strings.Contains(a.Err, "redirect") {
		t.Errorf("redirect: %+v", a)
	}
	if n := redirectTargetHits.Load(); n != 0 {
		t.Errorf("redirect followed %d times", n)
	}
	if a := post("/error"); a.OK() || a.Status != http.StatusInternalServerError || a.Err == "" {
		t.Errorf("500: %+v", a)
	}
	if a := post("/slow"); a.OK() || a.Status != 0 || a.Err == "" {
		t.Errorf("timeout: %+v", a)
	}
	if a := post("/huge"); !a.OK() {
		t.Errorf("large body: %+v", a)
	}
	if a := c.Post(context.Background(), Request{URL: "ftp://example.com/", Params: url1()}); a.OK() || !strings.Contains(a.Err, "scheme") {
		t.Errorf("ftp: %+v", a)
	}
}

func TestPostErrorDoesNotRepeatURL(t *testing.T) {
	c := NewClient(ClientConfig{Policy: Strict})
	a := c.Post(context.Background(), Request{URL: "http://127.0.0.1:1/hook?secret=s3cr3t", Params: url1()})
	if a.OK() || strings.Contains(a.Err, "s3cr3t") {
		t.Fatalf("attempt %+v", a)
	}
}

func TestResponseBodyReadIsCapped(t *testing.T) {
	const total = 64 << 20
	var written atomic.Int64
	srv, _ := loopbackReceiver(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 32<<10))
		for range total / len(chunk) {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	c := NewClient(ClientConfig{Policy: Dev})
	a := c.Post(context.Background(), Request{URL: srv.URL, Params: url1()})
	if !a.OK() {
		t.Fatalf("attempt %+v", a)
	}
	c.CloseIdleConnections()
	// Socket buffers absorb some of the rest, but nowhere near all of it.
	if n := written.Load(); n >= total {
		t.Fatalf("server wrote the whole %d bytes: the body was read to the end", n)
	}
}
