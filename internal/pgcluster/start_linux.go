//go:build linux

package pgcluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// reservedSettings are the settings Start owns: URL relies on them.
var reservedSettings = []string{"listen_addresses", "port", "unix_socket_directories"}

// acquireDataDir claims dir for this process: in the in-process registry,
// and with an flock on the directory that lasts until the server exits or
// this process dies. A server on dir whose starter still holds the lock is
// not a leftover, so it must not be shut down: that is an error instead.
func acquireDataDir(dir string) (*dirClaim, error) {
	claim, err := claimDataDir(dir)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(dir)
	if err != nil {
		claim.release()
		return nil, fmt.Errorf("pgcluster: opening data dir to lock it: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		claim.release()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("pgcluster: data dir %s is in use by another running process%s; stop that first, two servers cannot share a data dir", dir, describeOwner(dir))
		}
		return nil, fmt.Errorf("pgcluster: locking data dir %s: %w", dir, err)
	}
	claim.lock = f
	return claim, nil
}

// describeOwner names, if it can, the process whose server runs on dir.
func describeOwner(dir string) string {
	pid := readPostmasterPID(filepath.Join(dir, "postmaster.pid"))
	if pid == 0 || !processAlive(pid) {
		return ""
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return fmt.Sprintf(" (postgres pid %d)", pid)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if ppid, ok := strings.CutPrefix(line, "PPid:"); ok {
			return fmt.Sprintf(" (postgres pid %d, started by pid %s)", pid, strings.TrimSpace(ppid))
		}
	}
	return fmt.Sprintf(" (postgres pid %d)", pid)
}

// Start starts a cluster on opts.DataDir, initialising the directory first
// if it holds no cluster yet, and returns once the server accepts
// connections. ctx bounds the whole start (initdb, crash recovery, the
// wait for readiness), not the life of the server: use Stop for that.
//
// If a postgres from an earlier run is still running on the data directory
// (because its parent was killed before it could stop it, and the server
// has not finished shutting down or missed the parent-death signal), Start
// shuts it down and starts its own server rather than adopting the old
// one. A run counts as earlier once its process has died: a live process
// holds an flock on the data dir, and Start refuses to touch a server it
// still owns (say, a second `pacto dev` on the same dir). Not adopting: this
// process could not wait for it, would not learn of its death, could not
// give it a parent-death signal, and could not be sure of its settings
// (port, fsync). A stale postmaster.pid left by a SIGKILL is handled by
// PostgreSQL itself, or removed here when its pid now belongs to an
// unrelated process.
//
// The server is a direct child of this process and gets SIGINT (a fast
// shutdown) from the kernel if this process dies without calling Stop.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.DataDir == "" {
		return nil, errors.New("pgcluster: Options.DataDir is required")
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("pgcluster: Options.Port %d is out of range", opts.Port)
	}
	for name := range opts.Settings {
		// Setting names are case-insensitive to PostgreSQL.
		if slices.Contains(reservedSettings, strings.ToLower(name)) {
			return nil, fmt.Errorf("pgcluster: setting %s is managed by pgcluster and cannot be overridden", name)
		}
	}
	// Look for the binaries before touching the file system, so that a
	// machine without PostgreSQL gets the install hint and no stray dirs.
	bins, err := FindBinaries(opts.BinSearchPath)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	acct, err := serverAccount(opts.OSUser)
	if err != nil {
		return nil, err
	}
	dataDir, err := prepareDataDir(opts.DataDir, acct)
	if err != nil {
		return nil, err
	}
	claim, err := acquireDataDir(dataDir)
	if err != nil {
		return nil, err
	}
	// From here on the claim is released by the server's waiter goroutine
	// once a server has been spawned, and by us otherwise.
	if err := stopLeftovers(ctx, dataDir, &opts); err != nil {
		claim.release()
		return nil, err
	}
	password, err := ensureInitialised(ctx, &opts, bins, acct, dataDir)
	if err != nil {
		claim.release()
		return nil, err
	}
	logPath := filepath.Join(dataDir, LogFile)
	if fi, err := os.Stat(logPath); err == nil && fi.Size() > maxLogSize {
		// Best effort: a failed rotation only means a bigger log.
		_ = os.Rename(logPath, logPath+".1")
	}

	// With port 0 we pick a free port and hand it to postgres; another
	// process may grab it in between, so retry with a fresh one a few times.
	attempts := 1
	if opts.Port == 0 {
		attempts = 3
	}
	for attempt := 1; ; attempt++ {
		port := opts.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				claim.release()
				return nil, err
			}
		}
		c := &Cluster{
			dataDir:  dataDir,
			port:     port,
			password: password,
			bins:     bins,
			logPath:  logPath,
			done:     make(chan struct{}),
			claim:    claim,
		}
		portTaken, err := c.launch(ctx, &opts, acct)
		if err == nil {
			return c, nil
		}
		if !portTaken || attempt >= attempts {
			return nil, err
		}
		opts.logf("pgcluster: port %d was taken before postgres could bind it; retrying on another port", port)
		// The failed server released the claim when it exited.
		if claim, err = acquireDataDir(dataDir); err != nil {
			return nil, err
		}
	}
}

// launch spawns the server and waits until it accepts connections. On
// failure the server has exited (and released the data dir claim) by the
// time launch returns; portTaken says whether it failed to bind its port.
func (c *Cluster) launch(ctx context.Context, opts *Options, acct *account) (portTaken bool, err error) {
	logf, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		c.claim.release()
		return false, fmt.Errorf("pgcluster: opening server log: %w", err)
	}
	if acct != nil {
		if err := logf.Chown(int(acct.uid), int(acct.gid)); err != nil {
			logf.Close()
			c.claim.release()
			return false, fmt.Errorf("pgcluster: handing the server log to %s: %w", acct.name, err)
		}
	}
	var offset int64
	if fi, err := logf.Stat(); err == nil {
		offset = fi.Size()
	}
	fmt.Fprintf(logf, "=== pgcluster: starting postgres on 127.0.0.1:%d at %s ===\n", c.port, time.Now().Format(time.RFC3339))

	c.cmd = exec.Command(c.bins.Postgres, serverArgs(opts, c.dataDir, c.port)...)
	c.cmd.Stdout = logf
	c.cmd.Stderr = logf
	c.cmd.Dir = "/" // postgres chdirs to the data dir itself; our cwd may be unreadable for acct.
	c.cmd.Env = serverEnv()
	// SIGINT is a fast shutdown: a dev cluster whose parent died still
	// gets a clean checkpoint.
	c.cmd.SysProcAttr = sysProcAttr(acct, syscall.SIGINT)
	err = c.spawn()
	logf.Close() // The child has its own copy of the descriptor.
	if err != nil {
		c.claim.release()
		return false, fmt.Errorf("pgcluster: starting %s: %w", c.bins.Postgres, err)
	}

	if err := c.waitReady(ctx); err != nil {
		c.kill()
		tail := readLogTail(c.logPath, offset, 8192, 200)
		portTaken = strings.Contains(tail, "could not bind") || strings.Contains(tail, "Address already in use")
		return portTaken, fmt.Errorf("pgcluster: postgres on %s did not come up: %w%s", c.dataDir, err, logTailSuffix(c.logPath, offset))
	}
	opts.logf("pgcluster: postgres (pid %d) is ready on 127.0.0.1:%d, data in %s", c.PID(), c.port, c.dataDir)
	return false, nil
}

// spawn starts c.cmd and reaps it in the background.
//
// The kernel sends the parent-death signal when the *thread* that forked
// the child exits, not when the process does (see the Pdeathsig caveat in
// package syscall), and the Go runtime may retire idle threads. So the
// child is started from a goroutine locked to its thread, and that goroutine
// stays on it, blocked in Wait, for as long as the server runs: the signal
// then fires only when this process really dies. Once Wait returns the
// goroutine exits still locked, which makes the runtime discard the
// thread; that is harmless, the child is gone by then.
func (c *Cluster) spawn() error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := c.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.exitErr = c.cmd.Wait()
		c.claim.release()
		close(c.done)
	}()
	return <-started
}

// kill stops a server that failed to start, without ceremony: an immediate
// shutdown, then SIGKILL. It returns once the process has been reaped.
func (c *Cluster) kill() {
	for _, sig := range []syscall.Signal{syscall.SIGQUIT, syscall.SIGKILL} {
		_ = c.cmd.Process.Signal(sig)
		select {
		case <-c.done:
			return
		case <-time.After(5 * time.Second):
		}
	}
	<-c.done // SIGKILL cannot be ignored; Wait returns promptly.
}

// waitReady waits until the server accepts an authenticated connection.
//
// It first watches postmaster.pid, where the server records "ready" once it
// accepts connections (as pg_ctl does): connecting earlier would fail and
// fill the log with "the database system is starting up", and crash
// recovery can take a while. Then it connects for real, which also proves
// that the stored password still matches.
func (c *Cluster) waitReady(ctx context.Context) error {
	url := c.URL("postgres")
	pidFile := filepath.Join(c.dataDir, "postmaster.pid")
	// An attempt in flight is abandoned as soon as the server exits: if it
	// failed to bind, whatever holds the port may accept and never answer.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	exited := func() error { return fmt.Errorf("postgres exited during startup (%v)", c.exitErr) }
	var last error
	for {
		select {
		case <-c.done:
			return exited()
		default:
		}
		if pid, status, ok := readPostmasterStatus(pidFile); ok && (pid != c.PID() || status != "ready") {
			last = fmt.Errorf("postmaster.pid says pid %d is %q", pid, status)
		} else if err := ping(ctx, url); err == nil {
			return nil
		} else {
			last = err
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) {
				switch {
				case pgErr.Code == "57P03": // cannot_connect_now: starting up, in recovery
				case strings.HasPrefix(pgErr.Code, "28"): // invalid authorization
					return fmt.Errorf("the server rejected the superuser's credentials from %s: %w", PasswordFile, err)
				default:
					return fmt.Errorf("the server refused a connection: %w", err)
				}
			}
		}
		select {
		case <-c.done:
			return exited()
		case <-ctx.Done():
			select {
			case <-c.done: // ctx was cancelled because the server exited
				return exited()
			default:
			}
			return fmt.Errorf("gave up waiting for it to accept connections: %w (last check: %v)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readPostmasterStatus reads the pid (line 1) and status (line 8, e.g.
// "starting", "ready") from postmaster.pid. ok is false when the file is
// missing or too short to have a status, which callers treat as unknown.
func readPostmasterStatus(path string) (pid int, status string, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, "", false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 8 {
		return 0, "", false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil {
		return 0, "", false
	}
	return pid, strings.TrimSpace(lines[7]), true
}

func ping(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, url)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// serverArgs builds the postgres command line. Settings given with -c beat
// postgresql.conf, so they apply to clusters initialised earlier too.
func serverArgs(opts *Options, dataDir string, port int) []string {
	settings := map[string]string{
		// Small, fixed footprint: several test binaries may each run a
		// cluster at once, and initdb's probed default is 128MB.
		"max_connections":   "100",
		"shared_buffers":    "32MB",
		"logging_collector": "off", // we capture stderr ourselves
		"log_destination":   "stderr",
	}
	if opts.DisableFsync {
		settings["fsync"] = "off"
		settings["synchronous_commit"] = "off"
		settings["full_page_writes"] = "off"
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	settings["listen_addresses"] = "127.0.0.1"
	settings["port"] = fmt.Sprint(port)
	// No Unix sockets: their directory would have to exist, be writable by
	// the server account and stay under the path length limit.
	settings["unix_socket_directories"] = ""

	names := make([]string, 0, len(settings))
	for k := range settings {
		names = append(names, k)
	}
	sort.Strings(names)
	args := []string{"-D", dataDir}
	for _, k := range names {
		args = append(args, "-c", k+"="+settings[k])
	}
	return args
}

// serverEnv is a small, predictable environment for initdb and postgres:
// the caller's PG* variables (PGPORT, PGDATA, ...) must not leak in, and a
// locale that is not installed must not make initdb fail.
func serverEnv() []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C", "LANG=C"}
	if tz, ok := os.LookupEnv("TZ"); ok {
		env = append(env, "TZ="+tz)
	}
	return env
}

// sysProcAttr runs the child as acct (if any), in its own process group so
// that a Ctrl-C in the terminal reaches only this process, which then stops
// the server in order, and with deathSig as its parent-death signal. Go
// applies Pdeathsig after switching credentials, so it survives the switch.
func sysProcAttr(acct *account, deathSig syscall.Signal) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: deathSig}
	if acct != nil {
		attr.Credential = &syscall.Credential{Uid: acct.uid, Gid: acct.gid, Groups: acct.groups}
	}
	return attr
}

// runLocked runs cmd to completion from a thread that stays alive until it
// exits, for the same Pdeathsig reason as spawn.
func runLocked(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- cmd.Run()
	}()
	return <-errc
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: finding a free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ensureInitialised runs initdb unless the data dir already holds a cluster
// made by this package, and returns the superuser's password.
func ensureInitialised(ctx context.Context, opts *Options, bins Binaries, acct *account, dataDir string) (string, error) {
	pwPath := filepath.Join(dataDir, PasswordFile)
	versionPath := filepath.Join(dataDir, "PG_VERSION")
	pw, err := os.ReadFile(pwPath)
	switch {
	case err == nil:
		if _, err := os.Stat(versionPath); err != nil {
			return "", fmt.Errorf("pgcluster: %s has a %s but no PG_VERSION, so it is not a usable cluster: %w", dataDir, PasswordFile, err)
		}
		password := strings.TrimSpace(string(pw))
		if password == "" {
			return "", fmt.Errorf("pgcluster: %s is empty", pwPath)
		}
		return password, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("pgcluster: reading the superuser password: %w", err)
	}
	// The password file is written last, so a PG_VERSION without it means
	// a cluster we did not make, or an initdb that was killed mid-way
	// (initdb removes its partial work itself when it merely fails).
	if _, err := os.Stat(versionPath); err == nil {
		return "", fmt.Errorf("pgcluster: %s holds a PostgreSQL cluster that pgcluster did not finish initialising (no %s); remove the directory to start afresh", dataDir, PasswordFile)
	}

	opts.logf("pgcluster: initialising a new cluster in %s with %s", dataDir, bins.Initdb)
	password := rand.Text() // 128 bits, base32: nothing to escape in a URL.
	out, err := runInitdb(ctx, opts, bins, acct, dataDir, password)
	if err != nil {
		return "", err
	}
	if err := writePrivateFile(filepath.Join(dataDir, LogFile), "=== pgcluster: initdb output ===\n"+out, acct, false); err != nil {
		return "", err
	}
	if err := writePrivateFile(pwPath, password+"\n", acct, true); err != nil {
		return "", err
	}
	return password, nil
}

func runInitdb(ctx context.Context, opts *Options, bins Binaries, acct *account, dataDir, password string) (string, error) {
	// initdb reads the password from a file. The data dir must be empty,
	// and a temp dir may not be reachable by acct, so the file is handed
	// over as stdin and named /dev/stdin: re-opening it through /proc
	// checks only the file's own permissions, and the file is acct's.
	pwf, err := os.CreateTemp("", "pgcluster-pw-*")
	if err != nil {
		return "", fmt.Errorf("pgcluster: creating the initdb password file: %w", err)
	}
	defer os.Remove(pwf.Name())
	defer pwf.Close()
	if _, err := pwf.WriteString(password + "\n"); err != nil {
		return "", fmt.Errorf("pgcluster: writing the initdb password file: %w", err)
	}
	if _, err := pwf.Seek(0, 0); err != nil {
		return "", fmt.Errorf("pgcluster: rewinding the initdb password file: %w", err)
	}
	if acct != nil {
		if err := pwf.Chown(int(acct.uid), int(acct.gid)); err != nil {
			return "", fmt.Errorf("pgcluster: handing the initdb password file to %s: %w", acct.name, err)
		}
	}

	args := []string{
		"-D", dataDir,
		"-U", Superuser,
		"--pwfile=/dev/stdin",
		"--auth=scram-sha-256",
		"-E", "UTF8",
		"--locale=C",
	}
	if opts.DisableFsync {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, bins.Initdb, args...)
	// On cancellation (and on our death, below) send SIGTERM rather than
	// SIGKILL: initdb traps it and removes what it wrote, so the data dir
	// is not left half-initialised.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdin = pwf
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.Dir = "/"
	cmd.Env = serverEnv()
	cmd.SysProcAttr = sysProcAttr(acct, syscall.SIGTERM)
	if err := runLocked(cmd); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted (%w): %w", ctx.Err(), err)
		}
		return "", fmt.Errorf("pgcluster: %s failed: %w\n--- initdb output ---\n%s", bins.Initdb, err, lastLines(out.Bytes(), 30))
	}
	return out.String(), nil
}

// writePrivateFile writes (or, with replace false, appends to) a 0600 file
// owned by acct. With replace it writes a temp file and renames it over the
// target, so a crash never leaves a truncated password file behind.
func writePrivateFile(path, content string, acct *account, replace bool) error {
	target := path
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if replace {
		path += ".tmp"
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return fmt.Errorf("pgcluster: writing %s: %w", target, err)
	}
	_, werr := f.WriteString(content)
	if werr == nil {
		werr = f.Chmod(0o600)
	}
	if werr == nil && acct != nil {
		werr = f.Chown(int(acct.uid), int(acct.gid))
	}
	if werr == nil && replace {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil && replace {
		werr = os.Rename(path, target)
	}
	if werr != nil {
		return fmt.Errorf("pgcluster: writing %s: %w", target, werr)
	}
	return nil
}
