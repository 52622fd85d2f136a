package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestAuditLineKeysAndFormat(t *testing.T) {
	var out bytes.Buffer
	log := newAuditLog(&out, 123)
	log.now = func() time.Time { return time.Date(2025, 3, 4, 5, 6, 7, 8_009_000, time.FixedZone("CET", 3600)) }
	log.write(auditLine{Method: "POST", Path: "/v2/models/mlp/infer", Status: 200, DurationUS: 812, BytesIn: 310, BytesOut: 181, APIKey: "ok", RequestID: "r-1"})
	want := `{"ts":"2025-03-04T04:06:07.008009Z","aux":"request-guard","integration":"sidecar","pid":123,"method":"POST","path":"/v2/models/mlp/infer","status":200,"duration_us":812,"bytes_in":310,"bytes_out":181,"api_key":"ok","request_id":"r-1"}` + "\n"
	if out.String() != want {
		t.Fatalf("got  %s\nwant %s", out.String(), want)
	}
}

func TestAuditLineHasExactlyTheContractKeys(t *testing.T) {
	var out bytes.Buffer
	newAuditLog(&out, 1).write(auditLine{Method: "GET", Path: "/", APIKey: "missing"})
	if strings.Count(out.String(), "\n") != 1 || !strings.HasSuffix(out.String(), "\n") {
		t.Fatalf("want one line ending in a newline, got %q", out.String())
	}
	var decoded map[string]any
	if err := json.Unmarshal(out.Bytes(), &decoded); err != nil {
		t.Fatal(err)
	}
	keys := []string{"ts", "aux", "integration", "pid", "method", "path", "status", "duration_us", "bytes_in", "bytes_out", "api_key", "request_id"}
	if len(decoded) != len(keys) {
		t.Errorf("got %d keys, want %d: %v", len(decoded), len(keys), decoded)
	}
	for _, key := range keys {
		if _, ok := decoded[key]; !ok {
			t.Errorf("missing key %q", key)
		}
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`).MatchString(decoded["ts"].(string)) {
		t.Errorf("ts %q is not RFC 3339 UTC with microseconds", decoded["ts"])
	}
	if decoded["request_id"] != "" {
		t.Errorf("request_id without x-request-id = %q, want empty", decoded["request_id"])
	}
}

func TestAuditLineKeepsHTMLCharacters(t *testing.T) {
	var out bytes.Buffer
	newAuditLog(&out, 1).write(auditLine{Method: "GET", Path: "/a<b>&c", APIKey: "ok"})
	if !strings.Contains(out.String(), `"path":"/a<b>&c"`) {
		t.Errorf("line %s", out.String())
	}
}
