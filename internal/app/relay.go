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
	Starter BatchStarter
	Log     *slog.Logger
	// Every is how often an idle relay looks; zero means RelayEvery.
	Every time.Duration
}

// BatchStarter starts the workflow that sends a batch of deliveries;
// starting the same batch twice starts it once.
type BatchStarter interface {
	StartBatch(ctx context.Context, ids []string) error
}

// RelayEvery is how often an idle relay looks for new outbox rows.
const RelayEvery = 250 * time.Millisecond

const (
	// relayBatch bounds the rows claimed in one transaction.
	relayBatch = 100
	// relayTimeout bounds one claim, start and mark, so that rows are not
	// held locked while Temporal does not answer.
	relayTimeout = 15 * time.Second
	// relayMaxPause bounds the wait between tries while PostgreSQL or
	// Temporal is down.
	relayMaxPause = 10 * time.Second
)

// Run relays until ctx is done. While a round fails (the database or
// Temporal is down) it waits longer between tries, up to relayMaxPause,
// and warns once per failing stretch rather than on every try.
func (r *Relay) Run(ctx context.Context) {
	every := r.Every
	if every <= 0 {
		every = RelayEvery
	}
	pause, failing := every, false
	for {
		rctx, cancel := context.WithTimeout(ctx, relayTimeout)
		n, err := r.Store.DispatchDeliveries(rctx, relayBatch, r.Starter.StartBatch)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !failing {
				// The rows stay undispatched; a later round takes them.
				r.Log.WarnContext(ctx, "outbox relay: cannot start deliveries yet; retrying", "err", err)
			}
			failing, pause = true, min(2*pause, relayMaxPause)
		default:
			if failing {
				r.Log.InfoContext(ctx, "outbox relay: starting deliveries again")
			}
			failing, pause = false, every
			if n == relayBatch {
				continue // more may be waiting
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
}
