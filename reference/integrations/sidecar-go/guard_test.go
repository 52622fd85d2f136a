package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestKeyVerdict(t *testing.T) {
	check := newAPIKeyCheck(testKey)
	cases := []struct {
		name, method, path, key string
		sendKey                 bool
		want                    keyVerdict
	}{
		{"no header", "POST", "/v2/models/mlp/infer", "", false, keyMissing},
		{"empty header", "POST", "/v2/models/mlp/infer", "", true, keyMissing},
		{"wrong key", "POST", "/v2/models/mlp/infer", "test-kex", true, keyInvalid},
		{"prefix of the key", "POST", "/v2/models/mlp/infer", "test", true, keyInvalid},
		{"right key", "POST", "/v2/models/mlp/infer", testKey, true, keyOK},
		{"live probe", "GET", "/v2/health/live", "", false, keyExempt},
		{"ready probe", "GET", "/v2/health/ready", "", false, keyExempt},
		{"scrape", "GET", "/metrics", "", false, keyExempt},
		{"exempt even with a wrong key", "GET", "/metrics", "nope", true, keyExempt},
		{"exempt paths are GET only", "POST", "/v2/health/ready", "", false, keyMissing},
		{"HEAD is not GET", "HEAD", "/v2/health/live", "", false, keyMissing},
		{"no prefix matching", "GET", "/v2/health/live/x", "", false, keyMissing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, c.path, nil)
			if c.sendKey {
				r.Header.Set("x-api-key", c.key)
			}
			if got := check.verdict(r); got != c.want {
				t.Errorf("verdict = %q, want %q", got, c.want)
			}
		})
	}
}

func TestGuardRejectsBeforeTheModel(t *testing.T) {
	guard, out := newTestGuard()
	reached := 0
	handler := guard.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		_, _ = io.WriteString(w, "model")
	}))
	for _, key := range []string{"", "wrong"} {
		r := httptest.NewRequest("POST", "/v2/models/mlp/infer", strings.NewReader(`{"inputs":[]}`))
		if key != "" {
			r.Header.Set("X-API-Key", key)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		if w.Code != 401 || w.Header().Get("Content-Type") != "application/json" || w.Body.String() != `{"error":"missing or invalid API key"}` {
			t.Errorf("key %q: got %d %q %q", key, w.Code, w.Header().Get("Content-Type"), w.Body.String())
		}
	}
	if reached != 0 {
		t.Fatalf("rejected requests reached the model %d times", reached)
	}
	for _, path := range []string{"/v2/health/ready", "/v2/models/mlp"} {
		r := httptest.NewRequest("GET", path, nil)
		if path != "/v2/health/ready" {
			r.Header.Set("x-api-key", testKey)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		if w.Code != 200 || w.Body.String() != "model" {
			t.Errorf("%s: got %d %q", path, w.Code, w.Body.String())
		}
	}
	lines := auditLines(t, out)
	want := []string{"missing", "invalid", "exempt", "ok"}
	if len(lines) != len(want) {
		t.Fatalf("got %d audit lines, want %d", len(lines), len(want))
	}
	for i, line := range lines {
		if line["api_key"] != want[i] {
			t.Errorf("line %d: api_key %v, want %s", i, line["api_key"], want[i])
		}
	}
	if lines[0]["status"] != float64(401) || lines[0]["bytes_out"] != float64(len(unauthorizedBody)) || lines[0]["bytes_in"] != float64(0) {
		t.Errorf("401 line: %v", lines[0])
	}
	samples, _ := parseExposition(t, string(guard.metrics.render()))
	if got := find(t, samples, "aux_requests_total", map[string]string{"method": "POST", "code": "401"}); got != 2 {
		t.Errorf("POST 401 count = %v, want 2", got)
	}
	if got := find(t, samples, "aux_requests_total", map[string]string{"method": "GET", "code": "200"}); got != 2 {
		t.Errorf("GET 200 count = %v, want 2", got)
	}
}
