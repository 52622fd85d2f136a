package main

import (
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestExpositionText(t *testing.T) {
	stats := newMetrics(buildInfo{integration: "sidecar", language: "go", runtime: "go1.26.8", version: "1.0.0", pid: 77})
	durations := []time.Duration{
		300 * time.Microsecond, // ≤ 0.0005
		500 * time.Microsecond, // exactly on a bound: le is inclusive
		3 * time.Millisecond,   // ≤ 0.005
		700 * time.Millisecond, // ≤ 1
		4 * time.Second,        // +Inf only
	}
	for i, d := range durations {
		code := 200
		if i == 4 {
			code = 502
		}
		stats.observe("POST", code, d)
	}
	stats.observe("GET", 200, time.Millisecond)

	w := httptest.NewRecorder()
	stats.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if ct := w.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	text := w.Body.String()
	if !strings.HasSuffix(text, "\n") {
		t.Error("exposition must end with a newline")
	}
	samples, types := parseExposition(t, text)
	for name, kind := range map[string]string{"aux_requests_total": "counter", "aux_request_duration_seconds": "histogram", "aux_build_info": "gauge"} {
		if types[name] != kind {
			t.Errorf("TYPE %s = %q, want %s", name, types[name], kind)
		}
	}
	if got := find(t, samples, "aux_requests_total", map[string]string{"method": "POST", "code": "200"}); got != 4 {
		t.Errorf("POST 200 = %v", got)
	}
	if got := find(t, samples, "aux_requests_total", map[string]string{"method": "POST", "code": "502"}); got != 1 {
		t.Errorf("POST 502 = %v", got)
	}
	wantCumulative := map[string]float64{
		"0.0005": 2, "0.001": 3, "0.0025": 3, "0.005": 4, "0.01": 4, "0.025": 4, "0.05": 4,
		"0.1": 4, "0.25": 4, "0.5": 4, "1": 5, "2.5": 5, "+Inf": 6,
	}
	var les []string
	previous := -1.0
	for _, s := range samples {
		if s.name != "aux_request_duration_seconds_bucket" {
			continue
		}
		le := s.labels["le"]
		les = append(les, le)
		if s.value < previous {
			t.Errorf("bucket le=%s (%v) below the previous one (%v): not cumulative", le, s.value, previous)
		}
		previous = s.value
		if s.value != wantCumulative[le] {
			t.Errorf("bucket le=%s = %v, want %v", le, s.value, wantCumulative[le])
		}
	}
	if strings.Join(les, ",") != "0.0005,0.001,0.0025,0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,+Inf" {
		t.Errorf("bucket bounds %v", les)
	}
	if got := find(t, samples, "aux_request_duration_seconds_count", map[string]string{}); got != 6 {
		t.Errorf("_count = %v", got)
	}
	if got := find(t, samples, "aux_request_duration_seconds_sum", map[string]string{}); math.Abs(got-4.7048) > 1e-9 {
		t.Errorf("_sum = %v, want 4.7048", got)
	}
	info := map[string]string{"integration": "sidecar", "language": "go", "runtime": "go1.26.8", "version": "1.0.0", "pid": "77"}
	if got := find(t, samples, "aux_build_info", info); got != 1 {
		t.Errorf("aux_build_info = %v", got)
	}
	if !strings.Contains(text, `aux_build_info{integration="sidecar",language="go",runtime="go1.26.8",version="1.0.0",pid="77"} 1`+"\n") {
		t.Error("aux_build_info labels not in the contract's order")
	}
}

func TestLabelEscaping(t *testing.T) {
	if got := label("v", "a\"b\\c\nd"); got != `v="a\"b\\c\nd"` {
		t.Errorf("label = %s", got)
	}
}
