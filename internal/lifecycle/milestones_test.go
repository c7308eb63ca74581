package lifecycle_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

// due is when every milestone of proposal() falls due.
var due = t0.Add(90 * day)

// tickAt ticks at now and checks that exactly the wanted notice was sent.
func tickAt(t *testing.T, s lc.State, now time.Time, want lc.EventType, milestoneID string) (lc.State, lc.Event) {
	t.Helper()
	s, evs := run(t, s, lc.Tick{}, clock, now)
	wantTypes(t, evs, want)
	e := evs[0]
	if e.Milestone != milestoneID || e.Actor != lc.ClockActor || !e.At.Equal(now) {
		t.Fatalf("notice = %+v", e)
	}
	return s, e
}

func TestMilestoneNoticeCycle(t *testing.T) {
	s := activeAt(t, proposed(t, proposal("PA", "US", "MX")), t0)
	// Every milestone is due at the same time, so each tick owes one notice
	// per milestone; follow the US one.
	if got := wake(t, s); !got.Equal(due.Add(-7 * day)) {
		t.Fatalf("first wake at %s, want 7 days before due", got)
	}
	if evs, _ := lc.Decide(s, lc.Tick{}, clock, due.Add(-7*day-time.Second)); len(evs) != 0 {
		t.Fatalf("tick before the lead: %v", types(evs))
	}
	s, evs := run(t, s, lc.Tick{}, clock, due.Add(-7*day))
	wantTypes(t, evs, lc.EventMilestoneDueSoon, lc.EventMilestoneDueSoon, lc.EventMilestoneDueSoon)
	if e := evs[1]; e.Milestone != "m2" || e.Party != "US" || !e.Due.Equal(due) {
		t.Errorf("due soon = %+v", e)
	}
	if !milestone(t, s, "m2").DueSoonSent {
		t.Error("DueSoonSent not recorded")
	}
	for n := 1; n <= 3; n++ {
		at := due.Add(time.Duration(n-1) * 7 * day)
		if got := wake(t, s); !got.Equal(at) {
			t.Fatalf("wake for overdue %d at %s, want %s", n, got, at)
		}
		s, evs = run(t, s, lc.Tick{}, clock, at)
		wantTypes(t, evs, lc.EventMilestoneOverdue, lc.EventMilestoneOverdue, lc.EventMilestoneOverdue)
		if e := evs[1]; e.Notice != n || e.Party != "US" || !e.Due.Equal(due) {
			t.Errorf("overdue %d = %+v", n, e)
		}
		if m := milestone(t, s, "m2"); m.OverdueNotices != n || !m.LastOverdueAt.Equal(at) {
			t.Errorf("milestone after overdue %d = %+v", n, m)
		}
	}
	at := due.Add(21 * day)
	if got := wake(t, s); !got.Equal(at) {
		t.Fatalf("escalation wake at %s, want %s", got, at)
	}
	s, evs = run(t, s, lc.Tick{}, clock, at)
	wantTypes(t, evs, lc.EventMilestoneEscalated, lc.EventMilestoneEscalated, lc.EventMilestoneEscalated)
	if e := evs[1]; !slices.Equal(e.Parties, []lc.PartyCode{"PA", "MX"}) || e.Party != "US" {
		t.Errorf("escalation = %+v, want the other parties", e)
	}
	if !milestone(t, s, "m2").Escalated {
		t.Error("Escalated not recorded")
	}
	noWake(t, s)
	if evs, _ := lc.Decide(s, lc.Tick{}, clock, at.Add(365*day)); len(evs) != 0 {
		t.Errorf("tick after escalation: %v", types(evs))
	}
	if s.Status != lc.StatusActive {
		t.Errorf("status = %s", s.Status)
	}
}

func TestCompletingLateStopsReminders(t *testing.T) {
	cmd := proposal("PA", "US")
	cmd.Milestones[1].Due = t0.Add(300 * day).Format(time.RFC3339)
	s := activeAt(t, proposed(t, cmd), t0)
	s, _ = tickAt(t, s, due.Add(-7*day), lc.EventMilestoneDueSoon, "m1")
	s, _ = tickAt(t, s, due.Add(day), lc.EventMilestoneOverdue, "m1")
	s, evs := run(t, s, lc.CompleteMilestone{MilestoneID: "m1"}, coord("PA"), due.Add(2*day))
	wantTypes(t, evs, lc.EventMilestoneCompleted)
	if e := evs[0]; e.Party != "PA" || !e.Due.Equal(due) || e.Progress != nil {
		t.Errorf("completed = %+v", e)
	}
	m := milestone(t, s, "m1")
	if m.Status != lc.MilestoneCompleted || !m.CompletedAt.Equal(due.Add(2*day)) {
		t.Errorf("m1 = %+v", m)
	}
	// Only m2's clock remains.
	if got := wake(t, s); !got.Equal(t0.Add(293 * day)) {
		t.Errorf("wake at %s, want m2's due-soon", got)
	}
	if s.Status != lc.StatusActive {
		t.Errorf("status = %s", s.Status)
	}
	refuse(t, s, lc.CompleteMilestone{MilestoneID: "m1"}, coord("PA"), due.Add(3*day), lc.KindInvalidTransition, "")
	refuse(t, s, lc.ReportProgress{MilestoneID: "m1", Note: "n"}, coord("PA"), due.Add(3*day), lc.KindInvalidTransition, "")

	// The last milestone completes the activity.
	now := due.Add(4 * day)
	s, evs = run(t, s, lc.CompleteMilestone{MilestoneID: "m2", Evidence: []string{"https://example.org/r"}, Note: "done"}, coord("US"), now)
	wantTypes(t, evs, lc.EventMilestoneCompleted, lc.EventCompleted)
	if evs[0].Progress == nil || evs[1].Actor != lc.ClockActor || evs[1].Seq != evs[0].Seq+1 {
		t.Errorf("events = %+v", evs)
	}
	if s.Status != lc.StatusCompleted || !s.ClosedAt.Equal(now) || !s.Status.Terminal() {
		t.Errorf("status %s closed %s", s.Status, s.ClosedAt)
	}
	if m := milestone(t, s, "m2"); !slices.Equal(m.Evidence, []string{"https://example.org/r"}) || len(m.Notes) != 1 {
		t.Errorf("m2 = %+v", m)
	}
	noWake(t, s)
	if c := lc.ActivityColour(s, now.Add(1000*day)); c != lc.ColourGreen {
		t.Errorf("colour of a completed activity = %q", c)
	}
}

// Armed inside the lead (here: activated 3 days before the due time), a
// milestone gets no due-soon notice; its first notice is the overdue one.
func TestArmedInsideDueSoonWindow(t *testing.T) {
	cmd := proposal()
	cmd.Milestones = cmd.Milestones[:1]
	cmd.Milestones[0].Due = t0.Add(3 * day).Format(time.RFC3339)
	s := activeAt(t, proposed(t, cmd), t0)
	if got := wake(t, s); !got.Equal(t0.Add(3 * day)) {
		t.Fatalf("wake at %s, want the due time", got)
	}
	_, e := tickAt(t, s, t0.Add(3*day), lc.EventMilestoneOverdue, "m1")
	if e.Notice != 1 {
		t.Errorf("notice = %d", e.Notice)
	}
}

// After an outage a tick sends at most one notice per milestone, and the
// next one comes a full cadence after it rather than at once.
func TestTickAfterOutage(t *testing.T) {
	cmd := proposal("PA", "US")
	cmd.Milestones[1].Due = due.Add(10 * day).Format(time.RFC3339)
	s := activeAt(t, proposed(t, cmd), t0)
	late := due.Add(30 * day)
	s, evs := run(t, s, lc.Tick{}, clock, late)
	// Both milestones are long overdue: one notice each, no due-soon, no burst.
	wantTypes(t, evs, lc.EventMilestoneOverdue, lc.EventMilestoneOverdue)
	for _, e := range evs {
		if e.Notice != 1 {
			t.Errorf("notice %+v", e)
		}
	}
	if evs[1].Seq != evs[0].Seq+1 {
		t.Errorf("seqs %d, %d", evs[0].Seq, evs[1].Seq)
	}
	if evs, _ := lc.Decide(s, lc.Tick{}, clock, late.Add(time.Hour)); len(evs) != 0 {
		t.Errorf("second tick right after: %v", types(evs))
	}
	for n := 2; n <= 3; n++ {
		next := late.Add(time.Duration(n-1) * 7 * day)
		if got := wake(t, s); !got.Equal(next) {
			t.Fatalf("wake for notice %d at %s, want %s", n, got, next)
		}
		s, evs = run(t, s, lc.Tick{}, clock, next)
		wantTypes(t, evs, lc.EventMilestoneOverdue, lc.EventMilestoneOverdue)
		if evs[0].Notice != n {
			t.Errorf("notice = %d, want %d", evs[0].Notice, n)
		}
	}
	s, evs = run(t, s, lc.Tick{}, clock, late.Add(100*day))
	wantTypes(t, evs, lc.EventMilestoneEscalated, lc.EventMilestoneEscalated)
	if !slices.Equal(evs[0].Parties, []lc.PartyCode{"US"}) || !slices.Equal(evs[1].Parties, []lc.PartyCode{"PA"}) {
		t.Errorf("escalations %v / %v", evs[0].Parties, evs[1].Parties)
	}
	noWake(t, s)
}

func TestPolicyShapesTheCycle(t *testing.T) {
	t.Run("no due-soon lead", func(t *testing.T) {
		cmd := proposal()
		cmd.Policy.DueSoonLead = ptr(time.Duration(0))
		s := activeAt(t, proposed(t, cmd), t0)
		if got := wake(t, s); !got.Equal(due) {
			t.Errorf("wake at %s, want the due time", got)
		}
	})
	// With no overdue reminders the notice at the due time is the
	// escalation, whether or not the due-soon notice went out first.
	t.Run("no overdue reminders, on time", func(t *testing.T) {
		cmd := proposal()
		cmd.Policy.OverdueReminders = ptr(0)
		s := activeAt(t, proposed(t, cmd), t0)
		s, _ = run(t, s, lc.Tick{}, clock, due.Add(-7*day))
		s, evs := run(t, s, lc.Tick{}, clock, due)
		wantTypes(t, evs, lc.EventMilestoneEscalated, lc.EventMilestoneEscalated)
		noWake(t, s)
	})
	t.Run("no overdue reminders, after an outage", func(t *testing.T) {
		cmd := proposal()
		cmd.Policy.OverdueReminders = ptr(0)
		s := activeAt(t, proposed(t, cmd), t0)
		s, evs := run(t, s, lc.Tick{}, clock, due.Add(day))
		wantTypes(t, evs, lc.EventMilestoneEscalated, lc.EventMilestoneEscalated)
		noWake(t, s)
	})
	t.Run("hourly reminders", func(t *testing.T) {
		cmd := proposal()
		cmd.Policy.OverdueReminderEvery = ptr(time.Hour)
		cmd.Policy.OverdueReminders = ptr(1)
		s := activeAt(t, proposed(t, cmd), t0)
		s, _ = run(t, s, lc.Tick{}, clock, due.Add(-7*day))
		s, _ = run(t, s, lc.Tick{}, clock, due)
		if got := wake(t, s); !got.Equal(due.Add(time.Hour)) {
			t.Errorf("escalation wake at %s", got)
		}
	})
}

func TestReportProgress(t *testing.T) {
	cmd := proposal("PA", "US")
	cmd.Milestones[0].Indicator = &lc.Indicator{Target: 100, Unit: lc.Plain("people")}
	s := activeAt(t, proposed(t, cmd), t0)
	now := t0.Add(day)
	report := lc.ReportProgress{
		MilestoneID: "m1",
		Evidence:    []string{"https://example.org/a", "http://example.org/b"},
		Actual:      ptr(40.0),
		Note:        "on track",
	}
	s2, evs := run(t, s, report, coord("PA"), now)
	wantTypes(t, evs, lc.EventProgressReported)
	e := evs[0]
	if e.Party != "PA" || e.Milestone != "m1" || e.Actor != "coord-PA" || e.Progress == nil || *e.Progress.Actual != 40 {
		t.Fatalf("event = %+v", e)
	}
	m := milestone(t, s2, "m1")
	if !slices.Equal(m.Evidence, report.Evidence) || m.Indicator.Actual == nil || *m.Indicator.Actual != 40 {
		t.Errorf("milestone = %+v", m)
	}
	if len(m.Notes) != 1 || m.Notes[0] != (lc.Note{By: "coord-PA", At: now, Text: "on track"}) {
		t.Errorf("notes = %+v", m.Notes)
	}
	if m.Status != lc.MilestoneOpen {
		t.Errorf("status = %s", m.Status)
	}
	// A later reading replaces the actual value; evidence accumulates.
	s2, _ = run(t, s2, lc.ReportProgress{MilestoneID: "m1", Actual: ptr(55.0)}, coord("PA"), now)
	s2, _ = run(t, s2, lc.ReportProgress{MilestoneID: "m1", Evidence: []string{"https://example.org/c"}}, coord("PA"), now)
	if m := milestone(t, s2, "m1"); *m.Indicator.Actual != 55 || len(m.Evidence) != 3 || len(m.Notes) != 1 {
		t.Errorf("milestone = %+v", m)
	}
	// Completion can carry a final reading.
	s2, evs = run(t, s2, lc.CompleteMilestone{MilestoneID: "m1", Actual: ptr(101.0)}, coord("PA"), now)
	if evs[0].Progress == nil || *milestone(t, s2, "m1").Indicator.Actual != 101 {
		t.Errorf("completion lost the reading: %+v", evs[0])
	}

	manyLinks := make([]string, 21)
	for i := range manyLinks {
		manyLinks[i] = "https://example.org/"
	}
	tests := []struct {
		name  string
		cmd   lc.Command
		actor lc.Principal
		kind  lc.Kind
		field string
	}{
		{"other party's coordinator", report, coord("US"), lc.KindForbidden, ""},
		{"owner's approver", report, approver("PA"), lc.KindForbidden, ""},
		{"owner's observer", report, observer("PA"), lc.KindForbidden, ""},
		{"outsider", report, coord("ES"), lc.KindForbidden, ""},
		{"unknown milestone", lc.ReportProgress{MilestoneID: "m9", Note: "n"}, coord("PA"), lc.KindNotFound, "milestone_id"},
		{"empty report", lc.ReportProgress{MilestoneID: "m1", Note: " "}, coord("PA"), lc.KindInvalidInput, "evidence"},
		{"ftp evidence", lc.ReportProgress{MilestoneID: "m1", Evidence: []string{"ftp://example.org/a"}}, coord("PA"), lc.KindInvalidInput, "evidence[0]"},
		{"relative evidence", lc.ReportProgress{MilestoneID: "m1", Evidence: []string{"https://ok.org", "/local/path"}}, coord("PA"), lc.KindInvalidInput, "evidence[1]"},
		{"hostless evidence", lc.ReportProgress{MilestoneID: "m1", Evidence: []string{"https://"}}, coord("PA"), lc.KindInvalidInput, "evidence[0]"},
		{"unparsable evidence", lc.ReportProgress{MilestoneID: "m1", Evidence: []string{"http://[::1"}}, coord("PA"), lc.KindInvalidInput, "evidence[0]"},
		{"long evidence", lc.ReportProgress{MilestoneID: "m1", Evidence: []string{"https://example.org/" + strings.Repeat("a", 2048)}}, coord("PA"), lc.KindInvalidInput, "evidence[0]"},
		{"too much evidence", lc.ReportProgress{MilestoneID: "m1", Evidence: manyLinks}, coord("PA"), lc.KindInvalidInput, "evidence"},
		{"actual without indicator", lc.ReportProgress{MilestoneID: "m2", Actual: ptr(1.0)}, coord("US"), lc.KindInvalidInput, "actual"},
		{"NaN actual", lc.ReportProgress{MilestoneID: "m1", Actual: ptr(math.NaN())}, coord("PA"), lc.KindInvalidInput, "actual"},
		{"infinite actual on completion", lc.CompleteMilestone{MilestoneID: "m1", Actual: ptr(math.Inf(1))}, coord("PA"), lc.KindInvalidInput, "actual"},
		{"long note", lc.ReportProgress{MilestoneID: "m1", Note: strings.Repeat("n", 4001)}, coord("PA"), lc.KindInvalidInput, "note"},
		{"complete another party's milestone", lc.CompleteMilestone{MilestoneID: "m2"}, coord("PA"), lc.KindForbidden, ""},
		{"complete unknown milestone", lc.CompleteMilestone{MilestoneID: "nope"}, coord("PA"), lc.KindNotFound, "milestone_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refuse(t, s, tt.cmd, tt.actor, now, tt.kind, tt.field)
		})
	}
	t.Run("not before activation", func(t *testing.T) {
		p := proposed(t, cmd)
		refuse(t, p, report, coord("PA"), now, lc.KindInvalidTransition, "")
		refuse(t, p, lc.CompleteMilestone{MilestoneID: "m1"}, coord("PA"), now, lc.KindInvalidTransition, "")
		refuse(t, lc.State{}, report, coord("PA"), now, lc.KindInvalidTransition, "")
	})
}

// Progress can still be reported while suspended; completion waits for resume.
func TestProgressWhileSuspended(t *testing.T) {
	s := activeAt(t, proposed(t, proposal()), t0)
	s, _ = run(t, s, lc.Suspend{Reason: "elections"}, approver("US"), t0.Add(day))
	s, evs := run(t, s, lc.ReportProgress{MilestoneID: "m1", Note: "still working"}, coord("PA"), t0.Add(2*day))
	wantTypes(t, evs, lc.EventProgressReported)
	refuse(t, s, lc.CompleteMilestone{MilestoneID: "m1"}, coord("PA"), t0.Add(2*day), lc.KindInvalidTransition, "")
	s, _ = run(t, s, lc.Resume{Reason: "new government"}, approver("US"), t0.Add(3*day))
	_, evs = run(t, s, lc.CompleteMilestone{MilestoneID: "m1"}, coord("PA"), t0.Add(3*day))
	wantTypes(t, evs, lc.EventMilestoneCompleted)
}

// Years of weekly reports must not grow the state without bound.
func TestProgressKeptInStateIsBounded(t *testing.T) {
	s := activeAt(t, proposed(t, proposal("PA", "US")), t0)
	id := s.Milestones[0].ID
	owner := s.Milestones[0].Owner
	for i := range 300 {
		s, _ = run(t, s, lc.ReportProgress{MilestoneID: id, Note: fmt.Sprintf("week %d", i+1), Evidence: []string{fmt.Sprintf("https://example.org/%d", i)}}, coord(owner), t0.Add(time.Duration(i)*time.Hour))
	}
	m := s.Milestones[0]
	if len(m.Notes) != 20 || m.Notes[19].Text != "week 300" || m.Notes[0].Text != "week 281" {
		t.Fatalf("kept %d notes, last %q", len(m.Notes), m.Notes[len(m.Notes)-1].Text)
	}
	if len(m.Evidence) != 100 || m.Evidence[99] != "https://example.org/299" {
		t.Fatalf("kept %d evidence links", len(m.Evidence))
	}
}
