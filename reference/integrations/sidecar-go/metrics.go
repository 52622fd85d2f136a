// Prometheus metrics of request-guard, rendered in the text exposition format 0.0.4.
//
// Hand-written rather than client_golang: this sidecar uses the standard library only,
// by design of the comparison (an offline build in seconds, and the cost measured is the
// function's, not a metrics framework's). Three metric families need ~100 lines.
package main

import (
	"bytes"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// durationBucketsSeconds are the contract's upper bounds; +Inf is implicit.
var durationBucketsSeconds = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

const exposition004ContentType = "text/plain; version=0.0.4; charset=utf-8"

type buildInfo struct {
	integration, language, runtime, version string
	pid                                     int
}

type requestKey struct {
	method string
	code   int
}

type metrics struct {
	mu       sync.Mutex
	requests map[requestKey]uint64
	// bucketHits[i] counts observations in (bounds[i-1], bounds[i]]; the last slot is +Inf.
	// Kept per bucket and made cumulative only when rendering, so observe touches one slot.
	bucketHits      []uint64
	durationSumSecs float64
	durationCount   uint64
	buildInfoSample string
}

func newMetrics(info buildInfo) *metrics {
	return &metrics{
		requests:   make(map[requestKey]uint64),
		bucketHits: make([]uint64, len(durationBucketsSeconds)+1),
		buildInfoSample: "aux_build_info{" +
			label("integration", info.integration) + "," +
			label("language", info.language) + "," +
			label("runtime", info.runtime) + "," +
			label("version", info.version) + "," +
			label("pid", strconv.Itoa(info.pid)) + "} 1\n",
	}
}

func (m *metrics) observe(method string, code int, duration time.Duration) {
	seconds := duration.Seconds()
	bucket := sort.SearchFloat64s(durationBucketsSeconds, seconds) // first bound ≥ seconds: le is inclusive
	m.mu.Lock()
	m.requests[requestKey{method, code}]++
	m.bucketHits[bucket]++
	m.durationSumSecs += seconds
	m.durationCount++
	m.mu.Unlock()
}

// render returns the exposition text; series are sorted so scrapes diff cleanly.
func (m *metrics) render() []byte {
	type series struct {
		requestKey
		count uint64
	}
	m.mu.Lock()
	requests := make([]series, 0, len(m.requests))
	for key, n := range m.requests {
		requests = append(requests, series{key, n})
	}
	hits := append([]uint64(nil), m.bucketHits...)
	sum, count := m.durationSumSecs, m.durationCount
	m.mu.Unlock()

	sort.Slice(requests, func(i, j int) bool {
		if requests[i].method != requests[j].method {
			return requests[i].method < requests[j].method
		}
		return requests[i].code < requests[j].code
	})
	var out bytes.Buffer
	out.WriteString("# HELP aux_requests_total Requests handled by request-guard, by method and response status.\n")
	out.WriteString("# TYPE aux_requests_total counter\n")
	for _, s := range requests {
		out.WriteString("aux_requests_total{" + label("method", s.method) + "," + label("code", strconv.Itoa(s.code)) + "} ")
		out.WriteString(strconv.FormatUint(s.count, 10) + "\n")
	}
	out.WriteString("# HELP aux_request_duration_seconds Time from receiving a request to having sent its response.\n")
	out.WriteString("# TYPE aux_request_duration_seconds histogram\n")
	var cumulative uint64
	for i, hit := range hits {
		cumulative += hit
		le := "+Inf"
		if i < len(durationBucketsSeconds) {
			le = strconv.FormatFloat(durationBucketsSeconds[i], 'g', -1, 64)
		}
		out.WriteString("aux_request_duration_seconds_bucket{" + label("le", le) + "} " + strconv.FormatUint(cumulative, 10) + "\n")
	}
	out.WriteString("aux_request_duration_seconds_sum " + strconv.FormatFloat(sum, 'g', -1, 64) + "\n")
	out.WriteString("aux_request_duration_seconds_count " + strconv.FormatUint(count, 10) + "\n")
	out.WriteString("# HELP aux_build_info request-guard build: integration, language, runtime, version and process id; always 1.\n")
	out.WriteString("# TYPE aux_build_info gauge\n")
	out.WriteString(m.buildInfoSample)
	return out.Bytes()
}

func (m *metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	body := m.render()
	w.Header().Set("Content-Type", exposition004ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// labelEscaper applies the exposition format's escapes for label values.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func label(name, value string) string {
	return name + `="` + labelEscaper.Replace(value) + `"`
}
