package lifecycle_test

import (
	"slices"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

func TestPendingParties(t *testing.T) {
	if p := lc.PendingParties(lc.State{}); p != nil {
		t.Errorf("zero state: %v", p)
	}
	s := proposed(t, proposal("PA", "US", "MX"))
	if got := lc.PendingParties(s); !slices.Equal(got, []lc.PartyCode{"PA", "US", "MX"}) {
		t.Errorf("fresh proposal: %v", got)
	}
	s, _ = run(t, s, approve(1), approver("US"), t0)
	s, _ = run(t, s, lc.DecideProposal{Version: 1, Decision: lc.DecisionRequestChanges, Comment: "c"}, approver("MX"), t0)
	// Requesting changes is not approving: MX is still awaited.
	if got := lc.PendingParties(s); !slices.Equal(got, []lc.PartyCode{"PA", "MX"}) {
		t.Errorf("after one approval: %v", got)
	}
	s = activeAt(t, proposed(t, proposal("PA", "US", "MX")), t0)
	if got := lc.PendingParties(s); got != nil {
		t.Errorf("active with no extension: %v", got)
	}
	s, _ = run(t, s, extend(), coord("PA"), t0)
	s, _ = run(t, s, decideX("x1", lc.DecisionApprove, ""), approver("MX"), t0)
	if got := lc.PendingParties(s); !slices.Equal(got, []lc.PartyCode{"PA", "US"}) {
		t.Errorf("pending extension: %v", got)
	}
	// Extensions are decided only while active, so nobody is awaited while suspended.
	s, _ = run(t, s, lc.Suspend{Reason: "r"}, approver("MX"), t0)
	if got := lc.PendingParties(s); got != nil {
		t.Errorf("pending extension while suspended: %v", got)
	}
}

func TestOverdueMilestonesAndColours(t *testing.T) {
	cmd := proposal("PA", "US")
	cmd.Milestones[1].Due = due.Add(30 * day).Format(time.RFC3339)
	s := proposed(t, cmd)
	if got := lc.OverdueMilestones(s, due.Add(100*day)); got != nil {
		t.Errorf("overdue while proposed: %v", got)
	}
	if c := lc.ActivityColour(s, t0); c != lc.ColourNone {
		t.Errorf("colour while proposed = %q", c)
	}
	if c := lc.MilestoneColour(s.Policy, milestone(t, s, "m1"), t0); c != lc.ColourNone {
		t.Errorf("pending milestone colour = %q", c)
	}
	if _, ok := lc.NextDue(s); ok {
		t.Error("NextDue while proposed")
	}

	s = activeAt(t, s, t0)
	tests := []struct {
		now      time.Time
		overdue  []string
		m1       lc.Colour
		activity lc.Colour
	}{
		{t0, nil, lc.ColourGreen, lc.ColourGreen},
		{due.Add(-7*day - time.Second), nil, lc.ColourGreen, lc.ColourGreen},
		{due.Add(-7 * day), nil, lc.ColourAmber, lc.ColourAmber},
		{due, nil, lc.ColourAmber, lc.ColourAmber},
		{due.Add(time.Second), []string{"m1"}, lc.ColourRed, lc.ColourRed},
		{due.Add(30*day + time.Second), []string{"m1", "m2"}, lc.ColourRed, lc.ColourRed},
	}
	for _, tt := range tests {
		if got := lc.OverdueMilestones(s, tt.now); !slices.Equal(got, tt.overdue) {
			t.Errorf("at %s overdue = %v, want %v", tt.now, got, tt.overdue)
		}
		if got := lc.MilestoneColour(s.Policy, milestone(t, s, "m1"), tt.now); got != tt.m1 {
			t.Errorf("at %s m1 colour = %q, want %q", tt.now, got, tt.m1)
		}
		if got := lc.ActivityColour(s, tt.now); got != tt.activity {
			t.Errorf("at %s activity colour = %q, want %q", tt.now, got, tt.activity)
		}
	}
	if next, ok := lc.NextDue(s); !ok || !next.Equal(due) {
		t.Errorf("NextDue = %s %v", next, ok)
	}

	// A completed milestone is green and no longer overdue or next.
	late := due.Add(day)
	s, _ = run(t, s, lc.CompleteMilestone{MilestoneID: "m1"}, coord("PA"), late)
	if got := lc.OverdueMilestones(s, late); got != nil {
		t.Errorf("overdue after completion = %v", got)
	}
	if c := lc.MilestoneColour(s.Policy, milestone(t, s, "m1"), late.Add(100*day)); c != lc.ColourGreen {
		t.Errorf("completed colour = %q", c)
	}
	if c := lc.ActivityColour(s, late); c != lc.ColourGreen {
		t.Errorf("activity colour = %q", c)
	}
	if next, ok := lc.NextDue(s); !ok || !next.Equal(due.Add(30*day)) {
		t.Errorf("NextDue = %s %v", next, ok)
	}

	// Suspension does not hide lateness.
	s, _ = run(t, s, lc.Suspend{Reason: "r"}, approver("PA"), late)
	far := due.Add(31 * day)
	if got := lc.OverdueMilestones(s, far); !slices.Equal(got, []string{"m2"}) {
		t.Errorf("overdue while suspended = %v", got)
	}
	if c := lc.ActivityColour(s, far); c != lc.ColourRed {
		t.Errorf("colour while suspended = %q", c)
	}

	s, _ = run(t, s, lc.Resume{Reason: "r"}, approver("PA"), late)
	s, _ = run(t, s, lc.CompleteMilestone{MilestoneID: "m2"}, coord("US"), late)
	if _, ok := lc.NextDue(s); ok {
		t.Error("NextDue with every milestone complete")
	}
	if got := lc.OverdueMilestones(s, far); got != nil {
		t.Errorf("overdue after completion = %v", got)
	}
}

// With no due-soon lead a milestone is amber only at the exact due instant.
func TestColourWithoutLead(t *testing.T) {
	p := lc.DefaultPolicy()
	p.DueSoonLead = 0
	m := lc.Milestone{Status: lc.MilestoneOpen, DueAt: due}
	for now, want := range map[time.Time]lc.Colour{
		due.Add(-time.Second): lc.ColourGreen,
		due:                   lc.ColourAmber,
		due.Add(time.Second):  lc.ColourRed,
	} {
		if got := lc.MilestoneColour(p, m, now); got != want {
			t.Errorf("at %s colour = %q, want %q", now, got, want)
		}
	}
	if (lc.Milestone{Status: lc.MilestoneOpen}).Overdue(due) {
		t.Error("a milestone without a due time is overdue")
	}
	if c := lc.MilestoneColour(p, lc.Milestone{Status: lc.MilestoneOpen}, due); c != lc.ColourNone {
		t.Errorf("colour without a due time = %q", c)
	}
}
