package workflows

import (
	"fmt"
	"testing"
	"time"

	"pacto/internal/lifecycle"
)

// A five-year activity with a milestone every month outlives any single
// run: it must continue as new, carry its state, and lose nothing.
func TestFiveYearActivityContinuesAsNew(t *testing.T) {
	p := proposal("act-five-years")
	p.Milestones = nil
	for k := 1; k <= 60; k++ {
		owner := lifecycle.PartyCode("PA")
		if k%2 == 0 {
			owner = "US"
		}
		p.Milestones = append(p.Milestones, lifecycle.MilestoneSpec{
			ID: fmt.Sprintf("month-%02d", k), Title: bilingual(fmt.Sprintf("Monthly report %d", k), fmt.Sprintf("Informe mensual %d", k)), Owner: owner, Due: fmt.Sprintf("P%dM", k),
		})
	}
	activation := t0.Add(2 * time.Hour)
	coordinator := map[lifecycle.PartyCode]lifecycle.Principal{"PA": paCoord, "US": usCoord}

	type step struct {
		at   time.Time
		name string
		run  func(h *harness, d time.Duration) *outcome
		done bool
	}
	steps := []*step{
		{at: t0.Add(time.Hour), name: "approve PA", run: func(h *harness, d time.Duration) *outcome {
			return send(h, d, UpdateDecide, paApprover, approve(1))
		}},
		{at: activation, name: "approve US", run: func(h *harness, d time.Duration) *outcome {
			return send(h, d, UpdateDecide, usApprover, approve(1))
		}},
	}
	late := 0
	for k, spec := range p.Milestones {
		loc, _ := lifecycle.LoadZone(map[lifecycle.PartyCode]string{"PA": "America/Panama", "US": "America/New_York"}[spec.Owner])
		due := activation.In(loc).AddDate(0, k+1, 0).UTC()
		at := due.Add(-2 * day)
		if (k+1)%12 == 0 { // once a year, the report comes ten days late
			at = due.Add(10 * day)
			late++
		}
		id, who := spec.ID, coordinator[spec.Owner]
		steps = append(steps, &step{at: at, name: "complete " + id, run: func(h *harness, d time.Duration) *outcome {
			return send(h, d, UpdateCompleteMilestone, who, lifecycle.CompleteMilestone{MilestoneID: id})
		}})
	}

	rec := &recorder{}
	in := Proposal(paCoord, p)
	now := t0
	runs := 0
	var final lifecycle.State
	for {
		runs++
		if runs > 10 {
			t.Fatal("more than 10 runs")
		}
		h := newHarness(t, now, rec)
		type sent struct {
			s *step
			o *outcome
		}
		var pending []sent
		for _, s := range steps {
			if !s.done {
				pending = append(pending, sent{s, s.run(h, s.at.Sub(now))})
			}
		}
		state, next := h.execute(in)
		for _, p := range pending {
			if p.o.done {
				wantAccepted(t, p.o)
				p.s.done = true
			}
		}
		if next == nil {
			final = state
			break
		}
		if next.State == nil || next.State.Seq == 0 {
			t.Fatalf("run %d continued without its state", runs)
		}
		in, now = *next, h.env.Now()
	}

	if runs < 2 {
		t.Fatalf("%d run(s); a five-year activity must continue as new", runs)
	}
	for _, s := range steps {
		if !s.done {
			t.Errorf("step %s never ran", s.name)
		}
	}
	if final.Status != lifecycle.StatusCompleted || len(final.Milestones) != 60 {
		t.Fatalf("final %s with %d milestones", final.Status, len(final.Milestones))
	}
	for _, m := range final.Milestones {
		if m.Status != lifecycle.MilestoneCompleted {
			t.Fatalf("milestone %s is %s", m.ID, m.Status)
		}
	}
	checkRecords(t, rec, final)
	if got := len(eventsOf(rec, lifecycle.EventMilestoneOverdue)); got != late*2 {
		t.Fatalf("%d overdue notices; want two for each of the %d late reports", got, late)
	}
	if got := len(eventsOf(rec, lifecycle.EventMilestoneDueSoon)); got != 60 {
		t.Fatalf("%d due-soon notices, want 60", got)
	}
	t.Logf("%d runs, %d events", runs, final.Seq)
}
