package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// primaryNotFound answers like FastAPI does for a path it does not know.
func primaryNotFound(forwarded *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		forwarded.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"detail":"Not Found"}`)
	})
}

func TestFaultsAreOffWithoutAuxFaults(t *testing.T) {
	var forwarded atomic.Int32
	sidecar, _, _ := newTestSidecar(t, primaryNotFound(&forwarded), false)
	// crash included: were it not gated, this test process would die here.
	for _, kind := range []string{"crash", "balloon", "spin"} {
		response, err := http.DefaultClient.Do(keyed(t, "POST", sidecar.URL+"/aux/fault/"+kind, nil))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(response.Body)
		response.Body.Close()
		if response.StatusCode != 404 || string(body) != `{"detail":"Not Found"}` {
			t.Errorf("%s: got %d %q, want the primary's 404", kind, response.StatusCode, body)
		}
	}
	if forwarded.Load() != 3 {
		t.Errorf("%d of 3 disabled fault URLs reached the primary", forwarded.Load())
	}
}

func TestFaultsNeedTheKey(t *testing.T) {
	var forwarded atomic.Int32
	sidecar, _, _ := newTestSidecar(t, primaryNotFound(&forwarded), true)
	response, err := http.Post(sidecar.URL+"/aux/fault/crash", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	response.Body.Close()
	if response.StatusCode != 401 || forwarded.Load() != 0 {
		t.Fatalf("crash without a key: %d (forwarded %d), want 401", response.StatusCode, forwarded.Load())
	}
}

func TestFaultRequests(t *testing.T) {
	var forwarded atomic.Int32
	sidecar, _, audit := newTestSidecar(t, primaryNotFound(&forwarded), true)
	cases := []struct {
		method, path string
		want         int
		body         string
	}{
		{"POST", "/aux/fault/melt", 404, `{"detail":"Not Found"}`}, // not a fault: the primary's
		{"GET", "/aux/fault/spin", 404, `{"detail":"Not Found"}`},  // POST only: the primary's
		{"POST", "/aux/fault/spin?seconds=0", 400, ""},
		{"POST", "/aux/fault/spin?seconds=abc", 400, ""},
		{"POST", "/aux/fault/spin?seconds=61", 400, ""},
		{"POST", "/aux/fault/balloon?maxMiB=-1", 400, ""},
		{"POST", "/aux/fault/balloon?mibPerSec=NaN", 400, ""},
		{"POST", "/aux/fault/spin?seconds=0.05", 202, `{"fault":"spin"}`},
	}
	for _, c := range cases {
		response, err := http.DefaultClient.Do(keyed(t, c.method, sidecar.URL+c.path, nil))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(response.Body)
		response.Body.Close()
		if response.StatusCode != c.want || (c.body != "" && string(body) != c.body) {
			t.Errorf("%s %s: got %d %q, want %d %s", c.method, c.path, response.StatusCode, body, c.want, c.body)
		}
		if c.want == 400 && (response.Header.Get("Content-Type") != "application/json" || !strings.Contains(string(body), `"error"`)) {
			t.Errorf("%s: 400 body %q", c.path, body)
		}
	}
	if forwarded.Load() != 2 {
		t.Errorf("%d requests reached the primary, want 2", forwarded.Load())
	}
	waitForAudit(t, audit, len(cases))
}

func TestFaultParameters(t *testing.T) {
	plan, err := parseBalloon(url.Values{})
	if err != nil || plan.mibPerSec != 256 || plan.maxMiB != 4096 {
		t.Errorf("balloon defaults %+v %v", plan, err)
	}
	plan, _ = parseBalloon(url.Values{"maxMiB": {"200"}, "mibPerSec": {"64"}})
	if plan.maxMiB != 200 || plan.mibPerSec != 64 {
		t.Errorf("balloon %+v", plan)
	}
	spinFor, err := parseSpin(url.Values{})
	if err != nil || spinFor != 3*time.Second {
		t.Errorf("spin default %v %v", spinFor, err)
	}
	if spinFor, err = parseSpin(url.Values{"seconds": {"60"}}); err != nil || spinFor != 60*time.Second {
		t.Errorf("spin 60: %v %v", spinFor, err)
	}
	if _, err = parseSpin(url.Values{"seconds": {"3600"}}); err == nil {
		t.Error("spin accepted 3600 s; the bound is 60")
	}
}

func TestInflateKeepsWhatItAllocates(t *testing.T) {
	ballast.mu.Lock()
	before := len(ballast.chunks)
	ballast.mu.Unlock()
	began := time.Now()
	inflate(balloonPlan{mibPerSec: 400, maxMiB: 20}, 4096) // 16 MiB + 4 MiB, paced to ~50 ms
	elapsed := time.Since(began)
	ballast.mu.Lock()
	added := ballast.chunks[before:]
	total := 0
	for _, chunk := range added {
		total += len(chunk)
	}
	ballast.chunks = ballast.chunks[:before] // give the test process its memory back
	ballast.mu.Unlock()
	if len(added) != 2 || total != 20<<20 {
		t.Errorf("kept %d chunks, %d bytes; want 2 chunks, 20 MiB", len(added), total)
	}
	if elapsed < 40*time.Millisecond {
		t.Errorf("20 MiB at 400 MiB/s took %v: not paced", elapsed)
	}
}
