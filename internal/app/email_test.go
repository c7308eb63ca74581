package app

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"

	"pacto/internal/pgtest"
	"pacto/internal/store"
	"pacto/workflows"
)

// A worker without a mailer says at start that email is not configured,
// and each email delivery it then marks failed gets a log line and counts
// once in pacto_deliveries_failed_total.
func TestWorkerWithoutEmailWarnsLogsAndCounts(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if _, err := SeedDemo(ctx, st, t.TempDir()+"/tokens.json"); err != nil {
		t.Fatal(err)
	}
	// The activity's approvals and activation queue emails to the demo's
	// principals, who all have addresses.
	recordActivity(t, st, "act-email", 15, "Taller", "Workshop")
	var queued int
	if err := st.Pool().QueryRow(ctx, "SELECT count(*) FROM deliveries WHERE channel = 'email'").Scan(&queued); err != nil || queued == 0 {
		t.Fatalf("%d email deliveries queued (%v); the test needs some", queued, err)
	}

	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))),
	}))
	if _, err := workflows.RegisterSearchAttributes(ctx, ts.GetDefaultClient(), ts.GetDefaultNamespace()); err != nil {
		t.Fatal(err)
	}
	logs := &levels{}
	reg := prometheus.NewRegistry()
	metrics, err := NewWorkerMetrics(reg, st)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWorker(ts.GetDefaultClient(), st, Delivery{Logger: slog.New(logs), Metrics: metrics})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	deadline := time.Now().Add(60 * time.Second)
	for {
		var failed int
		if err := st.Pool().QueryRow(ctx, "SELECT count(*) FROM deliveries WHERE channel = 'email' AND status = 'failed'").Scan(&failed); err != nil {
			t.Fatal(err)
		}
		if failed == queued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d email deliveries marked failed", failed, queued)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The count follows the mark, in the same activity.
	deadline = time.Now().Add(10 * time.Second)
	for failedCount(t, reg, "email") < float64(queued) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := failedCount(t, reg, "email"); got != float64(queued) {
		t.Fatalf("pacto_deliveries_failed_total{channel=\"email\"} = %v, want %d", got, queued)
	}

	logs.mu.Lock()
	text := strings.Join(logs.msgs, "\n")
	logs.mu.Unlock()
	if strings.Count(text, "WARN email is not configured on this worker: email and digest deliveries will fail until PACTO_SMTP_HOST is set") != 1 {
		t.Fatalf("log:\n%s\nwant one warning at start that email is not configured", text)
	}
	if got := strings.Count(text, "ERROR delivery failed permanently"); got != queued {
		t.Fatalf("%d failure lines for %d failed deliveries:\n%s", got, queued, text)
	}
	t.Logf("%d email deliveries failed, each logged and counted", queued)
}

// failedCount reads pacto_deliveries_failed_total for a channel from the
// worker's registry, as a scrape would.
func failedCount(t *testing.T, reg *prometheus.Registry, channel string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "pacto_deliveries_failed_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "channel" && l.GetValue() == channel {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
