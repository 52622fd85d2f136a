// aux-proxy: request-guard as a sidecar, a reverse proxy in front of the primary.
//
//	AUX_API_KEY=<key> [AUX_FAULTS=1] aux-proxy --listen <port> --admin <port> --upstream <port> [--host 127.0.0.1] [--version 1.0.0]
//
// Ingress (--listen): every request passes the API-key check, is forwarded to the
// primary at --host:--upstream (or answered by a fault trigger), and is counted and
// audit-logged. Admin (--admin): GET /ready and GET /metrics. The function is specified
// in ../README.md (the request-guard contract). Standard library only, so the build
// needs no network and the comparison measures the function, not a framework.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// Integration is the value of the integration label and audit key for this arm.
	integration = "sidecar"
	// drainTimeout bounds the graceful shutdown; it stays below the pod's default
	// 30 s grace period so the exit is ours, not a SIGKILL.
	drainTimeout = 25 * time.Second
	// readHeaderTimeout stops a client that never finishes its headers from pinning a
	// connection; bodies and streams have no deadline (16 MiB uploads, token streams).
	readHeaderTimeout = 10 * time.Second
	// clientIdleTimeout closes keep-alive connections of clients that went quiet.
	clientIdleTimeout = 120 * time.Second
)

type config struct {
	host         string
	listenPort   int
	adminPort    int
	upstreamPort int
	version      string
	apiKey       string
	faults       bool
}

// usageError is a bad command line or environment: exit status 2, like flag's own errors.
type usageError struct{ message string }

func (e usageError) Error() string { return e.message }

func parseConfig(args []string, getenv func(string) string) (config, error) {
	flags := flag.NewFlagSet("aux-proxy", flag.ContinueOnError)
	flags.SetOutput(io.Discard) // the caller prints one message, not flag's usage dump
	cfg := config{}
	flags.StringVar(&cfg.host, "host", "127.0.0.1", "address to listen on and to reach the primary at")
	flags.IntVar(&cfg.listenPort, "listen", 0, "ingress port clients call")
	flags.IntVar(&cfg.adminPort, "admin", 0, "admin port: GET /ready, GET /metrics")
	flags.IntVar(&cfg.upstreamPort, "upstream", 0, "port of the primary on --host")
	flags.StringVar(&cfg.version, "version", "1.0.0", "version label of aux_build_info")
	if err := flags.Parse(args); err != nil {
		return cfg, usageError{err.Error()}
	}
	if flags.NArg() > 0 {
		return cfg, usageError{fmt.Sprintf("unexpected argument %q", flags.Arg(0))}
	}
	for _, port := range []struct {
		name  string
		value int
	}{{"listen", cfg.listenPort}, {"admin", cfg.adminPort}, {"upstream", cfg.upstreamPort}} {
		if port.value < 1 || port.value > 65535 {
			return cfg, usageError{fmt.Sprintf("--%s: expected a port number from 1 to 65535, got %d", port.name, port.value)}
		}
	}
	cfg.apiKey = getenv("AUX_API_KEY")
	if cfg.apiKey == "" {
		return cfg, usageError{"AUX_API_KEY is empty or unset: request-guard needs the API key clients must send in x-api-key"}
	}
	cfg.faults = getenv("AUX_FAULTS") == "1"
	return cfg, nil
}

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "aux-proxy: %v\nusage: AUX_API_KEY=<key> [AUX_FAULTS=1] aux-proxy --listen <port> --admin <port> --upstream <port> [--host 127.0.0.1] [--version 1.0.0]\n", err)
		os.Exit(2)
	}
	if err := serve(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "aux-proxy: %v\n", err)
		os.Exit(1)
	}
}

// serve runs both servers until SIGTERM or SIGINT, then drains and returns nil.
func serve(cfg config) error {
	// After the first signal stop() restores the default action, so a second
	// SIGTERM/SIGINT during a long drain ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	ingressAddr := net.JoinHostPort(cfg.host, strconv.Itoa(cfg.listenPort))
	adminAddr := net.JoinHostPort(cfg.host, strconv.Itoa(cfg.adminPort))
	upstreamAddr := net.JoinHostPort(cfg.host, strconv.Itoa(cfg.upstreamPort))

	pid := os.Getpid()
	stats := newMetrics(buildInfo{integration: integration, language: "go", runtime: runtime.Version(), version: cfg.version, pid: pid})
	guard := &requestGuard{keys: newAPIKeyCheck(cfg.apiKey), metrics: stats, audit: newAuditLog(os.Stdout, pid)}
	faults := &faultTriggers{enabled: cfg.faults}

	ingressListener, err := net.Listen("tcp", ingressAddr)
	if err != nil {
		return fmt.Errorf("ingress: %w", err)
	}
	adminListener, err := net.Listen("tcp", adminAddr)
	if err != nil {
		ingressListener.Close()
		return fmt.Errorf("admin: %w", err)
	}

	var draining atomic.Bool
	ingress := &http.Server{
		Handler:           guard.wrap(ingressHandler(newProxy(upstreamAddr), faults)),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       clientIdleTimeout,
	}
	admin := &http.Server{
		Handler:           adminHandler(guard, stats, &draining),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       clientIdleTimeout,
	}
	failed := make(chan error, 2)
	go serveListener(ingress, ingressListener, "ingress", failed)
	go serveListener(admin, adminListener, "admin", failed)
	fmt.Fprintf(os.Stderr, "aux-proxy: pid %d, ingress %s, admin %s, upstream %s, faults %v, %s\n",
		pid, ingressAddr, adminAddr, upstreamAddr, cfg.faults, runtime.Version())

	select {
	case err := <-failed:
		return err
	case <-ctx.Done():
	}
	stop()
	fmt.Fprintf(os.Stderr, "aux-proxy: draining (up to %s)\n", drainTimeout)
	draining.Store(true)
	drainCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	// Ingress first: in-flight requests finish while /ready already says 503 and
	// /metrics still answers, so the last scrape sees every request.
	if err := ingress.Shutdown(drainCtx); err != nil {
		fmt.Fprintf(os.Stderr, "aux-proxy: drain deadline passed with requests in flight (%v); closing them\n", err)
		ingress.Close()
	}
	if err := admin.Shutdown(drainCtx); err != nil {
		admin.Close()
	}
	fmt.Fprintln(os.Stderr, "aux-proxy: stopped")
	return nil
}

// serveListener reports only real failures: ErrServerClosed means Shutdown is under
// way, and serve() decides when the process ends.
func serveListener(server *http.Server, listener net.Listener, name string, failed chan<- error) {
	if err := server.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
		failed <- fmt.Errorf("%s server: %w", name, err)
	}
}
