// The audit log: one JSON line per request on stdout, once its response has been sent.
package main

import (
	"bytes"
	"encoding/json"
	"io"
	"sync"
	"time"
)

// auditTimeLayout is RFC 3339 in UTC with exactly six fractional digits (microseconds).
const auditTimeLayout = "2006-01-02T15:04:05.000000Z"

// auditLine has the contract's keys in the contract's order (encoding/json keeps field order).
type auditLine struct {
	TS          string `json:"ts"`
	Aux         string `json:"aux"`
	Integration string `json:"integration"`
	PID         int    `json:"pid"`
	Method      string `json:"method"`
	Path        string `json:"path"`
	Status      int    `json:"status"`
	DurationUS  int64  `json:"duration_us"`
	BytesIn     int64  `json:"bytes_in"`
	BytesOut    int64  `json:"bytes_out"`
	APIKey      string `json:"api_key"`
	RequestID   string `json:"request_id"`
}

type auditLog struct {
	mu  sync.Mutex
	out io.Writer
	pid int
	now func() time.Time
}

func newAuditLog(out io.Writer, pid int) *auditLog {
	return &auditLog{out: out, pid: pid, now: time.Now}
}

// write fills in the per-process keys and emits the line with a single Write: no
// buffering (a log shipper sees the line at once), and lines never interleave.
func (a *auditLog) write(line auditLine) {
	line.TS = a.now().UTC().Format(auditTimeLayout)
	line.Aux = "request-guard"
	line.Integration = integration
	line.PID = a.pid
	encoded := jsonLine(line)
	a.mu.Lock()
	defer a.mu.Unlock()
	// A closed or broken stdout (the log shipper died) must not fail requests.
	_, _ = a.out.Write(encoded)
}

// jsonLine encodes v as one line of JSON ending in "\n". No HTML escaping: paths and
// messages keep their "<", ">" and "&" as the Python integrations (orjson) write them.
func jsonLine(v any) []byte {
	var out bytes.Buffer
	encoder := json.NewEncoder(&out)
	encoder.SetEscapeHTML(false)
	_ = encoder.Encode(v) // strings, numbers and string maps only: cannot fail
	return out.Bytes()
}

// jsonBody is jsonLine without the newline, for response bodies.
func jsonBody(v any) []byte {
	return bytes.TrimSuffix(jsonLine(v), []byte("\n"))
}
