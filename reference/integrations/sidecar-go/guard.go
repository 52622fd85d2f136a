// The request-guard function itself: the API-key check in front of every request, and
// the per-request bookkeeping (metrics, audit line) once the response is on the wire.
package main

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"
)

// keyVerdict is the api_key value of the audit line.
type keyVerdict string

const (
	keyOK      keyVerdict = "ok"
	keyMissing keyVerdict = "missing"
	keyInvalid keyVerdict = "invalid"
	keyExempt  keyVerdict = "exempt"
)

// apiKeyHeader is matched case-insensitively (net/http canonicalises header names).
const apiKeyHeader = "X-Api-Key"

// unauthorizedBody is byte-for-byte the contract's, so every integration answers alike.
var unauthorizedBody = []byte(`{"error":"missing or invalid API key"}`)

// exemptPaths need no key: probes and scrapers carry none. GET only.
var exemptPaths = map[string]bool{
	"/v2/health/live":  true,
	"/v2/health/ready": true,
	"/metrics":         true,
}

type apiKeyCheck struct{ key []byte }

func newAPIKeyCheck(key string) apiKeyCheck { return apiKeyCheck{key: []byte(key)} }

func (c apiKeyCheck) verdict(r *http.Request) keyVerdict {
	if r.Method == http.MethodGet && exemptPaths[r.URL.Path] {
		return keyExempt
	}
	given := r.Header.Get(apiKeyHeader)
	if given == "" {
		return keyMissing
	}
	// Constant time, so response timing does not reveal how much of a guess was right.
	if subtle.ConstantTimeCompare([]byte(given), c.key) != 1 {
		return keyInvalid
	}
	return keyOK
}

type requestGuard struct {
	keys    apiKeyCheck
	metrics *metrics
	audit   *auditLog
}

// wrap puts the guard in front of next: rejected requests get 401 and never reach it;
// every request, rejected or not, is counted and logged after its response is sent.
func (g *requestGuard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		wire := &wireRecorder{ResponseWriter: w}
		body := newCountingBody(r.Body, r.ContentLength)
		r.Body = body
		verdict := g.keys.verdict(r)
		defer func() {
			// ReverseProxy aborts with a panic (http.ErrAbortHandler) when a stream breaks
			// mid-body; that request is still counted and logged, then the panic goes on
			// so net/http drops the connection as it should.
			aborted := recover()
			if aborted == nil && wire.status != 0 {
				// Push the buffered tail out now, so duration_us covers the whole answer.
				wire.Flush()
			}
			g.record(r, wire, body.bytesRead.Load(), verdict, time.Since(start))
			if aborted != nil {
				panic(aborted)
			}
		}()
		if verdict == keyMissing || verdict == keyInvalid {
			writeJSON(wire, http.StatusUnauthorized, unauthorizedBody)
			return
		}
		next.ServeHTTP(wire, r)
	})
}

func (g *requestGuard) record(r *http.Request, wire *wireRecorder, bytesIn int64, verdict keyVerdict, duration time.Duration) {
	status := wire.statusSent()
	g.metrics.observe(r.Method, status, duration)
	g.audit.write(auditLine{
		Method:     r.Method,
		Path:       r.URL.Path,
		Status:     status,
		DurationUS: duration.Microseconds(),
		BytesIn:    bytesIn,
		BytesOut:   wire.bytesOut,
		APIKey:     string(verdict),
		RequestID:  r.Header.Get("X-Request-Id"),
	})
}

// writeJSON answers with a complete JSON body; Content-Length keeps the framing
// identical whether or not the guard flushes before net/http finishes the response.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	header := w.Header()
	header.Set("Content-Type", "application/json")
	header.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
