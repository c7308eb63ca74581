package workflows

import (
	"context"
	"fmt"
	"slices"
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
// draft lists two activities, one with a milestone of PA's and one with a
// milestone of the US's; the meeting is claimed by whichever run asks,
// its changes are taken as recorded, and the agreed activities are
// proposed under ids of their own.
type reviewer struct{}

func reviewKept(digest string) activities.ReportKept {
	return activities.ReportKept{Owners: map[string][]string{"act-1": {"PA"}, "act-2": {"US"}}, Parties: []string{"PA", "US"}, SHA256: digest,
		Agenda: []store.AgendaItem{{Activity: "act-1", Title: lifecycle.Plain("Training")}, {Activity: "act-2", Title: lifecycle.Plain("Ports")}}}
}

func (reviewer) DraftReport(context.Context, activities.ReportRequest) (activities.ReportKept, error) {
	return reviewKept("draft-digest"), nil
}

func (reviewer) FreezeReport(context.Context, activities.ReportRequest) (activities.ReportKept, error) {
	k := reviewKept("frozen-digest")
	k.Missing = []string{"US"}
	return k, nil
}

func (reviewer) KeepStatement(context.Context, activities.StatementRequest) error { return nil }

func (reviewer) ClaimMeeting(_ context.Context, req activities.ClaimRequest) (string, error) {
	return req.WorkflowID, nil
}

func (reviewer) RecordMeeting(context.Context, store.MeetingChange) error { return nil }

func (reviewer) ProposeAgreed(_ context.Context, req activities.AgreedRequest) (activities.AgreedResult, error) {
	out := activities.AgreedResult{Activities: make([]string, len(req.Agreed)), Problems: make([]string, len(req.Agreed))}
	for i := range req.Agreed {
		out.Activities[i] = fmt.Sprintf("agreed-%d-%d", req.Meeting, i+1)
	}
	return out, nil
}

func registerReviewer(r worker.Registry) {
	var rv reviewer
	r.RegisterActivityWithOptions(rv.DraftReport, activity.RegisterOptions{Name: activities.DraftReportName})
	r.RegisterActivityWithOptions(rv.FreezeReport, activity.RegisterOptions{Name: activities.FreezeReportName})
	r.RegisterActivityWithOptions(rv.KeepStatement, activity.RegisterOptions{Name: activities.KeepStatementName})
	r.RegisterActivityWithOptions(rv.ClaimMeeting, activity.RegisterOptions{Name: activities.ClaimMeetingName})
	r.RegisterActivityWithOptions(rv.RecordMeeting, activity.RegisterOptions{Name: activities.RecordMeetingName})
	r.RegisterActivityWithOptions(rv.ProposeAgreed, activity.RegisterOptions{Name: activities.ProposeAgreedName})
}

var (
	reviewPACoordinator = lifecycle.Principal{ID: "pa-coordinator", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}
	reviewUSCoordinator = lifecycle.Principal{ID: "us-coordinator", Party: "US", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}
	reviewPAApprover    = lifecycle.Principal{ID: "pa-approver", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleApprover}}
	reviewUSApprover    = lifecycle.Principal{ID: "us-approver", Party: "US", Roles: []lifecycle.Role{lifecycle.RoleApprover}}
)

// reviewPhase waits until the review run id is in phase and returns its
// state.
func (l *live) reviewPhase(ctx context.Context, id, phase string) ReviewState {
	l.t.Helper()
	for {
		v, err := l.c.QueryWorkflow(ctx, id, "", QueryReviewState)
		var s ReviewState
		if err == nil {
			err = v.Get(&s)
		}
		if err != nil {
			l.t.Fatalf("query the review %s: %v", id, err)
		}
		if s.Phase == phase {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reviewUpdate sends one update to the review run id and waits for its
// result.
func (l *live) reviewUpdate(ctx context.Context, id, updateID, name string, arg any) error {
	h, err := l.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateID: updateID, UpdateName: name,
		WaitForStage: client.WorkflowUpdateStageCompleted, Args: []any{arg}})
	if err != nil {
		return err
	}
	return h.Get(ctx, nil)
}

// adoptMinutes has the PA coordinator record minutes of the review run id
// and both approvers sign them.
func (l *live) adoptMinutes(ctx context.Context, id string) {
	l.t.Helper()
	rec := RecordMinutes{By: reviewPACoordinator, Language: "es", Content: lifecycle.MinutesContent{Decisions: []lifecycle.Text{lifecycle.Plain("Seguir")}}}
	if err := l.reviewUpdate(ctx, id, "minutes", UpdateMinutes, rec); err != nil {
		l.t.Fatalf("minutes of %s: %v", id, err)
	}
	for _, by := range []lifecycle.Principal{reviewPAApprover, reviewUSApprover} {
		if err := l.reviewUpdate(ctx, id, "sign-"+by.ID, UpdateSignMinutes, SignMinutes{By: by, Version: 1}); err != nil {
			l.t.Fatalf("%s signing the minutes of %s: %v", by.ID, id, err)
		}
	}
}

// review runs a meeting's whole Review cycle on the server on a
// seconds-long cadence: the draft, one statement taken and one refused, a
// reminder to the party still owing, the frozen report, minutes refused
// before it, recorded, signed, amended, a stale signature refused, signed
// by both and adopted with their new activity proposed; the history is
// kept for replay.
func (l *live) review(t *testing.T) {
	l.t = t
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	meetingAt := time.Now().Add(7 * time.Second).UTC().Truncate(time.Second)
	in := ReviewInput{Version: ReviewVersion, Dialogue: "hld-pa-us", Meeting: 1,
		Meetings:    []review.Meeting{{Number: 1, At: meetingAt, Host: "PA"}},
		DraftBefore: 6 * time.Second, StatementsBefore: 2 * time.Second, RemindEvery: 2 * time.Second}
	run, err := l.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "live-review", TaskQueue: TaskQueue}, ReviewWorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	l.reviewPhase(ctx, "live-review", PhaseDraft)
	say := func(by lifecycle.Principal, id string) error {
		return l.reviewUpdate(ctx, "live-review", id, UpdateStatement, Statement{By: by, Activity: "act-1", Body: "On track"})
	}
	if err := say(reviewPACoordinator, "pa"); err != nil {
		t.Fatalf("the PA coordinator's statement: %v", err)
	}
	if err := say(reviewUSCoordinator, "us"); err == nil {
		t.Fatal("the US coordinator's statement on an activity US owns no milestone of was taken")
	}
	early := RecordMinutes{By: reviewPACoordinator, Language: "es", Content: lifecycle.MinutesContent{Decisions: []lifecycle.Text{lifecycle.Plain("Pronto")}}}
	if ce, ok := CoreError(l.reviewUpdate(ctx, "live-review", "early", UpdateMinutes, early)); !ok || ce.Kind != lifecycle.KindInvalidTransition {
		t.Fatalf("minutes before the freeze: %v; want them refused", ce)
	}

	frozen := l.reviewPhase(ctx, "live-review", PhaseFrozen)
	if frozen.Reminders != 1 || frozen.FrozenSHA256 != "frozen-digest" {
		t.Fatalf("frozen with %d reminders and digest %q; want 1 reminder (2s after the draft) and the frozen digest", frozen.Reminders, frozen.FrozenSHA256)
	}
	agreed := lifecycle.AgreedActivity{Title: lifecycle.Plain("Laboratorio"), Proposal: []byte(`{"title":{"es":"Laboratorio"}}`)}
	steps := []struct {
		id, name string
		arg      any
		kind     lifecycle.Kind // a refusal's, or "" when taken
	}{
		{"minutes-1", UpdateMinutes, RecordMinutes{By: reviewPACoordinator, Language: "es",
			Content: lifecycle.MinutesContent{Decisions: []lifecycle.Text{lifecycle.Plain("Seguir")}, NewActivities: []lifecycle.AgreedActivity{agreed}}}, ""},
		{"pa-signs-1", UpdateSignMinutes, SignMinutes{By: reviewPAApprover, Version: 1}, ""},
		{"minutes-2", UpdateMinutes, RecordMinutes{By: reviewUSCoordinator, Language: "en",
			Content: lifecycle.MinutesContent{Decisions: []lifecycle.Text{lifecycle.Plain("Continue")}, NewActivities: []lifecycle.AgreedActivity{agreed}}}, ""},
		{"us-signs-1", UpdateSignMinutes, SignMinutes{By: reviewUSApprover, Version: 1}, lifecycle.KindStaleVersion},
		{"pa-signs-2", UpdateSignMinutes, SignMinutes{By: reviewPAApprover, Version: 2}, ""},
		{"us-signs-2", UpdateSignMinutes, SignMinutes{By: reviewUSApprover, Version: 2}, ""},
	}
	for _, s := range steps {
		err := l.reviewUpdate(ctx, "live-review", s.id, s.name, s.arg)
		if ce, ok := CoreError(err); s.kind == "" && err != nil || s.kind != "" && (!ok || ce.Kind != s.kind) {
			t.Fatalf("%s: %v; want refused as %q (\"\" taken)", s.id, err, s.kind)
		}
	}
	var end ReviewState
	if err := run.Get(ctx, &end); err != nil {
		t.Fatalf("review workflow: %v", err)
	}
	if end.Phase != PhaseClosed || end.FrozenSHA256 != "frozen-digest" || len(end.Statements) != 1 || end.Statements[0].ID != "pa" ||
		end.Minutes == nil || end.Minutes.Version != 2 || !end.Minutes.Adopted() || !slices.Equal(end.Proposed, []string{"agreed-1-1"}) {
		t.Fatalf("review ended as %+v", end)
	}
	// drafted, statement, reminder, frozen, recorded, signed, recorded,
	// signed, signed, adopted: each a change of the meeting's chain.
	if end.Seq != 10 {
		t.Errorf("the run recorded %d meeting events; want 10", end.Seq)
	}
	l.replayAndKeep("live-review", l.history("live-review", run.GetRunID()))
}

// reviewSchedule sets a dialogue's meetings schedule on the server with
// seconds-long offsets: it starts a run at each draft time, and each run
// finds its own meeting from the time the schedule fired for. Meeting 3's
// draft comes while meeting 2's run is still going, and starts all the
// same. Each run freezes its meeting's report and waits for the minutes;
// once they are adopted, it ends.
func (l *live) reviewSchedule(t *testing.T) {
	l.t = t
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
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
	runs := map[string]string{} // workflow ID to the run ID it first started under
	for i, a := range started {
		id := a.StartWorkflowResult.WorkflowID
		frozen := l.reviewPhase(ctx, id, PhaseFrozen)
		want := in.Meetings[i+2]
		if id != ReviewRunID("hld-sched", want.At.Add(-in.DraftBefore)) ||
			frozen.Meeting != want.Number || !frozen.MeetingAt.Equal(want.At) || !frozen.Since.Equal(in.Meetings[i+1].At) {
			t.Errorf("run %d (%s) reviewed %+v; want meeting %d", i, id, frozen, want.Number)
		}
		runs[id] = a.StartWorkflowResult.FirstExecutionRunID
	}
	// Meeting 2's draft time had passed when the calendar was set: its run
	// was started at once, and setting the calendar again starts no other.
	late := ReviewRunID("hld-sched", in.Meetings[1].At.Add(-in.DraftBefore))
	if s := l.reviewPhase(ctx, late, PhaseFrozen); s.Meeting != 2 {
		t.Fatalf("meeting 2's run %s: %+v", late, s)
	}
	first, err := l.c.DescribeWorkflowExecution(ctx, late, "")
	if err != nil {
		t.Fatal(err)
	}
	runs[late] = first.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	if err := SetReviewSchedule(ctx, l.c, in, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	d, err := l.c.DescribeWorkflowExecution(ctx, late, "")
	if err != nil || d.GetWorkflowExecutionInfo().GetExecution().GetRunId() != runs[late] ||
		d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("meeting 2's run after setting the calendar again: run %s %v, %v; want run %s still waiting for its minutes",
			d.GetWorkflowExecutionInfo().GetExecution().GetRunId(), d.GetWorkflowExecutionInfo().GetStatus(), err, runs[late])
	}

	// The minutes adopted, each run ends, the meeting closed.
	for id, runID := range runs {
		l.adoptMinutes(ctx, id)
		var end ReviewState
		if err := l.c.GetWorkflow(ctx, id, runID).Get(ctx, &end); err != nil || end.Phase != PhaseClosed {
			t.Errorf("run %s after its minutes were adopted: %+v, %v; want it closed", id, end, err)
		}
	}

	// With every draft time past, the schedule goes.
	if err := SetReviewSchedule(ctx, l.c, in, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Describe(ctx); err == nil {
		t.Error("the schedule is still there with no draft time ahead")
	}
}
