// What went over the wire for one request: the status the client got and the body
// bytes in each direction (headers excluded), for the metrics and the audit line.
package main

import (
	"io"
	"net/http"
	"sync/atomic"
)

// wireRecorder sits between the handler and net/http's ResponseWriter.
type wireRecorder struct {
	http.ResponseWriter
	status   int
	bytesOut int64
}

func (w *wireRecorder) WriteHeader(code int) {
	// 1xx (except 101) are interim answers that ReverseProxy relays; the final status comes later.
	interim := code >= 100 && code < 200 && code != http.StatusSwitchingProtocols
	if !interim && w.status == 0 {
		w.status = code
		// Without this, net/http would sniff and add a Content-Type the upstream never sent.
		if _, typed := w.Header()["Content-Type"]; !typed {
			w.Header()["Content-Type"] = nil
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *wireRecorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytesOut += int64(n)
	return n, err
}

// Flush lets ReverseProxy (FlushInterval -1) push each chunk of a stream immediately.
func (w *wireRecorder) Flush() { _ = w.FlushError() }

// FlushError is what http.ResponseController looks for first; errors mean the client left.
func (w *wireRecorder) FlushError() error {
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController (Hijack for upgrades, deadlines) the real writer.
func (w *wireRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusSent is the status line the client received; net/http sends 200 when a handler wrote nothing.
func (w *wireRecorder) statusSent() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// countingBody counts request body bytes as they are read, and ends a body of declared
// length by itself once that length has been read. The Transport reads once more after
// the declared length to check for EOF; if the primary has answered in between, net/http
// has already closed the inbound body, that read fails, and the Transport drops the
// upstream connection mid-response (golang/go#40747; seen here with 16 MiB bodies).
type countingBody struct {
	io.ReadCloser
	remaining int64        // bytes still to come; -1 when the length is not declared (chunked)
	bytesRead atomic.Int64 // atomic: the Transport reads in its own goroutine, which may outlive the handler
}

func newCountingBody(body io.ReadCloser, contentLength int64) *countingBody {
	return &countingBody{ReadCloser: body, remaining: contentLength}
}

func (b *countingBody) Read(p []byte) (int, error) {
	if b.remaining == 0 {
		return 0, io.EOF
	}
	if b.remaining > 0 && int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.ReadCloser.Read(p)
	b.bytesRead.Add(int64(n))
	if b.remaining > 0 {
		b.remaining -= int64(n)
	}
	return n, err
}
