package review_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/pgtest"
	"pacto/internal/review"
	"pacto/internal/store"
)

func TestMain(m *testing.M) {
	pgtest.SetTemplateSetup(store.Migrate)
	pgtest.Main(m)
}

// t0 has nanoseconds, which PostgreSQL's timestamps do not keep.
var t0 = time.Date(2027, 1, 4, 15, 0, 0, 123456789, time.UTC)

var (
	since     = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) // the previous meeting
	asOf      = time.Date(2027, 4, 1, 12, 0, 0, 0, time.UTC)
	meetingAt = time.Date(2027, 4, 2, 14, 0, 0, 0, time.UTC)
	zones     = []lifecycle.Party{{Code: "PA", TimeZone: "America/Panama"}, {Code: "US", TimeZone: "America/New_York"}}
)

func seeded(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	for _, p := range []store.Party{{Code: "PA", Name: "Panamá", TimeZone: "America/Panama", Language: "es"}, {Code: "US", Name: "United States", TimeZone: "America/New_York", Language: "en"}} {
		if _, err := st.CreateParty(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []store.Dialogue{{ID: "hld", Name: "High-Level Dialogue", Parties: []string{"PA", "US"}}, {ID: "other", Name: "Other", Parties: []string{"PA", "US"}}} {
		if _, err := st.CreateDialogue(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func actor(id string, party lifecycle.PartyCode, role lifecycle.Role) lifecycle.Principal {
	return lifecycle.Principal{ID: id, Party: party, Roles: []lifecycle.Role{role}}
}

var (
	paCoordinator = actor("pa-coordinator", "PA", lifecycle.RoleCoordinator)
	paApprover    = actor("pa-approver", "PA", lifecycle.RoleApprover)
	usApprover    = actor("us-approver", "US", lifecycle.RoleApprover)
)

// step is one command of an activity's life, by whom and when.
type step struct {
	cmd lifecycle.Command
	by  lifecycle.Principal
	at  time.Time
}

// live runs an activity through the core from its proposal at proposedAt
// and records each change as the workflow does, one Record per command.
func live(t testing.TB, st *store.Store, dialogue, id string, proposedAt time.Time, ms []lifecycle.MilestoneSpec, steps ...step) lifecycle.State {
	t.Helper()
	propose := lifecycle.Propose{ActivityID: id, Dialogue: dialogue, DialogueParties: zones,
		Parties: []lifecycle.PartyCode{"PA", "US"}, Title: lifecycle.Plain("Activity " + id), Milestones: ms}
	var s lifecycle.State
	for _, c := range append([]step{{propose, paCoordinator, proposedAt}}, steps...) {
		evs, err := lifecycle.Decide(s, c.cmd, c.by, c.at)
		if err != nil {
			t.Fatalf("%s: %T: %v", id, c.cmd, err)
		}
		for _, e := range evs {
			s = lifecycle.Apply(s, e)
		}
		if err := st.Record(context.Background(), s, evs); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func approvals(at time.Time) []step {
	return []step{
		{lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove}, paApprover, at.Add(-time.Hour)},
		{lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove}, usApprover, at},
	}
}

func milestone(id string, owner lifecycle.PartyCode, due string, term lifecycle.Horizon) lifecycle.MilestoneSpec {
	return lifecycle.MilestoneSpec{ID: id, Title: lifecycle.Plain("Milestone " + id), Owner: owner, Due: due, Horizon: term}
}

func complete(mid string, by lifecycle.Principal, at time.Time) step {
	return step{lifecycle.CompleteMilestone{MilestoneID: mid}, by, at}
}

// recordDialogue records a dialogue's life around two meetings: every
// milestone state, every kind of change, an extension, and activities
// the report must leave out.
func recordDialogue(t *testing.T, st *store.Store) {
	t.Helper()
	activated := t0.Add(2 * time.Hour) // due P30D is 3 February 2027
	approved := approvals(activated)
	measured := milestone("m1", "PA", "P30D", lifecycle.HorizonShort)
	measured.Indicator = &lifecycle.Indicator{Baseline: new(10.0), Target: 100, Unit: lifecycle.Plain("%")}
	live(t, st, "hld", "act-ontime", t0, []lifecycle.MilestoneSpec{measured}, append(approved,
		step{lifecycle.CompleteMilestone{MilestoneID: "m1", Actual: new(80.0)}, paCoordinator, activated.AddDate(0, 0, 10)})...)
	live(t, st, "hld", "act-late", t0, []lifecycle.MilestoneSpec{milestone("m1", "PA", "P30D", lifecycle.HorizonShort)},
		append(approvals(activated), complete("m1", paCoordinator, activated.AddDate(0, 0, 40)))...)
	// US's milestone is open past its due time; PA's was extended to July.
	live(t, st, "hld", "act-overdue", t0.Add(time.Minute), []lifecycle.MilestoneSpec{
		milestone("m1", "US", "P30D", lifecycle.HorizonShort), milestone("m2", "PA", "P30D", lifecycle.HorizonShort)},
		append(approvals(activated),
			step{lifecycle.RequestExtension{MilestoneID: "m2", NewDue: "P150D", Reason: "elections"}, paCoordinator, activated.AddDate(0, 0, 20)},
			step{lifecycle.DecideExtension{ExtensionID: "x1", Decision: lifecycle.DecisionApprove}, paApprover, activated.AddDate(0, 0, 21)},
			step{lifecycle.DecideExtension{ExtensionID: "x1", Decision: lifecycle.DecisionApprove}, usApprover, activated.AddDate(0, 0, 22)})...)
	live(t, st, "hld", "act-upcoming", t0.Add(time.Minute), []lifecycle.MilestoneSpec{milestone("m1", "PA", "P1Y", lifecycle.HorizonLong)}, approvals(activated)...)
	live(t, st, "hld", "act-proposed", time.Date(2027, 3, 1, 15, 0, 0, 0, time.UTC), []lifecycle.MilestoneSpec{milestone("m1", "US", "P1Y", lifecycle.HorizonLong)})
	live(t, st, "hld", "act-declined", t0, []lifecycle.MilestoneSpec{milestone("m1", "US", "P1Y", lifecycle.HorizonLong)},
		step{lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionDecline, Comment: "not now"}, paApprover, t0.Add(time.Hour)})
	// Cancelled with its milestone open past due: listed, not counted.
	live(t, st, "hld", "act-cancelled", t0, []lifecycle.MilestoneSpec{milestone("m1", "PA", "P30D", lifecycle.HorizonShort)},
		append(approvals(activated), step{lifecycle.Cancel{Reason: "no funds"}, usApprover, activated.AddDate(0, 2, 0)})...)
	// Done before the previous meeting: in the figures, not in the changes.
	old := t0.AddDate(0, -3, 0)
	live(t, st, "hld", "act-old", old, []lifecycle.MilestoneSpec{milestone("m1", "PA", "P10D", lifecycle.HorizonShort)},
		append(approvals(old.Add(2*time.Hour)), complete("m1", paCoordinator, old.AddDate(0, 0, 5)))...)
	// Proposed after the figures were taken, and in another dialogue.
	live(t, st, "hld", "act-after", asOf.Add(time.Hour), []lifecycle.MilestoneSpec{milestone("m1", "PA", "P1Y", lifecycle.HorizonLong)})
	live(t, st, "other", "act-elsewhere", t0, []lifecycle.MilestoneSpec{milestone("m1", "PA", "P30D", lifecycle.HorizonShort)}, approvals(activated)...)
}

func states(r review.Report) map[string][]string {
	out := map[string][]string{}
	for _, a := range r.Activities {
		for _, m := range a.Milestones {
			out[a.ID] = append(out[a.ID], m.ID+":"+m.State)
		}
	}
	return out
}

// The report compiled from the read model and the one recomputed from the
// audit log alone agree, figure by figure, and both are exactly right.
func TestCompileAgreesWithTheAuditLog(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	recordDialogue(t, st)

	compiled, err := review.Compile(ctx, st, "hld", "2027-1", meetingAt, since, asOf)
	if err != nil {
		t.Fatal(err)
	}
	recomputed, err := review.Recompute(ctx, st, "hld", "2027-1", meetingAt, since, asOf)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]review.Report{"compiled": compiled, "recomputed": recomputed} {
		t.Run(name, func(t *testing.T) { checkFigures(t, r) })
	}
	if d := review.Differences(compiled, recomputed); len(d) != 0 {
		t.Fatalf("compiled and recomputed reports disagree:\n%v", d)
	}
	if !reflect.DeepEqual(compiled, recomputed) {
		t.Fatalf("reports differ beyond their figures:\ncompiled   %+v\nrecomputed %+v", compiled, recomputed)
	}
}

func checkFigures(t *testing.T, r review.Report) {
	if r.DialogueName != "High-Level Dialogue" || r.Meeting != "2027-1" || !r.AsOf.Equal(asOf) || !r.Since.Equal(since) {
		t.Fatalf("report frame: %+v", r)
	}
	wantParties := []review.Party{{Code: "PA", Name: "Panamá", Language: "es", TimeZone: "America/Panama"}, {Code: "US", Name: "United States", Language: "en", TimeZone: "America/New_York"}}
	if !reflect.DeepEqual(r.Parties, wantParties) {
		t.Fatalf("parties: %+v", r.Parties)
	}
	var order []string
	for _, a := range r.Activities {
		order = append(order, a.ID)
	}
	// Proposal order, ties by id; act-after and act-elsewhere left out.
	wantOrder := []string{"act-old", "act-cancelled", "act-declined", "act-late", "act-ontime", "act-overdue", "act-upcoming", "act-proposed"}
	if !slices.Equal(order, wantOrder) {
		t.Fatalf("activities: %v, want %v", order, wantOrder)
	}
	wantStates := map[string][]string{
		"act-old": {"m1:on_time"}, "act-cancelled": {"m1:overdue"}, "act-declined": {"m1:pending"},
		"act-late": {"m1:late"}, "act-ontime": {"m1:on_time"}, "act-overdue": {"m1:overdue", "m2:upcoming"},
		"act-upcoming": {"m1:upcoming"}, "act-proposed": {"m1:pending"},
	}
	if got := states(r); !reflect.DeepEqual(got, wantStates) {
		t.Fatalf("milestone states: %v, want %v", got, wantStates)
	}
	wantParty := map[lifecycle.PartyCode]review.Counts{
		"PA": {OnTime: 2, Late: 1, Upcoming: 2},
		"US": {Overdue: 1, Pending: 1},
	}
	if !reflect.DeepEqual(r.ByParty, wantParty) {
		t.Fatalf("by party: %+v, want %+v", r.ByParty, wantParty)
	}
	wantTerm := map[lifecycle.Horizon]review.Counts{
		"short": {OnTime: 2, Late: 1, Overdue: 1, Upcoming: 1},
		"long":  {Upcoming: 1, Pending: 1},
	}
	if !reflect.DeepEqual(r.ByTerm, wantTerm) {
		t.Fatalf("by term: %+v, want %+v", r.ByTerm, wantTerm)
	}
	wantChanges := review.Changes{
		Proposed:  []string{"act-cancelled", "act-declined", "act-late", "act-ontime", "act-overdue", "act-proposed", "act-upcoming"},
		Activated: []string{"act-cancelled", "act-late", "act-ontime", "act-overdue", "act-upcoming"},
		Declined:  []string{"act-declined"},
		Cancelled: []string{"act-cancelled"},
		Completed: []string{"act-late", "act-ontime"},
	}
	if !reflect.DeepEqual(r.Changes, wantChanges) {
		t.Fatalf("changes: %+v, want %+v", r.Changes, wantChanges)
	}
	for _, a := range r.Activities {
		want := map[string]int{"act-overdue": 1}[a.ID]
		if a.ExtensionsGranted != want {
			t.Fatalf("%s: %d extensions granted, want %d", a.ID, a.ExtensionsGranted, want)
		}
		switch a.ID {
		case "act-overdue":
			// The extension moved m2 150 days on from its 30 days after
			// activation.
			if due := a.Milestones[1].DueAt; due == nil || !due.Equal(t0.Add(2*time.Hour).AddDate(0, 0, 180)) {
				t.Fatalf("extended due time: %v", due)
			}
		case "act-ontime":
			in := a.Milestones[0].Indicator
			if in == nil || *in.Baseline != 10 || in.Target != 100 || *in.Actual != 80 || in.Unit.In("en") != "%" {
				t.Fatalf("indicator: %+v", in)
			}
			if a.Status != lifecycle.StatusCompleted || a.Title.In("en") != "Activity act-ontime" {
				t.Fatalf("act-ontime: %+v", a)
			}
		}
	}
}

// A read model changed behind the workflow's back no longer agrees with
// the audit log, and the check names what differs.
func TestRecomputeCatchesATamperedReadModel(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	recordDialogue(t, st)
	// Make the late milestone look on time, and move an activity out of
	// the dialogue.
	for _, sql := range []string{
		`UPDATE activities SET snapshot = jsonb_set(snapshot, '{milestones,0,completed_at}', '"2027-01-10T00:00:00Z"') WHERE id = 'act-late'`,
		`UPDATE activities SET dialogue_id = 'other' WHERE id = 'act-upcoming'`,
	} {
		if _, err := st.Pool().Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	compiled, err := review.Compile(ctx, st, "hld", "2027-1", meetingAt, since, asOf)
	if err != nil {
		t.Fatal(err)
	}
	recomputed, err := review.Recompute(ctx, st, "hld", "2027-1", meetingAt, since, asOf)
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, recomputed) // the audit log still tells the truth
	d := review.Differences(compiled, recomputed)
	if len(d) != 1 || d[0] != "activities: [act-old act-cancelled act-declined act-late act-ontime act-overdue act-proposed] against [act-old act-cancelled act-declined act-late act-ontime act-overdue act-upcoming act-proposed]" {
		t.Fatalf("differences: %q", d)
	}
	// Put the activity back: the tampered milestone is what remains.
	if _, err := st.Pool().Exec(ctx, `UPDATE activities SET dialogue_id = 'hld' WHERE id = 'act-upcoming'`); err != nil {
		t.Fatal(err)
	}
	if compiled, err = review.Compile(ctx, st, "hld", "2027-1", meetingAt, since, asOf); err != nil {
		t.Fatal(err)
	}
	d = review.Differences(compiled, recomputed)
	if len(d) < 2 || d[0] != "act-late/m1: on_time against late" || !slices.ContainsFunc(d, func(s string) bool { return len(s) > 14 && s[:14] == "counts by part" }) {
		t.Fatalf("differences: %q", d)
	}
}

// At the first meeting there is no previous one: every change up to the
// figures counts, and extensions granted are counted since the start.
func TestFirstMeetingCountsEveryChange(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	recordDialogue(t, st)
	compiled, err := review.Compile(ctx, st, "hld", "2027-1", meetingAt, time.Time{}, asOf)
	if err != nil {
		t.Fatal(err)
	}
	recomputed, err := review.Recompute(ctx, st, "hld", "2027-1", meetingAt, time.Time{}, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if d := review.Differences(compiled, recomputed); len(d) != 0 {
		t.Fatalf("compiled and recomputed reports disagree:\n%v", d)
	}
	want := review.Changes{
		Proposed:  []string{"act-cancelled", "act-declined", "act-late", "act-old", "act-ontime", "act-overdue", "act-proposed", "act-upcoming"},
		Activated: []string{"act-cancelled", "act-late", "act-old", "act-ontime", "act-overdue", "act-upcoming"},
		Declined:  []string{"act-declined"},
		Cancelled: []string{"act-cancelled"},
		Completed: []string{"act-late", "act-old", "act-ontime"},
	}
	if !reflect.DeepEqual(compiled.Changes, want) {
		t.Fatalf("changes: %+v, want %+v", compiled.Changes, want)
	}
	if !compiled.Since.IsZero() {
		t.Fatalf("since: %v", compiled.Since)
	}
	if _, err := review.Compile(ctx, st, "nowhere", "2027-1", meetingAt, time.Time{}, asOf); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("compiling an unknown dialogue: %v", err)
	}
	if _, err := review.Recompute(ctx, st, "nowhere", "2027-1", meetingAt, time.Time{}, asOf); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("recomputing an unknown dialogue: %v", err)
	}
}
