// Package pgcluster runs a private PostgreSQL cluster from the server
// binaries installed on the machine, for tests and for `pacto dev`.
//
// A cluster is a data directory plus a postgres server that this process
// starts as its direct child and owns: it listens on 127.0.0.1 only (no Unix
// sockets, so socket paths never matter), requires a password
// (scram-sha-256) for its superuser "pacto", and is stopped with Stop or, if
// this process dies first, by the kernel through a parent-death signal.
//
// Start initialises the data directory on first use and reuses it
// afterwards, so `pacto dev` keeps its data across restarts. A directory left
// behind by a crash starts again: a server still running on it from an
// earlier run is shut down first (never adopted, see Start), and a stale
// postmaster.pid is dealt with.
//
// When the process runs as root, initdb and postgres (which both refuse to
// run as root) run as the unprivileged "postgres" account instead.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// Superuser is the database superuser that initdb creates.
	Superuser = "pacto"

	// PasswordFile is the file, inside the data directory, that holds the
	// superuser's password (mode 0600). It is written once, after a
	// successful initdb, and read at every later start; its presence is
	// also what marks a data directory as initialised by this package.
	PasswordFile = "pacto_superuser_password"

	// LogFile is the file, inside the data directory, that receives the
	// server's output (and initdb's, after the fact).
	LogFile = "postgres.log"

	// DefaultOSUser is the account that runs the server when this process
	// is root.
	DefaultOSUser = "postgres"
)

// maxLogSize bounds postgres.log: a developer's cluster lives for months, so
// at start a log bigger than this is moved to postgres.log.1.
const maxLogSize = 10 << 20

// Options configures Start.
type Options struct {
	// DataDir is the cluster's data directory. It is required. It is
	// created (with any missing parents) if absent and initialised with
	// initdb if it holds no cluster yet; an existing cluster is reused.
	DataDir string

	// Port is the TCP port on 127.0.0.1 to listen on. Zero picks a free
	// port at every start.
	Port int

	// DisableFsync turns off fsync, synchronous_commit and
	// full_page_writes, and makes initdb skip syncing its files. That is
	// much faster, but a crash of the machine (not of the process) can
	// lose or corrupt data, so it is for throwaway test clusters only; a
	// developer's cluster keeps the safe default.
	DisableFsync bool

	// BinSearchPath lists directories, or glob patterns of directories,
	// to search for initdb, pg_ctl and postgres, in order. Nil means
	// DefaultBinSearchPath(): PATH, then /usr/lib/postgresql/*/bin.
	BinSearchPath []string

	// Settings are extra server settings, passed as -c name=value and
	// overriding the defaults (max_connections=100, shared_buffers=32MB,
	// ...). listen_addresses, port and unix_socket_directories are owned
	// by Start and may not be set here.
	Settings map[string]string

	// OSUser is the account that runs initdb and postgres when this
	// process runs as root. Empty means DefaultOSUser. Ignored otherwise:
	// then the server runs as the current user.
	OSUser string

	// Logf, if set, receives progress messages (initialising, stopping a
	// leftover server, ...). Nil discards them.
	Logf func(format string, args ...any)
}

func (o *Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}

// Cluster is a running server started by Start.
type Cluster struct {
	dataDir  string
	port     int
	password string
	bins     Binaries
	logPath  string

	cmd  *exec.Cmd
	done chan struct{} // closed once the server process has been reaped
	// exitErr is the server's exit status; written before done is closed.
	exitErr error

	claim *dirClaim // released when the server exits

	stopOnce sync.Once
	stopErr  error
}

// URL returns a connection URL, usable by pgx, for database dbname (empty
// means "postgres") as the superuser, over TCP to 127.0.0.1 without TLS.
func (c *Cluster) URL(dbname string) string {
	if dbname == "" {
		dbname = "postgres"
	}
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(Superuser, c.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + dbname,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port returns the TCP port the server listens on.
func (c *Cluster) Port() int { return c.port }

// DataDir returns the absolute, symlink-free path of the data directory.
func (c *Cluster) DataDir() string { return c.dataDir }

// User returns the superuser's name (always Superuser).
func (c *Cluster) User() string { return Superuser }

// Password returns the superuser's password.
func (c *Cluster) Password() string { return c.password }

// LogPath returns the path of the server log.
func (c *Cluster) LogPath() string { return c.logPath }

// Binaries returns the server installation the cluster runs from.
func (c *Cluster) Binaries() Binaries { return c.bins }

// PID returns the process id of the server (the postmaster).
func (c *Cluster) PID() int { return c.cmd.Process.Pid }

// Done returns a channel that is closed when the server process has exited,
// whether through Stop or not. A long-running caller such as `pacto dev`
// can watch it to notice that its database went away.
func (c *Cluster) Done() <-chan struct{} { return c.done }

// Stop shuts the server down with a fast shutdown (active transactions are
// rolled back, a checkpoint is written) and waits for it to exit. If it has
// not exited when ctx ends, or after 30 seconds at most, Stop escalates to an
// immediate shutdown and then to SIGKILL; both are safe for the data (the
// next start runs crash recovery) but are reported in the error. Stop
// returns nil if the server exited cleanly; a server that had already died
// on its own is reported too. Calling Stop again returns the first result.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() { c.stopErr = c.stop(ctx) })
	return c.stopErr
}

func (c *Cluster) stop(ctx context.Context) error {
	select {
	case <-c.done:
		if c.exitErr != nil {
			return fmt.Errorf("pgcluster: postgres (pid %d) had already exited: %w%s", c.PID(), c.exitErr, c.logTailSuffix(0))
		}
		return nil
	default:
	}
	// SIGINT is PostgreSQL's "fast shutdown".
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("pgcluster: signalling postgres (pid %d) to stop: %w", c.PID(), err)
	}
	fast, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	select {
	case <-c.done:
		return c.exitErr
	case <-fast.Done():
	}
	// SIGQUIT is an "immediate shutdown": no checkpoint, crash recovery at
	// the next start. Then SIGKILL as the last resort. Neither waits for ctx,
	// which has already ended: the point is to not leave a server behind.
	for _, sig := range []syscall.Signal{syscall.SIGQUIT, syscall.SIGKILL} {
		_ = c.cmd.Process.Signal(sig)
		select {
		case <-c.done:
			return fmt.Errorf("pgcluster: postgres (pid %d) did not finish a fast shutdown in time; stopped it with %v", c.PID(), sig)
		case <-time.After(5 * time.Second):
		}
	}
	return fmt.Errorf("pgcluster: postgres (pid %d) did not exit even after SIGKILL", c.PID())
}

// logTailSuffix formats the end of the server log, from byte offset from
// on, for an error message; empty if there is nothing to show.
func (c *Cluster) logTailSuffix(from int64) string {
	return logTailSuffix(c.logPath, from)
}

func logTailSuffix(path string, from int64) string {
	tail := readLogTail(path, from, 4096, 30)
	if tail == "" {
		return ""
	}
	return fmt.Sprintf("\n--- last lines of %s ---\n%s", path, tail)
}

// readLogTail returns at most maxLines lines from the last maxBytes of the
// file, ignoring what precedes offset from (an earlier run's output).
func readLogTail(path string, from int64, maxBytes int64, maxLines int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	start := fi.Size() - maxBytes
	if start < from {
		start = from
	}
	if start < 0 {
		start = 0
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(f, maxBytes))
	if err != nil {
		return ""
	}
	return lastLines(b, maxLines)
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(bytes.ToValidUTF8(b, []byte("?"))), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// dirClaim is what a Start holds on its data dir while its server runs: an
// entry in this process's registry and, on Linux, an flock on the
// directory, whose absence tells a later process that a server still
// running there is a leftover of a dead one.
type dirClaim struct {
	dir   string
	token uint64
	lock  *os.File
	once  sync.Once
}

// release gives the data dir up; it may be called more than once.
func (c *dirClaim) release() {
	c.once.Do(func() {
		if c.lock != nil {
			c.lock.Close()
		}
		running.Lock()
		defer running.Unlock()
		if running.dirs[c.dir] == c.token {
			delete(running.dirs, c.dir)
		}
	})
}

// running records the data directories that have a server started by this
// process, so that a second Start on the same directory fails clearly
// instead of shutting down the first one as if it were a leftover. Each
// claim has its own token so that a late release of an old claim cannot
// drop a newer one.
var running = struct {
	sync.Mutex
	next uint64
	dirs map[string]uint64
}{dirs: map[string]uint64{}}

func claimDataDir(dir string) (*dirClaim, error) {
	running.Lock()
	defer running.Unlock()
	if _, ok := running.dirs[dir]; ok {
		return nil, fmt.Errorf("pgcluster: a cluster on %s is already running in this process", dir)
	}
	running.next++
	running.dirs[dir] = running.next
	return &dirClaim{dir: dir, token: running.next}, nil
}
