// Package store is Pacto's PostgreSQL read model, audit log, principals,
// tokens and inbox, reached through pgx and the typed queries in store/db.
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"

	"pacto/internal/store/db"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrNotFound is returned when a requested row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a row being created already exists.
var ErrConflict = errors.New("already exists")

// ErrInvalid is returned when the database's own checks refuse a value.
var ErrInvalid = errors.New("refused by a database check")

// Store is a pool of connections with the typed queries on top.
type Store struct {
	pool  *pgxpool.Pool
	q     *db.Queries
	watch watcher
}

// Open connects to the database at url and checks that it answers.
func Open(ctx context.Context, url string) (*Store, error) {
	s, err := OpenLazy(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := s.pool.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return s, nil
}

// OpenLazy prepares a pool for url without connecting: a server can start
// while the database is down, answer 503 meanwhile, and recover by itself.
func OpenLazy(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	// Queries made within a traced request or activity join its trace.
	cfg.ConnConfig.Tracer = queryTracer{}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("prepare database pool: %w", err)
	}
	return &Store{pool: pool, q: db.New(pool)}, nil
}

// Close releases every connection.
func (s *Store) Close() {
	s.watch.close()
	s.pool.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Pool exposes the connection pool, for tests and tools.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Migrate brings the schema at url up to date with the migrations embedded
// in this binary. It is safe to run from several processes at once: the
// migrator holds an advisory lock while it works.
func Migrate(ctx context.Context, url string) error {
	return migrateTo(ctx, url, -1)
}

// migrateTo brings the schema at url to a version (-1 for the latest),
// applying or reverting migrations as needed.
func migrateTo(ctx context.Context, url string, version int32) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	m, err := migrate.NewMigrator(ctx, conn, "pacto_schema_version")
	if err != nil {
		return fmt.Errorf("prepare migrations: %w", err)
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("open embedded migrations: %w", err)
	}
	if err := m.LoadMigrations(sub); err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if version < 0 {
		err = m.Migrate(ctx)
	} else {
		err = m.MigrateTo(ctx, version)
	}
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// notFound maps pgx's no-rows error to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// pgCode returns the SQLSTATE of a PostgreSQL error, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// created maps a unique violation to ErrConflict and a foreign-key or
// check violation to a plain error that names the constraint.
func created(what string, err error) error {
	switch pgCode(err) {
	case "":
		return err
	case "23505":
		return fmt.Errorf("%s: %w", what, ErrConflict)
	case "23503":
		return fmt.Errorf("%s refers to something that does not exist: %w", what, ErrNotFound)
	case "23514", "22001":
		return fmt.Errorf("%s: %w", what, ErrInvalid)
	}
	return fmt.Errorf("%s: %w", what, err)
}
