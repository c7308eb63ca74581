// Package pgtest gives each test a fresh PostgreSQL database.
//
// A test binary gets one private cluster (see package pgcluster), started
// the first time a test asks for a database, in a fresh temp dir, with fsync
// off. Each NewDatabase call clones a template database that was prepared
// once per binary by the function given to SetTemplateSetup (typically:
// apply the migrations), which is much faster than migrating per test. The
// database is dropped when the test ends, and the cluster and its dir are
// removed when the binary ends, through Main:
//
//	func TestMain(m *testing.M) {
//		pgtest.SetTemplateSetup(func(ctx context.Context, url string) error {
//			return store.Migrate(ctx, url)
//		})
//		pgtest.Main(m)
//	}
//
//	func TestSomething(t *testing.T) {
//		pool := pgtest.NewPool(t)
//		...
//	}
//
// If PACTO_TEST_DATABASE_URL is set, no cluster is started: the databases
// and the template are created on that server instead, whose role needs
// CREATEDB. Without PostgreSQL binaries and without that variable, a test
// asking for a database fails with a message naming what to install; it is
// never skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"pacto/internal/pgcluster"
)

// EnvDatabaseURL names the environment variable that points the tests at an
// existing server instead of a private cluster. Its value is a connection
// string (URL or keyword/value) for a maintenance database on that server.
const EnvDatabaseURL = "PACTO_TEST_DATABASE_URL"

// tempDirPrefix names the per-binary temp dirs, so that dirs abandoned by
// a crashed binary can be found and removed by a later one.
const tempDirPrefix = "pacto-pgtest-"

// SetupFunc prepares the template database at url, e.g. by applying
// migrations. It must close its connections before returning.
type SetupFunc func(ctx context.Context, url string) error

// SetTemplateSetup registers the function that prepares the template
// database that every NewDatabase clones. Call it from TestMain before
// Main; it runs at most once per binary, when the first test asks for a
// database.
func SetTemplateSetup(fn SetupFunc) { std.setTemplateSetup(fn) }

// Main runs the tests and then stops the cluster and deletes its dir (or,
// with PACTO_TEST_DATABASE_URL, drops the template), whether or not the
// tests passed, and exits. Call it from TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit: it returns the exit code, made non-zero if
// the cleanup fails.
func Run(m *testing.M) int {
	std.mu.Lock()
	std.active = true
	std.mu.Unlock()
	code := m.Run()
	if err := std.close(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// NewDatabase creates a database for this test from the template and
// returns a connection URL for it (a superuser's, on the private cluster).
// The database is dropped when the test and its subtests end.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return std.newDatabase(t)
}

// NewPool returns a pool connected to a NewDatabase database, closed when
// the test ends (before the database is dropped).
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	connString := NewDatabase(t)
	pool, err := pgxpool.New(context.Background(), connString)
	if err != nil {
		t.Fatalf("pgtest: opening a pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// std is the binary's harness; tests of this package make their own.
var std = &harness{}

// harness holds one binary's server, template and naming state.
type harness struct {
	// binSearchPath is passed to pgcluster (nil: the default); tests set
	// it to exercise the missing-binaries path.
	binSearchPath []string

	mu        sync.Mutex
	active    bool // Run is in progress, so close will be called
	setup     SetupFunc
	setupLate bool // SetTemplateSetup came after the template was made

	prepared   bool
	prepareErr error
	cluster    *pgcluster.Cluster
	tmpDir     string
	lock       *os.File
	external   bool
	adminConn  string // connection string of the maintenance database
	admin      *pgxpool.Pool
	template   string
	prefix     string // random, per binary: names never collide on a shared server
	seq        int
}

func (h *harness) setTemplateSetup(fn SetupFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.prepared {
		h.setupLate = true
		return
	}
	h.setup = fn
}

func (h *harness) newDatabase(t testing.TB) string {
	t.Helper()
	name, err := h.nextName(t.Name())
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = h.admin.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(h.template))
	if err != nil {
		t.Fatalf("pgtest: creating database %s from template %s: %v", name, h.template, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE (PostgreSQL 13+) ends sessions the test left open, which
		// would otherwise make the drop fail.
		if _, err := h.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: dropping database %s: %v", name, err)
		}
	})
	return withDatabase(h.adminConn, name)
}

// nextName prepares the server and template on first use and returns a
// fresh database name.
func (h *harness) nextName(testName string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.active {
		return "", errors.New("pgtest.Main (or Run) is not running: call pgtest.Main(m) from TestMain, so that the cluster is removed after the tests")
	}
	if h.setupLate {
		return "", errors.New("SetTemplateSetup was called after the template was prepared; call it in TestMain before pgtest.Main")
	}
	if !h.prepared {
		h.prepared = true
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		h.prepareErr = h.prepare(ctx)
		cancel()
	}
	if h.prepareErr != nil {
		return "", h.prepareErr
	}
	h.seq++
	// Names stay within PostgreSQL's 63 bytes and carry the test's name,
	// which helps when looking at a shared server.
	return fmt.Sprintf("t_%s_%d_%s", h.prefix, h.seq, sanitize(testName, 40)), nil
}

// prepare connects to the server (starting a private one unless
// PACTO_TEST_DATABASE_URL is set) and builds the template.
func (h *harness) prepare(ctx context.Context) error {
	h.prefix = strings.ToLower(rand.Text()[:8])
	if env := os.Getenv(EnvDatabaseURL); env != "" {
		h.external = true
		h.adminConn = env
	} else if err := h.startCluster(ctx); err != nil {
		return err
	}
	cfg, err := pgxpool.ParseConfig(h.adminConn)
	if err != nil {
		return fmt.Errorf("parsing %s: %w", h.describeServer(), err)
	}
	cfg.MaxConns = 4
	if h.admin, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("connecting to %s: %w", h.describeServer(), err)
	}
	if err := h.admin.Ping(ctx); err != nil {
		return fmt.Errorf("connecting to %s: %w", h.describeServer(), err)
	}

	h.template = "tmpl_" + h.prefix
	// template0 with explicit encoding and C locale: the same database
	// whatever template1 and the locale of a shared server look like.
	if _, err := h.admin.Exec(ctx, "CREATE DATABASE "+ident(h.template)+" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"); err != nil {
		return fmt.Errorf("creating the template database on %s: %w", h.describeServer(), err)
	}
	if h.setup != nil {
		if err := h.setup(ctx, withDatabase(h.adminConn, h.template)); err != nil {
			return fmt.Errorf("template setup: %w", err)
		}
	}
	// CREATE DATABASE ... TEMPLATE fails while anyone is connected to the
	// template: end what the setup left open, then forbid new connections.
	if _, err := h.admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", h.template); err != nil {
		return fmt.Errorf("closing connections to the template: %w", err)
	}
	if _, err := h.admin.Exec(ctx, "ALTER DATABASE "+ident(h.template)+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("freezing the template: %w", err)
	}
	return nil
}

func (h *harness) describeServer() string {
	if h.external {
		return "the server in " + EnvDatabaseURL
	}
	return "the test cluster"
}

func (h *harness) startCluster(ctx context.Context) error {
	removeAbandonedDirs(os.TempDir())
	dir, err := os.MkdirTemp(os.TempDir(), tempDirPrefix)
	if err != nil {
		return fmt.Errorf("creating the cluster dir: %w", err)
	}
	h.tmpDir = dir
	// MkdirTemp makes it 0700. When we are root the server runs as the
	// postgres account, which must be able to get through to its data.
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("making %s traversable: %w", dir, err)
	}
	if h.lock, err = lockDir(dir); err != nil {
		return err
	}
	h.cluster, err = pgcluster.Start(ctx, pgcluster.Options{
		DataDir:       filepath.Join(dir, "data"),
		DisableFsync:  true, // throwaway: speed over durability
		BinSearchPath: h.binSearchPath,
	})
	if errors.Is(err, pgcluster.ErrBinariesNotFound) {
		return fmt.Errorf("%w (or set %s to a server whose role has CREATEDB)", err, EnvDatabaseURL)
	}
	if err != nil {
		return err
	}
	h.adminConn = h.cluster.URL("postgres")
	return nil
}

// close releases everything prepare made. It is safe to call when nothing
// was prepared.
func (h *harness) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.active = false
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	if h.admin != nil {
		// On a private cluster everything goes with the dir; on a shared
		// server the template would be left behind.
		if h.external && h.template != "" {
			if _, err := h.admin.Exec(ctx, "ALTER DATABASE "+ident(h.template)+" WITH IS_TEMPLATE false"); err != nil {
				errs = append(errs, fmt.Errorf("unmarking template %s: %w", h.template, err))
			} else if _, err := h.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(h.template)+" WITH (FORCE)"); err != nil {
				errs = append(errs, fmt.Errorf("dropping template %s: %w", h.template, err))
			}
		}
		h.admin.Close()
		h.admin = nil
	}
	if h.cluster != nil {
		if err := h.cluster.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
		h.cluster = nil
	}
	if h.tmpDir != "" {
		if err := os.RemoveAll(h.tmpDir); err != nil {
			errs = append(errs, fmt.Errorf("removing the cluster dir: %w", err))
		}
		h.tmpDir = ""
	}
	if h.lock != nil {
		h.lock.Close()
		h.lock = nil
	}
	return errors.Join(errs...)
}

// withDatabase returns connString with its database replaced by db.
func withDatabase(connString, db string) string {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		if u, err := url.Parse(connString); err == nil {
			u.Path = "/" + db
			u.RawPath = ""
			return u.String()
		}
	}
	// Keyword/value form: a later dbname overrides an earlier one. Our
	// names need no quoting.
	return connString + " dbname=" + db
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// sanitize keeps [a-z0-9] of s (lowercased), turns the rest into single
// underscores and cuts the result to max bytes.
func sanitize(s string, max int) string {
	var b strings.Builder
	underscore := false
	for _, r := range strings.ToLower(s) {
		if b.Len() >= max {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			underscore = false
		} else if !underscore {
			b.WriteByte('_')
			underscore = true
		}
	}
	return strings.Trim(b.String(), "_")
}
