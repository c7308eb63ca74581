package devserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/persistence"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	temporalschema "go.temporal.io/server/schema"
	sqliteschema "go.temporal.io/server/schema/sqlite"

	// The driver Temporal's SQLite plugin uses, registered as "sqlite".
	_ "modernc.org/sqlite"
)

// markerTable records that devserver created the schema, and which schema
// versions it holds. Temporal's SQLite schema has no version table of its
// own, and its server never migrates an SQLite database: a file written by
// an older Temporal could fail in confusing ways, so Start refuses it with
// a clear message instead.
const markerTable = "pacto_devserver"

// sqliteConfig is the persistence config for the database file at path.
//
// WAL with synchronous=NORMAL: a commit is in the WAL (and so in the OS's
// page cache) before the call returns, so every committed change survives
// the process being killed, even by SIGKILL; only an OS crash or power
// loss can lose the last commits, and never corrupts the file. That is the
// right trade for a developer's machine, and much faster than fsyncing
// every one of the many small transactions Temporal makes.
//
// One connection (the plugin's default, MaxConns unset): SQLite allows one
// writer at a time, and more connections would trade that for
// SQLITE_BUSY retries inside Temporal's transactions.
//
// busy_timeout only matters if someone opens the file alongside, say with
// the sqlite3 shell: the server waits for them instead of failing.
func sqliteConfig(path string) *config.SQL {
	return &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: path,
		ConnectAttributes: map[string]string{
			"mode":         "rwc",
			"journal_mode": "wal",
			"synchronous":  "normal",
			"busy_timeout": "10000",
		},
	}
}

// dsn builds the same kind of DSN the plugin builds from cfg, for our own
// connection. Attributes other than SQLite URI parameters are pragmas.
func dsn(cfg *config.SQL) string {
	v := url.Values{}
	keys := make([]string, 0, len(cfg.ConnectAttributes))
	for k := range cfg.ConnectAttributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "mode" {
			v.Set(k, cfg.ConnectAttributes[k])
			continue
		}
		v.Add("_pragma", k+"="+cfg.ConnectAttributes[k])
	}
	return "file:" + cfg.DatabaseName + "?" + v.Encode()
}

// schemaState says what prepareSchema found.
type schemaState int

const (
	schemaReused schemaState = iota
	schemaCreated
)

// part is which of Temporal's two schemas a database file holds.
type part int

const (
	// partPersistence is workflows, their histories, timers and tasks.
	partPersistence part = iota
	// partVisibility is the records workflow lists and counts read.
	partVisibility
	// partBoth is a data directory made before visibility had a file of
	// its own: both schemas in temporal.db. Such a directory is used as it
	// is; none is made any more.
	partBoth
)

// Marker rows: which schema version a file holds, and, in temporal.db,
// where the visibility records are.
const (
	markSchema           = "schema"
	markVisibilitySchema = "visibility_schema"
	markVisibilityFile   = "visibility_file"
)

// stores are the database files of a data directory.
type stores struct {
	persistence, visibility *config.SQL
	created                 bool
}

// prepareStores makes sure the data directory holds Temporal's databases,
// creating them on first use.
//
// Visibility records have a file of their own. Temporal writes one on
// every workflow start, close and search-attribute change, each a large
// statement on a heavily indexed table; in the same file they would queue
// on the one connection with the history writes every decision waits on.
// Temporal keeps the two consistent by itself: a visibility record is
// written from a task stored with the history change, and written again if
// the process died first.
//
// The visibility file is created first, so temporal.db, once committed,
// always has its visibility file: if that file is later missing, Start
// refuses rather than run with lists that would never show the activities
// already open.
func prepareStores(ctx context.Context, dir string) (stores, error) {
	s := stores{
		persistence: sqliteConfig(filepath.Join(dir, databaseFile)),
		visibility:  sqliteConfig(filepath.Join(dir, visibilityFile)),
	}
	marker, err := readMarker(ctx, s.persistence)
	if err != nil {
		return s, err
	}
	switch {
	case marker == nil: // a new data directory
		if _, err := prepareSchema(ctx, s.visibility, partVisibility); err != nil {
			return s, err
		}
		// A visibility file holding records belongs to an earlier
		// temporal.db that is gone: its records name workflows that no
		// longer exist.
		if n, err := visibilityRecords(ctx, s.visibility); err != nil {
			return s, err
		} else if n > 0 {
			return s, fmt.Errorf("%s holds %d visibility records but %s is new; remove %s, or restore the %s it belongs with",
				s.visibility.DatabaseName, n, s.persistence.DatabaseName, s.visibility.DatabaseName, databaseFile)
		}
		if _, err := prepareSchema(ctx, s.persistence, partPersistence); err != nil {
			return s, err
		}
		s.created = true
	case marker[markVisibilitySchema] != "": // made before visibility had a file of its own
		if _, err := prepareSchema(ctx, s.persistence, partBoth); err != nil {
			return s, err
		}
		s.visibility = s.persistence
	default:
		if _, err := os.Stat(s.visibility.DatabaseName); errors.Is(err, fs.ErrNotExist) {
			return s, fmt.Errorf("%s is missing: restore it with the %s it belongs with, or remove the data directory to start afresh",
				s.visibility.DatabaseName, databaseFile)
		}
		for _, f := range []struct {
			cfg *config.SQL
			p   part
		}{{s.visibility, partVisibility}, {s.persistence, partPersistence}} {
			if _, err := prepareSchema(ctx, f.cfg, f.p); err != nil {
				return s, err
			}
		}
	}
	return s, nil
}

// readMarker returns the marker rows of the database at cfg, nil if it has
// no tables yet, or an error if it has tables devserver did not make.
func readMarker(ctx context.Context, cfg *config.SQL) (map[string]string, error) {
	var marker map[string]string
	err := inTx(ctx, cfg, func(tx *sql.Tx) error {
		found, err := inspect(ctx, tx, cfg.DatabaseName)
		if err != nil || !found {
			return err
		}
		marker, err = markerRows(ctx, tx, cfg.DatabaseName)
		return err
	})
	return marker, err
}

// visibilityRecords counts the workflows the visibility file at cfg lists.
func visibilityRecords(ctx context.Context, cfg *config.SQL) (int, error) {
	var n int
	err := inTx(ctx, cfg, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM executions_visibility`).Scan(&n); err != nil {
			return fmt.Errorf("count visibility records in %s: %w", cfg.DatabaseName, err)
		}
		return nil
	})
	return n, err
}

// inTx runs f in a transaction on its own connection to the database at
// cfg, and commits if f succeeds.
//
// It uses its own connection, not the plugin's: the plugin keeps its
// connections for the life of the process and cannot run a schema in a
// transaction.
func inTx(ctx context.Context, cfg *config.SQL, f func(*sql.Tx) error) error {
	db, err := sql.Open("sqlite", dsn(cfg))
	if err != nil {
		return fmt.Errorf("open %s: %w", cfg.DatabaseName, err)
	}
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction on %s: %w", cfg.DatabaseName, err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit on %s: %w", cfg.DatabaseName, err)
	}
	return nil
}

// inspect reports whether the database has devserver's marker, and refuses
// one that has tables but no marker.
func inspect(ctx context.Context, tx *sql.Tx, path string) (bool, error) {
	var marked, tables int
	if err := tx.QueryRowContext(ctx,
		`SELECT count(*) FILTER (WHERE name = ?), count(*) FROM sqlite_master WHERE type = 'table'`,
		markerTable).Scan(&marked, &tables); err != nil {
		return false, fmt.Errorf("inspect %s: %w", path, err)
	}
	if marked == 0 && tables > 0 {
		return false, fmt.Errorf("%s holds a database that devserver did not create (it has tables but no %s table); "+
			"point DataDir at an empty directory", path, markerTable)
	}
	return marked > 0, nil
}

// prepareSchema makes sure the database at cfg holds Temporal's schema
// part p, creating it on first use. The schema and the marker are written
// in one transaction (SQLite's DDL is transactional), so a process killed
// halfway leaves an empty database that the next start fills, never a
// half-made one.
func prepareSchema(ctx context.Context, cfg *config.SQL, p part) (schemaState, error) {
	state := schemaReused
	err := inTx(ctx, cfg, func(tx *sql.Tx) error {
		found, err := inspect(ctx, tx, cfg.DatabaseName)
		if err != nil {
			return err
		}
		if found {
			return checkMarker(ctx, tx, cfg.DatabaseName, p)
		}
		state = schemaCreated
		return createSchema(ctx, tx, cfg.DatabaseName, p)
	})
	return state, err
}

// schemaFiles are the SQL files of each part, in Temporal's schema assets.
var schemaFiles = map[part][]string{
	partPersistence: {"sqlite/v3/temporal/schema.sql"},
	partVisibility:  {"sqlite/v3/visibility/schema.sql"},
	partBoth:        {"sqlite/v3/temporal/schema.sql", "sqlite/v3/visibility/schema.sql"},
}

// markerOf is what the marker of a file holding part p says.
func markerOf(p part) map[string]string {
	switch p {
	case partPersistence:
		return map[string]string{markSchema: sqliteschema.Version, markVisibilityFile: visibilityFile}
	case partVisibility:
		return map[string]string{markVisibilitySchema: sqliteschema.VisibilityVersion}
	default:
		return map[string]string{markSchema: sqliteschema.Version, markVisibilitySchema: sqliteschema.VisibilityVersion}
	}
}

// createSchema writes part p's schema and the marker in tx.
func createSchema(ctx context.Context, tx *sql.Tx, path string, p part) error {
	for _, name := range schemaFiles[p] {
		f, err := temporalschema.Assets().Open(name)
		if err != nil {
			return fmt.Errorf("read Temporal's %s: %w", name, err)
		}
		statements, err := persistence.LoadAndSplitQueryFromReaders([]io.Reader{f})
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("read Temporal's %s: %w", name, err)
		}
		for _, stmt := range statements {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("create Temporal schema in %s: %q: %w", path, stmt, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE `+markerTable+` (name TEXT PRIMARY KEY, value TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create %s in %s: %w", markerTable, path, err)
	}
	for k, v := range markerOf(p) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+markerTable+` (name, value) VALUES (?, ?)`, k, v); err != nil {
			return fmt.Errorf("record schema version in %s: %w", path, err)
		}
	}
	return nil
}

// checkMarker refuses a database whose schema versions differ from the ones
// this build of Temporal writes, or that holds another part than p.
func checkMarker(ctx context.Context, tx *sql.Tx, path string, p part) error {
	have, err := markerRows(ctx, tx, path)
	if err != nil {
		return err
	}
	want := markerOf(p)
	if have[markSchema] != want[markSchema] || have[markVisibilitySchema] != want[markVisibilitySchema] {
		return fmt.Errorf("%s was created with Temporal SQLite schema %q (visibility %q) but this build uses %q (visibility %q); "+
			"remove the data directory to start afresh", path, have[markSchema], have[markVisibilitySchema],
			want[markSchema], want[markVisibilitySchema])
	}
	return nil
}

// markerRows reads the marker table.
func markerRows(ctx context.Context, tx *sql.Tx, path string) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, value FROM `+markerTable)
	if err != nil {
		return nil, fmt.Errorf("read %s in %s: %w", markerTable, path, err)
	}
	defer func() { _ = rows.Close() }()
	have := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read %s in %s: %w", markerTable, path, err)
		}
		have[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s in %s: %w", markerTable, path, err)
	}
	return have, nil
}
