package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// recordedChannel is the PostgreSQL notification channel Record announces
// each committed change on (query NotifyRecorded); the payload is the
// activity ID.
const recordedChannel = "pacto_recorded"

// watchPoll is how often a waiter looks again without a notification: the
// listener may be reconnecting, or a notification may have come between a
// look and the wait.
var watchPoll = 50 * time.Millisecond

// watcher wakes waiters when Record commits a change of their activity,
// through one LISTEN connection per Store, opened on the first wait.
type watcher struct {
	mu      sync.Mutex
	waiters map[string]map[chan struct{}]struct{}
	started bool
	stop    context.CancelFunc
	done    chan struct{}
}

// WaitRecorded waits until the read model holds activity id at sequence
// seq or later, or within has passed, or ctx is done, and reports whether
// it does.
func (s *Store) WaitRecorded(ctx context.Context, id string, seq int64, within time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	wake := s.watch.add(s, id)
	defer s.watch.remove(id, wake)
	for {
		if got, err := s.ActivitySeq(ctx, id); err == nil && got >= seq {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-wake:
		case <-time.After(watchPoll):
		}
	}
}

func (w *watcher) add(s *Store, id string) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started {
		w.started = true
		ctx, cancel := context.WithCancel(context.Background())
		w.stop, w.done = cancel, make(chan struct{})
		go func() { defer close(w.done); w.listen(ctx, s) }()
	}
	if w.waiters == nil {
		w.waiters = map[string]map[chan struct{}]struct{}{}
	}
	if w.waiters[id] == nil {
		w.waiters[id] = map[chan struct{}]struct{}{}
	}
	c := make(chan struct{}, 1)
	w.waiters[id][c] = struct{}{}
	return c
}

func (w *watcher) remove(id string, c chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.waiters[id], c)
	if len(w.waiters[id]) == 0 {
		delete(w.waiters, id)
	}
}

func (w *watcher) wake(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.waiters[id] {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// listen holds a LISTEN connection until ctx ends, reconnecting after a
// pause whenever it breaks (waiters poll meanwhile).
func (w *watcher) listen(ctx context.Context, s *Store) {
	for ctx.Err() == nil {
		err := w.listenOnce(ctx, s)
		if ctx.Err() != nil {
			return
		}
		_ = err // the database is away; waiters poll until it is back
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (w *watcher) listenOnce(ctx context.Context, s *Store) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+recordedChannel); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return errors.Join(err, ctx.Err())
		}
		w.wake(n.Payload)
	}
}

// close stops the listener, if one was started.
func (w *watcher) close() {
	w.mu.Lock()
	stop, done := w.stop, w.done
	w.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}
