package lifecycle_test

import (
	"strings"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

func TestSuspendAndResume(t *testing.T) {
	s := activeAt(t, proposed(t, proposal()), t0)
	at := t0.Add(10 * day)
	s, evs := run(t, s, lc.Suspend{Reason: "elections"}, approver("US"), at)
	wantTypes(t, evs, lc.EventSuspended)
	if e := evs[0]; e.Party != "US" || e.Comment != "elections" || e.Actor != "appr-US" {
		t.Errorf("suspended = %+v", e)
	}
	if s.Status != lc.StatusSuspended || !s.SuspendedAt.Equal(at) || s.Reason != "elections" || s.Status.Terminal() {
		t.Fatalf("state = %s %s %q", s.Status, s.SuspendedAt, s.Reason)
	}
	noWake(t, s)
	// The clock stays silent while suspended, however late it is.
	if evs, err := lc.Decide(s, lc.Tick{}, clock, due.Add(100*day)); err != nil || len(evs) != 0 {
		t.Fatalf("tick while suspended: %v %v", types(evs), err)
	}
	refuse(t, s, lc.Suspend{Reason: "again"}, approver("US"), at, lc.KindInvalidTransition, "")

	// Resumed after the due time: what fell due is owed at once, one
	// notice per milestone, and the rest follow on the cadence.
	back := due.Add(10 * day)
	s, evs = run(t, s, lc.Resume{Reason: "new government"}, approver("PA"), back)
	wantTypes(t, evs, lc.EventResumed)
	if s.Status != lc.StatusActive || !s.SuspendedAt.IsZero() || s.Reason != "new government" {
		t.Fatalf("state = %s %s %q", s.Status, s.SuspendedAt, s.Reason)
	}
	if m := milestone(t, s, "m1"); !m.DueAt.Equal(due) {
		t.Errorf("due moved while suspended: %s", m.DueAt)
	}
	if got := wake(t, s); got.After(back) {
		t.Fatalf("wake at %s, want at once (%s)", got, back)
	}
	s, evs = run(t, s, lc.Tick{}, clock, back)
	wantTypes(t, evs, lc.EventMilestoneOverdue, lc.EventMilestoneOverdue)
	if got := wake(t, s); !got.Equal(back.Add(7 * day)) {
		t.Errorf("next wake at %s, want a cadence later", got)
	}
	refuse(t, s, lc.Resume{Reason: "again"}, approver("PA"), back, lc.KindInvalidTransition, "")
}

func TestControlRefusals(t *testing.T) {
	active := activeAt(t, proposed(t, proposal()), t0)
	suspended, _ := run(t, active, lc.Suspend{Reason: "r"}, approver("PA"), t0)
	tests := []struct {
		name  string
		s     lc.State
		cmd   lc.Command
		actor lc.Principal
		kind  lc.Kind
		field string
	}{
		{"suspend by coordinator", active, lc.Suspend{Reason: "r"}, coord("PA"), lc.KindForbidden, ""},
		{"suspend by observer", active, lc.Suspend{Reason: "r"}, observer("PA"), lc.KindForbidden, ""},
		{"suspend by outsider", active, lc.Suspend{Reason: "r"}, approver("ES"), lc.KindForbidden, ""},
		{"suspend without reason", active, lc.Suspend{Reason: " \t"}, approver("PA"), lc.KindInvalidInput, "reason"},
		{"suspend with long reason", active, lc.Suspend{Reason: strings.Repeat("r", 4001)}, approver("PA"), lc.KindInvalidInput, "reason"},
		{"suspend a proposal", proposed(t, proposal()), lc.Suspend{Reason: "r"}, approver("PA"), lc.KindInvalidTransition, ""},
		{"resume an active activity", active, lc.Resume{Reason: "r"}, approver("PA"), lc.KindInvalidTransition, ""},
		{"resume by coordinator", suspended, lc.Resume{Reason: "r"}, coord("PA"), lc.KindForbidden, ""},
		{"resume without reason", suspended, lc.Resume{}, approver("US"), lc.KindInvalidInput, "reason"},
		{"cancel by coordinator", active, lc.Cancel{Reason: "r"}, coord("PA"), lc.KindForbidden, ""},
		{"cancel without reason", suspended, lc.Cancel{}, approver("US"), lc.KindInvalidInput, "reason"},
		{"cancel before proposal", lc.State{}, lc.Cancel{Reason: "r"}, approver("US"), lc.KindInvalidTransition, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refuse(t, tt.s, tt.cmd, tt.actor, t0, tt.kind, tt.field)
		})
	}
}

func TestCancelIsTerminal(t *testing.T) {
	active := activeAt(t, proposed(t, proposal()), t0)
	suspended, _ := run(t, active, lc.Suspend{Reason: "r"}, approver("PA"), t0)
	for name, s := range map[string]lc.State{"proposed": proposed(t, proposal()), "active": active, "suspended": suspended} {
		t.Run(name, func(t *testing.T) {
			at := t0.Add(time.Hour)
			s, evs := run(t, s, lc.Cancel{Reason: "funding cut"}, approver("US"), at)
			wantTypes(t, evs, lc.EventCancelled)
			if evs[0].Party != "US" || evs[0].Comment != "funding cut" {
				t.Errorf("cancelled = %+v", evs[0])
			}
			if s.Status != lc.StatusCancelled || !s.Status.Terminal() || !s.ClosedAt.Equal(at) || s.Reason != "funding cut" {
				t.Errorf("state = %s %s %q", s.Status, s.ClosedAt, s.Reason)
			}
			noWake(t, s)
			if c := lc.ActivityColour(s, at); c != lc.ColourNone {
				t.Errorf("colour = %q", c)
			}
			for _, cmd := range []lc.Command{lc.Cancel{Reason: "r"}, lc.Resume{Reason: "r"}, lc.Suspend{Reason: "r"}, approve(1)} {
				refuse(t, s, cmd, approver("PA"), at, lc.KindInvalidTransition, "")
			}
			refuse(t, s, lc.ReportProgress{MilestoneID: "m1", Note: "n"}, coord("PA"), at, lc.KindInvalidTransition, "")
		})
	}
	// Nor can a completed or expired activity be cancelled.
	done := completeAllBut(t, active, "")
	refuse(t, done, lc.Cancel{Reason: "r"}, approver("PA"), t0, lc.KindInvalidTransition, "")
	expired, _ := run(t, proposed(t, proposal()), lc.Tick{}, clock, t0.Add(60*day))
	refuse(t, expired, lc.Cancel{Reason: "r"}, approver("PA"), t0.Add(60*day), lc.KindInvalidTransition, "")
}
