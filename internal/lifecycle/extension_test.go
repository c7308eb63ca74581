package lifecycle_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

// newDue is the extension every test asks for: the end of 30 June 2026 in
// Panama (UTC-5 all year).
const newDue = "2026-06-30"

var newDueAt = time.Date(2026, 7, 1, 4, 59, 59, 0, time.UTC)

func extend() lc.RequestExtension {
	return lc.RequestExtension{MilestoneID: "m1", NewDue: newDue, Reason: "floods"}
}

func decideX(id string, d lc.Decision, comment string) lc.DecideExtension {
	return lc.DecideExtension{ExtensionID: id, Decision: d, Comment: comment}
}

// running is an active three-party activity whose m1 (PA's) has already
// had its due-soon and first overdue notice.
func running(t *testing.T) lc.State {
	t.Helper()
	s := activeAt(t, proposed(t, proposal("PA", "US", "MX")), t0)
	s, _ = run(t, s, lc.Tick{}, clock, due.Add(-7*day))
	s, _ = run(t, s, lc.Tick{}, clock, due)
	if m := milestone(t, s, "m1"); !m.DueSoonSent || m.OverdueNotices != 1 {
		t.Fatalf("setup: m1 = %+v", m)
	}
	return s
}

func TestExtensionApproved(t *testing.T) {
	s := running(t)
	now := due.Add(day)
	s, evs := run(t, s, extend(), coord("PA"), now)
	wantTypes(t, evs, lc.EventExtensionRequested)
	e := evs[0]
	if e.Party != "PA" || e.Milestone != "m1" || e.Extension != "x1" || !e.Due.Equal(newDueAt) || e.Comment != "floods" || e.Request == nil {
		t.Fatalf("requested = %+v", e)
	}
	x := s.Extensions[0]
	if x.ID != "x1" || x.Status != lc.ExtensionPending || x.RequestedBy != "coord-PA" || !x.RequestedAt.Equal(now) || !x.NewDueAt.Equal(newDueAt) || x.NewDue != newDue || len(x.Decisions) != 3 {
		t.Fatalf("extension = %+v", x)
	}
	if got := lc.PendingParties(s); !slices.Equal(got, []lc.PartyCode{"PA", "US", "MX"}) {
		t.Errorf("pending = %v", got)
	}
	// The due time does not move until every party agrees.
	if m := milestone(t, s, "m1"); !m.DueAt.Equal(due) {
		t.Errorf("due moved on request: %s", m.DueAt)
	}

	// The requester's own party approves through another approver.
	s, evs = run(t, s, decideX("x1", lc.DecisionApprove, ""), approver("PA"), now)
	wantTypes(t, evs, lc.EventExtensionDecided)
	if e := evs[0]; e.Party != "PA" || e.Decision != lc.DecisionApprove || e.Extension != "x1" || e.Milestone != "m1" || !e.Due.Equal(newDueAt) {
		t.Errorf("decided = %+v", e)
	}
	s, evs = run(t, s, lc.DecideExtension{MilestoneID: "m1", ExtensionID: "x1", Party: "US", Decision: lc.DecisionApprove, Comment: "fine"}, approver("US"), now)
	wantTypes(t, evs, lc.EventExtensionDecided)
	if got := lc.PendingParties(s); !slices.Equal(got, []lc.PartyCode{"MX"}) {
		t.Errorf("pending = %v", got)
	}
	refuse(t, s, decideX("x1", lc.DecisionApprove, ""), approver("US"), now, lc.KindInvalidTransition, "")

	approvedAt := now.Add(time.Hour)
	s, evs = run(t, s, decideX("x1", lc.DecisionApprove, ""), approver("MX"), approvedAt)
	wantTypes(t, evs, lc.EventExtensionDecided, lc.EventExtensionApproved)
	if e := evs[1]; e.Actor != lc.ClockActor || e.Extension != "x1" || !e.Due.Equal(newDueAt) {
		t.Errorf("approved = %+v", e)
	}
	if s.Extensions[0].Status != lc.ExtensionApproved {
		t.Errorf("extension status = %s", s.Extensions[0].Status)
	}
	m := milestone(t, s, "m1")
	if !m.DueAt.Equal(newDueAt) || !m.ArmedAt.Equal(approvedAt) || m.DueSoonSent || m.OverdueNotices != 0 || !m.LastOverdueAt.IsZero() || m.Escalated {
		t.Errorf("milestone after extension = %+v", m)
	}
	// The agreed content stays as approved; only the resolved time moves.
	if m.Due != proposal().Milestones[0].Due {
		t.Errorf("the proposed due expression was rewritten: %q", m.Due)
	}
	if len(lc.PendingParties(s)) != 0 {
		t.Errorf("pending = %v", lc.PendingParties(s))
	}
	// The reminder cycle restarts against the new due time; the other
	// milestones keep their own.
	if got := milestone(t, s, "m2"); got.OverdueNotices != 1 {
		t.Errorf("m2 = %+v", got)
	}
	s = completeAllBut(t, s, "m1")
	if got := wake(t, s); !got.Equal(newDueAt.Add(-7 * day)) {
		t.Errorf("wake at %s, want 7 days before the new due time", got)
	}
	refuse(t, s, decideX("x1", lc.DecisionDecline, "late"), approver("MX"), approvedAt, lc.KindInvalidTransition, "")
}

// completeAllBut completes every open milestone except keep, by its owner.
func completeAllBut(t *testing.T, s lc.State, keep string) lc.State {
	t.Helper()
	for _, m := range s.Milestones {
		if m.ID != keep && m.Status == lc.MilestoneOpen {
			s, _ = run(t, s, lc.CompleteMilestone{MilestoneID: m.ID}, coord(m.Owner), s.ActivatedAt.Add(time.Hour))
		}
	}
	return s
}

func TestExtensionDeclined(t *testing.T) {
	s := running(t)
	now := due.Add(day)
	s, _ = run(t, s, extend(), coord("PA"), now)
	s, _ = run(t, s, decideX("x1", lc.DecisionApprove, ""), approver("US"), now)
	refuse(t, s, decideX("x1", lc.DecisionDecline, " "), approver("MX"), now, lc.KindInvalidInput, "comment")
	s, evs := run(t, s, decideX("x1", lc.DecisionDecline, "too long"), approver("MX"), now)
	wantTypes(t, evs, lc.EventExtensionDecided, lc.EventExtensionDeclined)
	if e := evs[1]; e.Actor != lc.ClockActor || e.Comment != "too long" || e.Extension != "x1" {
		t.Errorf("declined = %+v", e)
	}
	if s.Extensions[0].Status != lc.ExtensionDeclined {
		t.Errorf("status = %s", s.Extensions[0].Status)
	}
	if m := milestone(t, s, "m1"); !m.DueAt.Equal(due) || m.OverdueNotices != 1 {
		t.Errorf("milestone changed by a declined extension: %+v", m)
	}
	if len(lc.PendingParties(s)) != 0 {
		t.Errorf("pending = %v", lc.PendingParties(s))
	}
	refuse(t, s, decideX("x1", lc.DecisionApprove, ""), approver("PA"), now, lc.KindInvalidTransition, "")
	// Once closed, the owner may ask again.
	s, evs = run(t, s, extend(), coord("PA"), now)
	if evs[0].Extension != "x2" || len(s.Extensions) != 2 {
		t.Errorf("second request = %+v", evs[0])
	}
}

func TestCompletionWithdrawsPendingExtension(t *testing.T) {
	s := running(t)
	now := due.Add(day)
	s, _ = run(t, s, extend(), coord("PA"), now)
	s, _ = run(t, s, decideX("x1", lc.DecisionApprove, ""), approver("US"), now)
	s, _ = run(t, s, lc.CompleteMilestone{MilestoneID: "m1"}, coord("PA"), now)
	if s.Extensions[0].Status != lc.ExtensionWithdrawn {
		t.Fatalf("status = %s", s.Extensions[0].Status)
	}
	if len(lc.PendingParties(s)) != 0 {
		t.Errorf("pending = %v", lc.PendingParties(s))
	}
	refuse(t, s, decideX("x1", lc.DecisionApprove, ""), approver("MX"), now, lc.KindInvalidTransition, "")
	refuse(t, s, extend(), coord("PA"), now, lc.KindInvalidTransition, "")
}

func TestRequestExtensionRefusals(t *testing.T) {
	s := running(t)
	now := due.Add(day)
	req := func(newDue, reason string) lc.RequestExtension {
		return lc.RequestExtension{MilestoneID: "m1", NewDue: newDue, Reason: reason}
	}
	tests := []struct {
		name  string
		cmd   lc.RequestExtension
		actor lc.Principal
		kind  lc.Kind
		field string
	}{
		{"other party's coordinator", extend(), coord("US"), lc.KindForbidden, ""},
		{"owner's approver", extend(), approver("PA"), lc.KindForbidden, ""},
		{"observer", extend(), observer("PA"), lc.KindForbidden, ""},
		{"outsider", extend(), coord("ES"), lc.KindForbidden, ""},
		{"unknown milestone", lc.RequestExtension{MilestoneID: "zz", NewDue: newDue, Reason: "r"}, coord("PA"), lc.KindNotFound, "milestone_id"},
		{"offset still in the past", req("PT1H", "r"), coord("PA"), lc.KindInvalidInput, "new_due"},
		{"unparsable", req("soon", "r"), coord("PA"), lc.KindInvalidInput, "new_due"},
		{"empty", req("", "r"), coord("PA"), lc.KindInvalidInput, "new_due"},
		{"past", req(now.Add(-time.Hour).Format(time.RFC3339), "r"), coord("PA"), lc.KindInvalidInput, "new_due"},
		{"now", req(now.Format(time.RFC3339), "r"), coord("PA"), lc.KindInvalidInput, "new_due"},
		{"past date", req("2026-01-01", "r"), coord("PA"), lc.KindInvalidInput, "new_due"},
		{"no reason", req(newDue, "  "), coord("PA"), lc.KindInvalidInput, "reason"},
		{"long reason", req(newDue, strings.Repeat("r", 4001)), coord("PA"), lc.KindInvalidInput, "reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refuse(t, s, tt.cmd, tt.actor, now, tt.kind, tt.field)
		})
	}
	t.Run("a duration counts from the current due time", func(t *testing.T) {
		m := milestone(t, s, "m1")
		_, evs := run(t, s, req("P3M", "rain"), coord("PA"), now)
		loc, _ := time.LoadLocation("America/Panama")
		want := m.DueAt.In(loc).AddDate(0, 3, 0)
		if !evs[0].Due.Equal(want) || !evs[0].Request.NewDueAt.Equal(want) {
			t.Fatalf("P3M from %s resolved to %s, want %s", m.DueAt, evs[0].Due, want)
		}
	})
	t.Run("same due", func(t *testing.T) {
		future := activeAt(t, proposed(t, proposal()), t0)
		refuse(t, future, req(due.Format(time.RFC3339), "r"), coord("PA"), t0, lc.KindInvalidInput, "new_due")
		// The same instant written in another zone is still the same due time.
		refuse(t, future, req(due.In(time.FixedZone("X", -5*3600)).Format(time.RFC3339), "r"), coord("PA"), t0, lc.KindInvalidInput, "new_due")
	})
	t.Run("one pending per milestone", func(t *testing.T) {
		s2, _ := run(t, s, extend(), coord("PA"), now)
		refuse(t, s2, req("2026-07-31", "again"), coord("PA"), now, lc.KindInvalidTransition, "")
		// Another milestone may have its own.
		_, evs := run(t, s2, lc.RequestExtension{MilestoneID: "m2", NewDue: "2026-07-31", Reason: "also"}, coord("US"), now)
		if evs[0].Extension != "x2" {
			t.Errorf("extension id = %q", evs[0].Extension)
		}
	})
	t.Run("not while proposed or suspended", func(t *testing.T) {
		refuse(t, proposed(t, proposal()), extend(), coord("PA"), t0, lc.KindInvalidTransition, "")
		sus, _ := run(t, s, lc.Suspend{Reason: "r"}, approver("US"), now)
		refuse(t, sus, extend(), coord("PA"), now, lc.KindInvalidTransition, "")
	})
}

func TestDecideExtensionRefusals(t *testing.T) {
	s := running(t)
	now := due.Add(day)
	// The requester holds both roles: they still cannot approve their own request.
	both := lc.Principal{ID: "coord-PA", Party: "PA", Roles: []lc.Role{lc.RoleCoordinator, lc.RoleApprover}}
	s, _ = run(t, s, extend(), both, now)
	tests := []struct {
		name  string
		cmd   lc.DecideExtension
		actor lc.Principal
		kind  lc.Kind
		field string
	}{
		{"requester", decideX("x1", lc.DecisionApprove, ""), both, lc.KindForbidden, ""},
		{"for another party", lc.DecideExtension{ExtensionID: "x1", Party: "MX", Decision: lc.DecisionApprove}, approver("US"), lc.KindForbidden, ""},
		{"coordinator", decideX("x1", lc.DecisionApprove, ""), coord("US"), lc.KindForbidden, ""},
		{"observer", decideX("x1", lc.DecisionApprove, ""), observer("US"), lc.KindForbidden, ""},
		{"outsider", decideX("x1", lc.DecisionApprove, ""), approver("ES"), lc.KindForbidden, ""},
		{"unknown extension", decideX("x9", lc.DecisionApprove, ""), approver("US"), lc.KindNotFound, "extension_id"},
		{"wrong milestone", lc.DecideExtension{MilestoneID: "m2", ExtensionID: "x1", Decision: lc.DecisionApprove}, approver("US"), lc.KindNotFound, "extension_id"},
		{"request changes", decideX("x1", lc.DecisionRequestChanges, "why"), approver("US"), lc.KindInvalidInput, "decision"},
		{"empty decision", decideX("x1", "", ""), approver("US"), lc.KindInvalidInput, "decision"},
		{"long comment", decideX("x1", lc.DecisionApprove, strings.Repeat("c", 4001)), approver("US"), lc.KindInvalidInput, "comment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refuse(t, s, tt.cmd, tt.actor, now, tt.kind, tt.field)
		})
	}
	sus, _ := run(t, s, lc.Suspend{Reason: "r"}, approver("US"), now)
	refuse(t, sus, decideX("x1", lc.DecisionApprove, ""), approver("MX"), now, lc.KindInvalidTransition, "")
}
