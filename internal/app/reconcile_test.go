package app

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"

	"pacto/internal/lifecycle"
	"pacto/workflows"
)

// blindVisibility is a Temporal client whose visibility is down.
type blindVisibility struct {
	client.Client
	lists atomic.Int32
}

func (b *blindVisibility) ListWorkflow(context.Context, *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	b.lists.Add(1)
	return nil, errors.New("visibility store unavailable")
}

// When visibility cannot list the running workflows, the reconciler asks
// Temporal of each open activity instead: one gone from Temporal (as when
// its namespace was recreated empty) is noted lost, one whose run is
// running is not, and an ended one is not asked of at all.
func TestReconcilerWithoutVisibility(t *testing.T) {
	ctx := context.Background()
	st, acts := cycleStore(t) // act-customs and act-ports, active
	ts := temporaltest.NewServer(temporaltest.WithT(t),
		temporaltest.WithBaseClientOptions(client.Options{Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}))
	tc := ts.GetDefaultClient()
	// act-ports runs (no worker needs to take it for Temporal to say so);
	// act-customs is unknown to Temporal.
	if _, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "act-ports", TaskQueue: "nobody"}, workflows.WorkflowName, workflows.Input{}); err != nil {
		t.Fatal(err)
	}
	// An ended activity is none of the reconciler's business.
	var ended lifecycle.State
	at := time.Date(2027, 1, 20, 15, 0, 0, 0, time.UTC)
	step(t, st, &ended, usCoordinator, at, lifecycle.Propose{ActivityID: "act-ended", Dialogue: DemoDialogue, Rules: lifecycle.CurrentRules,
		DialogueParties: []lifecycle.Party{{Code: "PA", TimeZone: "America/Panama", Language: "es"}, {Code: "US", TimeZone: "America/New_York", Language: "en"}},
		Parties:         []lifecycle.PartyCode{"PA", "US"}, Title: lifecycle.Text{"es": "Terminada", "en": "Ended"},
		Milestones: []lifecycle.MilestoneSpec{{ID: "m1", Title: lifecycle.Text{"es": "Hito", "en": "Milestone"}, Owner: "US", Due: "P1M"}}})
	step(t, st, &ended, paApprover, at.Add(time.Hour), lifecycle.Cancel{Reason: "done"})

	blind := &blindVisibility{Client: tc}
	metrics := NewReconcileMetrics()
	r := &Reconciler{Store: st, Client: blind, Log: slog.New(slog.DiscardHandler), Metrics: metrics,
		Now: func() time.Time { return time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC) }}
	res, err := r.Pass(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if blind.lists.Load() != 1 || res.Open != 2 || res.Described != 2 || !slices.Equal(res.Lost, []string{"act-customs"}) {
		t.Fatalf("pass %+v after %d lists; want both open activities asked of and act-customs lost", res, blind.lists.Load())
	}
	ds, err := st.Divergences(ctx, 10)
	if err != nil || len(ds) != 1 || ds[0].ActivityID != "act-customs" || ds[0].Temporal.Status != lifecycle.RunNotFound {
		t.Fatalf("divergences %+v, %v", ds, err)
	}
	audit, err := st.Audit(ctx, "act-customs", acts["act-customs"].Seq, 10)
	if err != nil || len(audit) != 1 || audit[0].Type != string(lifecycle.EventWorkflowLost) || !audit[0].At.Equal(r.Now()) {
		t.Fatalf("audit %+v, %v", audit, err)
	}
	if got := counter(t, metrics, "pacto_workflows_lost_total", lifecycle.RunNotFound); got != 1 {
		t.Fatalf("lost not_found counted %v", got)
	}

	// With visibility back, the running one is known from the list and
	// only what it leaves out is asked of: act-customs is noted already.
	r.Client = tc
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err = r.Pass(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Described == 0 || time.Now().After(deadline) {
			break // visibility may take a moment to list the new run
		}
		time.Sleep(100 * time.Millisecond)
	}
	if res.Open != 1 || res.Described != 0 || len(res.Lost) != 0 {
		t.Fatalf("pass with visibility: %+v", res)
	}
	if got := counter(t, metrics, "pacto_reconcile_passes_total", ""); got < 2 {
		t.Fatalf("%v passes counted", got)
	}
}

// Of several workers' reconcilers, one makes each pass: passes come about
// an interval apart, not one per worker.
func TestReconcilersShareTheirPasses(t *testing.T) {
	st, _ := cycleStore(t)
	ts := temporaltest.NewServer(temporaltest.WithT(t),
		temporaltest.WithBaseClientOptions(client.Options{Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}))
	ctx, cancel := context.WithCancel(context.Background())
	var rs []*Reconciler
	done := make(chan struct{})
	const workers = 3
	for range workers {
		r := &Reconciler{Store: st, Client: ts.GetDefaultClient(), Log: slog.New(slog.DiscardHandler), Metrics: NewReconcileMetrics(), Every: 2 * time.Second}
		rs = append(rs, r)
		go func() { r.Run(ctx); done <- struct{}{} }()
	}
	time.Sleep(5500 * time.Millisecond)
	cancel()
	for range workers {
		<-done
	}
	total := 0.0
	for _, r := range rs {
		total += counter(t, r.Metrics, "pacto_reconcile_passes_total", "")
	}
	// Each looks every second (the least a reconciler waits) for 5.5 s:
	// five looks each, fifteen in all, but a pass at most every 2 s
	// across them.
	if total < 2 || total > 3 {
		t.Fatalf("%v passes in 5.5 s by %d workers with a 2 s interval; want 2 or 3", total, workers)
	}
	// A reconciler turned off makes none.
	off := &Reconciler{Store: st, Client: ts.GetDefaultClient(), Log: slog.New(slog.DiscardHandler), Metrics: NewReconcileMetrics(), Every: -1}
	off.Run(context.Background())
	if n := counter(t, off.Metrics, "pacto_reconcile_passes_total", ""); n != 0 {
		t.Fatalf("a reconciler turned off made %v passes", n)
	}
}

// counter reads a counter of m, summed over the series with label value
// label ("" for every series), as a scrape would.
func counter(t *testing.T, m *ReconcileMetrics, name, label string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, metric := range mf.GetMetric() {
			if label == "" || (len(metric.GetLabel()) == 1 && metric.GetLabel()[0].GetValue() == label) {
				total += metric.GetCounter().GetValue()
			}
		}
	}
	return total
}
