// The sandbox ("pause") process of pods on the project's own cluster, where no registry's
// pause image can be pulled: it holds the pod's namespaces, reaps orphaned children when
// the pod shares one PID namespace, and exits on SIGTERM or SIGINT. Standard library
// only, built static (CGO_ENABLED=0) into an image FROM scratch.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
