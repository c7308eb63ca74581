//go:build linux

package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"pacto/internal/pgcluster"
)

// fakeTB records how a test ended instead of ending the real test, so that
// a failing NewDatabase can be observed.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	fatal    string
	skipped  bool
	cleanups []func()
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }
func (f *fakeTB) FailNow()          { f.Fatalf("FailNow") }

func (f *fakeTB) Skip(args ...any)                 { f.SkipNow() }
func (f *fakeTB) Skipf(format string, args ...any) { f.SkipNow() }
func (f *fakeTB) SkipNow() {
	f.mu.Lock()
	f.skipped = true
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	f.cleanups = append(f.cleanups, fn)
	f.mu.Unlock()
}

// run calls fn(f) on its own goroutine, as the testing package would, and
// waits for it to return or to Goexit.
func (f *fakeTB) run(fn func(testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
}

func TestMissingBinariesFailsTheTest(t *testing.T) {
	t.Setenv(EnvDatabaseURL, "") // the message under test is about the private cluster
	h := &harness{binSearchPath: []string{t.TempDir()}, active: true}
	t.Cleanup(func() {
		if err := h.close(); err != nil {
			t.Error(err)
		}
	})
	for i := range 2 { // and again: the failure is remembered, not retried
		ft := &fakeTB{TB: t}
		ft.run(func(tb testing.TB) { h.newDatabase(tb) })
		if ft.skipped {
			t.Fatal("NewDatabase skipped the test; it must fail it")
		}
		for _, want := range []string{"PostgreSQL server binaries (initdb, pg_ctl, postgres) not found", "apt-get install postgresql"} {
			if !strings.Contains(ft.fatal, want) {
				t.Errorf("call %d: fatal message %q does not contain %q", i, ft.fatal, want)
			}
		}
	}
	// Its temp dir goes away with the harness.
	dir := h.tmpDir
	if err := h.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temp dir %s survived close: %v", dir, err)
	}
}

func TestNewDatabaseNeedsMain(t *testing.T) {
	h := &harness{}
	ft := &fakeTB{TB: t}
	ft.run(func(tb testing.TB) { h.newDatabase(tb) })
	if !strings.Contains(ft.fatal, "pgtest.Main") {
		t.Errorf("fatal message %q does not point at pgtest.Main", ft.fatal)
	}
}

func TestLateTemplateSetupIsReported(t *testing.T) {
	h := &harness{active: true, prepared: true}
	h.setTemplateSetup(func(context.Context, string) error { return nil })
	ft := &fakeTB{TB: t}
	ft.run(func(tb testing.TB) { h.newDatabase(tb) })
	if !strings.Contains(ft.fatal, "SetTemplateSetup") {
		t.Errorf("fatal message %q does not explain the late SetTemplateSetup", ft.fatal)
	}
}

// TestEnvDatabaseURLIsHonoured points PACTO_TEST_DATABASE_URL at a cluster
// started here and checks that the databases and the template land there,
// with no cluster of the harness's own.
func TestEnvDatabaseURLIsHonoured(t *testing.T) {
	dir, err := os.MkdirTemp("", "pgtest-env-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	startCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	server, err := pgcluster.Start(startCtx, pgcluster.Options{DataDir: dir + "/data", DisableFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := server.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	t.Setenv(EnvDatabaseURL, server.URL("postgres"))

	// No binaries for the harness: had it tried to start a cluster of its
	// own, NewDatabase would fail.
	var setups int
	h := &harness{binSearchPath: []string{t.TempDir()}, active: true}
	h.setTemplateSetup(func(ctx context.Context, url string) error {
		setups++
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('from-template')")
		return err
	})
	closed := false
	t.Cleanup(func() {
		if !closed {
			h.close()
		}
	})

	admin, err := pgx.Connect(startCtx, server.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	exists := func(name string) bool {
		var n int
		if err := admin.QueryRow(startCtx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}

	var names []string
	t.Run("inner", func(t *testing.T) {
		for range 2 {
			connString := h.newDatabase(t)
			u, err := url.Parse(connString)
			if err != nil {
				t.Fatal(err)
			}
			if u.Port() != strconv.Itoa(server.Port()) {
				t.Errorf("database on port %s, want the env server's %d", u.Port(), server.Port())
			}
			name := strings.TrimPrefix(u.Path, "/")
			if !exists(name) {
				t.Errorf("database %s is not on the env server", name)
			}
			conn, err := pgx.Connect(startCtx, connString)
			if err != nil {
				t.Fatal(err)
			}
			var v string
			err = conn.QueryRow(startCtx, "SELECT v FROM marker").Scan(&v)
			conn.Close(context.Background())
			if err != nil || v != "from-template" {
				t.Errorf("marker = %q, %v", v, err)
			}
			names = append(names, name)
		}
	})
	if h.cluster != nil || h.tmpDir != "" {
		t.Error("the harness started a cluster of its own")
	}
	if setups != 1 {
		t.Errorf("template setup ran %d times, want 1", setups)
	}
	for _, name := range names {
		if exists(name) {
			t.Errorf("database %s was not dropped after its test", name)
		}
	}
	template := h.template
	if !exists(template) {
		t.Fatalf("template %s is not on the env server", template)
	}
	closed = true
	if err := h.close(); err != nil {
		t.Fatal(err)
	}
	if exists(template) {
		t.Errorf("template %s left on the shared server after close", template)
	}
}

func TestWithDatabase(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:p%40ss@127.0.0.1:5432/postgres?sslmode=disable": "postgres://u:p%40ss@127.0.0.1:5432/t_x?sslmode=disable",
		"postgresql://h/db":              "postgresql://h/t_x",
		"host=h user=u dbname=postgres":  "host=h user=u dbname=postgres dbname=t_x",
		"postgres://u@h:1?sslmode=allow": "postgres://u@h:1/t_x?sslmode=allow",
	} {
		got := withDatabase(in, "t_x")
		if got != want {
			t.Errorf("withDatabase(%q) = %q, want %q", in, got, want)
		}
		if cfg, err := pgconn.ParseConfig(got); err != nil || cfg.Database != "t_x" {
			t.Errorf("pgx reads %q as database %v (%v)", got, cfg, err)
		}
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"TestFoo/sub_test#01":   "testfoo_sub_test_01",
		"Ünïcode--Name":         "n_code_name",
		strings.Repeat("a", 80): strings.Repeat("a", 40),
	} {
		if got := sanitize(in, 40); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRemoveAbandonedDirs(t *testing.T) {
	parent := t.TempDir()
	mk := func(name string) string {
		dir := parent + "/" + name
		if err := os.MkdirAll(dir+"/data", 0o700); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	abandoned := mk(tempDirPrefix + "abandoned")
	if f, err := lockDir(abandoned); err != nil {
		t.Fatal(err)
	} else {
		f.Close() // its owner died
	}
	live := mk(tempDirPrefix + "live")
	f, err := lockDir(live)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	starting := mk(tempDirPrefix + "starting") // no lock file yet
	serverLeft := mk(tempDirPrefix + "server-left")
	if f, err := lockDir(serverLeft); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
	if err := os.WriteFile(serverLeft+"/data/postmaster.pid", []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := mk("something-else")

	removeAbandonedDirs(parent)
	for dir, wantKept := range map[string]bool{abandoned: false, live: true, starting: true, serverLeft: true, other: true} {
		_, err := os.Stat(dir)
		if kept := err == nil; kept != wantKept {
			t.Errorf("%s: kept=%v, want %v", dir, kept, wantKept)
		}
	}
}
