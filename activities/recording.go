package activities

import (
	"context"

	"pacto/internal/lifecycle"
)

// RecordStore is the part of the store the Record activity writes to.
type RecordStore interface {
	Record(ctx context.Context, snap lifecycle.State, events []lifecycle.Event) error
}

// Recording is the real Record activity: it writes each change to the
// PostgreSQL read model, audit log, inbox and outbox in one transaction.
// The outbox's deliveries are set under way by the worker's relay, so a
// Record never waits on them.
type Recording struct {
	Store RecordStore
}

// Record implements Recorder.
func (r *Recording) Record(ctx context.Context, in RecordInput) error {
	return r.Store.Record(ctx, in.Snapshot, in.Events)
}
