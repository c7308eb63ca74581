package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"

	"pacto/internal/pgcluster"
	"pacto/internal/store"
	"pacto/internal/telemetry"
	"pacto/workflows"
)

// A worker's listener on its own PostgreSQL: /healthz answers from the
// start; /readyz only once the worker polls and while PostgreSQL answers;
// /metrics carries the SDK's metrics once a workflow has run (task
// latencies, schedule-to-start, sticky cache hits, and an activity
// failing while PostgreSQL is down) beside the outbox's depth.
func TestWorkerProbes(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pacto-probes-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// The postgres user must reach the data dir when tests run as root.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	opts := pgcluster.Options{DataDir: filepath.Join(dir, "pg"), Port: port, DisableFsync: true}
	pg, err := pgcluster.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop(context.Background()) })
	if err := EnsureDatabase(ctx, pg.URL("postgres"), "pacto"); err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx, pg.URL("pacto")); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenLazy(ctx, pg.URL("pacto")+"&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{Logger: sdklog.NewStructuredLogger(log)}))
	reg := telemetry.NewRegistry()
	sdkMetrics, err := telemetry.TemporalMetrics(reg, log)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := DialTemporal(TemporalConfig{Address: ts.GetFrontendHostPort(), Namespace: ts.GetDefaultNamespace(), Metrics: sdkMetrics}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	metrics, err := NewWorkerMetrics(reg, st)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWorker(tc, st, Delivery{Logger: log, Metrics: metrics})
	t.Cleanup(w.Stop)
	probes := httptest.NewServer(Probes{Worker: w, Store: st, Gatherer: reg}.Handler())
	t.Cleanup(probes.Close)

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(probes.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	ready := func() (int, map[string]string) {
		t.Helper()
		code, body := get("/readyz")
		var v map[string]string
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("/readyz %d: %q: %v", code, body, err)
		}
		return code, v
	}
	waitReady := func(want int, what string) map[string]string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			code, v := ready()
			if code == want {
				return v
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz %d %v, want %d %s", code, v, want, what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	metricValue := func(text, name, contains string) float64 {
		total := -1.0
		for _, line := range strings.Split(text, "\n") {
			if !strings.HasPrefix(line, name+"{") || !strings.Contains(line, contains) {
				continue
			}
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err == nil {
				total = max(total, 0) + v
			}
		}
		return total
	}

	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz %d before the worker starts", code)
	}
	if code, v := ready(); code != http.StatusServiceUnavailable || v["worker"] != "not polling" || v["postgres"] != "ok" {
		t.Fatalf("/readyz before the worker starts: %d %v", code, v)
	}

	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	if v := waitReady(http.StatusOK, "once the worker polls"); v["task_queue"] != workflows.TaskQueue {
		t.Fatalf("/readyz names task queue %q", v["task_queue"])
	}

	// A digest run: a workflow task, an activity (QueueDigests, handed to
	// the worker eagerly with the task's completion) and the workflow task
	// that takes its result from the sticky cache.
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "digest-probe-1", TaskQueue: workflows.TaskQueue},
		workflows.DigestWorkflowName, workflows.DigestInput{Version: workflows.DigestVersion})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	_, text := get("/metrics")
	for _, name := range []string{
		"temporal_workflow_task_execution_latency_seconds_bucket", "temporal_workflow_task_schedule_to_start_latency_seconds_bucket",
		"temporal_activity_execution_latency_seconds_bucket",
		"temporal_sticky_cache_hit", "temporal_worker_start",
	} {
		if metricValue(text, name, `workflow_type="Digest"`) <= 0 && metricValue(text, name, "") <= 0 {
			t.Errorf("/metrics has no %s after a digest run", name)
		}
	}
	if n := metricValue(text, "temporal_sticky_cache_hit", `workflow_type="Digest"`); n < 1 {
		t.Errorf("no sticky cache hit for the digest run: %v", n)
	}
	for _, series := range []string{`pacto_outbox_deliveries{channel="email",status="pending"} 0`, "pacto_outbox_scrape_error 0",
		`pacto_deliveries_sent_total{channel="webhook"} 0`, `pacto_reminders_total{type="milestone_overdue"} 0`} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + `$`).MatchString(text) {
			t.Errorf("/metrics lacks %s", series)
		}
	}

	// PostgreSQL stops: not ready, the outbox cannot be counted, and a
	// digest run's activity fails until it is back.
	if err := pg.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if v := waitReady(http.StatusServiceUnavailable, "while PostgreSQL is down"); v["postgres"] != "unreachable" || v["worker"] != "polling" {
		t.Fatalf("/readyz while PostgreSQL is down: %v", v)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz %d while PostgreSQL is down", code)
	}
	run, err = tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "digest-probe-2", TaskQueue: workflows.TaskQueue},
		workflows.DigestWorkflowName, workflows.DigestInput{Version: workflows.DigestVersion})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, text = get("/metrics")
		if metricValue(text, "temporal_activity_execution_failed", `activity_type="QueueDigests"`) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no temporal_activity_execution_failed while PostgreSQL is down:\n%s", text)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(text, "\npacto_outbox_scrape_error 1\n") {
		t.Error("the outbox's scrape error is not 1 while PostgreSQL is down")
	}

	if pg, err = pgcluster.Start(ctx, opts); err != nil {
		t.Fatal(err)
	}
	waitReady(http.StatusOK, "once PostgreSQL is back")
	if err := run.Get(ctx, nil); err != nil {
		t.Fatalf("the digest run after PostgreSQL came back: %v", err)
	}
	// The activity's retries came through the task queue, not eagerly:
	// their wait there is measured.
	_, text = get("/metrics")
	if n := metricValue(text, "temporal_activity_schedule_to_start_latency_seconds_count", `activity_type="QueueDigests"`); n < 1 {
		t.Errorf("no activity schedule-to-start latency after the retries: %v", n)
	}

	w.Stop()
	if code, v := ready(); code != http.StatusServiceUnavailable || v["worker"] != "not polling" {
		t.Fatalf("/readyz once the worker stopped: %d %v", code, v)
	}
}
