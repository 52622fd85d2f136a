// Fault triggers for the isolation, lifecycle and fault rows of `sidecar-bench compare`:
// POST /aux/fault/{crash,balloon,spin}, only with AUX_FAULTS=1. Each is answered 202
// first and starts once that answer is on the wire; each is bounded in size or time.
//
// Anything else under /aux/fault/ (faults off, another method, an unknown kind) is not
// request-guard's: it goes to the primary like any request, which answers 404, exactly
// as the in-process integrations hand such requests to the app.
package main

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	faultPathPrefix         = "/aux/fault/"
	crashDelay              = 10 * time.Millisecond
	balloonChunkMiB         = 16
	balloonDefaultMiB       = 4096
	balloonDefaultMiBPerSec = 256
	spinDefaultSeconds      = 3
	spinMaxSeconds          = 60
)

var faultKinds = map[string]bool{"crash": true, "balloon": true, "spin": true}

type faultTriggers struct{ enabled bool }

// handles says whether request-guard answers r itself rather than the primary.
func (f *faultTriggers) handles(r *http.Request) bool {
	kind, isFault := strings.CutPrefix(r.URL.Path, faultPathPrefix)
	return f.enabled && isFault && r.Method == http.MethodPost && faultKinds[kind]
}

func (f *faultTriggers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := strings.TrimPrefix(r.URL.Path, faultPathPrefix)
	var start func()
	var err error
	switch kind {
	case "crash":
		start = crashSoon
	case "balloon":
		start, err = balloonFault(r.URL.Query())
	case "spin":
		start, err = spinFault(r.URL.Query())
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	body := jsonBody(map[string]string{"fault": kind})
	writeJSON(w, http.StatusAccepted, body)
	// On the wire before the fault begins, so the client always gets its 202.
	http.NewResponseController(w).Flush()
	start()
}

func writeError(w http.ResponseWriter, status int, message string) {
	body := jsonBody(map[string]string{"error": message})
	writeJSON(w, status, body)
}

// crashSink receives the load of the nil dereference, so the compiler keeps it.
var crashSink int

type crashSite struct{ value int }

// crashSoon crashes the process the way a real bug does: an unrecovered nil-pointer
// panic in a goroutine, which no handler recovers and which ends the whole process.
// The delay lets the 202 and its audit line out first.
func crashSoon() {
	time.AfterFunc(crashDelay, func() {
		var site *crashSite
		crashSink = site.value
	})
}

// positiveParam reads query parameter name as a finite number in (0, maximum], or def
// when absent; the last value wins when repeated, as in the Python integrations.
func positiveParam(query url.Values, name string, def, maximum float64) (float64, error) {
	values := query[name]
	if len(values) == 0 {
		return def, nil
	}
	text := values[len(values)-1]
	value, err := strconv.ParseFloat(text, 64)
	if err != nil || !(value > 0) || math.IsInf(value, 0) || value > maximum {
		bound := ""
		if !math.IsInf(maximum, 1) {
			bound = fmt.Sprintf(" and <= %g", maximum)
		}
		return 0, fmt.Errorf("%s=%q: expected a number > 0%s", name, text, bound)
	}
	return value, nil
}

// balloonPlan is how much memory a balloon holds in the end, and how fast it gets there.
type balloonPlan struct {
	mibPerSec float64
	maxMiB    int
}

// parseBalloon: maxMiB is the balloon's bound (the unit's memory limit may end it sooner).
func parseBalloon(query url.Values) (balloonPlan, error) {
	rate, err := positiveParam(query, "mibPerSec", balloonDefaultMiBPerSec, math.Inf(1))
	if err != nil {
		return balloonPlan{}, err
	}
	limit, err := positiveParam(query, "maxMiB", balloonDefaultMiB, math.Inf(1))
	if err != nil {
		return balloonPlan{}, err
	}
	return balloonPlan{mibPerSec: rate, maxMiB: int(math.Ceil(limit))}, nil
}

func balloonFault(query url.Values) (func(), error) {
	plan, err := parseBalloon(query)
	if err != nil {
		return nil, err
	}
	return func() { go inflate(plan, os.Getpagesize()) }, nil
}

// ballast keeps every balloon chunk reachable: the point is memory that stays.
var ballast struct {
	mu     sync.Mutex
	chunks [][]byte
}

// inflate allocates 16 MiB at a time, paced to mibPerSec, writing one byte per page:
// fresh pages from the OS are not resident until touched, and the fault is about RSS.
func inflate(plan balloonPlan, pageBytes int) {
	began := time.Now()
	for allocatedMiB := 0; allocatedMiB < plan.maxMiB; {
		sizeMiB := min(balloonChunkMiB, plan.maxMiB-allocatedMiB)
		chunk := make([]byte, sizeMiB<<20)
		for i := 0; i < len(chunk); i += pageBytes {
			chunk[i] = 1
		}
		ballast.mu.Lock()
		ballast.chunks = append(ballast.chunks, chunk)
		ballast.mu.Unlock()
		allocatedMiB += sizeMiB
		due := began.Add(time.Duration(float64(allocatedMiB) / plan.mibPerSec * float64(time.Second)))
		time.Sleep(time.Until(due))
	}
}

func parseSpin(query url.Values) (time.Duration, error) {
	seconds, err := positiveParam(query, "seconds", spinDefaultSeconds, spinMaxSeconds)
	if err != nil {
		return 0, err
	}
	return time.Duration(seconds * float64(time.Second)), nil
}

func spinFault(query url.Values) (func(), error) {
	duration, err := parseSpin(query)
	if err != nil {
		return nil, err
	}
	return func() { spin(duration) }, nil
}

// spin busy-loops one goroutine per GOMAXPROCS until the deadline: every CPU the
// process may use is saturated. The Go scheduler preempts the loops, so the proxy
// keeps answering — slowly, which is what the fault row measures.
func spin(duration time.Duration) {
	deadline := time.Now().Add(duration)
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for time.Now().Before(deadline) {
			}
		}()
	}
}
