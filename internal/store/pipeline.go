package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"pacto/internal/store/db"
)

// A pipeline sends several generated queries to PostgreSQL in one round
// trip (a pgx.Batch) and reads their results in the order they were
// queued, which is the order PostgreSQL runs them in.
//
// A generated method runs its query and reads the result in one call, so
// a pipeline calls each queued step twice: once against a recorder, to
// learn the statement and its arguments, and once the batch is sent,
// against the batch's results, to read its result into the step's
// variables. A step must therefore make exactly one query and have no
// effect but assigning its result.
type pipeline struct {
	batch pgx.Batch
	steps []pipelineStep
	// err is the first step that was not one query, reported by send.
	err error
}

type pipelineStep struct {
	what string // names the step in its error
	call func(*db.Queries) error
}

// queue adds a step; what names it in the error if it fails.
func (p *pipeline) queue(what string, call func(q *db.Queries) error) {
	var r recorder
	_ = call(db.New(&r)) // errRecorded: nothing has run yet
	if r.n != 1 {
		if p.err == nil {
			p.err = fmt.Errorf("%s: the step made %d queries, not one", what, r.n)
		}
		return
	}
	p.batch.Queue(r.sql, r.args...)
	p.steps = append(p.steps, pipelineStep{what: what, call: call})
}

// send runs the queued queries in tx and hands each step its result, in
// order. The first step that fails ends it, its error wrapped with the
// step's name; the transaction is then aborted, so no later query of the
// batch did anything.
func (p *pipeline) send(ctx context.Context, tx pgx.Tx) error {
	if p.err != nil {
		return p.err
	}
	if len(p.steps) == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, &p.batch)
	q := db.New(batchDB{br})
	for _, s := range p.steps {
		if err := s.call(q); err != nil {
			_ = br.Close()
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("end batch: %w", err)
	}
	return nil
}

// errRecorded is what a recorder answers every query with.
var errRecorded = errors.New("query recorded, not run")

// recorder is a db.DBTX that keeps the query it is given instead of
// running it.
type recorder struct {
	n    int
	sql  string
	args []any
}

func (r *recorder) keep(sql string, args []any) { r.n, r.sql, r.args = r.n+1, sql, args }

func (r *recorder) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	r.keep(sql, args)
	return pgconn.CommandTag{}, errRecorded
}

func (r *recorder) Query(_ context.Context, sql string, args ...any) (pgx.Rows, error) {
	r.keep(sql, args)
	return nil, errRecorded
}

func (r *recorder) QueryRow(_ context.Context, sql string, args ...any) pgx.Row {
	r.keep(sql, args)
	return recordedRow{}
}

type recordedRow struct{}

func (recordedRow) Scan(...any) error { return errRecorded }

// batchDB is a db.DBTX that answers each query with the next result of a
// sent batch, the query that the pipeline queued in its place.
type batchDB struct{ br pgx.BatchResults }

func (b batchDB) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return b.br.Exec()
}

func (b batchDB) Query(context.Context, string, ...any) (pgx.Rows, error) { return b.br.Query() }

func (b batchDB) QueryRow(context.Context, string, ...any) pgx.Row { return b.br.QueryRow() }
