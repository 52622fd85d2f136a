// Which handler answers what, on the two ports.
package main

import (
	"net/http"
	"sync/atomic"
)

// ingressHandler sends enabled fault triggers to request-guard itself and everything
// else to the primary. Not a ServeMux: ServeMux cleans paths and redirects, and a proxy
// must forward "//a/../b" exactly as the client wrote it.
func ingressHandler(proxy http.Handler, faults *faultTriggers) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if faults.handles(r) {
			faults.ServeHTTP(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	})
}

// adminHandler serves the runtime's probe and the scraper. /ready is not guarded:
// probing the sidecar is infrastructure, not traffic, and would flood the audit log.
// /metrics goes through the guard like on the in-process integrations (exempt from the
// key, but counted and logged), so a scrape costs every arm the same.
func adminHandler(guard *requestGuard, stats *metrics, draining *atomic.Bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("draining\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", guard.wrap(stats))
	return mux
}
