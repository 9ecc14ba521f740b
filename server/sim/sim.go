// Package sim serves the emulator-only endpoints under /_pushsim/: things a
// real Verify service does not have but a simulator's users need.
package sim

import "net/http"

// Mount registers the emulator endpoints on mux.
func Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /_pushsim/health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
}
