package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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

// `pacto dev` refuses a demo tokens file it cannot use, saying what to do,
// and doing that (deleting the file) gets it new demo tokens that work.
func TestDevRefusesACorruptTokensFile(t *testing.T) {
	dir := traversableDir(t)
	file := filepath.Join(dir, "dev-tokens.json")
	// A write cut short, as a full disk or a crash leaves it.
	if err := os.WriteFile(file, []byte("{\n  \"admin\": \"pacto_0123"), 0o600); err != nil {
		t.Fatal(err)
	}
	httpPort := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	args := []string{"dev", "--data-dir", dir, "--http", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--temporal-port", fmt.Sprint(freePort(t)), "--ui-port", "0"}
	p := start(t, nil, args...)
	err := p.wait(t, 3*time.Minute)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit %v, want status 1:\n%s", err, p.out.String())
	}
	out := p.out.String()
	if !strings.Contains(out, file+" is not a JSON object") || !strings.Contains(out, "delete it and start again to have new demo tokens made") {
		t.Fatalf("the refusal does not say what is wrong and what to do:\n%s", out)
	}
	t.Logf("refused: %s", out[strings.LastIndex(out, "pacto dev:"):])

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	p = start(t, nil, args...)
	waitReady(t, p, base, 3*time.Minute)
	tokens := readTokens(t, dir)
	apiClient{t, base, tokens["us-observer"]}.must("GET", "/v1/activities", nil, 200)
	if err := p.kill(t, syscall.SIGTERM, time.Minute); err != nil {
		t.Fatalf("SIGTERM: exit %v", err)
	}
}
