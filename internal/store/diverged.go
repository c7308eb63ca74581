package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"pacto/internal/lifecycle"
	"pacto/internal/store/db"
)

// OpenActivity is an activity the read model has open (proposed, active
// or suspended), as the reconciler compares it with Temporal.
type OpenActivity struct {
	ID     string
	Seq    int64
	Status lifecycle.Status
}

// OpenActivities lists, by id after after, at most limit activities the
// read model has open and has not already noted as diverged.
func (s *Store) OpenActivities(ctx context.Context, after string, limit int) ([]OpenActivity, error) {
	rows, err := s.q.OpenActivities(ctx, db.OpenActivitiesParams{AfterID: after, MaxRows: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("list open activities: %w", err)
	}
	out := make([]OpenActivity, len(rows))
	for i, r := range rows {
		out[i] = OpenActivity{ID: r.ID, Seq: r.Seq, Status: lifecycle.Status(r.Status)}
	}
	return out, nil
}

// LostRun confirms, with the activity locked, that its workflow is no
// longer running, and says how it ended; false when it runs after all.
type LostRun func(ctx context.Context) (run lifecycle.TemporalRun, lost bool, err error)

// MarkLost notes that activity id's workflow was lost: if the read model
// still holds it open at seq, with no divergence noted, and confirm (asked
// with the activity locked, so that no restart or Record slips between
// the look and the write) says its run is gone, it records the core's
// workflow_lost event at now in the audit log and the snapshot, and keeps
// the activity among the diverged for admins. It reports whether it did.
func (s *Store) MarkLost(ctx context.Context, id string, seq int64, now time.Time, confirm LostRun) (bool, error) {
	marked := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.LockActivity(ctx, id); err != nil {
			return fmt.Errorf("lock activity %s: %w", id, err)
		}
		row, err := q.GetActivity(ctx, id)
		if err != nil {
			return fmt.Errorf("read activity %s: %w", id, notFound(err))
		}
		if row.Seq != seq || lifecycle.Status(row.Status).Terminal() {
			return nil // it moved on since it was listed: look again next pass
		}
		if _, err := q.OpenDivergence(ctx, id); err == nil {
			return nil
		} else if !errors.Is(notFound(err), ErrNotFound) {
			return fmt.Errorf("read divergence of %s: %w", id, err)
		}
		run, lost, err := confirm(ctx)
		if err != nil || !lost {
			return err
		}
		snap, err := decodeSnapshot(row)
		if err != nil {
			return err
		}
		events, err := lifecycle.Decide(snap, lifecycle.NoteWorkflowLost{Run: run}, lifecycle.Principal{ID: lifecycle.SystemActor}, now)
		if err != nil {
			return fmt.Errorf("note the lost workflow of %s: %w", id, err)
		}
		for _, e := range events {
			snap = lifecycle.Apply(snap, e)
		}
		if err := record(ctx, tx, snap, events); err != nil {
			return err
		}
		noted := *events[0].Temporal // as the core made it storable
		if err := q.UpsertDivergence(ctx, db.UpsertDivergenceParams{
			ActivityID: id, Seq: snap.Seq, Status: string(snap.Status), TemporalStatus: noted.Status,
			RunID: noted.RunID, Identity: noted.Identity, Reason: noted.Reason,
		}); err != nil {
			return fmt.Errorf("note divergence of %s: %w", id, err)
		}
		marked = true
		return nil
	})
	return marked, err
}

// Divergence is an activity whose workflow stopped running in Temporal
// while the read model had it open, until a restarted run records a change.
type Divergence struct {
	ActivityID string `json:"activity_id"`
	Title      string `json:"title"`
	Dialogue   string `json:"dialogue"`
	// Status is the activity's status in the read model, which it keeps.
	Status lifecycle.Status `json:"status"`
	// Seq is the workflow_lost event's in the activity's audit log.
	Seq int64 `json:"seq"`
	// Temporal is what Temporal said of the run: its status (terminated,
	// failed, timed_out, canceled, completed, not_found), run, and who
	// ended it or why.
	Temporal   lifecycle.TemporalRun `json:"temporal"`
	DetectedAt time.Time             `json:"detected_at"`
}

// Divergences lists the activities whose workflow was lost and not yet
// restarted, oldest first, at most limit.
func (s *Store) Divergences(ctx context.Context, limit int) ([]Divergence, error) {
	rows, err := s.q.ListDivergences(ctx, int32(limit))
	if err != nil {
		return nil, fmt.Errorf("list diverged activities: %w", err)
	}
	out := make([]Divergence, len(rows))
	for i, r := range rows {
		out[i] = Divergence{
			ActivityID: r.ActivityID, Title: r.Title, Dialogue: r.DialogueID, Status: lifecycle.Status(r.Status), Seq: r.Seq,
			Temporal:   lifecycle.TemporalRun{RunID: r.RunID, Status: r.TemporalStatus, Identity: r.Identity, Reason: r.Reason},
			DetectedAt: r.DetectedAt,
		}
	}
	return out, nil
}

// CountDivergences counts the activities whose workflow was lost and not
// yet restarted.
func (s *Store) CountDivergences(ctx context.Context) (int64, error) {
	n, err := s.q.CountDivergences(ctx)
	if err != nil {
		return 0, fmt.Errorf("count diverged activities: %w", err)
	}
	return n, nil
}

// ClaimReconcilePass claims the reconciler's next pass for the caller if
// no pass started within every, so that of all the workers looking one
// reconciles per interval.
func (s *Store) ClaimReconcilePass(ctx context.Context, every time.Duration) (bool, error) {
	_, err := s.q.ClaimReconcilePass(ctx, every.Seconds())
	switch err = notFound(err); {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("claim a reconciler pass: %w", err)
}

// WithActivityLock runs fn holding the lock every writer of activity id
// takes (Record, MarkLost), so that what fn sees of the activity's
// workflow and does to it is not crossed by them: a restart checks that
// the run is gone and starts another under it.
func (s *Store) WithActivityLock(ctx context.Context, id string, fn func(ctx context.Context) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.q.WithTx(tx).LockActivity(ctx, id); err != nil {
			return fmt.Errorf("lock activity %s: %w", id, err)
		}
		return fn(ctx)
	})
}
