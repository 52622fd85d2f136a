// Forwarding to the primary: net/http/httputil's ReverseProxy over a keep-alive pool.
package main

import (
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"time"
)

const (
	// upstreamDialTimeout: the primary is on the same host, so a dial either succeeds
	// at once or the primary is down; answer 502 quickly rather than hang.
	upstreamDialTimeout = 1 * time.Second
	// upstreamIdlePoolSize covers the load generator's concurrency (≥ 64) with room to spare.
	upstreamIdlePoolSize = 256
	// upstreamIdleTimeout stays below uvicorn's 5 s keep-alive timeout, so a pooled
	// connection is never one the primary is closing (a POST on it could not be retried).
	upstreamIdleTimeout = 4 * time.Second
	// copyBufferBytes is the chunk size bodies are streamed in, both directions.
	copyBufferBytes = 32 << 10
)

// forwardedHeaders are the ones ReverseProxy drops before Rewrite; a transparent proxy keeps them.
var forwardedHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"}

func newUpstreamTransport() *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: upstreamDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        upstreamIdlePoolSize,
		MaxIdleConnsPerHost: upstreamIdlePoolSize,
		IdleConnTimeout:     upstreamIdleTimeout,
		// Bodies pass as they are: no Accept-Encoding added, no transparent gunzip.
		DisableCompression: true,
		WriteBufferSize:    copyBufferBytes,
		ReadBufferSize:     copyBufferBytes,
		// No ForceAttemptHTTP2 and a custom dialer: HTTP/1.1 only, like the primary.
	}
}

func newProxy(upstreamAddr string) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// Only the destination changes; the Host header, path and query stay as the client sent them.
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = upstreamAddr
			for _, name := range forwardedHeaders {
				if values, ok := pr.In.Header[name]; ok {
					pr.Out.Header[name] = append([]string(nil), values...)
				}
			}
		},
		Transport: newUpstreamTransport(),
		// -1: flush after every write, so token streams (text/event-stream) reach the
		// client chunk by chunk instead of waiting in a buffer.
		FlushInterval: -1,
		BufferPool:    &copyBufferPool{},
		ErrorHandler:  upstreamError,
	}
}

// upstreamError answers 502 {"error": "..."} when the primary cannot be reached or fails mid-request.
func upstreamError(w http.ResponseWriter, _ *http.Request, err error) {
	body := jsonBody(map[string]string{"error": "upstream unavailable: " + err.Error()})
	writeJSON(w, http.StatusBadGateway, body)
}

// copyBufferPool reuses the 32 KiB copy buffers instead of allocating two per request.
type copyBufferPool struct{ pool sync.Pool }

func (p *copyBufferPool) Get() []byte {
	if buf, ok := p.pool.Get().(*[]byte); ok {
		return *buf
	}
	return make([]byte, copyBufferBytes)
}

func (p *copyBufferPool) Put(buf []byte) { p.pool.Put(&buf) }
