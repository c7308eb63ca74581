package workflows

import (
	"context"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"pacto/activities"
	"pacto/internal/lifecycle"
	"pacto/internal/review"
	"pacto/internal/store"
)

// reviewer stands in for the report activities on the live server: the
// draft lists one activity with a milestone of PA's.
type reviewer struct{}

func (reviewer) DraftReport(context.Context, activities.ReportRequest) (activities.ReportKept, error) {
	return activities.ReportKept{Owners: map[string][]string{"act-1": {"PA"}}, Parties: []string{"PA", "US"}, SHA256: "draft-digest"}, nil
}

func (reviewer) FreezeReport(context.Context, activities.ReportRequest) (activities.ReportKept, error) {
	return activities.ReportKept{Owners: map[string][]string{"act-1": {"PA"}}, Parties: []string{"PA", "US"}, SHA256: "frozen-digest"}, nil
}

func (reviewer) KeepStatement(context.Context, activities.StatementRequest) error { return nil }

func registerReviewer(r worker.Registry) {
	var rv reviewer
	r.RegisterActivityWithOptions(rv.DraftReport, activity.RegisterOptions{Name: activities.DraftReportName})
	r.RegisterActivityWithOptions(rv.FreezeReport, activity.RegisterOptions{Name: activities.FreezeReportName})
	r.RegisterActivityWithOptions(rv.KeepStatement, activity.RegisterOptions{Name: activities.KeepStatementName})
}

// review runs a meeting's Review on the server on a seconds-long cadence:
// the draft, one statement taken and one refused, the frozen report; the
// history is kept for replay.
func (l *live) review(t *testing.T) {
	l.t = t
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	meetingAt := time.Now().Add(5 * time.Second).UTC().Truncate(time.Second)
	in := ReviewInput{Version: ReviewVersion, Dialogue: "hld-pa-us", Meeting: 1,
		Meetings:    []review.Meeting{{Number: 1, At: meetingAt, Host: "PA"}},
		DraftBefore: 4 * time.Second, StatementsBefore: time.Second}
	run, err := l.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "live-review", TaskQueue: TaskQueue}, ReviewWorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	for {
		v, err := l.c.QueryWorkflow(ctx, "live-review", run.GetRunID(), QueryReviewState)
		var s ReviewState
		if err == nil {
			err = v.Get(&s)
		}
		if err != nil {
			t.Fatalf("query the review: %v", err)
		}
		if s.Phase == PhaseDraft {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	state := func(by lifecycle.Principal, id string) error {
		h, err := l.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: "live-review", UpdateID: id, UpdateName: UpdateStatement,
			WaitForStage: client.WorkflowUpdateStageCompleted, Args: []any{Statement{By: by, Activity: "act-1", Body: "On track"}}})
		if err != nil {
			return err
		}
		var made store.MeetingStatement
		return h.Get(ctx, &made)
	}
	if err := state(lifecycle.Principal{ID: "pa-coordinator", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}, "pa"); err != nil {
		t.Fatalf("the PA coordinator's statement: %v", err)
	}
	if err := state(lifecycle.Principal{ID: "us-coordinator", Party: "US", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}, "us"); err == nil {
		t.Fatal("the US coordinator's statement on an activity US owns no milestone of was taken")
	}
	var end ReviewState
	if err := run.Get(ctx, &end); err != nil {
		t.Fatalf("review workflow: %v", err)
	}
	if end.Phase != PhaseFrozen || end.FrozenSHA256 != "frozen-digest" || len(end.Statements) != 1 || end.Statements[0].ID != "pa" {
		t.Fatalf("review ended as %+v", end)
	}
	l.replayAndKeep("live-review", l.history("live-review", run.GetRunID()))
}

// reviewSchedule sets a dialogue's meetings schedule on the server with
// seconds-long offsets: it starts a run at each draft time, and each run
// finds its own meeting from the time the schedule fired for. Meeting 3's
// draft comes while meeting 2's run is still going, and starts all the same.
func (l *live) reviewSchedule(t *testing.T) {
	l.t = t
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Second)
	in := ReviewInput{Dialogue: "hld-sched", DraftBefore: 3 * time.Second, StatementsBefore: time.Second,
		Meetings: []review.Meeting{{Number: 1, At: now.Add(-time.Hour), Host: "PA"}, {Number: 2, At: now.Add(2 * time.Second), Host: "US"},
			{Number: 3, At: now.Add(6 * time.Second), Host: "PA"}, {Number: 4, At: now.Add(8 * time.Second), Host: "US"}}}
	if err := SetReviewSchedule(ctx, l.c, in, now); err != nil {
		t.Fatal(err)
	}
	h := l.c.ScheduleClient().GetHandle(ctx, ReviewScheduleID("hld-sched"))
	t.Cleanup(func() { _ = h.Delete(context.Background()) })
	var started []client.ScheduleActionResult
	for len(started) < 2 {
		d, err := h.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		started = d.Info.RecentActions
		if ctx.Err() != nil {
			t.Fatalf("the schedule started %d runs; want 2", len(started))
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i, a := range started {
		var end ReviewState
		if err := l.c.GetWorkflow(ctx, a.StartWorkflowResult.WorkflowID, a.StartWorkflowResult.FirstExecutionRunID).Get(ctx, &end); err != nil {
			t.Fatalf("run %s: %v", a.StartWorkflowResult.WorkflowID, err)
		}
		want := in.Meetings[i+2]
		if a.StartWorkflowResult.WorkflowID != ReviewRunID("hld-sched", want.At.Add(-in.DraftBefore)) ||
			end.Meeting != want.Number || !end.MeetingAt.Equal(want.At) || !end.Since.Equal(in.Meetings[i+1].At) || end.Phase != PhaseFrozen {
			t.Errorf("run %d (%s) reviewed %+v; want meeting %d", i, a.StartWorkflowResult.WorkflowID, end, want.Number)
		}
	}
	// Meeting 2's draft time had passed when the calendar was set: its run
	// was started at once, and setting the calendar again starts no other.
	late := ReviewRunID("hld-sched", in.Meetings[1].At.Add(-in.DraftBefore))
	var end ReviewState
	if err := l.c.GetWorkflow(ctx, late, "").Get(ctx, &end); err != nil || end.Meeting != 2 || end.Phase != PhaseFrozen {
		t.Fatalf("meeting 2's run %s: %+v, %v", late, end, err)
	}
	if err := SetReviewSchedule(ctx, l.c, in, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	d, err := l.c.DescribeWorkflowExecution(ctx, late, "")
	if err != nil || d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Fatalf("meeting 2's run after setting the calendar again: %v, %v", d.GetWorkflowExecutionInfo().GetStatus(), err)
	}

	// With every draft time past, the schedule goes.
	if err := SetReviewSchedule(ctx, l.c, in, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Describe(ctx); err == nil {
		t.Error("the schedule is still there with no draft time ahead")
	}
}
