package workflows

import (
	"context"
	"testing"
	"time"

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
