package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"pacto/internal/lifecycle"
)

func approve(version int) lifecycle.DecideProposal {
	return lifecycle.DecideProposal{Version: version, Decision: lifecycle.DecisionApprove}
}

func start(id string) Input {
	p := proposal(id)
	return Proposal(paCoord, p)
}

func TestBothApproveActivatesAndArmsMilestones(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	a1 := send(h, time.Hour, UpdateDecide, paApprover, approve(1))
	var afterFirst lifecycle.State
	h.at(90*time.Minute, func() { afterFirst = h.query() })
	a2 := send(h, 2*time.Hour, UpdateDecide, usApprover, approve(1))
	var active lifecycle.State
	h.at(3*time.Hour, func() { active = h.query() })
	// Cancel after the first overdue reminder so the run ends.
	activation := t0.Add(2 * time.Hour)
	due := activation.Add(30 * day)
	cancel := send(h, 2*time.Hour+31*day, UpdateCancel, usApprover, lifecycle.Cancel{Reason: "funding withdrawn"})
	final := h.run(start("act-approve"))

	wantAccepted(t, a1, a2, cancel)
	if afterFirst.Status != lifecycle.StatusProposed || !slices.Equal(lifecycle.PendingParties(afterFirst), []lifecycle.PartyCode{"US"}) {
		t.Fatalf("after one approval: status %s pending %v", afterFirst.Status, lifecycle.PendingParties(afterFirst))
	}
	if a2.state.Status != lifecycle.StatusActive {
		t.Fatalf("the second approval's Update returned status %s, want active", a2.state.Status)
	}
	if active.Status != lifecycle.StatusActive || !active.ActivatedAt.Equal(activation) {
		t.Fatalf("state %s activated at %s", active.Status, active.ActivatedAt)
	}
	if m := active.Milestones[0]; m.Status != lifecycle.MilestoneOpen || !m.DueAt.Equal(due) || m.Term != lifecycle.HorizonShort {
		t.Fatalf("milestone not armed: %+v", m)
	}
	wantTimes(t, "due soon", times(eventsOf(h.rec, lifecycle.EventMilestoneDueSoon)), due.Add(-7*day))
	wantTimes(t, "overdue", times(eventsOf(h.rec, lifecycle.EventMilestoneOverdue)), due)
	if final.Status != lifecycle.StatusCancelled || final.Reason != "funding withdrawn" {
		t.Fatalf("final %s %q", final.Status, final.Reason)
	}
}

func TestChangesRequestedAmendAndReapprove(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	p := proposal("act-amend")
	summary := bilingual(p.Summary["en"]+" Include port officials.", p.Summary["es"]+" Incluir a los funcionarios portuarios.")
	amended := lifecycle.Amend{BaseVersion: 1, Title: p.Title, Summary: summary, Objectives: p.Objectives, Milestones: p.Milestones}
	same := amended
	same.BaseVersion = 2

	steps := []*outcome{
		send(h, 1*time.Hour, UpdateDecide, paApprover, approve(1)),
		send(h, 2*time.Hour, UpdateDecide, usApprover, lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionRequestChanges, Comment: "Add port officials"}),
		send(h, 3*time.Hour, UpdateAmend, usCoord, amended),
	}
	var afterAmend lifecycle.State
	h.at(3*time.Hour+time.Minute, func() { afterAmend = h.query() })
	steps = append(steps, send(h, 4*time.Hour, UpdateDecide, paApprover, approve(2)))
	resubmit := send(h, 5*time.Hour, UpdateAmend, paCoord, same)
	last := send(h, 6*time.Hour, UpdateDecide, usApprover, approve(2))
	send(h, 7*time.Hour, UpdateCancel, paApprover, lifecycle.Cancel{Reason: "done testing"})
	h.run(Proposal(paCoord, p))

	wantAccepted(t, append(steps, resubmit, last)...)
	if afterAmend.Version != 2 || !slices.Equal(lifecycle.PendingParties(afterAmend), []lifecycle.PartyCode{"PA", "US"}) {
		t.Fatalf("after amendment: version %d pending %v; want 2 with every approval reset", afterAmend.Version, lifecycle.PendingParties(afterAmend))
	}
	if !afterAmend.Summary.Equal(summary) {
		t.Fatalf("after amendment: summary %v, want %v", afterAmend.Summary, summary)
	}
	if resubmit.state.Version != 2 || !slices.Equal(lifecycle.PendingParties(resubmit.state), []lifecycle.PartyCode{"US"}) {
		t.Fatalf("identical resubmission: version %d pending %v; want version 2 with PA's approval kept", resubmit.state.Version, lifecycle.PendingParties(resubmit.state))
	}
	if last.state.Status != lifecycle.StatusActive {
		t.Fatalf("after both approved v2: %s", last.state.Status)
	}
	if n := len(eventsOf(h.rec, lifecycle.EventAmended)); n != 1 {
		t.Fatalf("%d amended events; the identical resubmission must add none", n)
	}
}

func TestRefusedCommandsLeaveNoTrace(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	p := proposal("act-refuse")
	in := Proposal(paBoth, p)
	stale := send(h, time.Hour, UpdateDecide, usApprover, approve(2))
	otherParty := send(h, 2*time.Hour, UpdateDecide, usApprover, lifecycle.DecideProposal{Version: 1, Party: "PA", Decision: lifecycle.DecisionApprove})
	ownProposal := send(h, 3*time.Hour, UpdateDecide, paBoth, approve(1))
	observer := send(h, 4*time.Hour, UpdateDecide, paObserver, approve(1))
	observerCancel := send(h, 4*time.Hour, UpdateCancel, paObserver, lifecycle.Cancel{Reason: "no"})
	coordinatorDecides := send(h, 4*time.Hour, UpdateDecide, usCoord, approve(1))
	outsider := send(h, 4*time.Hour, UpdateDecide, mxApprover, approve(1))
	noReason := send(h, 5*time.Hour, UpdateDecide, usApprover, lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionDecline})
	decline := send(h, 6*time.Hour, UpdateDecide, usApprover, lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionDecline, Comment: "Out of scope"})
	final := h.run(in)

	wantRejected(t, stale, lifecycle.KindStaleVersion)
	wantRejected(t, otherParty, lifecycle.KindForbidden)
	wantRejected(t, ownProposal, lifecycle.KindForbidden)
	wantRejected(t, observer, lifecycle.KindForbidden)
	wantRejected(t, observerCancel, lifecycle.KindForbidden)
	wantRejected(t, coordinatorDecides, lifecycle.KindForbidden)
	wantRejected(t, outsider, lifecycle.KindForbidden)
	wantRejected(t, noReason, lifecycle.KindInvalidInput)
	wantAccepted(t, decline)
	if final.Status != lifecycle.StatusDeclined {
		t.Fatalf("final status %s, want declined", final.Status)
	}
	var types []lifecycle.EventType
	for _, e := range h.rec.events() {
		types = append(types, e.Type)
	}
	if !slices.Equal(types, []lifecycle.EventType{lifecycle.EventProposed, lifecycle.EventDeclined}) {
		t.Fatalf("recorded %v; refused commands must leave no events", types)
	}
}

func TestDeclineIsTerminal(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	send(h, time.Hour, UpdateDecide, usApprover, lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionDecline, Comment: "No budget"})
	final := h.run(start("act-decline"))
	if final.Status != lifecycle.StatusDeclined || final.Reason != "No budget" || !final.ClosedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("final %+v", final)
	}
	// The workflow has ended: nothing is waiting on the clock.
	if _, ok := lifecycle.NextWake(final); ok {
		t.Fatal("a declined activity still has a wake-up")
	}
}

func TestApprovalWindowRemindsThenExpires(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	partial := send(h, time.Hour, UpdateDecide, paApprover, approve(1))
	final := h.run(start("act-expire"))
	wantAccepted(t, partial)
	var want []time.Time
	for k := 1; k <= 8; k++ { // 7, 14, ... 56 days; the 63rd day is past the 60-day window
		want = append(want, t0.Add(time.Duration(7*k)*day))
	}
	reminders := eventsOf(h.rec, lifecycle.EventApprovalReminder)
	wantTimes(t, "approval reminders", times(reminders), want...)
	for _, r := range reminders {
		if !slices.Equal(r.Parties, []lifecycle.PartyCode{"US"}) {
			t.Fatalf("reminder to %v; only US is pending", r.Parties)
		}
	}
	if final.Status != lifecycle.StatusExpired || !final.ClosedAt.Equal(t0.Add(60*day)) {
		t.Fatalf("final %s closed %s; want expired at day 60", final.Status, final.ClosedAt)
	}
}

func TestOverdueRemindersThenEscalationThenLateCompletion(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	p := proposal("act-overdue")
	p.Milestones = append(p.Milestones, lifecycle.MilestoneSpec{ID: "m2", Title: bilingual("Report", "Informe"), Owner: "US", Due: "P60D"})
	send(h, time.Minute, UpdateDecide, paApprover, approve(1))
	send(h, 2*time.Minute, UpdateDecide, usApprover, approve(1))
	activation := t0.Add(2 * time.Minute)
	due1, due2 := activation.Add(30*day), activation.Add(60*day)
	// m1 is completed a month late; m2 a day after its first overdue notice.
	late := send(h, 2*time.Minute+60*day, UpdateCompleteMilestone, paCoord, lifecycle.CompleteMilestone{MilestoneID: "m1", Note: "Cohort finished late"})
	wrongOwner := send(h, 2*time.Minute+61*day, UpdateCompleteMilestone, paCoord, lifecycle.CompleteMilestone{MilestoneID: "m2"})
	second := send(h, 2*time.Minute+61*day, UpdateCompleteMilestone, usCoord, lifecycle.CompleteMilestone{MilestoneID: "m2"})
	final := h.run(Proposal(paCoord, p))

	wantAccepted(t, late, second)
	wantRejected(t, wrongOwner, lifecycle.KindForbidden)
	var m1Overdue, m2Overdue []lifecycle.Event
	for _, e := range eventsOf(h.rec, lifecycle.EventMilestoneOverdue) {
		if e.Milestone == "m1" {
			m1Overdue = append(m1Overdue, e)
		} else {
			m2Overdue = append(m2Overdue, e)
		}
	}
	wantTimes(t, "m1 overdue", times(m1Overdue), due1, due1.Add(7*day), due1.Add(14*day))
	for i, e := range m1Overdue {
		if e.Notice != i+1 {
			t.Errorf("overdue notice %d numbered %d", i+1, e.Notice)
		}
	}
	esc := eventsOf(h.rec, lifecycle.EventMilestoneEscalated)
	wantTimes(t, "escalation", times(esc), due1.Add(21*day))
	if esc[0].Milestone != "m1" || !slices.Equal(esc[0].Parties, []lifecycle.PartyCode{"US"}) {
		t.Fatalf("escalation %+v; want m1 escalated to US", esc[0])
	}
	wantTimes(t, "m2 overdue", times(m2Overdue), due2)
	if final.Status != lifecycle.StatusCompleted {
		t.Fatalf("final %s; want completed once both milestones are", final.Status)
	}
	if got := final.Milestones[0].CompletedAt; !got.Equal(activation.Add(60 * day)) {
		t.Fatalf("m1 completed at %s", got)
	}
}

func TestExtensionApprovedMovesDueAndRearms(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	send(h, time.Minute, UpdateDecide, paApprover, approve(1))
	send(h, 2*time.Minute, UpdateDecide, usApprover, approve(1))
	activation := t0.Add(2 * time.Minute)
	oldDue := activation.Add(30 * day)
	newDue := time.Date(2027, 3, 15, 17, 0, 0, 0, time.UTC)
	req := send(h, 10*day, UpdateRequestExtension, paCoord, lifecycle.RequestExtension{MilestoneID: "m1", NewDue: newDue.Format(time.RFC3339), Reason: "Venue unavailable"})
	self := send(h, 11*day, UpdateDecideExtension, paCoord, lifecycle.DecideExtension{ExtensionID: "x1", Decision: lifecycle.DecisionApprove})
	pa := send(h, 11*day, UpdateDecideExtension, paApprover, lifecycle.DecideExtension{MilestoneID: "m1", ExtensionID: "x1", Decision: lifecycle.DecisionApprove})
	var between lifecycle.State
	h.at(11*day+time.Hour, func() { between = h.query() })
	us := send(h, 12*day, UpdateDecideExtension, usApprover, lifecycle.DecideExtension{ExtensionID: "x1", Decision: lifecycle.DecisionApprove})
	done := send(h, newDue.Sub(t0)+2*day, UpdateCompleteMilestone, paCoord, lifecycle.CompleteMilestone{MilestoneID: "m1"})
	final := h.run(start("act-extend"))

	wantAccepted(t, req, pa, us, done)
	wantRejected(t, self, lifecycle.KindForbidden)
	if !between.Milestones[0].DueAt.Equal(oldDue) || !slices.Equal(lifecycle.PendingParties(between), []lifecycle.PartyCode{"US"}) {
		t.Fatalf("with one approval the due moved or US is not pending: %s %v", between.Milestones[0].DueAt, lifecycle.PendingParties(between))
	}
	if !us.state.Milestones[0].DueAt.Equal(newDue) || us.state.Extensions[0].Status != lifecycle.ExtensionApproved {
		t.Fatalf("after every party approved: due %s status %s", us.state.Milestones[0].DueAt, us.state.Extensions[0].Status)
	}
	// The timer was re-armed for the new due time: nothing fired at the old one.
	wantTimes(t, "due soon", times(eventsOf(h.rec, lifecycle.EventMilestoneDueSoon)), newDue.Add(-7*day))
	wantTimes(t, "overdue", times(eventsOf(h.rec, lifecycle.EventMilestoneOverdue)), newDue)
	if final.Status != lifecycle.StatusCompleted {
		t.Fatalf("final %s", final.Status)
	}
}

func TestExtensionDeclinedLeavesDue(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	send(h, time.Minute, UpdateDecide, paApprover, approve(1))
	send(h, 2*time.Minute, UpdateDecide, usApprover, approve(1))
	oldDue := t0.Add(2*time.Minute + 30*day)
	send(h, 10*day, UpdateRequestExtension, paCoord, lifecycle.RequestExtension{MilestoneID: "m1", NewDue: "2027-04-30", Reason: "Venue unavailable"})
	send(h, 11*day, UpdateDecideExtension, paApprover, lifecycle.DecideExtension{ExtensionID: "x1", Decision: lifecycle.DecisionApprove})
	no := send(h, 12*day, UpdateDecideExtension, usApprover, lifecycle.DecideExtension{ExtensionID: "x1", Decision: lifecycle.DecisionDecline, Comment: "Keep the date"})
	again := send(h, 13*day, UpdateDecideExtension, usApprover, lifecycle.DecideExtension{ExtensionID: "x1", Decision: lifecycle.DecisionApprove})
	send(h, 31*day, UpdateCompleteMilestone, paCoord, lifecycle.CompleteMilestone{MilestoneID: "m1"})
	final := h.run(start("act-extend-no"))

	wantAccepted(t, no)
	wantRejected(t, again, lifecycle.KindInvalidTransition)
	if !final.Milestones[0].DueAt.Equal(oldDue) || final.Extensions[0].Status != lifecycle.ExtensionDeclined {
		t.Fatalf("due %s extension %s", final.Milestones[0].DueAt, final.Extensions[0].Status)
	}
	wantTimes(t, "overdue", times(eventsOf(h.rec, lifecycle.EventMilestoneOverdue)), oldDue)
}

func TestSuspendSilencesResumeRearmsCancelEnds(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	send(h, time.Minute, UpdateDecide, paApprover, approve(1))
	send(h, 2*time.Minute, UpdateDecide, usApprover, approve(1))
	due := t0.Add(2*time.Minute + 30*day)
	suspend := send(h, 20*day, UpdateSuspend, usApprover, lifecycle.Suspend{Reason: "Elections"})
	noReason := send(h, 40*day, UpdateResume, usApprover, lifecycle.Resume{})
	resume := send(h, 50*day, UpdateResume, paApprover, lifecycle.Resume{Reason: "New government confirmed"})
	cancel := send(h, 60*day, UpdateCancel, paApprover, lifecycle.Cancel{Reason: "Superseded"})
	final := h.run(start("act-suspend"))

	wantAccepted(t, suspend, resume, cancel)
	wantRejected(t, noReason, lifecycle.KindInvalidInput)
	if suspend.state.Status != lifecycle.StatusSuspended {
		t.Fatalf("after suspend: %s", suspend.state.Status)
	}
	// Due soon (day 23) and overdue (day 30) fell in the suspension: silent
	// then; on resume the overdue notice comes at once, the next a cadence later.
	if n := len(eventsOf(h.rec, lifecycle.EventMilestoneDueSoon)); n != 0 {
		t.Fatalf("%d due-soon notices; the lead time passed while suspended and the milestone is already overdue", n)
	}
	resumedAt := t0.Add(50 * day)
	wantTimes(t, "overdue", times(eventsOf(h.rec, lifecycle.EventMilestoneOverdue)), resumedAt, resumedAt.Add(7*day))
	if final.Status != lifecycle.StatusCancelled || !final.Milestones[0].DueAt.Equal(due) {
		t.Fatalf("final %s due %s", final.Status, final.Milestones[0].DueAt)
	}
}

func TestThreePartiesNeedThreeApprovals(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	p := proposal("act-three")
	p.Parties = []lifecycle.PartyCode{"PA", "US", "MX"}
	one := send(h, time.Hour, UpdateDecide, paApprover, approve(1))
	two := send(h, 2*time.Hour, UpdateDecide, usApprover, approve(1))
	three := send(h, 3*time.Hour, UpdateDecide, mxApprover, approve(1))
	send(h, 4*time.Hour, UpdateCancel, mxApprover, lifecycle.Cancel{Reason: "end of test"})
	h.run(Proposal(paCoord, p))

	wantAccepted(t, one, two, three)
	if two.state.Status != lifecycle.StatusProposed || !slices.Equal(lifecycle.PendingParties(two.state), []lifecycle.PartyCode{"MX"}) {
		t.Fatalf("after two of three: %s pending %v", two.state.Status, lifecycle.PendingParties(two.state))
	}
	if three.state.Status != lifecycle.StatusActive {
		t.Fatalf("after all three: %s", three.state.Status)
	}
}

// With the read model down for minutes, Record retries (locally at first,
// then on durable timers) until it succeeds; an Update in the meantime
// waits its turn and is answered once it is recorded, and nothing is
// recorded twice or out of order.
func TestRecordRetriesThroughAnOutage(t *testing.T) {
	// 1+2+4+8+16+32+60+60 s of backoff: well past a workflow task.
	rec := &recorder{failFirst: 8}
	h := newHarness(t, t0, rec)
	a1 := send(h, time.Minute, UpdateDecide, paApprover, approve(1))
	var during lifecycle.State
	var answeredDuring bool
	h.at(2*time.Minute, func() { during, answeredDuring = h.query(), a1.done })
	cancel := send(h, time.Hour, UpdateCancel, usApprover, lifecycle.Cancel{Reason: "postponed"})
	final := h.run(start("act-outage"))

	wantAccepted(t, a1, cancel)
	if rec.failed != 8 {
		t.Fatalf("Record failed %d times, want 8", rec.failed)
	}
	if !slices.Equal(lifecycle.PendingParties(during), []lifecycle.PartyCode{"PA", "US"}) || answeredDuring || !a1.accepted {
		t.Fatalf("during the outage: pending %v, approval answered %v; want it accepted but waiting behind the unrecorded proposal", lifecycle.PendingParties(during), answeredDuring)
	}
	if !a1.result.IsRecorded() {
		t.Fatalf("the approval was answered as not recorded: %+v", a1.result)
	}
	if got := rec.calls[0].Events[0].Type; got != lifecycle.EventProposed {
		t.Fatalf("first recorded event %s, want proposed", got)
	}
	if final.Status != lifecycle.StatusCancelled {
		t.Fatalf("final status %s", final.Status)
	}
}

// A change the read model refuses for good blocks the activity instead of
// being retried for ever: its Update is answered as not recorded, further
// commands are refused and the clock waits, until an admin's retry (after
// the cause is removed) records it; then everything goes on.
func TestRefusedRecordBlocksUntilRetried(t *testing.T) {
	rec := &recorder{refuseSeq: 2, refusing: true}
	h := newHarness(t, t0, rec)
	a1 := send(h, time.Minute, UpdateDecide, paApprover, approve(1))
	early := send(h, time.Hour, UpdateDecide, usApprover, approve(1))
	var during lifecycle.State
	h.at(2*time.Hour, func() {
		during = h.query()
		rec.mu.Lock()
		rec.refusing = false
		rec.mu.Unlock()
		h.env.SignalWorkflow(SignalRetryRecord, nil)
	})
	a2 := send(h, 3*time.Hour, UpdateDecide, usApprover, approve(1))
	cancel := send(h, 4*time.Hour, UpdateCancel, usApprover, lifecycle.Cancel{Reason: "postponed"})
	final := h.run(start("act-refused"))

	wantAccepted(t, a1, a2, cancel)
	if a1.result.Recorded == nil || *a1.result.Recorded {
		t.Fatalf("the refused approval was answered %+v; want recorded=false", a1.result)
	}
	if !a2.result.IsRecorded() {
		t.Fatalf("the approval after the retry was answered %+v; want recorded", a2.result)
	}
	if early.accepted || !strings.Contains(fmt.Sprint(early.rejected), "could not be recorded") {
		t.Fatalf("a command while blocked: accepted=%v rejected=%v; want refused as blocked", early.accepted, early.rejected)
	}
	var ae *temporal.ApplicationError
	if !errors.As(early.rejected, &ae) || ae.Type() != ErrRecordBlocked {
		t.Fatalf("the refusal %v is not of type %s", early.rejected, ErrRecordBlocked)
	}
	if during.Seq != 2 || lifecycle.PendingParties(during)[0] != "US" {
		t.Fatalf("while blocked the workflow holds seq %d pending %v; want the refused approval kept (seq 2, US pending)", during.Seq, lifecycle.PendingParties(during))
	}
	if rec.refused != 2 {
		t.Fatalf("the refused record was tried %d times before the admin's retry; want twice (at once, then an hour later)", rec.refused)
	}
	if final.Status != lifecycle.StatusCancelled {
		t.Fatalf("final status %s", final.Status)
	}
	// Every event reached the read model once, in order (checked by run).
}
