package workflows

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"pacto/activities"
	"pacto/internal/lifecycle"
)

// cancelLookup is the test double of the CancelRequest activity.
type cancelLookup struct {
	req   activities.CancelRequest
	err   error
	calls int
	in    activities.CancelRequestInput
}

func (c *cancelLookup) CancelRequest(_ context.Context, in activities.CancelRequestInput) (activities.CancelRequest, error) {
	c.calls++
	c.in = in
	return c.req, c.err
}

// cancelled runs in to the end with a cancellation asked of Temporal at
// start+at, and checks that the run closed as cancelled.
func (h *harness) cancelled(in Input, lookup *cancelLookup, at time.Duration) {
	h.t.Helper()
	h.env.RegisterActivityWithOptions(lookup.CancelRequest, activity.RegisterOptions{Name: activities.CancelRequestName})
	h.at(at, h.env.CancelWorkflow)
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: in.Propose.ActivityID, TaskQueue: TaskQueue})
	h.env.ExecuteWorkflow(WorkflowName, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	if err := h.env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		h.t.Fatalf("the run ended with %v; want it cancelled", err)
	}
}

// An operator's cancellation in Temporal is the activity's cancellation:
// recorded, by Temporal, with who asked and why, before the run ends.
func TestCancelInTemporalIsRecorded(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	a1 := send(h, time.Hour, UpdateDecide, paApprover, approve(1))
	a2 := send(h, 2*time.Hour, UpdateDecide, usApprover, approve(1))
	lookup := &cancelLookup{req: activities.CancelRequest{Identity: "temporal-ui:ops@example.org", Reason: "duplicate activity", Found: true}}
	h.cancelled(start("act-cancel-ui"), lookup, 3*time.Hour)

	wantAccepted(t, a1, a2)
	if lookup.calls != 1 || lookup.in.WorkflowID != "act-cancel-ui" || lookup.in.RunID == "" {
		t.Fatalf("the request was looked up %d times, for %+v", lookup.calls, lookup.in)
	}
	evs := h.rec.events()
	last := evs[len(evs)-1]
	if last.Type != lifecycle.EventCancelled || last.Actor != lifecycle.TemporalActor || !last.At.Equal(t0.Add(3*time.Hour)) ||
		last.Comment != "duplicate activity" || last.Temporal == nil || last.Temporal.Identity != "temporal-ui:ops@example.org" {
		t.Fatalf("last recorded event %+v (temporal %+v)", last, last.Temporal)
	}
	snap := h.rec.calls[len(h.rec.calls)-1].Snapshot
	if snap.Status != lifecycle.StatusCancelled || snap.Reason != "duplicate activity" {
		t.Fatalf("the recorded snapshot is %s (%q)", snap.Status, snap.Reason)
	}
	checkRecords(t, h.rec, snap)
}

// When who asked cannot be read, the cancellation is recorded anyway,
// by Temporal, without an identity.
func TestCancelInTemporalWithoutItsRequest(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	lookup := &cancelLookup{err: temporal.NewNonRetryableApplicationError("history unavailable", "test", nil)}
	h.cancelled(start("act-cancel-blind"), lookup, time.Hour)

	got := eventsOf(h.rec, lifecycle.EventCancelled)
	if len(got) != 1 || got[0].Actor != lifecycle.TemporalActor || got[0].Temporal == nil || got[0].Temporal.Identity != "" {
		t.Fatalf("cancelled events %+v", got)
	}
	if types := eventTypes(h.rec.events()); !slices.Equal(types, []lifecycle.EventType{lifecycle.EventProposed, lifecycle.EventCancelled}) {
		t.Fatalf("recorded %v", types)
	}
}

// A change still being recorded when the cancellation comes (the read
// model is down) is recorded with it, in order, once the read model is
// back: nothing the run decided is lost.
func TestCancelInTemporalRecordsWhatWasPending(t *testing.T) {
	rec := &recorder{}
	h := newHarness(t, t0, rec)
	a1 := send(h, time.Hour, UpdateDecide, paApprover, approve(1))
	// The read model goes down just before the approval and stays down
	// for a while after the cancellation.
	h.at(time.Hour-time.Minute, func() {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.failFirst = rec.failed + 40
	})
	h.cancelled(start("act-cancel-pending"), &cancelLookup{req: activities.CancelRequest{Identity: "ops", Found: true}}, time.Hour+5*time.Minute)

	if a1.accepted != true || a1.done != true || a1.err == nil {
		t.Fatalf("the approval in flight: accepted %v done %v err %v; want accepted and failed with the run's cancellation", a1.accepted, a1.done, a1.err)
	}
	types := eventTypes(rec.events())
	if !slices.Equal(types, []lifecycle.EventType{lifecycle.EventProposed, lifecycle.EventApproved, lifecycle.EventCancelled}) {
		t.Fatalf("recorded %v", types)
	}
	checkRecords(t, rec, rec.calls[len(rec.calls)-1].Snapshot)
}

func eventTypes(evs []lifecycle.Event) []lifecycle.EventType {
	out := make([]lifecycle.EventType, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// A restarted run goes on from the snapshot it is given: it records the
// restart first, at the next sequence, then takes commands and keeps the
// clock as the lost run would have.
func TestRestartGoesOnFromTheSnapshot(t *testing.T) {
	// The activity as the read model holds it: proposed, approved by
	// both, and its run noted lost.
	var st lifecycle.State
	for _, step := range []struct {
		actor lifecycle.Principal
		cmd   lifecycle.Command
		at    time.Time
	}{
		{paCoord, proposal("act-restart"), t0},
		{paApprover, approve(1), t0.Add(time.Hour)},
		{usApprover, approve(1), t0.Add(2 * time.Hour)},
		{lifecycle.Principal{ID: lifecycle.SystemActor}, lifecycle.NoteWorkflowLost{Run: lifecycle.TemporalRun{Status: lifecycle.RunTerminated}}, t0.Add(3 * time.Hour)},
	} {
		cmd := step.cmd
		if p, ok := cmd.(lifecycle.Propose); ok {
			p.Rules = InputVersion
			cmd = p
		}
		evs, err := lifecycle.Decide(st, cmd, step.actor, step.at)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			st = lifecycle.Apply(st, e)
		}
	}
	admin := lifecycle.Principal{ID: "admin", Roles: []lifecycle.Role{lifecycle.RoleAdmin}}
	restartAt := t0.Add(4 * time.Hour)
	h := newHarness(t, restartAt, &recorder{})
	progress := send(h, time.Hour, UpdateReportProgress, paCoord, lifecycle.ReportProgress{MilestoneID: "m1", Note: "back at work"})
	send(h, 2*time.Hour, UpdateCancel, usApprover, lifecycle.Cancel{Reason: "end of test"})
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: st.ID, TaskQueue: TaskQueue})
	h.env.ExecuteWorkflow(WorkflowName, Restarted(admin, st, "terminated by mistake"))
	if err := h.env.GetWorkflowError(); err != nil {
		t.Fatalf("restarted run: %v", err)
	}
	wantAccepted(t, progress)

	calls := h.rec.calls
	if len(calls) != 3 {
		t.Fatalf("%d records; want the restart, the progress and the cancellation", len(calls))
	}
	first := calls[0]
	if len(first.Events) != 1 || first.Events[0].Type != lifecycle.EventRestarted || first.Events[0].Seq != st.Seq+1 ||
		first.Events[0].Actor != "admin" || first.Events[0].Comment != "terminated by mistake" || !first.Events[0].At.Equal(restartAt) {
		t.Fatalf("first record %+v", first.Events)
	}
	if first.Snapshot.Status != lifecycle.StatusActive || first.Snapshot.Rules != InputVersion || !first.Snapshot.ActivatedAt.Equal(st.ActivatedAt) {
		t.Fatalf("restarted snapshot %s rules %d activated %s", first.Snapshot.Status, first.Snapshot.Rules, first.Snapshot.ActivatedAt)
	}
	if e := calls[1].Events[0]; e.Type != lifecycle.EventProgressReported || e.Seq != st.Seq+2 {
		t.Fatalf("second record %+v", calls[1].Events)
	}
}

// A restart the core refuses (not an admin) fails the run at once,
// recording nothing.
func TestRestartRefusedFailsTheRun(t *testing.T) {
	st := lifecycle.State{ID: "act-restart-refused", Status: lifecycle.StatusActive, Seq: 4}
	h := newHarness(t, t0, &recorder{})
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: st.ID, TaskQueue: TaskQueue})
	h.env.ExecuteWorkflow(WorkflowName, Restarted(paApprover, st, "again"))
	ce, ok := CoreError(h.env.GetWorkflowError())
	if !ok || ce.Kind != lifecycle.KindForbidden {
		t.Fatalf("run ended with %v; want a forbidden refusal", h.env.GetWorkflowError())
	}
	if len(h.rec.calls) != 0 {
		t.Fatalf("%d records", len(h.rec.calls))
	}
	var appErr *temporal.ApplicationError
	if !errors.As(h.env.GetWorkflowError(), &appErr) || !appErr.NonRetryable() {
		t.Fatalf("the refusal is retryable: %v", h.env.GetWorkflowError())
	}
}
