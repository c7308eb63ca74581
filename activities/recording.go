package activities

import (
	"context"
	"fmt"

	"pacto/internal/lifecycle"
)

// RecordStore is the part of the store the Record activity writes to.
type RecordStore interface {
	Record(ctx context.Context, snap lifecycle.State, events []lifecycle.Event) error
	PendingDeliveries(ctx context.Context, activity string, events []lifecycle.Event) ([]string, error)
}

// DeliveryStarter sets one outbox delivery under way; starting one that is
// already under way or done does nothing.
type DeliveryStarter interface {
	StartDelivery(ctx context.Context, id string) error
}

// Recording is the real Record activity: it writes each change to the
// PostgreSQL read model, audit log, inbox and outbox in one transaction,
// then sets the outbox's deliveries under way.
type Recording struct {
	Store      RecordStore
	Deliveries DeliveryStarter // nil: nothing is delivered beyond the inbox
}

// Record implements Recorder. A retried Record starts the deliveries of
// its events again, so a crash between the commit and the starts loses
// nothing.
func (r *Recording) Record(ctx context.Context, in RecordInput) error {
	if err := r.Store.Record(ctx, in.Snapshot, in.Events); err != nil {
		return err
	}
	if r.Deliveries == nil {
		return nil
	}
	ids, err := r.Store.PendingDeliveries(ctx, in.Snapshot.ID, in.Events)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := r.Deliveries.StartDelivery(ctx, id); err != nil {
			return fmt.Errorf("start delivery %s: %w", id, err)
		}
	}
	return nil
}
