package app

import (
	"context"
	"log/slog"
	"time"

	"pacto/internal/store"
)

// Relay sets the outbox's deliveries under way. Record writes outbox rows
// in its transaction and returns at once; each worker runs a relay that
// claims up to a hundred rows nobody has handed on yet and starts one
// delivery workflow for them all, so a burst of changes costs the server a
// few workflows rather than one per change. Rows are claimed with SKIP
// LOCKED, so any number of workers may relay at once. A relay that dies
// between a start and its mark leaves the rows to be claimed again: the
// same batch restarts nothing; a batch that has grown meanwhile is started
// anew, and its deliveries already sent are skipped (at least once, never
// lost).
type Relay struct {
	Store   *store.Store
	Starter Starter
	Log     *slog.Logger
	// Every is how often an idle relay looks; zero means RelayEvery.
	Every time.Duration
}

// RelayEvery is how often an idle relay looks for new outbox rows.
const RelayEvery = 250 * time.Millisecond

// relayBatch bounds the rows claimed in one transaction.
const relayBatch = 100

// Run relays until ctx is done.
func (r *Relay) Run(ctx context.Context) {
	every := r.Every
	if every <= 0 {
		every = RelayEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := r.Store.DispatchDeliveries(ctx, relayBatch, r.Starter.StartBatch)
		if err != nil && ctx.Err() == nil {
			// The rows stay undispatched; the next round tries again.
			r.Log.WarnContext(ctx, "outbox relay: could not start every delivery", "dispatched", n, "err", err)
		}
		if n == relayBatch && err == nil {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
