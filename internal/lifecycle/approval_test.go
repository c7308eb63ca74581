package lifecycle_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

func approve(v int) lc.DecideProposal {
	return lc.DecideProposal{Version: v, Decision: lc.DecisionApprove}
}

// The activity becomes active on exactly the approval that completes the
// set, never earlier, whatever the order of the parties.
func TestActivationNeedsEveryParty(t *testing.T) {
	for _, parties := range [][]lc.PartyCode{{"PA", "US"}, {"PA", "US", "MX"}, {"MX", "PA", "US"}} {
		t.Run(strings.Join([]string{string(parties[0]), string(parties[len(parties)-1])}, "-"), func(t *testing.T) {
			s := proposed(t, proposal(parties...))
			for i, p := range parties {
				var evs []lc.Event
				now := t0.Add(time.Duration(i+1) * time.Hour)
				s, evs = run(t, s, approve(1), approver(p), now)
				e := evs[0]
				if e.Type != lc.EventApproved || e.Party != p || e.Actor != "appr-"+string(p) || e.Version != 1 || e.Decision != lc.DecisionApprove || !e.At.Equal(now) {
					t.Fatalf("approval event = %+v", e)
				}
				if i < len(parties)-1 {
					wantTypes(t, evs, lc.EventApproved)
					if s.Status != lc.StatusProposed {
						t.Fatalf("status %s after %d of %d approvals", s.Status, i+1, len(parties))
					}
					if got, want := lc.PendingParties(s), parties[i+1:]; !sameSet(got, want) {
						t.Fatalf("pending = %v, want %v", got, want)
					}
					continue
				}
				wantTypes(t, evs, lc.EventApproved, lc.EventActivated)
				act := evs[1]
				if act.Actor != lc.ClockActor || act.Version != 1 || act.Seq != e.Seq+1 || len(act.Dues) != len(parties) {
					t.Fatalf("activated event = %+v", act)
				}
				if s.Status != lc.StatusActive || !s.ActivatedAt.Equal(now) || len(lc.PendingParties(s)) != 0 {
					t.Fatalf("state after last approval: status %s, activated %s", s.Status, s.ActivatedAt)
				}
				for _, m := range s.Milestones {
					if m.Status != lc.MilestoneOpen || !m.ArmedAt.Equal(now) || m.DueAt.IsZero() {
						t.Errorf("milestone %s = %+v", m.ID, m)
					}
				}
			}
		})
	}
}

func sameSet(a, b []lc.PartyCode) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestDecideProposalRefusals(t *testing.T) {
	s := proposed(t, proposal("PA", "US"))
	// The proposer also holds the approver role: still not their call.
	proposerApprover := lc.Principal{ID: "coord-PA", Party: "PA", Roles: []lc.Role{lc.RoleCoordinator, lc.RoleApprover}}
	outsider := approver("ES") // of the dialogue, not of the activity
	noParty := lc.Principal{ID: "floating", Roles: []lc.Role{lc.RoleApprover}}
	tests := []struct {
		name  string
		cmd   lc.DecideProposal
		actor lc.Principal
		kind  lc.Kind
		field string
	}{
		{"stale version", approve(0), approver("US"), lc.KindStaleVersion, "version"},
		{"future version", approve(2), approver("US"), lc.KindStaleVersion, "version"},
		{"for another party", lc.DecideProposal{Version: 1, Party: "PA", Decision: lc.DecisionApprove}, approver("US"), lc.KindForbidden, ""},
		{"proposer as approver", approve(1), proposerApprover, lc.KindForbidden, ""},
		{"observer", approve(1), observer("US"), lc.KindForbidden, ""},
		{"coordinator", approve(1), coord("US"), lc.KindForbidden, ""},
		{"approver of no party of the activity", approve(1), outsider, lc.KindForbidden, ""},
		{"approver without a party", approve(1), noParty, lc.KindForbidden, ""},
		{"request changes without reason", lc.DecideProposal{Version: 1, Decision: lc.DecisionRequestChanges, Comment: "  "}, approver("US"), lc.KindInvalidInput, "comment"},
		{"decline without reason", lc.DecideProposal{Version: 1, Decision: lc.DecisionDecline}, approver("US"), lc.KindInvalidInput, "comment"},
		{"pending is no decision", lc.DecideProposal{Version: 1, Decision: lc.DecisionPending}, approver("US"), lc.KindInvalidInput, "decision"},
		{"unknown decision", lc.DecideProposal{Version: 1, Decision: "maybe"}, approver("US"), lc.KindInvalidInput, "decision"},
		{"comment too long", lc.DecideProposal{Version: 1, Decision: lc.DecisionApprove, Comment: strings.Repeat("c", 4001)}, approver("US"), lc.KindInvalidInput, "comment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refuse(t, s, tt.cmd, tt.actor, t0, tt.kind, tt.field)
		})
	}
	// Naming one's own party explicitly is fine.
	s, evs := run(t, s, lc.DecideProposal{Version: 1, Party: "US", Decision: lc.DecisionApprove}, approver("US"), t0)
	wantTypes(t, evs, lc.EventApproved)
	// A second approver of the same party cannot approve again.
	other := approver("US")
	other.ID = "appr-US-2"
	refuse(t, s, approve(1), other, t0, lc.KindInvalidTransition, "")
}

func TestRequestChangesIsNotTerminal(t *testing.T) {
	s := proposed(t, proposal("PA", "US"))
	s, evs := run(t, s, lc.DecideProposal{Version: 1, Decision: lc.DecisionRequestChanges, Comment: "more detail"}, approver("US"), t0)
	wantTypes(t, evs, lc.EventChangesRequested)
	if e := evs[0]; e.Party != "US" || e.Comment != "more detail" || e.Decision != lc.DecisionRequestChanges || e.Version != 1 {
		t.Errorf("event = %+v", e)
	}
	if s.Status != lc.StatusProposed {
		t.Fatalf("status = %s", s.Status)
	}
	if a := s.Approvals[1]; a.Party != "US" || a.Decision != lc.DecisionRequestChanges || a.Comment != "more detail" || a.By != "appr-US" {
		t.Errorf("approval = %+v", a)
	}
	// Asking twice for the same version is refused; approving it anyway is not.
	refuse(t, s, lc.DecideProposal{Version: 1, Decision: lc.DecisionRequestChanges, Comment: "again"}, approver("US"), t0, lc.KindInvalidTransition, "")
	s, _ = run(t, s, approve(1), approver("PA"), t0)
	s, evs = run(t, s, approve(1), approver("US"), t0)
	wantTypes(t, evs, lc.EventApproved, lc.EventActivated)
	if s.Status != lc.StatusActive {
		t.Errorf("status = %s", s.Status)
	}
}

// A withdrawn approval (changes requested after approving) holds the
// activity back until that party approves again.
func TestApprovalCanBeWithdrawn(t *testing.T) {
	s := proposed(t, proposal("PA", "US"))
	s, _ = run(t, s, approve(1), approver("US"), t0)
	s, _ = run(t, s, lc.DecideProposal{Version: 1, Decision: lc.DecisionRequestChanges, Comment: "on reflection"}, approver("US"), t0)
	s, evs := run(t, s, approve(1), approver("PA"), t0)
	wantTypes(t, evs, lc.EventApproved)
	if s.Status != lc.StatusProposed || !slices.Equal(lc.PendingParties(s), []lc.PartyCode{"US"}) {
		t.Fatalf("status %s, pending %v", s.Status, lc.PendingParties(s))
	}
}

func TestDeclineIsTerminal(t *testing.T) {
	s := proposed(t, proposal("PA", "US"))
	s, _ = run(t, s, approve(1), approver("PA"), t0)
	s, evs := run(t, s, lc.DecideProposal{Version: 1, Decision: lc.DecisionDecline, Comment: "not now"}, approver("US"), t0.Add(time.Hour))
	wantTypes(t, evs, lc.EventDeclined)
	if s.Status != lc.StatusDeclined || !s.Status.Terminal() || s.Reason != "not now" || !s.ClosedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("state after decline: %s %q %s", s.Status, s.Reason, s.ClosedAt)
	}
	noWake(t, s)
	if p := lc.PendingParties(s); p != nil {
		t.Errorf("pending after decline = %v", p)
	}
	later := t0.Add(2 * time.Hour)
	for _, c := range []struct {
		cmd   lc.Command
		actor lc.Principal
	}{
		{proposal(), coord("PA")},
		{approve(1), approver("US")},
		{approve(1), approver("MX")},
		{lc.DecideProposal{Version: 1, Decision: lc.DecisionDecline, Comment: "again"}, approver("PA")},
		{lc.Amend{BaseVersion: 1, Title: lc.Plain("x"), Milestones: proposal().Milestones}, coord("PA")},
		{lc.ReportProgress{MilestoneID: "m1", Note: "n"}, coord("PA")},
		{lc.CompleteMilestone{MilestoneID: "m1"}, coord("PA")},
		{lc.RequestExtension{MilestoneID: "m1", NewDue: "2027-01-01", Reason: "r"}, coord("PA")},
		{lc.DecideExtension{ExtensionID: "x1", Decision: lc.DecisionApprove}, approver("US")},
		{lc.Suspend{Reason: "r"}, approver("PA")},
		{lc.Resume{Reason: "r"}, approver("PA")},
		{lc.Cancel{Reason: "r"}, approver("PA")},
	} {
		refuse(t, s, c.cmd, c.actor, later, lc.KindInvalidTransition, "")
	}
	// The clock has nothing to say about a closed activity.
	if evs, err := lc.Decide(s, lc.Tick{}, clock, later.Add(400*day)); err != nil || len(evs) != 0 {
		t.Errorf("tick after decline: %v, %v", types(evs), err)
	}
}

func TestAmend(t *testing.T) {
	s := proposed(t, proposal("PA", "US"))
	s, _ = run(t, s, approve(1), approver("US"), t0)
	orig := proposal("PA", "US")
	amend := lc.Amend{BaseVersion: 1, Title: orig.Title, Summary: orig.Summary, Objectives: orig.Objectives, Milestones: orig.Milestones}

	t.Run("identical content changes nothing", func(t *testing.T) {
		// Surrounding blanks are not material.
		same := amend
		same.Title = lc.Plain("  " + amend.Title.In("") + " ")
		evs, err := lc.Decide(s, same, coord("US"), t0.Add(time.Hour))
		if err != nil || len(evs) != 0 {
			t.Fatalf("got %v, %v; want no events", types(evs), err)
		}
		if s.Approvals[1].Decision != lc.DecisionApprove {
			t.Fatal("the approval was lost")
		}
	})
	t.Run("stale base version", func(t *testing.T) {
		stale := amend
		stale.BaseVersion = 0
		stale.Title = lc.Plain("changed")
		refuse(t, s, stale, coord("PA"), t0, lc.KindStaleVersion, "version")
	})
	t.Run("refusals", func(t *testing.T) {
		bad := amend
		bad.Milestones = nil
		refuse(t, s, bad, coord("PA"), t0, lc.KindInvalidInput, "milestones")
		refuse(t, s, amend, approver("PA"), t0, lc.KindForbidden, "")
		refuse(t, s, amend, coord("ES"), t0, lc.KindForbidden, "")
		refuse(t, lc.State{}, amend, coord("PA"), t0, lc.KindInvalidTransition, "")
		bad = amend
		bad.Milestones = []lc.MilestoneSpec{{ID: "m1", Title: lc.Plain("t"), Owner: "MX", Due: "P1M"}}
		refuse(t, s, bad, coord("PA"), t0, lc.KindInvalidInput, "milestones[0].owner")
	})
	t.Run("content change makes a new version", func(t *testing.T) {
		for _, edit := range []func(*lc.Amend){
			func(a *lc.Amend) { a.Title = lc.Plain("Joint training, revised") },
			func(a *lc.Amend) { a.Summary = lc.Plain("") },
			func(a *lc.Amend) { a.Objectives = append(slices.Clone(a.Objectives), lc.Plain("more")) },
			func(a *lc.Amend) {
				a.Milestones = slices.Clone(a.Milestones)
				a.Milestones[0].Due = "P6M"
			},
			func(a *lc.Amend) {
				a.Milestones = slices.Clone(a.Milestones)
				a.Milestones[1].Indicator = &lc.Indicator{Target: 3}
			},
		} {
			changed := amend
			edit(&changed)
			now := t0.Add(day)
			s2, evs := run(t, s, changed, coord("US"), now)
			wantTypes(t, evs, lc.EventAmended)
			e := evs[0]
			if e.Version != 2 || e.Party != "US" || e.Actor != "coord-US" || e.Content == nil || e.Content.Hash == s.ContentHash {
				t.Fatalf("amended event = %+v", e)
			}
			if s2.Version != 2 || s2.ContentHash != e.Content.Hash || !s2.VersionAt.Equal(now) || s2.Status != lc.StatusProposed {
				t.Fatalf("state = v%d %s", s2.Version, s2.Status)
			}
			for _, a := range s2.Approvals {
				if a.Decision != lc.DecisionPending {
					t.Fatalf("approval survived the amendment: %+v", a)
				}
			}
			if got := lc.PendingParties(s2); !slices.Equal(got, []lc.PartyCode{"PA", "US"}) {
				t.Fatalf("pending = %v", got)
			}
			// The old version can no longer be approved; the new one can.
			refuse(t, s2, approve(1), approver("PA"), now, lc.KindStaleVersion, "version")
			s3, _ := run(t, s2, approve(2), approver("PA"), now)
			s3, evs = run(t, s3, approve(2), approver("US"), now)
			wantTypes(t, evs, lc.EventApproved, lc.EventActivated)
			if evs[1].Version != 2 || s3.Status != lc.StatusActive {
				t.Fatalf("activation = %+v", evs[1])
			}
		}
	})
	t.Run("not after activation", func(t *testing.T) {
		active := activeAt(t, proposed(t, proposal()), t0)
		changed := amend
		changed.Title = lc.Plain("late change")
		refuse(t, active, changed, coord("PA"), t0, lc.KindInvalidTransition, "")
	})
}

// Pending approvers are reminded every 7 days from the current version; the
// proposal expires 60 days after it was made.
func TestApprovalWindow(t *testing.T) {
	s := proposed(t, proposal("PA", "US", "MX"))
	s, _ = run(t, s, approve(1), approver("MX"), t0)
	var reminders []time.Time
	for i := 0; ; i++ {
		at := wake(t, s)
		if i > 20 {
			t.Fatal("no expiry")
		}
		// One second early the clock owes nothing.
		if evs, err := lc.Decide(s, lc.Tick{}, clock, at.Add(-time.Second)); err != nil || len(evs) != 0 {
			t.Fatalf("early tick: %v %v", types(evs), err)
		}
		var evs []lc.Event
		s, evs = run(t, s, lc.Tick{}, clock, at)
		if len(evs) != 1 {
			t.Fatalf("tick at %s: %v", at, types(evs))
		}
		e := evs[0]
		if e.Actor != lc.ClockActor || e.Version != 1 || !slices.Equal(e.Parties, []lc.PartyCode{"PA", "US"}) {
			t.Fatalf("notice = %+v", e)
		}
		if e.Type == lc.EventExpired {
			break
		}
		if e.Type != lc.EventApprovalReminder || !e.Due.Equal(s.ExpiresAt) {
			t.Fatalf("notice = %+v", e)
		}
		reminders = append(reminders, at)
	}
	var want []time.Time
	for d := 7; d < 60; d += 7 {
		want = append(want, t0.Add(time.Duration(d)*day))
	}
	if !slices.EqualFunc(reminders, want, time.Time.Equal) {
		t.Errorf("reminders at %v, want %v", reminders, want)
	}
	if s.Status != lc.StatusExpired || !s.ClosedAt.Equal(t0.Add(60*day)) || !s.Status.Terminal() {
		t.Errorf("status %s closed %s", s.Status, s.ClosedAt)
	}
	noWake(t, s)
	refuse(t, s, approve(1), approver("PA"), t0.Add(61*day), lc.KindInvalidTransition, "")
}

func TestApprovalWindowAfterOutageAndAmendment(t *testing.T) {
	s := proposed(t, proposal("PA", "US"))
	// A tick long after a missed reminder sends one reminder, and the next
	// comes a full cadence after it.
	s, evs := run(t, s, lc.Tick{}, clock, t0.Add(20*day))
	wantTypes(t, evs, lc.EventApprovalReminder)
	if got := wake(t, s); !got.Equal(t0.Add(27 * day)) {
		t.Errorf("next reminder at %s, want day 27", got)
	}
	// An amendment restarts the cadence from the new version, but not the window.
	s, _ = run(t, s, lc.Amend{BaseVersion: 1, Title: lc.Plain("new"), Milestones: proposal().Milestones}, coord("PA"), t0.Add(25*day))
	if got := wake(t, s); !got.Equal(t0.Add(32 * day)) {
		t.Errorf("after amendment next reminder at %s, want day 32", got)
	}
	// Past the window a tick expires the proposal at once, even if a
	// reminder was also owed.
	s, evs = run(t, s, lc.Tick{}, clock, t0.Add(90*day))
	wantTypes(t, evs, lc.EventExpired)
	if s.Status != lc.StatusExpired || evs[0].Version != 2 {
		t.Errorf("status %s, event %+v", s.Status, evs[0])
	}
}

// With a reminder cadence longer than the window, the only wake-up is expiry.
func TestApprovalWindowWithoutReminders(t *testing.T) {
	cmd := proposal()
	cmd.Policy.ApprovalWindow = ptr(5 * day)
	s := proposed(t, cmd)
	if got := wake(t, s); !got.Equal(t0.Add(5 * day)) {
		t.Errorf("wake at %s, want expiry", got)
	}
}

// An approval that arrives once the window has closed, before the clock
// has ticked, must not activate the proposal.
func TestNoApprovalAfterTheWindow(t *testing.T) {
	s := proposed(t, proposal("PA", "US"))
	s, _ = run(t, s, approve(1), approver("PA"), t0)
	refuse(t, s, approve(1), approver("US"), s.ExpiresAt, lc.KindInvalidTransition, "")
	refuse(t, s, approve(1), approver("US"), s.ExpiresAt.Add(time.Hour), lc.KindInvalidTransition, "")
	// Just inside the window it still works.
	s, evs := run(t, s, approve(1), approver("US"), s.ExpiresAt.Add(-time.Nanosecond))
	wantTypes(t, evs, lc.EventApproved, lc.EventActivated)
}

// Nor may the proposal be amended once the window has closed.
func TestNoAmendmentAfterTheWindow(t *testing.T) {
	s := proposed(t, proposal("PA", "US"))
	c := proposal("PA", "US")
	amend := lc.Amend{BaseVersion: 1, Title: lc.Plain(c.Title.In("") + " v2"), Summary: c.Summary, Objectives: c.Objectives, Milestones: c.Milestones}
	refuse(t, s, amend, coord("US"), s.ExpiresAt, lc.KindInvalidTransition, "")
	_, evs := run(t, s, amend, coord("US"), s.ExpiresAt.Add(-time.Second))
	wantTypes(t, evs, lc.EventAmended)
}

// A command must name who makes it; only the clock acts anonymously.
func TestCommandWithoutActorIsForbidden(t *testing.T) {
	s := proposed(t, proposal("PA", "US"))
	nameless := approver("US")
	nameless.ID = ""
	refuse(t, s, approve(1), nameless, t0, lc.KindForbidden, "")
}
