package lifecycle_test

import (
	"slices"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

const day = 24 * time.Hour

// t0 is the fixed "now" of most tests; nothing reads the real clock.
var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// The dialogue's parties. ES belongs to the dialogue but to no activity in
// these tests unless one names it.
var dialogueParties = []lc.Party{
	{Code: "PA", TimeZone: "America/Panama"},
	{Code: "US", TimeZone: "America/New_York"},
	{Code: "MX", TimeZone: "America/Mexico_City"},
	{Code: "ES", TimeZone: "Europe/Madrid"},
}

func coord(p lc.PartyCode) lc.Principal {
	return lc.Principal{ID: "coord-" + string(p), Party: p, Roles: []lc.Role{lc.RoleCoordinator}}
}

func approver(p lc.PartyCode) lc.Principal {
	return lc.Principal{ID: "appr-" + string(p), Party: p, Roles: []lc.Role{lc.RoleApprover}}
}

func observer(p lc.PartyCode) lc.Principal {
	return lc.Principal{ID: "obs-" + string(p), Party: p, Roles: []lc.Role{lc.RoleObserver}}
}

var clock = lc.Principal{ID: lc.ClockActor}

// proposal is a valid Propose by coord("PA") with one milestone per party,
// each due 90 days after t0 as an RFC 3339 instant.
func proposal(parties ...lc.PartyCode) lc.Propose {
	if len(parties) == 0 {
		parties = []lc.PartyCode{"PA", "US"}
	}
	ms := make([]lc.MilestoneSpec, 0, len(parties))
	for i, p := range parties {
		ms = append(ms, lc.MilestoneSpec{
			ID:    "m" + string(rune('1'+i)),
			Title: lc.Plain("deliver " + string(p)),
			Owner: p,
			Due:   t0.Add(90 * day).Format(time.RFC3339),
		})
	}
	return lc.Propose{
		ActivityID:      "act-1",
		Dialogue:        "dlg-1",
		DialogueParties: dialogueParties,
		Parties:         parties,
		Title:           lc.Plain("Joint training"),
		Summary:         lc.Plain("Train staff together"),
		Objectives:      []lc.Text{lc.Plain("train 100 people")},
		Milestones:      ms,
	}
}

// run decides cmd and folds the events into s, failing the test on error.
func run(t *testing.T, s lc.State, cmd lc.Command, actor lc.Principal, now time.Time) (lc.State, []lc.Event) {
	t.Helper()
	evs, err := lc.Decide(s, cmd, actor, now)
	if err != nil {
		t.Fatalf("%s by %s: unexpected error: %v", cmd.CommandName(), actor.ID, err)
	}
	for _, e := range evs {
		s = lc.Apply(s, e)
	}
	return s, evs
}

// refuse decides cmd and checks that it fails with kind (and field, if given).
func refuse(t *testing.T, s lc.State, cmd lc.Command, actor lc.Principal, now time.Time, kind lc.Kind, field string) *lc.Error {
	t.Helper()
	evs, err := lc.Decide(s, cmd, actor, now)
	if err == nil {
		t.Fatalf("%T by %s: want %s error, got events %v", cmd, actor.ID, kind, types(evs))
	}
	e, ok := err.(*lc.Error)
	if !ok {
		t.Fatalf("error %v is %T, want *lifecycle.Error", err, err)
	}
	if e.Kind != kind || (field != "" && e.Field != field) {
		t.Fatalf("%T by %s: got %s (field %q): %v; want %s (field %q)", cmd, actor.ID, e.Kind, e.Field, e, kind, field)
	}
	if evs != nil {
		t.Fatalf("refused command returned events %v", types(evs))
	}
	return e
}

func types(evs []lc.Event) []lc.EventType {
	out := make([]lc.EventType, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

func wantTypes(t *testing.T, evs []lc.Event, want ...lc.EventType) {
	t.Helper()
	if got := types(evs); !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
}

// proposed returns the state after cmd is proposed by coord("PA") at t0.
func proposed(t *testing.T, cmd lc.Propose) lc.State {
	t.Helper()
	s, _ := run(t, lc.State{}, cmd, coord("PA"), t0)
	return s
}

// activeAt approves s by every party's approver at now and checks that it
// became active.
func activeAt(t *testing.T, s lc.State, now time.Time) lc.State {
	t.Helper()
	for _, p := range s.Parties {
		s, _ = run(t, s, lc.DecideProposal{Version: s.Version, Decision: lc.DecisionApprove}, approver(p.Code), now)
	}
	if s.Status != lc.StatusActive {
		t.Fatalf("status = %s after every party approved, want active", s.Status)
	}
	return s
}

func milestone(t *testing.T, s lc.State, id string) lc.Milestone {
	t.Helper()
	for _, m := range s.Milestones {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("no milestone %q", id)
	return lc.Milestone{}
}

func wake(t *testing.T, s lc.State) time.Time {
	t.Helper()
	at, ok := lc.NextWake(s)
	if !ok {
		t.Fatalf("NextWake: ok=false, want a wake-up (status %s)", s.Status)
	}
	return at
}

func noWake(t *testing.T, s lc.State) {
	t.Helper()
	if at, ok := lc.NextWake(s); ok {
		t.Fatalf("NextWake = %s, want none (status %s)", at, s.Status)
	}
}

func ptr[T any](v T) *T { return &v }

// plains is a list of texts written before texts had languages.
func plains(ss ...string) []lc.Text {
	out := make([]lc.Text, len(ss))
	for i, s := range ss {
		out[i] = lc.Plain(s)
	}
	return out
}
