package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"pacto/internal/pgtest"
	"pacto/internal/store"
)

func TestMain(m *testing.M) {
	pgtest.SetTemplateSetup(store.Migrate)
	pgtest.Main(m)
}

// fakeStarter refuses its first failFirst batches (Temporal down), then
// counts every row it is handed.
type fakeStarter struct {
	mu        sync.Mutex
	failFirst int
	calls     int
	seen      map[string]int
	largest   int
}

func (f *fakeStarter) StartBatch(_ context.Context, ids []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.failFirst {
		return errors.New("temporal unavailable")
	}
	f.largest = max(f.largest, len(ids))
	for _, id := range ids {
		f.seen[id]++
	}
	return nil
}

// levels counts log records by level and message.
type levels struct {
	mu   sync.Mutex
	msgs []string
}

func (l *levels) Enabled(context.Context, slog.Level) bool { return true }
func (l *levels) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Level.String()+" "+r.Message)
	return nil
}
func (l *levels) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *levels) WithGroup(string) slog.Handler      { return l }

// Through a stretch of failed starts the relay backs off, warns once, and
// then hands on every outbox row exactly once, in batches of at most 100.
func TestRelayHandsOnEveryRowOnceThroughFailures(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateWebhookSubscription(ctx, store.WebhookSubscription{ID: "hook", URL: "http://127.0.0.1:9/"}, "whsec_test"); err != nil {
		t.Fatal(err)
	}
	const rows = 250
	if _, err := st.Pool().Exec(ctx, `
		INSERT INTO deliveries (id, channel, subscription_id, activity_id, seq, content)
		SELECT 'webhook-' || g, 'webhook', 'hook', 'act-' || (g % 7), g, '{}'
		FROM generate_series(1, $1::int) g`, rows); err != nil {
		t.Fatal(err)
	}
	starter := &fakeStarter{failFirst: 3, seen: map[string]int{}}
	logs := &levels{}
	relay := &Relay{Store: st, Starter: starter, Log: slog.New(logs), Every: 10 * time.Millisecond}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); relay.Run(rctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		starter.mu.Lock()
		n := len(starter.seen)
		starter.mu.Unlock()
		// A batch is handed on before the transaction that marks it
		// dispatched commits; stopping the relay in between would roll
		// the mark back, so wait for the marks as well.
		var left int
		if err := st.Pool().QueryRow(ctx, "SELECT count(*) FROM deliveries WHERE dispatched_at IS NULL").Scan(&left); err != nil {
			t.Fatal(err)
		}
		if n == rows && left == 0 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("the relay handed on %d of %d rows; %d left undispatched", n, rows, left)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done

	for id, k := range starter.seen {
		if k != 1 {
			t.Fatalf("row %s handed on %d times", id, k)
		}
	}
	if starter.largest > 100 {
		t.Fatalf("a batch of %d rows; want at most 100", starter.largest)
	}
	var left int
	if err := st.Pool().QueryRow(ctx, "SELECT count(*) FROM deliveries WHERE dispatched_at IS NULL").Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d rows left undispatched (%v)", left, err)
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	text := strings.Join(logs.msgs, "\n")
	if strings.Count(text, "WARN") != 1 || !strings.Contains(text, "INFO outbox relay: starting deliveries again") {
		t.Fatalf("log:\n%s\nwant one warning for the failing stretch and a note when it ends", text)
	}
}
