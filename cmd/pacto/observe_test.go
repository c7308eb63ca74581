package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"

	"pacto/internal/app"
	"pacto/internal/pgtest"
	"pacto/workflows"
)

// `pacto worker --task-queue other --metrics-addr …` and `pacto api
// --task-queue other`: the worker's listener is not ready before the
// worker polls and is after; an activity proposed and approved through
// the API runs on "other"; the worker's /metrics has the SDK's task
// latencies and Pacto's counters, the API's the SDK's client requests;
// SIGTERM stops the worker cleanly, its listener with it. Then `pacto
// serve` on the same queue, with every metric on the API's /metrics.
func TestWorkerListenerAndTaskQueueFlags(t *testing.T) {
	ctx := context.Background()
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}))
	tc := ts.GetDefaultClient()
	if _, err := workflows.RegisterSearchAttributes(ctx, tc, ts.GetDefaultNamespace()); err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDatabase(t)
	env := []string{
		"PACTO_DATABASE_URL=" + db, "TEMPORAL_ADDRESS=" + ts.GetFrontendHostPort(),
		"TEMPORAL_NAMESPACE=" + ts.GetDefaultNamespace(), "PACTO_LOG_LEVEL=warn",
	}
	tokens := migrateAndSeed(t, env, db)

	metricsBase := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	worker := start(t, env, "worker", "--task-queue", "other", "--metrics-addr", strings.TrimPrefix(metricsBase, "http://"))
	// Ready once polling; the listener may answer 503 first.
	waitReady(t, worker, metricsBase, time.Minute)
	if code, body := fetchURL(t, metricsBase+"/readyz"); code != 200 || !strings.Contains(body, `"task_queue":"other"`) {
		t.Fatalf("worker /readyz: %d %s", code, body)
	}
	if code, _ := fetchURL(t, metricsBase+"/healthz"); code != 200 {
		t.Fatalf("worker /healthz: %d", code)
	}
	apiBase := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	apiProc := start(t, env, "api", "--task-queue", "other", "--http", strings.TrimPrefix(apiBase, "http://"))
	waitReady(t, apiProc, apiBase, time.Minute)

	a := apiClient{t, apiBase, tokens["pa-coordinator"]}.must("POST", "/v1/activities", map[string]any{
		"dialogue": app.DemoDialogue, "parties": []string{"PA", "US"},
		"title":      map[string]string{"es": "Equipar puntos fronterizos estratégicos", "en": "Equip strategic border points"},
		"milestones": []map[string]any{{"title": map[string]string{"es": "Informe", "en": "Report"}, "owner": "US", "due": "P1Y"}},
	}, 201)
	id := a["id"].(string)
	apiClient{t, apiBase, tokens["pa-approver"]}.must("POST", "/v1/activities/"+id+"/decisions", map[string]any{"version": 1, "decision": "approve"}, 200)
	active := apiClient{t, apiBase, tokens["us-approver"]}.must("POST", "/v1/activities/"+id+"/decisions", map[string]any{"version": 1, "decision": "approve"}, 200)
	if active["status"] != "active" {
		t.Fatalf("after both approvals: %v", active["status"])
	}
	desc, err := tc.DescribeWorkflow(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if desc.TaskQueueName != "other" {
		t.Fatalf("the activity's workflow runs on %q", desc.TaskQueueName)
	}
	if summary, err := desc.GetStaticSummary(); err != nil || summary != "Equipar puntos fronterizos estratégicos (PA, US)" {
		t.Fatalf("summary %q %v", summary, err)
	}

	_, text := fetchURL(t, metricsBase+"/metrics")
	for _, want := range []string{
		`temporal_workflow_task_execution_latency_seconds_bucket{`, `temporal_workflow_task_schedule_to_start_latency_seconds_bucket{`,
		`temporal_sticky_cache_hit{`, `task_queue="other"`, `workflow_type="Cooperation"`,
		`pacto_deliveries_sent_total{channel="email"}`, `pacto_outbox_deliveries{channel="email",status="pending"}`,
		`pacto_reminders_total{type="milestone_overdue"}`, "process_resident_memory_bytes",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the worker's /metrics lacks %s", want)
		}
	}
	if strings.Contains(text, "pacto_http_requests_total") {
		t.Error("the worker's /metrics has the API's request counts")
	}
	_, text = fetchURL(t, apiBase+"/metrics")
	for _, want := range []string{`temporal_request{`, `operation="StartWorkflowExecution"`, "pacto_http_requests_total{"} {
		if !strings.Contains(text, want) {
			t.Errorf("the API's /metrics lacks %s", want)
		}
	}

	if err := worker.kill(t, syscall.SIGTERM, 60*time.Second); err != nil {
		t.Fatalf("worker exit on SIGTERM: %v\n%s", err, worker.out.String())
	}
	if _, err := http.Get(metricsBase + "/healthz"); err == nil {
		t.Fatal("the worker's listener still answers after it exited")
	}

	// `pacto serve` serves every metric on the API's /metrics, and the
	// worker's probes on its own listener.
	serveBase, probesBase := fmt.Sprintf("http://127.0.0.1:%d", freePort(t)), fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	serve := start(t, env, "serve", "--task-queue", "other", "--http", strings.TrimPrefix(serveBase, "http://"),
		"--metrics-addr", strings.TrimPrefix(probesBase, "http://"))
	waitReady(t, serve, probesBase, time.Minute)
	waitReady(t, serve, serveBase, time.Minute)
	apiClient{t, serveBase, tokens["pa-coordinator"]}.must("POST", "/v1/activities", map[string]any{
		"dialogue": app.DemoDialogue, "parties": []string{"PA", "US"}, "title": map[string]string{"es": "Otra", "en": "Another"},
		"milestones": []map[string]any{{"title": map[string]string{"es": "Informe", "en": "Report"}, "owner": "US", "due": "P1Y"}},
	}, 201)
	_, text = fetchURL(t, serveBase+"/metrics")
	for _, want := range []string{`temporal_workflow_task_execution_latency_seconds_bucket{`, `pacto_outbox_deliveries{`,
		`pacto_reminders_total{`, `pacto_http_requests_total{`, `temporal_request{`} {
		if !strings.Contains(text, want) {
			t.Errorf("serve's /metrics lacks %s", want)
		}
	}
	if err := serve.kill(t, syscall.SIGTERM, 60*time.Second); err != nil {
		t.Fatalf("serve exit on SIGTERM: %v\n%s", err, serve.out.String())
	}
}

// fetchURL fetches url.
func fetchURL(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
