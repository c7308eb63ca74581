package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"

	"pacto/internal/app"
	"pacto/internal/lifecycle"
	"pacto/internal/pgtest"
	"pacto/internal/store"
	"pacto/workflows"
)

// pacto admin lists an activity whose workflow Temporal no longer has (as
// after its namespace was recreated empty) and restarts it as an admin:
// the workflow runs again from the recorded state and the activity leaves
// the list. The refusals say why.
func TestAdminRestartsALostActivity(t *testing.T) {
	ctx := context.Background()
	db := pgtest.NewDatabase(t)
	t.Setenv("PACTO_DATABASE_URL", db)
	for _, args := range [][]string{
		{"migrate"},
		{"party", "create", "--code", "PA", "--name", "Panamá", "--time-zone", "America/Panama", "--language", "es"},
		{"party", "create", "--code", "US", "--name", "United States", "--time-zone", "America/New_York"},
		{"dialogue", "create", "--id", "hld-pa-us", "--name", "High-Level Dialogue", "--parties", "PA,US"},
		{"principal", "create", "--id", "pa-coordinator", "--party", "PA", "--roles", "coordinator", "--name", "PA coordinator"},
		{"principal", "create", "--id", "pa-approver", "--party", "PA", "--roles", "approver", "--name", "PA approver"},
		{"principal", "create", "--id", "us-approver", "--party", "US", "--roles", "approver", "--name", "US approver"},
		{"principal", "create", "--id", "ops", "--roles", "admin", "--name", "Operations"},
	} {
		if code, _, stderr := pacto(t, args...); code != 0 {
			t.Fatalf("pacto %v: %d %s", args, code, stderr)
		}
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// An active activity, recorded as its workflow would, whose workflow
	// the reconciler found gone.
	var s lifecycle.State
	at := time.Now().UTC().Add(-time.Hour)
	for _, c := range []struct {
		who lifecycle.Principal
		cmd lifecycle.Command
	}{
		{lifecycle.Principal{ID: "pa-coordinator", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}, lifecycle.Propose{
			ActivityID: "act-lost", Dialogue: "hld-pa-us", Rules: lifecycle.CurrentRules,
			DialogueParties: []lifecycle.Party{{Code: "PA", TimeZone: "America/Panama", Language: "es"}, {Code: "US", TimeZone: "America/New_York", Language: "en"}},
			Parties:         []lifecycle.PartyCode{"PA", "US"}, Title: lifecycle.Text{"es": "Capacitación", "en": "Training"},
			Milestones: []lifecycle.MilestoneSpec{{ID: "m1", Title: lifecycle.Text{"es": "Hito", "en": "Milestone"}, Owner: "PA", Due: "P1M"}}}},
		{lifecycle.Principal{ID: "pa-approver", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleApprover}}, lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove}},
		{lifecycle.Principal{ID: "us-approver", Party: "US", Roles: []lifecycle.Role{lifecycle.RoleApprover}}, lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove}},
	} {
		evs, err := lifecycle.Decide(s, c.cmd, c.who, at)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			s = lifecycle.Apply(s, e)
		}
		if err := st.Record(ctx, s, evs); err != nil {
			t.Fatal(err)
		}
	}
	if marked, err := st.MarkLost(ctx, "act-lost", s.Seq, time.Now(), func(context.Context) (lifecycle.TemporalRun, bool, error) {
		return lifecycle.TemporalRun{Status: lifecycle.RunNotFound, Reason: "Temporal has no workflow with this id"}, true, nil
	}); err != nil || !marked {
		t.Fatalf("mark lost: %v %v", marked, err)
	}

	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))}))
	tc := ts.GetDefaultClient()
	if _, err := workflows.RegisterSearchAttributes(ctx, tc, ts.GetDefaultNamespace()); err != nil {
		t.Fatal(err)
	}
	w := app.NewWorker(tc, st, app.Delivery{Logger: slog.New(slog.DiscardHandler)})
	w.Reconciler.Every = -1
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	t.Setenv("TEMPORAL_ADDRESS", ts.GetFrontendHostPort())
	t.Setenv("TEMPORAL_NAMESPACE", ts.GetDefaultNamespace())

	code, out, stderr := pacto(t, "admin", "diverged")
	if code != 0 || !strings.Contains(out, "act-lost") || !strings.Contains(out, "not_found") || !strings.Contains(out, "IN TEMPORAL") {
		t.Fatalf("admin diverged: %d %q %s", code, out, stderr)
	}
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"admin", "restart", "--activity", "act-lost", "--as", "ops"}, 2, "--reason is required"},
		{[]string{"admin", "restart", "--activity", "act-lost", "--as", "nobody", "--reason", "r"}, 1, `no principal "nobody"`},
		{[]string{"admin", "restart", "--activity", "act-lost", "--as", "pa-approver", "--reason", "r"}, 1, "only an admin"},
		{[]string{"admin", "restart", "--activity", "act-none", "--as", "ops", "--reason", "r"}, 1, "no such activity"},
		{[]string{"admin", "diverged", "--limit", "0"}, 2, "--limit"},
		{[]string{"admin", "forget"}, 2, "unknown action"},
	} {
		code, _, stderr := pacto(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) {
			t.Errorf("pacto %v: exit %d %q; want exit %d saying %q", c.args, code, stderr, c.code, c.says)
		}
	}

	code, out, stderr = pacto(t, "admin", "restart", "--activity", "act-lost", "--as", "ops", "--reason", "namespace recreated")
	if code != 0 || !strings.Contains(out, "activity act-lost restarted by ops: active at seq 6") {
		t.Fatalf("admin restart: %d %q %s", code, out, stderr)
	}
	desc, err := tc.DescribeWorkflowExecution(ctx, "act-lost", "")
	if err != nil || desc.GetWorkflowExecutionInfo().GetStatus().String() != "Running" {
		t.Fatalf("the workflow after the restart: %v, %v", desc.GetWorkflowExecutionInfo().GetStatus(), err)
	}
	audit, err := st.Audit(ctx, "act-lost", 5, 10)
	if err != nil || len(audit) != 1 || audit[0].Type != string(lifecycle.EventRestarted) || audit[0].Actor != "ops" {
		t.Fatalf("audit after the restart: %+v, %v", audit, err)
	}
	if code, out, _ := pacto(t, "admin", "diverged"); code != 0 || strings.Contains(out, "act-lost") {
		t.Fatalf("still listed after the restart: %q", out)
	}
	code, _, stderr = pacto(t, "admin", "restart", "--activity", "act-lost", "--as", "ops", "--reason", "again")
	if code != 1 || !strings.Contains(stderr, "workflow is running") {
		t.Fatalf("a second restart: %d %s", code, stderr)
	}

	for _, c := range []struct {
		v    string
		want time.Duration
		code bool
	}{{"5m", 5 * time.Minute, true}, {"0", -1, true}, {"1s", 0, false}, {"-1m", 0, false}, {"soon", 0, false}} {
		got, err := reconcileInterval(c.v)
		if (err == nil) != c.code || got != c.want {
			t.Errorf("--reconcile-every %s: %v, %v", c.v, got, err)
		}
	}
}
