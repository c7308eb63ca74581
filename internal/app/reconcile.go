package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
	"pacto/workflows"
)

// ReconcileEvery is how often, across all workers, the reconciler compares
// the read model with Temporal by default.
const ReconcileEvery = 5 * time.Minute

// reconcilePage bounds the open activities read, and the running
// workflows listed, per request.
const reconcilePage = 500

// Reconciler finds what a workflow cannot record of itself: an activity
// the read model has open whose workflow no longer runs in Temporal, as
// after `temporal workflow terminate`, a run that failed or timed out, or
// a namespace lost or recreated empty. For each, it records the core's
// workflow_lost event with what Temporal says (store.MarkLost), counts
// it, and leaves it listed for admins, who restart it from its last
// recorded state.
//
// Every worker runs one; they share the passes through PostgreSQL
// (store.ClaimReconcilePass), so that one pass runs per interval whatever
// the number of workers, and none depends on Temporal to be scheduled:
// it notices a lost namespace too.
type Reconciler struct {
	Store  *store.Store
	Client client.Client
	Log    *slog.Logger
	// Every is the interval between passes across all workers: zero means
	// ReconcileEvery, a negative value turns reconciling off.
	Every time.Duration
	// Metrics counts what the passes find; nil counts nothing.
	Metrics *ReconcileMetrics
	// Now is the clock of the events recorded; time.Now by default.
	Now func() time.Time
}

// ReconcileMetrics are the reconciler's Prometheus metrics. Register them
// (they are a prometheus.Collector) where the worker's metrics are served.
type ReconcileMetrics struct {
	// Lost counts the activities found with their workflow lost, by
	// what Temporal said of it (terminated, failed, timed_out, canceled,
	// completed, not_found).
	Lost *prometheus.CounterVec
	// Passes counts the passes this process made; Failures those that
	// could not finish (PostgreSQL or Temporal unreachable).
	Passes   prometheus.Counter
	Failures prometheus.Counter
}

// NewReconcileMetrics returns the reconciler's metrics, unregistered.
func NewReconcileMetrics() *ReconcileMetrics {
	return &ReconcileMetrics{
		Lost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pacto_workflows_lost_total",
			Help: "Activities the reconciler found open in the read model with their workflow no longer running in Temporal, by what Temporal said of the run (see /v1/admin/diverged).",
		}, []string{"temporal_status"}),
		Passes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pacto_reconcile_passes_total", Help: "Passes of the reconciler that compares the read model's open activities with Temporal, made by this process.",
		}),
		Failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pacto_reconcile_failures_total", Help: "Reconciler passes of this process that could not finish.",
		}),
	}
}

// Describe implements prometheus.Collector.
func (m *ReconcileMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.Lost.Describe(ch)
	m.Passes.Describe(ch)
	m.Failures.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *ReconcileMetrics) Collect(ch chan<- prometheus.Metric) {
	m.Lost.Collect(ch)
	m.Passes.Collect(ch)
	m.Failures.Collect(ch)
}

// ReconcileResult is what one pass found.
type ReconcileResult struct {
	// Open is how many open activities the pass looked at; Described how
	// many of those visibility did not list as running, so it asked
	// Temporal of each.
	Open      int
	Described int
	// Lost are the activities the pass noted lost.
	Lost []string
}

func (r *Reconciler) every() time.Duration {
	if r.Every == 0 {
		return ReconcileEvery
	}
	return r.Every
}

// Run reconciles until ctx is done: it looks a few times per interval and
// makes a pass whenever no worker has made one within it. While passes
// fail (PostgreSQL or Temporal down) it warns once per failing stretch.
func (r *Reconciler) Run(ctx context.Context) {
	every := r.every()
	if every < 0 {
		return
	}
	// Looking four times per interval keeps passes about every interval
	// apart even when the worker that made the last one has gone.
	look := max(every/4, time.Second)
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(look):
		}
		claimed, err := r.Store.ClaimReconcilePass(ctx, every)
		if err == nil && claimed {
			_, err = r.Pass(ctx)
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !failing {
				r.Log.WarnContext(ctx, "reconciler: cannot compare the read model with Temporal yet; retrying", "err", err)
			}
			failing = true
		case failing && claimed:
			r.Log.InfoContext(ctx, "reconciler: comparing the read model with Temporal again")
			failing = false
		}
	}
}

// Pass compares every activity the read model has open with Temporal once,
// and notes those whose workflow is gone. Visibility lists the running
// workflows first, so only the activities it leaves out are asked of
// Temporal one by one; if visibility cannot answer, every open activity
// is. Each is noted only once Temporal itself says its run is closed or
// unknown, under the activity's lock.
func (r *Reconciler) Pass(ctx context.Context) (ReconcileResult, error) {
	res, err := r.pass(ctx)
	if r.Metrics != nil {
		r.Metrics.Passes.Inc()
		if err != nil {
			r.Metrics.Failures.Inc()
		}
	}
	return res, err
}

func (r *Reconciler) pass(ctx context.Context) (ReconcileResult, error) {
	var res ReconcileResult
	running, err := r.running(ctx)
	if err != nil {
		// Visibility may lag or be down while Temporal itself answers:
		// ask of every open activity instead.
		r.Log.WarnContext(ctx, "reconciler: visibility did not list the running workflows; asking of each open activity", "err", err)
		running = nil
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	var errs []error
	for after := ""; ; {
		open, err := r.Store.OpenActivities(ctx, after, reconcilePage)
		if err != nil {
			return res, err
		}
		for _, a := range open {
			res.Open++
			if _, ok := running[a.ID]; ok {
				continue
			}
			res.Described++
			var seen lifecycle.TemporalRun
			marked, err := r.Store.MarkLost(ctx, a.ID, a.Seq, now(), func(ctx context.Context) (lifecycle.TemporalRun, bool, error) {
				run, lost, err := r.describe(ctx, a.ID)
				seen = run
				return run, lost, err
			})
			if err != nil {
				if ctx.Err() != nil {
					return res, ctx.Err()
				}
				errs = append(errs, fmt.Errorf("activity %s: %w", a.ID, err))
				continue
			}
			if marked {
				res.Lost = append(res.Lost, a.ID)
				if r.Metrics != nil {
					r.Metrics.Lost.WithLabelValues(seen.Status).Inc()
				}
				r.Log.WarnContext(ctx, "reconciler: the activity's workflow no longer runs; noted for an admin to restart it",
					"activity", a.ID, "status", a.Status, "temporal_status", seen.Status, "run_id", seen.RunID, "identity", seen.Identity, "reason", seen.Reason)
			}
		}
		if len(open) < reconcilePage {
			break
		}
		after = open[len(open)-1].ID
	}
	return res, errors.Join(errs...)
}

// running lists the activity workflows visibility says are running.
func (r *Reconciler) running(ctx context.Context) (map[string]struct{}, error) {
	out := map[string]struct{}{}
	query := fmt.Sprintf("ExecutionStatus = 'Running' AND (WorkflowType = '%s' OR WorkflowType = '%s')", workflows.WorkflowName, workflows.LegacyWorkflowName)
	var token []byte
	for {
		page, err := r.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: reconcilePage, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list running activity workflows: %w", err)
		}
		for _, e := range page.GetExecutions() {
			out[e.GetExecution().GetWorkflowId()] = struct{}{}
		}
		if token = page.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}

// describe asks Temporal how activity id's workflow stands: lost unless
// its latest run is running (or handing over to the next).
func (r *Reconciler) describe(ctx context.Context, id string) (lifecycle.TemporalRun, bool, error) {
	desc, err := r.Client.DescribeWorkflowExecution(ctx, id, "")
	var nf *serviceerror.NotFound
	var nsnf *serviceerror.NamespaceNotFound
	switch {
	case errors.As(err, &nf):
		return lifecycle.TemporalRun{Status: lifecycle.RunNotFound, Reason: "Temporal has no workflow with this id"}, true, nil
	case errors.As(err, &nsnf):
		// The worker started against this namespace, so it existed: it
		// was deleted since, and every workflow in it with it.
		return lifecycle.TemporalRun{Status: lifecycle.RunNotFound, Reason: nsnf.Error()}, true, nil
	case err != nil:
		return lifecycle.TemporalRun{}, false, fmt.Errorf("describe workflow %s: %w", id, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	run := lifecycle.TemporalRun{RunID: info.GetExecution().GetRunId(), Status: runStatus(info.GetStatus())}
	switch info.GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return run, false, nil
	}
	run.Identity, run.Reason = r.closeDetail(ctx, id, run.RunID)
	return run, true, nil
}

// closeDetail reads who closed a run and why from its close event; what
// cannot be read is left out rather than holding the mark back.
func (r *Reconciler) closeDetail(ctx context.Context, id, runID string) (identity, reason string) {
	it := r.Client.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	var last *historypb.HistoryEvent
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			r.Log.WarnContext(ctx, "reconciler: could not read how the run closed", "activity", id, "run_id", runID, "err", err)
			return "", ""
		}
		last = e
	}
	switch {
	case last.GetWorkflowExecutionTerminatedEventAttributes() != nil:
		a := last.GetWorkflowExecutionTerminatedEventAttributes()
		return a.GetIdentity(), a.GetReason()
	case last.GetWorkflowExecutionFailedEventAttributes() != nil:
		return "", last.GetWorkflowExecutionFailedEventAttributes().GetFailure().GetMessage()
	case last.GetWorkflowExecutionTimedOutEventAttributes() != nil:
		return "", "the run exceeded its execution or run timeout"
	}
	return "", ""
}

// runStatus names a Temporal run status as lifecycle.TemporalRun does.
func runStatus(s enumspb.WorkflowExecutionStatus) string {
	name := strings.TrimPrefix(s.String(), "WORKFLOW_EXECUTION_STATUS_")
	return strings.ToLower(name)
}
