package device

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckServer(t *testing.T) {
	ctx := context.Background()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_pushsim/health" {
			http.NotFound(w, r)
		}
	}))
	defer up.Close()
	if err := CheckServer(ctx, nil, up.URL+"/"); err != nil {
		t.Fatalf("a healthy server: %v", err)
	}

	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	err := CheckServer(ctx, nil, other.URL)
	var down *UnreachableError
	if err == nil || errors.As(err, &down) || !strings.Contains(err.Error(), "404") {
		t.Fatalf("a server that is not pushsim: %v", err)
	}

	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	err = CheckServer(ctx, nil, gone.URL)
	if !errors.As(err, &down) || down.URL != gone.URL {
		t.Fatalf("nothing listening: %#v", err)
	}
	// The cause is the network's own words, without the request line.
	if cause := down.Err.Error(); !strings.Contains(cause, "connection refused") || strings.Contains(cause, "GET") {
		t.Fatalf("cause %q", cause)
	}
}
