package activities

import (
	"context"
	"time"

	"pacto/internal/store"
)

// QueueDigestsName is the registered name of the activity that queues the
// daily digests due.
const QueueDigestsName = "QueueDigests"

// DigestStore is the part of the store the digest activity uses.
type DigestStore interface {
	QueueDigests(ctx context.Context, at time.Time) (store.DigestRun, error)
}

// Digesting queues daily digests in the outbox, where the relay and the
// Delivery workflow send them like any other mail.
type Digesting struct {
	Store DigestStore
}

// QueueDigests queues every digest due at at: one mail per principal
// whose chosen hour has struck in their party's zone since their last
// digest and who has notices collected. Each principal's digest and
// watermark are written in one transaction, so a retry queues nothing
// twice.
func (d *Digesting) QueueDigests(ctx context.Context, at time.Time) (store.DigestRun, error) {
	return d.Store.QueueDigests(ctx, at)
}
