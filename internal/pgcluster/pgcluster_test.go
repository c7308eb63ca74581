//go:build linux

package pgcluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// helperEnv makes the test binary act as a short-lived parent process for
// TestParentDeathStopsServer: it starts a cluster on the named data dir,
// prints its pid and waits to be killed.
const helperEnv = "PGCLUSTER_TEST_HELPER_DATADIR"

// base is this binary's scratch dir, traversable by the postgres account.
var base string

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		runHelper(dir)
		return
	}
	var err error
	base, err = os.MkdirTemp("", "pgcluster-test-")
	if err == nil {
		// MkdirTemp makes it 0700; as root the postgres account must get in.
		err = os.Chmod(base, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgcluster test:", err)
		os.Exit(1)
	}
	code := m.Run()
	// Tests stop their clusters in t.Cleanup; this is the last resort.
	if pids := serverProcessesIn(sharedDataDir()); len(pids) > 0 {
		fmt.Fprintf(os.Stderr, "pgcluster test: postgres left running: %v\n", pids)
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGQUIT)
		}
		code = 1
	}
	if err := os.RemoveAll(base); err != nil {
		fmt.Fprintln(os.Stderr, "pgcluster test:", err)
	}
	os.Exit(code)
}

func runHelper(dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{DataDir: dir, DisableFsync: true})
	if err != nil {
		fmt.Println("ERROR", strings.ReplaceAll(err.Error(), "\n", " | "))
		os.Exit(1)
	}
	fmt.Println("READY", c.PID())
	time.Sleep(5 * time.Minute) // The test SIGKILLs us long before.
	os.Exit(1)
}

// sharedDataDir is one data dir that the tests take turns on, so that the
// binary runs initdb once (the slow part) and not once per test.
func sharedDataDir() string { return filepath.Join(base, "shared") }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func start(t *testing.T, opts Options) *Cluster {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = sharedDataDir()
	}
	opts.Logf = t.Logf
	began := time.Now()
	c, err := Start(testCtx(t), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("cluster up in %v (pid %d, port %d)", time.Since(began).Round(time.Millisecond), c.PID(), c.Port())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = c.Stop(ctx)
	})
	return c
}

func stop(t *testing.T, c *Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func connect(t *testing.T, c *Cluster) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(testCtx(t), c.URL("postgres"))
	if err != nil {
		t.Fatalf("connecting to %s: %v", c.URL("postgres"), err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func queryString(t *testing.T, conn *pgx.Conn, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(testCtx(t), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func exec_(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(testCtx(t), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestFindBinariesMissing(t *testing.T) {
	empty := t.TempDir()
	_, err := FindBinaries([]string{empty, filepath.Join(empty, "*", "bin")})
	if !errors.Is(err, ErrBinariesNotFound) {
		t.Fatalf("FindBinaries: got %v, want ErrBinariesNotFound", err)
	}
	for _, want := range []string{"initdb, pg_ctl, postgres", "apt-get install postgresql", empty} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	// Start reports the same, before creating anything.
	dataDir := filepath.Join(t.TempDir(), "not-created", "data")
	_, err = Start(testCtx(t), Options{DataDir: dataDir, BinSearchPath: []string{empty}})
	if !errors.Is(err, ErrBinariesNotFound) || !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Fatalf("Start: got %v, want the not-found error", err)
	}
	if _, err := os.Stat(filepath.Dir(dataDir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Start created %s although it could not run", filepath.Dir(dataDir))
	}
}

func TestFindBinariesDefaultMessage(t *testing.T) {
	// Pretend nothing is installed: an empty PATH and an empty glob.
	t.Setenv("PATH", t.TempDir())
	saved := defaultBinGlobs
	defaultBinGlobs = []string{filepath.Join(t.TempDir(), "*", "bin")}
	t.Cleanup(func() { defaultBinGlobs = saved })

	_, err := FindBinaries(nil)
	want := "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or under /usr/lib/postgresql/*/bin; install them, e.g. `apt-get install postgresql`"
	if !errors.Is(err, ErrBinariesNotFound) || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestFindBinariesPrefersHighestVersion(t *testing.T) {
	root := t.TempDir()
	mk := func(dir string, names ...string) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	all := []string{"initdb", "pg_ctl", "postgres"}
	mk(filepath.Join(root, "9.6", "bin"), all...)
	mk(filepath.Join(root, "15", "bin"), all...)
	mk(filepath.Join(root, "11", "bin"), all...)
	mk(filepath.Join(root, "17", "bin"), "initdb", "postgres") // incomplete: skipped
	mk(filepath.Join(root, "onpath"), "pg_ctl", "postgres")    // incomplete: skipped

	b, err := FindBinaries([]string{filepath.Join(root, "onpath"), filepath.Join(root, "*", "bin")})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "15", "bin"); b.Dir != want || b.Initdb != filepath.Join(want, "initdb") {
		t.Errorf("picked %+v, want %s", b, want)
	}

	// An earlier complete entry wins over a higher version later on.
	mk(filepath.Join(root, "onpath"), all...)
	if b, err = FindBinaries([]string{filepath.Join(root, "onpath"), filepath.Join(root, "*", "bin")}); err != nil || b.Dir != filepath.Join(root, "onpath") {
		t.Errorf("picked %+v, %v; want the first entry", b, err)
	}
}

func TestStartQueryStopRestart(t *testing.T) {
	c := start(t, Options{DisableFsync: true})

	u, err := url.Parse(c.URL("pacto"))
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "127.0.0.1" || u.Port() != strconv.Itoa(c.Port()) || u.User.Username() != Superuser ||
		u.Query().Get("sslmode") != "disable" || u.Path != "/pacto" {
		t.Errorf("unexpected URL %s", u.Redacted())
	}
	if pw, _ := u.User.Password(); pw == "" || pw != c.Password() {
		t.Errorf("URL carries password %q, cluster has %q", pw, c.Password())
	}

	conn := connect(t, c)
	if got := queryString(t, conn, "SELECT (1 + 1)::text"); got != "2" {
		t.Errorf("SELECT 1+1 = %s", got)
	}
	for setting, want := range map[string]string{
		"fsync":                   "off",
		"unix_socket_directories": "",
		"listen_addresses":        "127.0.0.1",
		"max_connections":         "100",
		"server_encoding":         "UTF8",
		"lc_collate":              "C",
		"password_encryption":     "scram-sha-256",
	} {
		if got := queryString(t, conn, "SELECT current_setting($1)", setting); got != want {
			t.Errorf("%s = %q, want %q", setting, got, want)
		}
	}
	exec_(t, conn, "CREATE TABLE restart_survivor (v text)")
	exec_(t, conn, "INSERT INTO restart_survivor VALUES ('kept')")
	conn.Close(context.Background())

	// Passwords are required: a wrong one is rejected.
	bad := strings.Replace(c.URL("postgres"), ":"+c.Password()+"@", ":wrong@", 1)
	if conn, err := pgx.Connect(testCtx(t), bad); err == nil {
		conn.Close(context.Background())
		t.Error("connected with a wrong password")
	}

	// The password file is private, and as root everything is postgres's.
	pwPath := filepath.Join(c.DataDir(), PasswordFile)
	fi, err := os.Stat(pwPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", pwPath, fi.Mode().Perm())
	}
	if os.Geteuid() == 0 {
		pg, err := user.Lookup(DefaultOSUser)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{c.DataDir(), pwPath, c.LogPath(), filepath.Join(c.DataDir(), "PG_VERSION")} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if uid := fi.Sys().(*syscall.Stat_t).Uid; strconv.Itoa(int(uid)) != pg.Uid {
				t.Errorf("%s is owned by uid %d, want %s (%s)", p, uid, pg.Uid, DefaultOSUser)
			}
		}
		if uid := procUID(t, c.PID()); strconv.Itoa(uid) != pg.Uid {
			t.Errorf("postgres runs as uid %d, want %s", uid, pg.Uid)
		}
	}

	// A second cluster on the same dir in this process is refused.
	if _, err := Start(testCtx(t), Options{DataDir: sharedDataDir()}); err == nil || !strings.Contains(err.Error(), "already running in this process") {
		t.Errorf("second Start on a running dir: %v", err)
	}

	pid := c.PID()
	stop(t, c)
	stop(t, c) // twice is fine
	select {
	case <-c.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	if processAlive(pid) {
		t.Errorf("postgres pid %d still alive after Stop", pid)
	}
	if _, err := os.Stat(filepath.Join(c.DataDir(), "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid still there after a clean stop: %v", err)
	}

	// Again on the same dir, on a chosen port and with fsync on (the
	// default): the same password works and the data is there.
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	c2 := start(t, Options{Port: port})
	if c2.Port() != port || c2.Password() != c.Password() {
		t.Errorf("restart: port %d password %q, want %d %q", c2.Port(), c2.Password(), port, c.Password())
	}
	conn = connect(t, c2)
	if got := queryString(t, conn, "SELECT v FROM restart_survivor"); got != "kept" {
		t.Errorf("after restart got %q", got)
	}
	if got := queryString(t, conn, "SHOW fsync"); got != "on" {
		t.Errorf("fsync = %s, want on by default", got)
	}
	conn.Close(context.Background())
	stop(t, c2)

	if log, err := os.ReadFile(c2.LogPath()); err != nil || !strings.Contains(string(log), "database system is ready to accept connections") {
		t.Errorf("server log %s lacks the server's output (err %v)", c2.LogPath(), err)
	}
}

func procUID(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "Uid:" {
			uid, _ := strconv.Atoi(f[1])
			return uid
		}
	}
	t.Fatalf("no Uid in /proc/%d/status", pid)
	return -1
}

func TestRestartAfterSIGKILL(t *testing.T) {
	// fsync on, synchronous_commit on: a committed row is in the kernel's
	// hands before the kill, so it must survive it.
	c := start(t, Options{})
	conn := connect(t, c)
	exec_(t, conn, "CREATE TABLE IF NOT EXISTS kill_survivor (v text)")
	exec_(t, conn, "INSERT INTO kill_survivor VALUES ('after-kill')")
	conn.Close(context.Background())

	if err := syscall.Kill(c.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("postgres did not die from SIGKILL")
	}
	if _, err := os.Stat(filepath.Join(c.DataDir(), "postmaster.pid")); err != nil {
		t.Fatalf("expected a stale postmaster.pid after SIGKILL: %v", err)
	}
	if err := c.Stop(testCtx(t)); err == nil || !strings.Contains(err.Error(), "already exited") {
		t.Errorf("Stop after the server died: got %v, want an 'already exited' error", err)
	}

	c2 := start(t, Options{})
	conn = connect(t, c2)
	if got := queryString(t, conn, "SELECT string_agg(v, ',') FROM kill_survivor"); got != "after-kill" {
		t.Errorf("after crash restart got %q", got)
	}
	conn.Close(context.Background())
	stop(t, c2)
}

func TestStopsServerLeftByEarlierRun(t *testing.T) {
	old := start(t, Options{DisableFsync: true})
	// Pretend the server belongs to an earlier, dead process: drop our
	// claim and its flock, as the kernel would at our death.
	old.claim.release()

	c := start(t, Options{DisableFsync: true})
	select {
	case <-old.Done():
	default:
		t.Fatal("the earlier server is still running")
	}
	if c.PID() == old.PID() {
		t.Fatal("same pid: adopted instead of restarted")
	}
	if err := old.Stop(testCtx(t)); err != nil {
		t.Errorf("the earlier server did not exit cleanly (fast shutdown expected): %v", err)
	}
	conn := connect(t, c)
	queryString(t, conn, "SELECT 'ok'")
	conn.Close(context.Background())
	stop(t, c)
}

// TestParentDeathStopsServer kills -9 a process that started a cluster and
// expects the kernel's parent-death signal to make postgres shut down.
func TestParentDeathStopsServer(t *testing.T) {
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"="+sharedDataDir())
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	var pid int
	select {
	case line := <-lines:
		if _, err := fmt.Sscanf(line, "READY %d", &pid); err != nil {
			_ = helper.Process.Kill()
			_ = helper.Wait()
			t.Fatalf("helper said %q", line)
		}
	case <-time.After(2 * time.Minute):
		_ = helper.Process.Kill()
		_ = helper.Wait()
		t.Fatal("helper did not start a cluster")
	}
	if !processAlive(pid) {
		t.Fatalf("postgres %d is not running", pid)
	}
	// While its starter lives, the server is not a leftover: hands off.
	_, err = Start(testCtx(t), Options{DataDir: sharedDataDir()})
	if wantMsg := fmt.Sprintf("in use by another running process (postgres pid %d, started by pid %d)", pid, helper.Process.Pid); err == nil || !strings.Contains(err.Error(), wantMsg) {
		t.Errorf("Start on a dir in use by another process: got %v, want %q", err, wantMsg)
	}
	if !processAlive(pid) {
		t.Fatalf("Start stopped the server of a live process")
	}
	if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()

	deadline := time.Now().Add(30 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGQUIT)
			t.Fatalf("postgres %d outlived its parent by 30s", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A fast shutdown (SIGINT) removes postmaster.pid; SIGKILL would not.
	if _, err := os.Stat(filepath.Join(sharedDataDir(), "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid remains: the server did not shut down cleanly (%v)", err)
	}
}

func TestStartFailureShowsLogTail(t *testing.T) {
	_, err := Start(testCtx(t), Options{DataDir: sharedDataDir(), Settings: map[string]string{"shared_buffers": "plenty"}})
	if err == nil {
		t.Fatal("Start succeeded with an invalid setting")
	}
	for _, want := range []string{"did not come up", LogFile, `invalid value for parameter "shared_buffers"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	// A fixed port that is taken fails (no silent move to another port).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = Start(testCtx(t), Options{DataDir: sharedDataDir(), DisableFsync: true, Port: l.Addr().(*net.TCPAddr).Port})
	if err == nil || !strings.Contains(err.Error(), "could not bind") {
		t.Errorf("Start on a taken port: %v", err)
	}

	// The failed attempts released the data dir.
	c := start(t, Options{DisableFsync: true})
	stop(t, c)
}

func TestReservedSettings(t *testing.T) {
	for _, name := range append(reservedSettings, "Port") {
		_, err := Start(testCtx(t), Options{DataDir: sharedDataDir(), Settings: map[string]string{name: "x"}})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("setting %s: got %v", name, err)
		}
	}
}

func TestRefusesForeignCluster(t *testing.T) {
	dir := filepath.Join(base, "foreign")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Start(testCtx(t), Options{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "did not finish initialising") {
		t.Fatalf("got %v", err)
	}
}

func TestRootNeedsTraversableParents(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root switches to the postgres account")
	}
	// A directory we did not create and that postgres cannot enter.
	blocked, err := os.MkdirTemp(base, "blocked-")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Start(testCtx(t), Options{DataDir: filepath.Join(blocked, "data")})
	if err == nil || !strings.Contains(err.Error(), "cannot traverse directory "+blocked+" ") {
		t.Fatalf("got %v, want an error naming %s", err, blocked)
	}
	if fi, err := os.Stat(blocked); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the launcher changed a directory it did not create: %v %v", fi.Mode(), err)
	}
	if _, err := os.Stat(filepath.Join(blocked, "data")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed Start left the data dir it created: %v", err)
	}

	// Directories the launcher creates are opened up whatever the umask.
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	acct, err := serverAccount("")
	if err != nil {
		t.Fatal(err)
	}
	made := filepath.Join(base, "made")
	dataDir, err := prepareDataDir(filepath.Join(made, "deeper", "data"), acct)
	if err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]os.FileMode{made: 0o755, filepath.Join(made, "deeper"): 0o755, dataDir: 0o700} {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", dir, fi.Mode().Perm(), want)
		}
	}
	if fi, _ := os.Stat(dataDir); fi.Sys().(*syscall.Stat_t).Uid != acct.uid {
		t.Errorf("data dir not handed to %s", acct.name)
	}
}
