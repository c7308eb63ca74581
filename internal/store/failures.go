package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"pacto/internal/store/db"
)

// Permanent reports whether a Record failed for a reason that retrying
// cannot cure: PostgreSQL refused the data itself (a data exception, class
// 22, or a violated constraint, class 23) rather than being unreachable,
// overloaded or in the middle of a conflict.
func Permanent(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch {
	case strings.HasPrefix(pe.Code, "22"):
		return true
	case strings.HasPrefix(pe.Code, "23"):
		return true
	}
	return false
}

// RecordFailure is an activity whose latest change the read model refused.
// While it lasts the read model is behind the workflow.
type RecordFailure struct {
	ActivityID string `json:"activity_id"`
	// Seq is the change that could not be recorded; RecordedSeq is what
	// the read model holds (0: nothing yet).
	Seq           int64     `json:"seq"`
	RecordedSeq   int64     `json:"recorded_seq"`
	SQLState      string    `json:"sqlstate,omitempty"`
	Message       string    `json:"message"`
	Attempts      int       `json:"attempts"`
	FirstFailedAt time.Time `json:"first_failed_at"`
	LastFailedAt  time.Time `json:"last_failed_at"`
}

// NoteRecordFailure keeps a refused Record of an activity up to seq, so
// admins see it and reads say the read model is behind. A later Record
// that reaches seq clears it.
func (s *Store) NoteRecordFailure(ctx context.Context, id string, seq int64, cause error) error {
	code := ""
	var pe *pgconn.PgError
	if errors.As(cause, &pe) {
		code = pe.Code
	}
	msg := cause.Error()
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	// The message may quote what was refused; keep it storable.
	msg = strings.ToValidUTF8(strings.ReplaceAll(msg, "\x00", `\0`), "?")
	if err := s.q.UpsertRecordFailure(ctx, db.UpsertRecordFailureParams{ActivityID: id, Seq: seq, Sqlstate: code, Message: msg}); err != nil {
		return fmt.Errorf("note record failure of %s: %w", id, err)
	}
	return nil
}

// RecordFailureOf returns the open record failure of an activity, or
// ErrNotFound when its read model is up to date.
func (s *Store) RecordFailureOf(ctx context.Context, id string) (RecordFailure, error) {
	row, err := s.q.RecordFailure(ctx, id)
	if err != nil {
		return RecordFailure{}, notFound(err)
	}
	return failureOf(row), nil
}

func failureOf(row db.RecordFailureRow) RecordFailure {
	return RecordFailure{ActivityID: row.ActivityID, Seq: row.Seq, RecordedSeq: row.RecordedSeq, SQLState: row.Sqlstate, Message: row.Message,
		Attempts: int(row.Attempts), FirstFailedAt: row.FirstFailedAt, LastFailedAt: row.LastFailedAt}
}

// RecordFailures lists the open record failures, oldest first.
func (s *Store) RecordFailures(ctx context.Context, limit int) ([]RecordFailure, error) {
	rows, err := s.q.ListRecordFailures(ctx, int32(limit))
	if err != nil {
		return nil, fmt.Errorf("list record failures: %w", err)
	}
	out := make([]RecordFailure, len(rows))
	for i, r := range rows {
		out[i] = failureOf(db.RecordFailureRow(r)) // the same columns
	}
	return out, nil
}

// CountRecordFailures counts the activities whose read model is behind
// because a Record was refused.
func (s *Store) CountRecordFailures(ctx context.Context) (int64, error) {
	n, err := s.q.CountRecordFailures(ctx)
	if err != nil {
		return 0, fmt.Errorf("count record failures: %w", err)
	}
	return n, nil
}
