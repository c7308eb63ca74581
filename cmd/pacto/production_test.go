package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A worker pointed at an address where no Temporal listens exits promptly,
// non-zero, saying what it could not reach, and never claims it started.
func TestWorkerThatCannotConnectExits(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	pactoBinary(t)
	began := time.Now()
	p := start(t, []string{"PACTO_DATABASE_URL=postgres://127.0.0.1:1/none", "TEMPORAL_ADDRESS=" + addr, "PACTO_LOG_FORMAT=text"}, "worker")
	err := p.wait(t, 30*time.Second)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit %v, want status 1:\n%s", err, p.out.String())
	}
	out := p.out.String()
	if strings.Contains(out, "worker started") {
		t.Fatalf("a worker that never connected logged that it started:\n%s", out)
	}
	if !strings.Contains(out, "cannot poll Temporal at "+addr) || !strings.Contains(out, "--temporal-address") {
		t.Fatalf("the error does not say what it could not reach:\n%s", out)
	}
	t.Logf("exited after %s: %s", time.Since(began).Round(time.Millisecond), strings.TrimSpace(out))
}
