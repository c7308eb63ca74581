//go:build linux

package pgcluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stopLeftovers shuts down whatever still runs on dataDir from an earlier
// run, and clears a postmaster.pid whose pid now belongs to someone else.
//
// A server "runs on" dataDir when its working directory is dataDir:
// postgres chdirs there at startup, and so does every backend it forks.
// That finds the postmaster, and also its children when the postmaster was
// SIGKILLed and they have not yet noticed; such orphans may still hold the
// shared memory, so a new postmaster must not start before they are gone.
// Matching on the working directory rather than on the pid in
// postmaster.pid never mistakes an unrelated process (after pid reuse) for
// a server.
func stopLeftovers(ctx context.Context, dataDir string, opts *Options) error {
	pidFile := filepath.Join(dataDir, "postmaster.pid")
	procs := serverProcessesIn(dataDir)
	if len(procs) > 0 {
		postmaster := readPostmasterPID(pidFile)
		opts.logf("pgcluster: postgres processes from an earlier run are still running on %s (pids %v); stopping them", dataDir, procs)
		first := syscall.SIGQUIT // orphans only: they are exiting anyway
		if contains(procs, postmaster) {
			// A fast shutdown, as Stop does: it checkpoints, so the new
			// server needs no crash recovery.
			first = syscall.SIGINT
			procs = []int{postmaster}
		}
		steps := []struct {
			sig  syscall.Signal
			wait time.Duration
		}{{first, 20 * time.Second}, {syscall.SIGQUIT, 5 * time.Second}, {syscall.SIGKILL, 5 * time.Second}}
		for _, step := range steps {
			for _, pid := range procs {
				_ = syscall.Kill(pid, step.sig)
			}
			if waitGone(ctx, dataDir, step.wait) {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("pgcluster: stopping the postgres left running on %s: %w", dataDir, ctx.Err())
			}
			procs = serverProcessesIn(dataDir)
		}
		if left := serverProcessesIn(dataDir); len(left) > 0 {
			return fmt.Errorf("pgcluster: postgres processes %v left running on %s by an earlier run would not exit", left, dataDir)
		}
	}

	// Nothing runs on the data dir now. A postmaster.pid naming a dead pid
	// is left for postgres, which replaces it. One naming a live pid means
	// the pid was reused (after a reboot, or in a fresh container where
	// pids start low again); postgres would refuse to start if that
	// process happened to run as its own account, so remove the file.
	if pid := readPostmasterPID(pidFile); pid > 0 && processAlive(pid) {
		opts.logf("pgcluster: removing stale %s: its pid %d is now an unrelated process", pidFile, pid)
		if err := os.Remove(pidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pgcluster: removing stale %s: %w", pidFile, err)
		}
	}
	return nil
}

// serverProcessesIn lists live postgres processes whose working directory
// is dir. Processes of other users are invisible when we are not root, but
// then a server on our data dir runs as us.
func serverProcessesIn(dir string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd")
		if err != nil || cwd != dir {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil {
			continue
		}
		if name := strings.TrimSpace(string(comm)); name != "postgres" && name != "postmaster" {
			continue
		}
		if processAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitGone polls until no server process runs on dir, for at most d or
// until ctx ends; it reports whether they are all gone.
func waitGone(ctx context.Context, dir string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if len(serverProcessesIn(dir)) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readPostmasterPID returns the pid on the first line of postmaster.pid,
// or 0 if there is none.
func readPostmasterPID(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	if !s.Scan() {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(s.Text()))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// processAlive reports whether pid exists and is not a zombie: a server
// that exited but was not yet reaped by its parent holds nothing any more.
func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may
	// itself contain ") ".
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return true
	}
	state := b[i+2]
	return state != 'Z' && state != 'X'
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
