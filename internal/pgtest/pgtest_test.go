//go:build linux

package pgtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pacto/internal/pgtest"
)

// failingHelperEnv makes TestHelperFailingTest, run in a child process by
// TestMainCleansUpAfterFailingTests, start the cluster and then fail.
const failingHelperEnv = "PGTEST_FAILING_HELPER"

var setupCalls atomic.Int32

func TestMain(m *testing.M) {
	pgtest.SetTemplateSetup(func(ctx context.Context, url string) error {
		setupCalls.Add(1)
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, `
			CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL);
			INSERT INTO widgets (name) VALUES ('seed');`)
		return err
	})
	pgtest.Main(m)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func connect(t *testing.T, connString string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx(t), connString)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func widgets(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(ctx(t), "SELECT name FROM widgets ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func dbName(t *testing.T, connString string) string {
	t.Helper()
	u, err := url.Parse(connString)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

func TestNewDatabaseIsolated(t *testing.T) {
	began := time.Now()
	a := pgtest.NewDatabase(t)
	t.Logf("first database (cluster start + template) in %v", time.Since(began).Round(time.Millisecond))
	began = time.Now()
	b := pgtest.NewDatabase(t)
	t.Logf("second database in %v", time.Since(began).Round(time.Millisecond))
	if a == b || dbName(t, a) == dbName(t, b) {
		t.Fatalf("same database twice: %s", a)
	}
	ca, cb := connect(t, a), connect(t, b)

	// Both are clones of the template.
	for _, c := range []*pgx.Conn{ca, cb} {
		if got := widgets(t, c); len(got) != 1 || got[0] != "seed" {
			t.Fatalf("template content missing: %v", got)
		}
	}
	// What one test writes, the other does not see.
	if _, err := ca.Exec(ctx(t), "INSERT INTO widgets (name) VALUES ('only-in-a')"); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.Exec(ctx(t), "DROP TABLE widgets"); err != nil {
		t.Fatal(err)
	}
	if got := widgets(t, ca); len(got) != 2 || got[1] != "only-in-a" {
		t.Errorf("database a: %v", got)
	}
	var current string
	if err := ca.QueryRow(ctx(t), "SELECT current_database()").Scan(&current); err != nil || current != dbName(t, a) {
		t.Errorf("connected to %q (%v), want %q", current, err, dbName(t, a))
	}
}

func TestParallelTestsGetTheirOwnDatabases(t *testing.T) {
	for i := range 4 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			t.Parallel()
			pool := pgtest.NewPool(t)
			name := fmt.Sprintf("widget-%d", i)
			if _, err := pool.Exec(ctx(t), "INSERT INTO widgets (name) VALUES ($1)", name); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := pool.QueryRow(ctx(t), "SELECT count(*) FROM widgets").Scan(&n); err != nil || n != 2 {
				t.Errorf("count = %d (%v), want 2: the seed and ours", n, err)
			}
		})
	}
}

func TestTemplateSetupRunsOnce(t *testing.T) {
	pgtest.NewDatabase(t)
	pgtest.NewDatabase(t)
	if n := setupCalls.Load(); n != 1 {
		t.Errorf("template setup ran %d times, want once per binary", n)
	}
}

func TestDatabaseAndPoolGoAwayAfterTheTest(t *testing.T) {
	var name string
	var inner interface{ Ping(context.Context) error }
	t.Run("inner", func(t *testing.T) {
		pool := pgtest.NewPool(t)
		if err := pool.QueryRow(ctx(t), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		inner = pool
	})
	if name == "" {
		t.Fatal("inner test did not get a database")
	}
	if err := inner.Ping(ctx(t)); err == nil {
		t.Error("the pool is still open after its test ended")
	}
	pool := pgtest.NewPool(t)
	var n int
	if err := pool.QueryRow(ctx(t), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s still exists after its test ended", name)
	}
}

// TestHelperFailingTest does nothing in a normal run. In the child process
// of TestMainCleansUpAfterFailingTests it starts the cluster, reports the
// server's pid and fails.
func TestHelperFailingTest(t *testing.T) {
	if os.Getenv(failingHelperEnv) == "" {
		return
	}
	pgtest.NewDatabase(t)
	pidFiles, _ := filepath.Glob(filepath.Join(os.TempDir(), "pacto-pgtest-*", "data", "postmaster.pid"))
	for _, f := range pidFiles {
		if b, err := os.ReadFile(f); err == nil {
			fmt.Printf("POSTMASTER %s\n", strings.SplitN(string(b), "\n", 2)[0])
		}
	}
	t.Fatal("deliberate failure")
}

func TestMainCleansUpAfterFailingTests(t *testing.T) {
	if os.Getenv(pgtest.EnvDatabaseURL) != "" {
		t.Log("PACTO_TEST_DATABASE_URL is set: the child uses that server, so there is no cluster to clean up; checking the exit code only")
	}
	tmp, err := os.MkdirTemp("", "pgtest-failing-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	if err := os.Chmod(tmp, 0o755); err != nil { // reachable by the postgres account
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFailingTest$", "-test.v")
	cmd.Env = append(os.Environ(), failingHelperEnv+"=1", "TMPDIR="+tmp)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 || !strings.Contains(string(out), "deliberate failure") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if os.Getenv(pgtest.EnvDatabaseURL) != "" {
		return
	}
	var pid int
	for _, line := range strings.Split(string(out), "\n") {
		fmt.Sscanf(line, "POSTMASTER %d", &pid)
	}
	if pid == 0 {
		t.Fatalf("child did not report its server:\n%s", out)
	}
	if err := syscall.Kill(pid, 0); err == nil && !isZombie(pid) {
		t.Errorf("the child's postgres (pid %d) is still running", pid)
	}
	left, _ := os.ReadDir(tmp)
	if len(left) != 0 {
		t.Errorf("the child left %v in its temp dir", left)
	}
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X')
}
