package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/temporaltest"

	"pacto/activities"
	"pacto/internal/app"
	"pacto/internal/telemetry"
	"pacto/workflows"
)

// countingInterceptor counts the workflow and activity tasks a worker ran.
type countingInterceptor struct {
	interceptor.WorkerInterceptorBase
	workflows, activities atomic.Int64
}

func (c *countingInterceptor) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	c.workflows.Add(1)
	return next
}

func (c *countingInterceptor) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	c.activities.Add(1)
	return next
}

// The whole stack as a deployment runs it, on the task queue "other":
// the Temporal client made as the commands make it (the SDK's metrics
// into the process's registry, the tracing interceptor), the worker's own
// metrics, the API traced. A proposal is one trace from the HTTP request
// through the Temporal call to the Record activity and its queries; its
// workflow carries its title as its summary; a delivery, a refused
// delivery and a reminder show in /metrics beside the SDK's metrics; and
// a worker polling the default queue gets nothing.
func TestObservedStackOnAnotherQueue(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tracing := telemetry.With(tp)
	reg := telemetry.NewRegistry()

	d := app.Delivery{TaskQueue: "other", Policy: workflows.DeliveryInput{Attempts: 3, FirstRetry: 200 * time.Millisecond, MaxRetry: time.Second}}
	opts := stackOptions{
		registry: reg,
		wrap:     tracing.HTTPHandler,
		dial: func(ts *temporaltest.TestServer) client.Client {
			sdkMetrics, err := telemetry.TemporalMetrics(reg, quietLogger())
			if err != nil {
				t.Fatal(err)
			}
			interceptors, err := tracing.TemporalInterceptors()
			if err != nil {
				t.Fatal(err)
			}
			tc, err := app.DialTemporal(app.TemporalConfig{Address: ts.GetFrontendHostPort(), Namespace: ts.GetDefaultNamespace(),
				Metrics: sdkMetrics, Interceptors: interceptors}, quietLogger())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(tc.Close)
			return tc
		},
	}
	st := newStackOn(t, d, opts)
	ctx := context.Background()

	// A worker on the default queue, with every workflow registered,
	// counting what it is given.
	watcher := &countingInterceptor{}
	dw := worker.New(st.tc, workflows.TaskQueue, worker.Options{Interceptors: []interceptor.WorkerInterceptor{watcher}})
	workflows.Register(dw)
	if err := dw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dw.Stop)

	// A webhook receiver that takes the proposal's notices and refuses,
	// for good, those of the activation.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `"activated"`) {
			http.Error(w, "gone", http.StatusGone)
		}
	}))
	t.Cleanup(hook.Close)
	want(t, st.call("admin", "POST", "/v1/admin/webhooks", WebhookRequest{ID: "ministry", URL: hook.URL, EventTypes: []string{"proposed", "activated"}}), 201)

	req := proposal()
	req.Title = both("Equip strategic border points", "Equipar puntos fronterizos estratégicos")
	req.Milestones[0].Due = "PT3S"
	req.Policy = &PolicyInput{DueSoonLead: "PT0S", OverdueReminderEvery: "PT1S", OverdueReminders: ptr(1)}
	a := st.propose(req)

	t.Run("one trace from the request to PostgreSQL", func(t *testing.T) {
		// The activity's spans end just after the read model has its
		// change, which the API waited for: look again for a moment.
		var problem string
		deadline := time.Now().Add(10 * time.Second)
		for problem = oneTrace(spans.GetSpans()); problem != "" && time.Now().Before(deadline); problem = oneTrace(spans.GetSpans()) {
			time.Sleep(100 * time.Millisecond)
		}
		if problem != "" {
			t.Fatal(problem)
		}
	})

	t.Run("the workflow's summary is its title", func(t *testing.T) {
		desc, err := st.tc.DescribeWorkflow(ctx, a.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		summary, err := desc.GetStaticSummary()
		if err != nil {
			t.Fatal(err)
		}
		// pa-coordinator proposed: PA's language is Spanish.
		if summary != "Equipar puntos fronterizos estratégicos (PA, US)" {
			t.Fatalf("summary %q", summary)
		}
		details, err := desc.GetStaticDetails()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(details, "en: Equip strategic border points") || !strings.Contains(details, "dialogue: hld-pa-us") {
			t.Fatalf("details %q", details)
		}
		if q := desc.TaskQueueName; q != "other" {
			t.Fatalf("the workflow runs on %q, want other", q)
		}
	})

	want(t, st.call("pa-approver", "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 200)
	active := st.call("us-approver", "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 1, Decision: "approve"})
	want(t, active, 200)
	if v := active.activity(t); v.Status != "active" {
		t.Fatalf("status %s after both approvals", v.Status)
	}

	t.Run("metrics", func(t *testing.T) {
		metrics := httptest.NewServer(app.Probes{Store: st.st, Gatherer: reg}.Handler())
		defer metrics.Close()
		var text string
		eventually(t, 60*time.Second, "a webhook sent, one failed, and the overdue reminder in /metrics", func() bool {
			text = scrape(t, metrics.URL)
			return sample(text, `pacto_deliveries_sent_total{channel="webhook"}`) >= 1 &&
				sample(text, `pacto_deliveries_failed_total{channel="webhook"}`) >= 1 &&
				sample(text, `pacto_reminders_total{type="milestone_overdue"}`) >= 1
		})
		if n := sample(text, `pacto_reminder_lateness_seconds_count{type="milestone_overdue"}`); n < 1 {
			t.Errorf("the lateness histogram observed %v overdue reminders", n)
		}
		// The reminder was recorded within seconds of being owed.
		if n := sample(text, `pacto_reminder_lateness_seconds_bucket{type="milestone_overdue",le="30"}`); n < 1 {
			t.Errorf("no overdue reminder recorded within 30s of being owed:\n%s", grep(text, "pacto_reminder"))
		}
		if n := sample(text, `pacto_outbox_deliveries{channel="webhook",status="failed"}`); n < 1 {
			t.Errorf("the outbox counts %v failed webhooks", n)
		}
		for _, name := range []string{
			"temporal_request{", "temporal_workflow_task_execution_latency_seconds_bucket{",
			"temporal_workflow_task_schedule_to_start_latency_seconds_bucket{", "temporal_sticky_cache_hit{",
			"temporal_local_activity_execution_latency_seconds_bucket{", "pacto_http_requests_total{",
			"go_goroutines ", "process_resident_memory_bytes ",
		} {
			if !strings.Contains(text, name) {
				t.Errorf("/metrics lacks %s", name)
			}
		}
		if !strings.Contains(text, `task_queue="other"`) {
			t.Error("the SDK's worker metrics do not name the task queue other")
		}
	})

	if n, m := watcher.workflows.Load(), watcher.activities.Load(); n != 0 || m != 0 {
		t.Fatalf("the default queue's worker ran %d workflow and %d activity tasks; want none", n, m)
	}
}

// oneTrace says what is missing from the proposal's trace: the request's
// span, the Temporal client's start of the workflow under it, the Record
// activity in the same trace and PostgreSQL queries under that; "" if
// nothing is.
func oneTrace(all []tracetest.SpanStub) string {
	byName := func(name string) []tracetest.SpanStub {
		var out []tracetest.SpanStub
		for _, s := range all {
			if s.Name == name {
				out = append(out, s)
			}
		}
		return out
	}
	requests := byName("POST /v1/activities")
	if len(requests) != 1 {
		return fmt.Sprintf("%d spans for the proposal's request, want 1; spans: %v", len(requests), spanNames(all))
	}
	trace := requests[0].SpanContext.TraceID()
	inTrace := func(ss []tracetest.SpanStub) []tracetest.SpanStub {
		var out []tracetest.SpanStub
		for _, s := range ss {
			if s.SpanContext.TraceID() == trace {
				out = append(out, s)
			}
		}
		return out
	}
	starts := inTrace(byName("StartWorkflow:" + workflows.WorkflowName))
	if len(starts) != 1 || starts[0].Parent.SpanID() != requests[0].SpanContext.SpanID() {
		return fmt.Sprintf("the workflow's start is not a child of the request: %v", spanNames(all))
	}
	records := inTrace(byName("RunActivity:" + activities.RecordName))
	if len(records) == 0 {
		return fmt.Sprintf("no Record activity in the request's trace: %v", spanNames(all))
	}
	for _, s := range inTrace(all) {
		for _, r := range records {
			if s.Parent.SpanID() == r.SpanContext.SpanID() && hasAttr(s, "db.system.name", "postgresql") {
				return ""
			}
		}
	}
	return fmt.Sprintf("no PostgreSQL query under the Record activity: %v", spanNames(inTrace(all)))
}

// scrape reads /metrics.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// sample is the value of the series named exactly so (name and labels as
// exposed), or -1 if absent.
func sample(text, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// grep keeps the lines of text that hold s.
func grep(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func spanNames(ss []tracetest.SpanStub) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Name
	}
	return out
}

func hasAttr(s tracetest.SpanStub, key, value string) bool {
	for _, a := range s.Attributes {
		if string(a.Key) == key && a.Value.AsString() == value {
			return true
		}
	}
	return false
}
