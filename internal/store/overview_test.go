package store_test

import (
	"context"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// step is one command of an activity's life, by whom and when.
type step struct {
	cmd lifecycle.Command
	by  lifecycle.Principal
	at  time.Time
}

// recordLife runs an activity through the core from its proposal and
// records every change, as the workflow would.
func recordLife(t *testing.T, st *store.Store, propose lifecycle.Propose, steps ...step) lifecycle.State {
	t.Helper()
	var s lifecycle.State
	var all []lifecycle.Event
	run := func(c lifecycle.Command, a lifecycle.Principal, at time.Time) {
		evs, err := lifecycle.Decide(s, c, a, at)
		if err != nil {
			t.Fatalf("%s: %T: %v", propose.ActivityID, c, err)
		}
		for _, e := range evs {
			s = lifecycle.Apply(s, e)
		}
		all = append(all, evs...)
	}
	run(propose, actor("pa-coordinator", "PA", lifecycle.RoleCoordinator), t0)
	for _, st := range steps {
		run(st.cmd, st.by, st.at)
	}
	if err := st.Record(context.Background(), s, all); err != nil {
		t.Fatal(err)
	}
	return s
}

// The overview's counts come from the read model: activities by status and
// term, and per party and half-year the milestones met on time, met late
// and overdue, only of what the reader's party takes part in.
func TestDialogueCountsAndTimeliness(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	if _, err := st.CreateParty(ctx, store.Party{Code: "CR", Name: "Costa Rica", TimeZone: "America/Costa_Rica", Language: "es"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateDialogue(ctx, store.Dialogue{ID: "tri", Name: "Trilateral", Parties: []string{"CR", "PA", "US"}}); err != nil {
		t.Fatal(err)
	}
	zones := []lifecycle.Party{{Code: "CR", TimeZone: "America/Costa_Rica"}, {Code: "PA", TimeZone: "America/Panama"}, {Code: "US", TimeZone: "America/New_York"}}
	proposal := func(id string, parties []lifecycle.PartyCode, ms ...lifecycle.MilestoneSpec) lifecycle.Propose {
		return lifecycle.Propose{ActivityID: id, Dialogue: "tri", DialogueParties: zones, Parties: parties,
			Title: lifecycle.Plain("Activity " + id), Milestones: ms}
	}
	approve := func(party lifecycle.PartyCode, at time.Time) step {
		id := map[lifecycle.PartyCode]string{"PA": "pa-approver", "US": "us-approver", "CR": "cr-approver"}[party]
		return step{lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove}, actor(id, party, lifecycle.RoleApprover), at}
	}
	complete := func(mid string, party lifecycle.PartyCode, at time.Time) step {
		id := map[lifecycle.PartyCode]string{"PA": "pa-coordinator", "US": "us-coordinator", "CR": "cr-coordinator"}[party]
		return step{lifecycle.CompleteMilestone{MilestoneID: mid}, actor(id, party, lifecycle.RoleCoordinator), at}
	}
	activated := t0.Add(2 * time.Hour) // 4 January 2027; due P30D is 3 February
	both := []lifecycle.PartyCode{"PA", "US"}
	// a: PA's milestone met on time, US's open past its due time.
	recordLife(t, st, proposal("act-a", both,
		lifecycle.MilestoneSpec{ID: "m1", Title: lifecycle.Plain("PA part"), Owner: "PA", Due: "P30D", Horizon: lifecycle.HorizonShort},
		lifecycle.MilestoneSpec{ID: "m2", Title: lifecycle.Plain("US part"), Owner: "US", Due: "P60D", Horizon: lifecycle.HorizonMedium}),
		approve("PA", t0.Add(time.Hour)), approve("US", activated), complete("m1", "PA", activated.AddDate(0, 0, 10)))
	// b: PA's only milestone met late; the activity is completed.
	b := recordLife(t, st, proposal("act-b", both,
		lifecycle.MilestoneSpec{ID: "m1", Title: lifecycle.Plain("Late"), Owner: "PA", Due: "P30D", Horizon: lifecycle.HorizonShort}),
		approve("PA", t0.Add(time.Hour)), approve("US", activated), complete("m1", "PA", activated.AddDate(0, 0, 40)))
	if b.Status != lifecycle.StatusCompleted {
		t.Fatalf("act-b is %s", b.Status)
	}
	// c: only proposed.
	recordLife(t, st, proposal("act-c", both,
		lifecycle.MilestoneSpec{ID: "m1", Title: lifecycle.Plain("Someday"), Owner: "US", Due: "P1Y", Horizon: lifecycle.HorizonLong}))
	// d: cancelled with its milestone open past due: not overdue.
	recordLife(t, st, proposal("act-d", both,
		lifecycle.MilestoneSpec{ID: "m1", Title: lifecycle.Plain("Dropped"), Owner: "PA", Due: "P30D", Horizon: lifecycle.HorizonShort}),
		approve("PA", t0.Add(time.Hour)), approve("US", activated),
		step{lifecycle.Cancel{Reason: "no funds"}, actor("us-approver", "US", lifecycle.RoleApprover), activated.AddDate(0, 2, 0)})
	// e: between PA and CR only, with a CR milestone overdue: the US does
	// not see it.
	recordLife(t, st, proposal("act-e", []lifecycle.PartyCode{"PA", "CR"},
		lifecycle.MilestoneSpec{ID: "m1", Title: lifecycle.Plain("CR part"), Owner: "CR", Due: "P30D", Horizon: lifecycle.HorizonShort}),
		approve("PA", t0.Add(time.Hour)), approve("CR", activated))

	now := time.Date(2027, 4, 1, 12, 0, 0, 0, time.UTC)
	bounds := []time.Time{
		time.Date(2026, 7, 1, 5, 0, 0, 0, time.UTC),
		time.Date(2027, 1, 1, 5, 0, 0, 0, time.UTC),
		time.Date(2027, 7, 1, 5, 0, 0, 0, time.UTC),
	}
	got, err := st.MilestoneTimeliness(ctx, "tri", "US", bounds, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Timeliness{
		{Party: "PA", Period: 1, OnTime: 1, Late: 1},
		{Party: "US", Period: 1, Overdue: 1},
	}
	if !equalTimeliness(got, want) {
		t.Fatalf("timeliness seen by the US: %+v, want %+v", got, want)
	}
	all, err := st.MilestoneTimeliness(ctx, "tri", "", bounds, now)
	if err != nil {
		t.Fatal(err)
	}
	want = append([]store.Timeliness{{Party: "CR", Period: 1, Overdue: 1}}, want...)
	if !equalTimeliness(all, want) {
		t.Fatalf("timeliness seen by an admin: %+v, want %+v", all, want)
	}
	// Before the due times nothing is overdue yet.
	early, err := st.MilestoneTimeliness(ctx, "tri", "US", bounds, activated.AddDate(0, 0, 45))
	if err != nil {
		t.Fatal(err)
	}
	if !equalTimeliness(early, []store.Timeliness{{Party: "PA", Period: 1, OnTime: 1, Late: 1}}) {
		t.Fatalf("timeliness before US's due time: %+v", early)
	}
	if other, err := st.MilestoneTimeliness(ctx, "hld", "", bounds, now); err != nil || len(other) != 0 {
		t.Fatalf("another dialogue's timeliness: %+v, %v", other, err)
	}

	counts, err := st.DialogueCounts(ctx, "tri", "US")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus := map[string]int64{"active": 1, "completed": 1, "proposed": 1, "cancelled": 1}
	if len(counts.ByStatus) != len(wantStatus) {
		t.Fatalf("by status: %v, want %v", counts.ByStatus, wantStatus)
	}
	for k, v := range wantStatus {
		if counts.ByStatus[k] != v {
			t.Fatalf("by status: %v, want %v", counts.ByStatus, wantStatus)
		}
	}
	if c := counts.ByStatusTerm; c["active"]["short"] != 1 || c["active"]["medium"] != 1 || c["proposed"]["long"] != 1 ||
		c["completed"]["short"] != 1 || c["cancelled"]["short"] != 1 || len(c["active"]) != 2 {
		t.Fatalf("by status and term: %v", c)
	}
	admin, err := st.DialogueCounts(ctx, "tri", "")
	if err != nil {
		t.Fatal(err)
	}
	if admin.ByStatus["active"] != 2 || admin.ByStatusTerm["active"]["short"] != 2 {
		t.Fatalf("an admin's counts: %+v", admin)
	}
}

func equalTimeliness(a, b []store.Timeliness) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
