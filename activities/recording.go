package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// RecordStore is the part of the store the Record activity writes to.
type RecordStore interface {
	Record(ctx context.Context, snap lifecycle.State, events []lifecycle.Event) error
	NoteRecordFailure(ctx context.Context, id string, seq int64, cause error) error
}

// ErrRecordRefused is the application error type of a Record the read
// model refused for a reason retrying cannot cure.
const ErrRecordRefused = "record_refused"

// Recording is the real Record activity: it writes each change to the
// PostgreSQL read model, audit log, inbox and outbox in one transaction.
// The outbox's deliveries are set under way by the worker's relay, so a
// Record never waits on them.
type Recording struct {
	Store RecordStore
	// Metrics counts failures and reminders; nil counts nothing.
	Metrics *Metrics
	// Now is the clock reminders' lateness is measured by; time.Now by
	// default.
	Now func() time.Time
}

// Record implements Recorder. A refusal that retrying cannot cure is
// logged at error and kept in the store, where admins list it and the
// API's metrics count it; the workflow
// learns of it as a non-retryable error when it can handle one
// (RecordInput.Refusable), and otherwise keeps retrying as before.
func (r *Recording) Record(ctx context.Context, in RecordInput) error {
	err := r.Store.Record(ctx, in.Snapshot, in.Events)
	if err == nil {
		now := time.Now
		if r.Now != nil {
			now = r.Now
		}
		r.Metrics.recorded(in, now())
		return nil
	}
	r.Metrics.recordFailed(store.Permanent(err))
	if !store.Permanent(err) {
		return err
	}
	activity.GetLogger(ctx).Error("the read model refused a change of an activity; it is behind until an administrator acts",
		"activity", in.Snapshot.ID, "seq", in.Snapshot.Seq, "error", err)
	if nerr := r.Store.NoteRecordFailure(ctx, in.Snapshot.ID, in.Snapshot.Seq, err); nerr != nil {
		activity.GetLogger(ctx).Error("could not keep the record failure for admins", "activity", in.Snapshot.ID, "error", nerr)
	}
	if !in.Refusable {
		return err
	}
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("the read model refused change %d of activity %s: %v", in.Snapshot.Seq, in.Snapshot.ID, err), ErrRecordRefused, nil)
}
