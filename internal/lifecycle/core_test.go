package lifecycle_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

// bogus is a Command the core does not know.
type bogus struct{}

func (bogus) CommandName() string { return "bogus" }

func TestDecideRejectsNilAndUnknownCommands(t *testing.T) {
	s := proposed(t, proposal())
	refuse(t, s, nil, coord("PA"), t0, lc.KindInvalidInput, "command")
	refuse(t, s, bogus{}, coord("PA"), t0, lc.KindInvalidInput, "command")
	// A pointer to a known command is not that command either.
	refuse(t, s, &lc.Tick{}, clock, t0, lc.KindInvalidInput, "command")
}

func TestCommandsBeforeProposal(t *testing.T) {
	var zero lc.State
	for _, c := range []struct {
		cmd   lc.Command
		actor lc.Principal
	}{
		{lc.Amend{BaseVersion: 0, Title: lc.Plain("t"), Milestones: proposal().Milestones}, coord("PA")},
		{approve(0), approver("US")},
		{lc.ReportProgress{MilestoneID: "m1", Note: "n"}, coord("PA")},
		{lc.CompleteMilestone{MilestoneID: "m1"}, coord("PA")},
		{lc.RequestExtension{MilestoneID: "m1", NewDue: "2027-01-01", Reason: "r"}, coord("PA")},
		{lc.DecideExtension{ExtensionID: "x1", Decision: lc.DecisionApprove}, approver("US")},
		{lc.Suspend{Reason: "r"}, approver("PA")},
		{lc.Resume{Reason: "r"}, approver("PA")},
		{lc.Cancel{Reason: "r"}, approver("PA")},
	} {
		refuse(t, zero, c.cmd, c.actor, t0, lc.KindInvalidTransition, "")
	}
	if evs, err := lc.Decide(zero, lc.Tick{}, clock, t0); err != nil || len(evs) != 0 {
		t.Errorf("tick on the zero state: %v %v", types(evs), err)
	}
	noWake(t, zero)
	if _, ok := lc.NextDue(zero); ok {
		t.Error("NextDue on the zero state")
	}
}

func TestErrors(t *testing.T) {
	withField := &lc.Error{Kind: lc.KindInvalidInput, Field: "title", Message: "is required"}
	if got := withField.Error(); got != "invalid_input: title: is required" {
		t.Errorf("Error() = %q", got)
	}
	noField := &lc.Error{Kind: lc.KindForbidden, Message: "no"}
	if got := noField.Error(); got != "forbidden: no" {
		t.Errorf("Error() = %q", got)
	}
	wrapped := fmt.Errorf("update rejected: %w", withField)
	if k := lc.KindOf(wrapped); k != lc.KindInvalidInput {
		t.Errorf("KindOf(wrapped) = %q", k)
	}
	if k := lc.KindOf(errors.New("plain")); k != "" {
		t.Errorf("KindOf(plain) = %q", k)
	}
	if k := lc.KindOf(nil); k != "" {
		t.Errorf("KindOf(nil) = %q", k)
	}
	// Every refusal carries a message that says something.
	_, err := lc.Decide(lc.State{}, lc.Propose{}, coord("PA"), t0)
	var e *lc.Error
	if !errors.As(err, &e) || e.Message == "" || e.Kind == "" {
		t.Errorf("error = %#v", err)
	}
}

func TestSmallAccessors(t *testing.T) {
	for st, terminal := range map[lc.Status]bool{
		lc.StatusProposed: false, lc.StatusActive: false, lc.StatusSuspended: false, "": false,
		lc.StatusDeclined: true, lc.StatusExpired: true, lc.StatusCancelled: true, lc.StatusCompleted: true,
	} {
		if st.Terminal() != terminal {
			t.Errorf("%q.Terminal() = %v", st, !terminal)
		}
	}
	p := lc.Principal{Roles: []lc.Role{lc.RoleObserver, lc.RoleApprover}}
	if !p.Has(lc.RoleApprover) || p.Has(lc.RoleCoordinator) {
		t.Error("Principal.Has")
	}
	names := map[string]lc.Command{
		"propose": lc.Propose{}, "amend": lc.Amend{}, "decide": lc.DecideProposal{},
		"report_progress": lc.ReportProgress{}, "complete_milestone": lc.CompleteMilestone{},
		"request_extension": lc.RequestExtension{}, "decide_extension": lc.DecideExtension{},
		"suspend": lc.Suspend{}, "resume": lc.Resume{}, "cancel": lc.Cancel{}, "tick": lc.Tick{},
	}
	for want, c := range names {
		if got := c.CommandName(); got != want {
			t.Errorf("%T.CommandName() = %q, want %q", c, got, want)
		}
	}
	s := proposed(t, proposal())
	if party, ok := s.Party("US"); !ok || party.TimeZone != "America/New_York" {
		t.Errorf("Party(US) = %+v %v", party, ok)
	}
	if _, ok := s.Party("ES"); ok {
		t.Error("Party(ES) found")
	}
}

// richState has something in every slice and pointer Apply could alias:
// objectives, approvals, indicators, evidence, notes and extensions.
func richState(t *testing.T) lc.State {
	t.Helper()
	cmd := proposal("PA", "US", "MX")
	cmd.Milestones[0].Indicator = &lc.Indicator{Baseline: ptr(1.0), Target: 10}
	s := activeAt(t, proposed(t, cmd), t0)
	s, _ = run(t, s, lc.ReportProgress{MilestoneID: "m1", Evidence: []string{"https://e.org/1"}, Actual: ptr(3.0), Note: "n"}, coord("PA"), t0)
	s, _ = run(t, s, extend(), coord("PA"), t0)
	s, _ = run(t, s, decideX("x1", lc.DecisionApprove, ""), approver("US"), t0)
	return s
}

func snapshot(t *testing.T, s lc.State) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Apply must leave its input untouched, and the state it returns must not
// share memory with it: the workflow keeps old states around for queries.
func TestApplyNeverMutatesItsInput(t *testing.T) {
	base := richState(t)
	at := t0.Add(time.Hour)
	events := []lc.Event{
		{Type: lc.EventProgressReported, Milestone: "m1", Actor: "coord-PA", At: at, Progress: &lc.Progress{Evidence: []string{"https://e.org/2"}, Actual: ptr(7.0), Note: "more"}},
		{Type: lc.EventMilestoneCompleted, Milestone: "m1", At: at, Progress: &lc.Progress{Evidence: []string{"https://e.org/3"}}},
		{Type: lc.EventExtensionDecided, Extension: "x1", Party: "MX", Decision: lc.DecisionApprove, At: at},
		{Type: lc.EventExtensionApproved, Extension: "x1", At: at},
		{Type: lc.EventExtensionDeclined, Extension: "x1", At: at},
		{Type: lc.EventMilestoneDueSoon, Milestone: "m2", At: at},
		{Type: lc.EventMilestoneOverdue, Milestone: "m2", Notice: 1, At: at},
		{Type: lc.EventMilestoneEscalated, Milestone: "m2", At: at},
		{Type: lc.EventSuspended, Comment: "r", At: at},
		{Type: lc.EventCancelled, Comment: "r", At: at},
		{Type: lc.EventCompleted, At: at},
		{Type: lc.EventApprovalReminder, At: at},
		{Type: lc.EventExpired, At: at},
		{Type: lc.EventApproved, Party: "US", Decision: lc.DecisionApprove, Version: 1, At: at},
		{Type: lc.EventDeclined, Party: "US", Decision: lc.DecisionDecline, Version: 1, Comment: "no", At: at},
		{Type: lc.EventExtensionRequested, Extension: "x2", Request: &lc.Extension{ID: "x2", MilestoneID: "m2", Status: lc.ExtensionPending, Decisions: []lc.Approval{{Party: "PA"}}}},
		{Type: lc.EventAmended, Version: 2, Content: &lc.Content{Title: lc.Plain("t"), Milestones: []lc.Milestone{{MilestoneSpec: lc.MilestoneSpec{ID: "m1", Indicator: &lc.Indicator{Target: 1}}}}}},
		{Type: lc.EventActivated, Dues: []lc.ResolvedDue{{Milestone: "m2", DueAt: at, Term: lc.HorizonShort}}},
		{Type: "unheard_of"},
	}
	for _, e := range events {
		t.Run(string(e.Type), func(t *testing.T) {
			before := snapshot(t, base)
			e.Seq = base.Seq + 1
			out := lc.Apply(base, e)
			if got := snapshot(t, base); got != before {
				t.Fatalf("Apply(%s) mutated its input", e.Type)
			}
			if out.Seq != base.Seq+1 {
				t.Errorf("Seq = %d, want %d", out.Seq, base.Seq+1)
			}
			scribble(&out)
			if got := snapshot(t, base); got != before {
				t.Fatalf("the state returned by Apply(%s) shares memory with its input", e.Type)
			}
		})
	}
	// Nor does a rich state share memory with the event that built it.
	e := lc.Event{Type: lc.EventExtensionRequested, Seq: base.Seq + 1, Request: &lc.Extension{ID: "x9", Decisions: []lc.Approval{{Party: "PA"}}}}
	out := lc.Apply(base, e)
	out.Extensions[len(out.Extensions)-1].Decisions[0].Party = "ZZ"
	if e.Request.Decisions[0].Party != "PA" {
		t.Error("the applied extension shares its decisions with the event")
	}
}

// scribble overwrites every element Apply's result could share with its input.
func scribble(s *lc.State) {
	for i := range s.Parties {
		s.Parties[i].Code = "ZZ"
	}
	for i := range s.Objectives {
		s.Objectives[i] = lc.Plain("scribbled")
	}
	for i := range s.Approvals {
		s.Approvals[i].Decision = "scribbled"
	}
	for i := range s.Milestones {
		m := &s.Milestones[i]
		m.Title = lc.Plain("scribbled")
		for j := range m.Evidence {
			m.Evidence[j] = "scribbled"
		}
		for j := range m.Notes {
			m.Notes[j].Text = "scribbled"
		}
		if in := m.Indicator; in != nil {
			in.Target = -1
			if in.Baseline != nil {
				*in.Baseline = -1
			}
			if in.Actual != nil {
				*in.Actual = -1
			}
		}
	}
	for i := range s.Extensions {
		for j := range s.Extensions[i].Decisions {
			s.Extensions[i].Decisions[j].Decision = "scribbled"
		}
	}
}

// Decide works on a copy: whatever it decides, its input state is unchanged.
func TestDecideNeverMutatesItsInput(t *testing.T) {
	base := richState(t)
	before := snapshot(t, base)
	for _, c := range []struct {
		cmd   lc.Command
		actor lc.Principal
		now   time.Time
	}{
		{decideX("x1", lc.DecisionApprove, ""), approver("MX"), t0},
		{lc.CompleteMilestone{MilestoneID: "m1", Actual: ptr(9.0), Evidence: []string{"https://e.org/9"}}, coord("PA"), t0},
		{lc.ReportProgress{MilestoneID: "m1", Note: "x"}, coord("PA"), t0},
		{lc.Tick{}, clock, due.Add(50 * day)},
		{lc.Suspend{Reason: "r"}, approver("PA"), t0},
	} {
		evs, err := lc.Decide(base, c.cmd, c.actor, c.now)
		if err != nil || len(evs) == 0 {
			t.Fatalf("%s: %v %v", c.cmd.CommandName(), types(evs), err)
		}
		if snapshot(t, base) != before {
			t.Fatalf("Decide(%s) mutated its input", c.cmd.CommandName())
		}
	}
}

// Apply keeps the highest Seq it has seen, so replaying an old event cannot
// move the counter back.
func TestApplySeqNeverGoesBack(t *testing.T) {
	s := richState(t)
	old := s.Seq
	s = lc.Apply(s, lc.Event{Type: lc.EventApprovalReminder, Seq: 1})
	if s.Seq != old {
		t.Errorf("Seq = %d, want %d", s.Seq, old)
	}
}

// Events naming a milestone or extension the state lacks change nothing
// but the counter.
func TestApplyIgnoresUnknownTargets(t *testing.T) {
	s := richState(t)
	before := s
	for _, e := range []lc.Event{
		{Type: lc.EventProgressReported, Milestone: "nope", Progress: &lc.Progress{Note: "n"}},
		{Type: lc.EventMilestoneCompleted, Milestone: "nope"},
		{Type: lc.EventMilestoneDueSoon, Milestone: "nope"},
		{Type: lc.EventMilestoneOverdue, Milestone: "nope", Notice: 1},
		{Type: lc.EventMilestoneEscalated, Milestone: "nope"},
		{Type: lc.EventExtensionDecided, Extension: "nope", Party: "PA"},
		{Type: lc.EventExtensionDeclined, Extension: "nope"},
		{Type: lc.EventExtensionApproved, Extension: "nope"},
		{Type: lc.EventActivated, Dues: []lc.ResolvedDue{{Milestone: "nope"}}},
	} {
		s = lc.Apply(s, e)
	}
	s.Status, before.Status = "", ""
	s.ActivatedAt, before.ActivatedAt = time.Time{}, time.Time{}
	if snapshot(t, s) != snapshot(t, before) {
		t.Error("events about unknown targets changed the state")
	}
}
