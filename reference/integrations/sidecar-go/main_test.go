// End-to-end tests of the real process: the test binary re-runs itself as aux-proxy
// (TestMain), so crashes, memory growth and signals hit a child, never the tests.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const runAsSidecarEnv = "AUX_PROXY_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsSidecarEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type sidecarProcess struct {
	cmd        *exec.Cmd
	ingressURL string
	adminURL   string
	stdout     *syncBuffer
	stderr     *syncBuffer
	exited     chan struct{}
	exitErr    error
}

func freePort(t *testing.T) int {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port
}

// startSidecar runs aux-proxy in front of upstream and waits for GET /ready.
func startSidecar(t *testing.T, upstream *httptest.Server, env ...string) *sidecarProcess {
	t.Helper()
	listen, admin := freePort(t), freePort(t)
	upstreamPort := upstream.Listener.Addr().(*net.TCPAddr).Port
	cmd := exec.Command(os.Args[0], "--listen", strconv.Itoa(listen), "--admin", strconv.Itoa(admin), "--upstream", strconv.Itoa(upstreamPort))
	cmd.Env = append(os.Environ(), append([]string{runAsSidecarEnv + "=1", "AUX_API_KEY=" + testKey}, env...)...)
	p := &sidecarProcess{
		cmd:        cmd,
		ingressURL: fmt.Sprintf("http://127.0.0.1:%d", listen),
		adminURL:   fmt.Sprintf("http://127.0.0.1:%d", admin),
		stdout:     &syncBuffer{},
		stderr:     &syncBuffer{},
		exited:     make(chan struct{}),
	}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exitErr = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		response, err := http.Get(p.adminURL + "/ready")
		if err == nil {
			response.Body.Close()
			if response.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("sidecar not ready after 5 s; stderr: %s", p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *sidecarProcess) waitExit(t *testing.T, timeout time.Duration) (code int, signaled bool) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		t.Fatalf("still running after %v; stderr: %s", timeout, p.stderr.String())
	}
	var exitErr *exec.ExitError
	if errors.As(p.exitErr, &exitErr) {
		status := exitErr.Sys().(syscall.WaitStatus)
		return status.ExitStatus(), status.Signaled()
	}
	return 0, false
}

func postFault(t *testing.T, p *sidecarProcess, pathAndQuery string) {
	t.Helper()
	response, err := http.DefaultClient.Do(keyed(t, "POST", p.ingressURL+pathAndQuery, nil))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(response.Body)
	response.Body.Close()
	if response.StatusCode != 202 {
		t.Fatalf("%s: got %d %q", pathAndQuery, response.StatusCode, body)
	}
}

func TestRefusesToStartWithoutAPIKey(t *testing.T) {
	cmd := exec.Command(os.Args[0], "--listen", "1", "--admin", "2", "--upstream", "3")
	cmd.Env = append(os.Environ(), runAsSidecarEnv+"=1", "AUX_API_KEY=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 || !strings.Contains(stderr.String(), "AUX_API_KEY") {
		t.Fatalf("got %v, stderr %q; want exit 2 naming AUX_API_KEY", err, stderr.String())
	}
}

func TestCrashKillsTheProcessWithANilDereference(t *testing.T) {
	upstream := httptest.NewServer(http.NotFoundHandler())
	defer upstream.Close()
	p := startSidecar(t, upstream, "AUX_FAULTS=1")
	postFault(t, p, "/aux/fault/crash")
	code, _ := p.waitExit(t, 5*time.Second)
	if code != 2 || !strings.Contains(p.stderr.String(), "nil pointer dereference") {
		t.Errorf("exit %d, stderr %s; want Go's unrecovered-panic exit 2", code, p.stderr.String())
	}
	if !strings.Contains(p.stdout.String(), `"path":"/aux/fault/crash","status":202`) {
		t.Errorf("the 202 was not audit-logged before the crash: %q", p.stdout.String())
	}
}

func residentMiB(t *testing.T, pid int) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if fields := strings.Fields(line); len(fields) >= 2 && fields[0] == "VmRSS:" {
			kib, _ := strconv.Atoi(fields[1])
			return kib / 1024
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

func TestBalloonGrowsResidentMemoryUpToMaxMiB(t *testing.T) {
	upstream := httptest.NewServer(http.NotFoundHandler())
	defer upstream.Close()
	p := startSidecar(t, upstream, "AUX_FAULTS=1")
	before := residentMiB(t, p.cmd.Process.Pid)
	postFault(t, p, "/aux/fault/balloon?mibPerSec=512&maxMiB=48")
	time.Sleep(300 * time.Millisecond) // 48 MiB at 512 MiB/s: ~100 ms
	grown := residentMiB(t, p.cmd.Process.Pid) - before
	if grown < 44 {
		t.Errorf("resident memory grew by %d MiB, want at least about 48", grown)
	}
	// Bounded: no further growth once maxMiB is reached. (Compared with itself rather
	// than with 48, since -race builds shadow every allocation.)
	time.Sleep(200 * time.Millisecond)
	if later := residentMiB(t, p.cmd.Process.Pid) - before; later > grown+4 {
		t.Errorf("still growing past maxMiB: %d MiB, then %d MiB", grown, later)
	}
}

func TestSIGTERMDrainsInFlightRequestsAndExitsZero(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(400 * time.Millisecond)
		_, _ = io.WriteString(w, "finished")
	}))
	defer upstream.Close()
	p := startSidecar(t, upstream)
	result := make(chan string, 1)
	go func() {
		response, err := http.DefaultClient.Do(keyed(t, "POST", p.ingressURL+"/v2/models/mlp/infer", strings.NewReader("{}")))
		if err != nil {
			result <- err.Error()
			return
		}
		body, _ := io.ReadAll(response.Body)
		response.Body.Close()
		result <- fmt.Sprintf("%d %s", response.StatusCode, body)
	}()
	time.Sleep(100 * time.Millisecond) // the request is in flight upstream
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if got := <-result; got != "200 finished" {
		t.Errorf("in-flight request during drain: %s", got)
	}
	if code, signaled := p.waitExit(t, 5*time.Second); code != 0 || signaled {
		t.Errorf("exit code %d (signaled %v), want 0; stderr: %s", code, signaled, p.stderr.String())
	}
	if _, err := net.Dial("tcp", strings.TrimPrefix(p.ingressURL, "http://")); err == nil {
		t.Error("ingress still accepting after exit")
	}
}
