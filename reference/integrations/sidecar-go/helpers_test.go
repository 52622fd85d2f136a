// Shared test scaffolding: a guard with captured audit output, and a tiny parser for
// the exposition text so tests check what a Prometheus scraper would read.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const testKey = "test-key"

// syncBuffer is an io.Writer tests can read while handlers write to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestGuard() (*requestGuard, *syncBuffer) {
	out := &syncBuffer{}
	stats := newMetrics(buildInfo{integration: integration, language: "go", runtime: "go-test", version: "9.9.9", pid: 4242})
	return &requestGuard{keys: newAPIKeyCheck(testKey), metrics: stats, audit: newAuditLog(out, 4242)}, out
}

// auditLines decodes every line written so far.
func auditLines(t *testing.T, out *syncBuffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, text := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if text == "" {
			continue
		}
		var line map[string]any
		if err := json.Unmarshal([]byte(text), &line); err != nil {
			t.Fatalf("audit line is not JSON: %q: %v", text, err)
		}
		lines = append(lines, line)
	}
	return lines
}

type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseExposition parses text format 0.0.4 samples, failing the test on any malformed line.
func parseExposition(t *testing.T, text string) (samples []sample, types map[string]string) {
	t.Helper()
	types = map[string]string{}
	scanner := bufio.NewScanner(strings.NewReader(text))
	for scanner.Scan() {
		line := scanner.Text()
		if strings.HasPrefix(line, "# TYPE ") {
			fields := strings.Fields(line)
			types[fields[2]] = fields[3]
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		cut := strings.LastIndexByte(line, ' ')
		if cut < 0 {
			t.Fatalf("no value in %q", line)
		}
		value, err := strconv.ParseFloat(line[cut+1:], 64)
		if err != nil {
			t.Fatalf("bad value in %q: %v", line, err)
		}
		s := sample{labels: map[string]string{}, value: value}
		series := line[:cut]
		open := strings.IndexByte(series, '{')
		if open < 0 {
			s.name = series
		} else {
			if !strings.HasSuffix(series, "}") {
				t.Fatalf("unterminated labels in %q", line)
			}
			s.name = series[:open]
			parseLabels(t, series[open+1:len(series)-1], s.labels)
		}
		samples = append(samples, s)
	}
	return samples, types
}

func parseLabels(t *testing.T, text string, into map[string]string) {
	t.Helper()
	for text != "" {
		eq := strings.Index(text, `="`)
		if eq < 0 {
			t.Fatalf("bad label list %q", text)
		}
		name := text[:eq]
		rest := text[eq+2:]
		var value strings.Builder
		i := 0
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
				if rest[i] == 'n' {
					value.WriteByte('\n')
					continue
				}
			}
			value.WriteByte(rest[i])
		}
		if i == len(rest) {
			t.Fatalf("unterminated label value in %q", text)
		}
		into[name] = value.String()
		text = strings.TrimPrefix(rest[i+1:], ",")
	}
}

// find returns the value of the one sample with this name and these labels.
func find(t *testing.T, samples []sample, name string, labels map[string]string) float64 {
	t.Helper()
	for _, s := range samples {
		if s.name != name || len(s.labels) != len(labels) {
			continue
		}
		match := true
		for k, v := range labels {
			if s.labels[k] != v {
				match = false
			}
		}
		if match {
			return s.value
		}
	}
	t.Fatalf("no sample %s%v", name, labels)
	return 0
}
