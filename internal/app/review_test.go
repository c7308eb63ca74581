package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"pacto/internal/lifecycle"
	"pacto/internal/pgtest"
	"pacto/internal/review"
	"pacto/internal/store"
	"pacto/workflows"
)

// A meeting's review, started by its schedule at the draft's time, keeps
// the draft, takes the statement of the coordinator whose party owns the
// activity's milestone and refuses the others (another party's, and one
// made after statements close), then keeps the meeting's report frozen:
// its digest is that of the bytes kept, and its figures are those the
// audit log gives.
func TestReviewDraftsTakesStatementsAndFreezes(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if _, err := SeedDemo(ctx, st, t.TempDir()+"/tokens.json"); err != nil {
		t.Fatal(err)
	}
	recordActivity(t, st, "act-training", 3, "Capacitación aduanera", "Customs training")
	recordActivity(t, st, "act-ports", 4, "Puertos", "Ports")

	meetingAt := time.Date(2027, 4, 20, 15, 0, 0, 0, time.UTC)
	in := workflows.ReviewInput{Version: workflows.ReviewVersion, Dialogue: DemoDialogue,
		Meetings:    []review.Meeting{{Number: 1, At: meetingAt, Host: "PA"}, {Number: 2, At: meetingAt.AddDate(0, 6, 0), Host: "US"}},
		DraftBefore: 30 * time.Minute, StatementsBefore: 7 * time.Minute}
	draftAt := meetingAt.Add(-30 * time.Minute)

	var suite testsuite.WorkflowTestSuite
	env := testEnvironment(&suite)
	workflows.Register(env)
	RegisterReviewActivities(env, st, nil)
	env.SetStartTime(draftAt.Add(-time.Minute))
	key := temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")
	if err := env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(key.ValueSet(draftAt))); err != nil {
		t.Fatal(err)
	}

	pa := lifecycle.Principal{ID: "pa-coordinator", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}
	us := lifecycle.Principal{ID: "us-coordinator", Party: "US", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}
	outcomes := map[string]error{}
	state := func() workflows.ReviewState {
		v, err := env.QueryWorkflow(workflows.QueryReviewState)
		if err != nil {
			t.Fatal(err)
		}
		var s workflows.ReviewState
		if err := v.Get(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	state0 := workflows.ReviewState{}
	submit := func(id string, st workflows.Statement) {
		env.UpdateWorkflow(workflows.UpdateStatement, id, &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { outcomes[id] = err },
			OnComplete: func(_ any, err error) { outcomes[id] = err },
		}, st)
	}
	env.RegisterDelayedCallback(func() {
		state0 = state()
		submit("before-draft", workflows.Statement{By: pa, Activity: "act-training", Body: "Too soon"})
	}, 30*time.Second)
	env.RegisterDelayedCallback(func() {
		submit("pa-training", workflows.Statement{By: pa, Activity: "act-training", Body: "El primer taller se celebró."})
		submit("us-training", workflows.Statement{By: us, Activity: "act-training", Body: "Not ours to state"})
		submit("pa-unknown", workflows.Statement{By: pa, Activity: "act-none", Body: "No such activity"})
	}, 11*time.Minute)
	env.RegisterDelayedCallback(func() {
		submit("pa-late", workflows.Statement{By: pa, Activity: "act-ports", Body: "Too late"})
	}, 26*time.Minute)
	adoptMinutes(t, env, 32*time.Minute)

	env.ExecuteWorkflow(workflows.ReviewWorkflowName, in)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("review: completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var end workflows.ReviewState
	if err := env.GetWorkflowResult(&end); err != nil {
		t.Fatal(err)
	}

	if state0.Phase != workflows.PhaseWaiting || state0.Meeting != 1 || !state0.MeetingAt.Equal(meetingAt) {
		t.Errorf("before the draft the state is %+v, want meeting 1 waiting", state0)
	}
	if err := outcomes["pa-training"]; err != nil {
		t.Errorf("the PA coordinator's statement on the activity PA owns a milestone of was refused: %v", err)
	}
	for _, id := range []string{"before-draft", "us-training", "pa-unknown", "pa-late"} {
		if outcomes[id] == nil {
			t.Errorf("statement %s was accepted; want it refused", id)
		}
	}
	if end.Phase != workflows.PhaseClosed || len(end.Statements) != 1 || end.Statements[0].Author != "pa-coordinator" {
		t.Errorf("at the end the state is %+v, want closed with the PA coordinator's one statement", end)
	}
	kept, err := st.MeetingStatements(ctx, DemoDialogue, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || kept[0].Activity != "act-training" || kept[0].Body != "El primer taller se celebró." ||
		!kept[0].MadeAt.Equal(draftAt.Add(10*time.Minute)) {
		t.Errorf("statements kept: %+v, want the PA coordinator's one, made 10 minutes after the draft", kept)
	}

	draft, err := st.MeetingReport(ctx, DemoDialogue, 1, store.ReportDraft)
	if err != nil {
		t.Fatal(err)
	}
	if draft.SHA256 != end.DraftSHA256 || draft.SHA256 != hexSum(draft.JSON) {
		t.Errorf("draft digest %s, workflow says %s, bytes give %s", draft.SHA256, end.DraftSHA256, hexSum(draft.JSON))
	}
	frozen, err := st.MeetingReport(ctx, DemoDialogue, 1, store.ReportFrozen)
	if err != nil {
		t.Fatal(err)
	}
	if frozen.SHA256 != end.FrozenSHA256 || frozen.SHA256 != hexSum(frozen.JSON) {
		t.Errorf("frozen digest %s, workflow says %s, bytes give %s", frozen.SHA256, end.FrozenSHA256, hexSum(frozen.JSON))
	}
	if len(frozen.Differences) != 0 || len(end.Differences) != 0 {
		t.Errorf("the frozen report differs from the audit log: %v / %v", frozen.Differences, end.Differences)
	}
	var rep review.Report
	if err := json.Unmarshal(frozen.JSON, &rep); err != nil {
		t.Fatal(err)
	}
	log, err := review.Recompute(ctx, st, DemoDialogue, "1", meetingAt, time.Time{}, meetingAt)
	if err != nil {
		t.Fatal(err)
	}
	if d := review.Differences(rep, log); len(d) != 0 {
		t.Errorf("the frozen report's figures differ from the audit log's: %v", d)
	}
	if len(rep.Activities) != 2 || !rep.AsOf.Equal(meetingAt) || rep.ByParty["PA"].Upcoming+rep.ByParty["PA"].Overdue+rep.ByParty["PA"].OnTime+rep.ByParty["PA"].Late != 2 {
		t.Errorf("frozen report: %d activities as of %s, PA counts %+v; want 2 activities as of the meeting with PA's two milestones", len(rep.Activities), rep.AsOf, rep.ByParty["PA"])
	}

	// A frozen report is written once: keeping another leaves the first.
	if err := st.PutMeetingReport(ctx, store.MeetingReport{Dialogue: DemoDialogue, Meeting: 1, Kind: store.ReportFrozen, JSON: []byte(`{}`), SHA256: hexSum([]byte(`{}`))}); err != nil {
		t.Fatal(err)
	}
	again, err := st.MeetingReport(ctx, DemoDialogue, 1, store.ReportFrozen)
	if err != nil || again.SHA256 != frozen.SHA256 {
		t.Errorf("the frozen report was replaced: %s, %v", again.SHA256, err)
	}
	if _, err := st.MeetingReport(ctx, DemoDialogue, 2, store.ReportDraft); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("meeting 2's draft: %v, want not found", err)
	}

	// The meeting's own audit chain holds each step, the frozen report's
	// digest among them, and verifies.
	chain := lifecycle.MeetingChain(DemoDialogue, 1)
	v, err := st.VerifyAudit(ctx, chain)
	if err != nil || !v.Valid {
		t.Fatalf("the meeting's audit chain: %+v, %v", v, err)
	}
	var types []string
	digests := map[string]string{}
	for _, e := range auditEvents(t, st, chain) {
		types = append(types, string(e.Type))
		if e.Digest != "" {
			digests[string(e.Type)] = e.Digest
		}
	}
	want := []string{"meeting_drafted", "statement_made", "report_frozen", "minutes_recorded", "minutes_signed", "minutes_signed", "minutes_adopted"}
	if !slices.Equal(types, want) {
		t.Errorf("the meeting's audit chain holds %v, want %v", types, want)
	}
	if digests["report_frozen"] != frozen.SHA256 || digests["meeting_drafted"] != draft.SHA256 {
		t.Errorf("digests in the audit log %v; want the draft's %s and the frozen report's %s", digests, draft.SHA256, frozen.SHA256)
	}
	// The frozen report names the statement owed and not made.
	if len(rep.Statements) != 1 || !slices.Contains(rep.Missing, review.MissingStatement{Activity: "act-ports", Party: "PA"}) {
		t.Errorf("frozen report's statements %+v, missing %+v; want PA's one, and PA's on act-ports missing", rep.Statements, rep.Missing)
	}
}

// adoptMinutes has the PA coordinator record minutes after the given
// time from the run's start, and both parties' approvers sign them.
func adoptMinutes(t *testing.T, env *testsuite.TestWorkflowEnvironment, after time.Duration) {
	t.Helper()
	update := func(name, id string, arg any) {
		env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { t.Errorf("%s refused: %v", id, err) },
			OnComplete: func(_ any, err error) {
				if err != nil {
					t.Errorf("%s failed: %v", id, err)
				}
			},
		}, arg)
	}
	env.RegisterDelayedCallback(func() {
		update(workflows.UpdateMinutes, "minutes", workflows.RecordMinutes{
			By: lifecycle.Principal{ID: "pa-coordinator", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}, Language: "es",
			Content: lifecycle.MinutesContent{Decisions: []lifecycle.Text{lifecycle.Plain("Seguir con la capacitación")}}})
	}, after)
	env.RegisterDelayedCallback(func() {
		for _, p := range []lifecycle.PartyCode{"PA", "US"} {
			update(workflows.UpdateSignMinutes, "sign-"+string(p), workflows.SignMinutes{Version: 1,
				By: lifecycle.Principal{ID: strings.ToLower(string(p)) + "-approver", Party: p, Roles: []lifecycle.Role{lifecycle.RoleApprover}}})
		}
	}, after+time.Minute)
}

// auditEvents reads a chain's events in order.
func auditEvents(t *testing.T, st *store.Store, chain string) []lifecycle.Event {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(), `SELECT content FROM audit_events WHERE activity_id = $1 ORDER BY seq`, chain)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []lifecycle.Event
	for rows.Next() {
		var content string
		if err := rows.Scan(&content); err != nil {
			t.Fatal(err)
		}
		var c struct {
			Event lifecycle.Event `json:"event"`
		}
		if err := json.Unmarshal([]byte(content), &c); err != nil {
			t.Fatal(err)
		}
		out = append(out, c.Event)
	}
	return out
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// A read model that has drifted from the audit log does not stop the
// meeting's record: the frozen report is kept all the same, with the
// differences beside it and in the run's state.
func TestReviewKeepsAReportThatDiffersFromTheLog(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if _, err := SeedDemo(ctx, st, t.TempDir()+"/tokens.json"); err != nil {
		t.Fatal(err)
	}
	recordActivity(t, st, "act-training", 3, "Capacitación aduanera", "Customs training")
	// The milestone falls due months later in the read model than the log
	// says: upcoming, where the log has it overdue.
	if _, err := st.Pool().Exec(ctx, `UPDATE activities SET snapshot = jsonb_set(snapshot, '{milestones,0,due_at}', '"2027-09-01T00:00:00Z"') WHERE id = 'act-training'`); err != nil {
		t.Fatal(err)
	}
	meetingAt := time.Date(2027, 4, 20, 15, 0, 0, 0, time.UTC)
	var suite testsuite.WorkflowTestSuite
	env := testEnvironment(&suite)
	workflows.Register(env)
	RegisterReviewActivities(env, st, nil)
	env.SetStartTime(meetingAt.Add(-time.Hour))
	adoptMinutes(t, env, 61*time.Minute)
	env.ExecuteWorkflow(workflows.ReviewWorkflowName, workflows.ReviewInput{Version: workflows.ReviewVersion, Dialogue: DemoDialogue, Meeting: 1,
		Meetings: []review.Meeting{{Number: 1, At: meetingAt, Host: "PA"}}, DraftBefore: time.Minute, StatementsBefore: time.Second})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("review: completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var end workflows.ReviewState
	if err := env.GetWorkflowResult(&end); err != nil {
		t.Fatal(err)
	}
	frozen, err := st.MeetingReport(ctx, DemoDialogue, 1, store.ReportFrozen)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(frozen.Differences, "act-training/m1: upcoming against overdue") || !slices.Equal(end.Differences, frozen.Differences) ||
		frozen.SHA256 != hexSum(frozen.JSON) || end.Phase != workflows.PhaseClosed {
		t.Fatalf("frozen report: differences %q (state %q), digest %s of bytes %s", frozen.Differences, end.Differences, frozen.SHA256, hexSum(frozen.JSON))
	}
}
