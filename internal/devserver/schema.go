package devserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sort"

	"go.temporal.io/server/common/config"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
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

// prepareSchema makes sure the database at cfg holds Temporal's schema,
// creating it on first use. The whole schema and the marker are written in
// one transaction (SQLite's DDL is transactional), so a process killed
// halfway leaves an empty database that the next start fills, never a
// half-made one.
//
// It uses its own connection, not the plugin's: the plugin keeps its
// connections for the life of the process and cannot run the schema in a
// transaction.
func prepareSchema(ctx context.Context, cfg *config.SQL) (schemaState, error) {
	db, err := sql.Open("sqlite", dsn(cfg))
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", cfg.DatabaseName, err)
	}
	defer func() { _ = db.Close() }()
	db.SetMaxOpenConns(1)

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin schema transaction on %s: %w", cfg.DatabaseName, err)
	}
	defer func() { _ = tx.Rollback() }()

	var marked, tables int
	if err := tx.QueryRowContext(ctx,
		`SELECT count(*) FILTER (WHERE name = ?), count(*) FROM sqlite_master WHERE type = 'table'`,
		markerTable).Scan(&marked, &tables); err != nil {
		return 0, fmt.Errorf("inspect %s: %w", cfg.DatabaseName, err)
	}
	if marked > 0 {
		return schemaReused, checkMarker(ctx, tx, cfg.DatabaseName)
	}
	if tables > 0 {
		return 0, fmt.Errorf("%s holds a database that devserver did not create (it has tables but no %s table); "+
			"point DataDir at an empty directory", cfg.DatabaseName, markerTable)
	}

	if err := sqliteschema.SetupSchemaOnDB(&txAdmin{ctx: ctx, tx: tx, name: cfg.DatabaseName}); err != nil {
		return 0, fmt.Errorf("create Temporal schema in %s: %w", cfg.DatabaseName, err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE `+markerTable+` (name TEXT PRIMARY KEY, value TEXT NOT NULL)`); err != nil {
		return 0, fmt.Errorf("create %s in %s: %w", markerTable, cfg.DatabaseName, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+markerTable+` (name, value) VALUES ('schema', ?), ('visibility_schema', ?)`,
		sqliteschema.Version, sqliteschema.VisibilityVersion); err != nil {
		return 0, fmt.Errorf("record schema version in %s: %w", cfg.DatabaseName, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit Temporal schema in %s: %w", cfg.DatabaseName, err)
	}
	return schemaCreated, nil
}

// checkMarker refuses a database whose schema versions differ from the ones
// this build of Temporal writes.
func checkMarker(ctx context.Context, tx *sql.Tx, path string) error {
	rows, err := tx.QueryContext(ctx, `SELECT name, value FROM `+markerTable)
	if err != nil {
		return fmt.Errorf("read %s in %s: %w", markerTable, path, err)
	}
	defer func() { _ = rows.Close() }()
	have := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return fmt.Errorf("read %s in %s: %w", markerTable, path, err)
		}
		have[k] = v
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s in %s: %w", markerTable, path, err)
	}
	if have["schema"] != sqliteschema.Version || have["visibility_schema"] != sqliteschema.VisibilityVersion {
		return fmt.Errorf("%s was created with Temporal SQLite schema %s (visibility %s) but this build uses %s (visibility %s); "+
			"remove the data directory to start afresh", path, have["schema"], have["visibility_schema"],
			sqliteschema.Version, sqliteschema.VisibilityVersion)
	}
	return nil
}

// errUnsupported is what txAdmin answers to everything but Exec.
var errUnsupported = errors.New("not supported while creating the devserver schema")

// txAdmin lets Temporal's SetupSchemaOnDB, which only needs Exec, run its
// statements inside our transaction. The other methods of the interface
// are never called by it; they answer an error rather than pretend.
type txAdmin struct {
	ctx  context.Context
	tx   *sql.Tx
	name string
}

// Exec runs one schema statement in the transaction.
func (a *txAdmin) Exec(stmt string, args ...any) error {
	_, err := a.tx.ExecContext(a.ctx, stmt, args...)
	return err
}

// DbName names the database file.
func (a *txAdmin) DbName() string { return a.name }

// PluginName is the SQLite plugin's.
func (a *txAdmin) PluginName() string { return sqliteplugin.PluginName }

// Close does nothing: prepareSchema owns the transaction.
func (a *txAdmin) Close() error { return nil }

// ExpectedVersion is the schema version SetupSchemaOnDB writes.
func (a *txAdmin) ExpectedVersion() string { return sqliteschema.Version }

// VerifyVersion is unsupported.
func (a *txAdmin) VerifyVersion() error { return errUnsupported }

// CreateSchemaVersionTables is unsupported.
func (a *txAdmin) CreateSchemaVersionTables() error { return errUnsupported }

// ReadSchemaVersion is unsupported.
func (a *txAdmin) ReadSchemaVersion(string) (string, error) { return "", errUnsupported }

// UpdateSchemaVersion is unsupported.
func (a *txAdmin) UpdateSchemaVersion(string, string, string) error { return errUnsupported }

// WriteSchemaUpdateLog is unsupported.
func (a *txAdmin) WriteSchemaUpdateLog(string, string, string, string) error { return errUnsupported }

// ListTables is unsupported.
func (a *txAdmin) ListTables(string) ([]string, error) { return nil, errUnsupported }

// DropTable is unsupported.
func (a *txAdmin) DropTable(string) error { return errUnsupported }

// DropAllTables is unsupported.
func (a *txAdmin) DropAllTables(string) error { return errUnsupported }

// CreateDatabase is unsupported.
func (a *txAdmin) CreateDatabase(string) error { return errUnsupported }

// DropDatabase is unsupported.
func (a *txAdmin) DropDatabase(string) error { return errUnsupported }
