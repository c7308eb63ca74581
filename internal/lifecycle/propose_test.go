package lifecycle_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

func TestProposeRecordsTheProposal(t *testing.T) {
	cmd := proposal("PA", "US", "MX")
	cmd.Milestones = append(cmd.Milestones, lc.MilestoneSpec{
		Title: lc.Plain("  report  "), Owner: "US", Due: " P6M ",
		Indicator: &lc.Indicator{Baseline: ptr(1.0), Target: 10, Unit: lc.Plain("people")},
	})
	evs, err := lc.Decide(lc.State{}, cmd, coord("PA"), t0.In(time.FixedZone("X", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	wantTypes(t, evs, lc.EventProposed)
	e := evs[0]
	if e.Seq != 1 || e.Actor != "coord-PA" || e.Party != "PA" || e.Version != 1 || !e.At.Equal(t0) || e.At.Location() != time.UTC {
		t.Errorf("proposed event header = %+v", e)
	}
	p := e.Proposal
	if p == nil || p.ID != "act-1" || p.Dialogue != "dlg-1" || p.Proposer != "coord-PA" || p.ProposerParty != "PA" {
		t.Fatalf("proposal = %+v", p)
	}
	if want := dialogueParties[:3]; !slices.Equal(p.Parties, want) {
		t.Errorf("parties = %v, want %v", p.Parties, want)
	}
	if p.Policy != lc.DefaultPolicy() || !p.ExpiresAt.Equal(t0.Add(60*day)) {
		t.Errorf("policy %+v, expires %s", p.Policy, p.ExpiresAt)
	}
	if e.Content == nil || e.Content.Hash == "" || len(e.Content.Milestones) != 4 {
		t.Fatalf("content = %+v", e.Content)
	}

	s := lc.Apply(lc.State{}, e)
	if s.Status != lc.StatusProposed || s.Version != 1 || s.Seq != 1 || s.Title.In("") != "Joint training" || !s.ExpiresAt.Equal(t0.Add(60*day)) {
		t.Errorf("state = %+v", s)
	}
	for i, a := range s.Approvals {
		if a.Party != s.Parties[i].Code || a.Decision != lc.DecisionPending {
			t.Errorf("approval %d = %+v, want pending for %s", i, a, s.Parties[i].Code)
		}
	}
	m := milestone(t, s, "m4") // the default id is the position
	if m.Title.In("") != "report" || m.Due != "P6M" || !m.DueAt.IsZero() || m.Status != lc.MilestonePending || m.Term != lc.HorizonShort {
		t.Errorf("offset milestone = %+v", m)
	}
	if m1 := milestone(t, s, "m1"); !m1.DueAt.Equal(t0.Add(90*day)) || m1.Status != lc.MilestonePending {
		t.Errorf("instant milestone = %+v", m1)
	}
}

func TestProposeRefusals(t *testing.T) {
	long := strings.Repeat("x", 201)
	tests := []struct {
		name  string
		edit  func(*lc.Propose)
		actor lc.Principal
		kind  lc.Kind
		field string
	}{
		{"one party", func(c *lc.Propose) { c.Parties = []lc.PartyCode{"PA"}; c.Milestones = c.Milestones[:1] }, coord("PA"), lc.KindInvalidInput, "parties"},
		{"no parties", func(c *lc.Propose) { c.Parties = nil }, coord("PA"), lc.KindInvalidInput, "parties"},
		{"too many parties", func(c *lc.Propose) {
			c.Parties = nil
			for i := range 13 {
				c.Parties = append(c.Parties, lc.PartyCode(rune('A'+i)))
			}
		}, coord("PA"), lc.KindInvalidInput, "parties"},
		{"duplicate party", func(c *lc.Propose) { c.Parties = []lc.PartyCode{"PA", "US", "PA"} }, coord("PA"), lc.KindInvalidInput, "parties[2]"},
		{"party not in dialogue", func(c *lc.Propose) { c.Parties = []lc.PartyCode{"PA", "FR"} }, coord("PA"), lc.KindInvalidInput, "parties[1]"},
		{"unknown time zone", func(c *lc.Propose) {
			c.DialogueParties = []lc.Party{{Code: "PA", TimeZone: "UTC"}, {Code: "US", TimeZone: "Mars/Olympus"}}
		}, coord("PA"), lc.KindInvalidInput, "parties[1]"},
		{"empty time zone", func(c *lc.Propose) {
			c.DialogueParties = []lc.Party{{Code: "PA", TimeZone: ""}, {Code: "US", TimeZone: "UTC"}}
		}, coord("PA"), lc.KindInvalidInput, "parties[0]"},
		{"machine-local time zone", func(c *lc.Propose) {
			c.DialogueParties = []lc.Party{{Code: "PA", TimeZone: "UTC"}, {Code: "US", TimeZone: "Local"}}
		}, coord("PA"), lc.KindInvalidInput, "parties[1]"},
		{"proposer's party not included", func(c *lc.Propose) {
			c.Parties = []lc.PartyCode{"US", "MX"}
			c.Milestones[0].Owner = "MX"
		}, coord("PA"), lc.KindInvalidInput, "parties"},
		{"proposer without a party", func(*lc.Propose) {}, lc.Principal{ID: "p", Roles: []lc.Role{lc.RoleCoordinator}}, lc.KindInvalidInput, "parties"},
		{"approver proposes", func(*lc.Propose) {}, approver("PA"), lc.KindForbidden, ""},
		{"observer proposes", func(*lc.Propose) {}, observer("PA"), lc.KindForbidden, ""},
		{"admin proposes", func(*lc.Propose) {}, lc.Principal{ID: "a", Party: "PA", Roles: []lc.Role{lc.RoleAdmin}}, lc.KindForbidden, ""},
		{"no activity id", func(c *lc.Propose) { c.ActivityID = "" }, coord("PA"), lc.KindInvalidInput, "activity_id"},
		{"bad activity id", func(c *lc.Propose) { c.ActivityID = "-act" }, coord("PA"), lc.KindInvalidInput, "activity_id"},
		{"no dialogue", func(c *lc.Propose) { c.Dialogue = "" }, coord("PA"), lc.KindInvalidInput, "dialogue"},
		{"blank title", func(c *lc.Propose) { c.Title = lc.Plain("   ") }, coord("PA"), lc.KindInvalidInput, "title"},
		{"long title", func(c *lc.Propose) { c.Title = lc.Plain(long) }, coord("PA"), lc.KindInvalidInput, "title"},
		{"invalid UTF-8 title", func(c *lc.Propose) { c.Title = lc.Plain("a\xffb") }, coord("PA"), lc.KindInvalidInput, "title"},
		{"long summary", func(c *lc.Propose) { c.Summary = lc.Plain(strings.Repeat("s", 20001)) }, coord("PA"), lc.KindInvalidInput, "summary"},
		{"blank objective", func(c *lc.Propose) { c.Objectives = plains("ok", " ") }, coord("PA"), lc.KindInvalidInput, "objectives[1]"},
		{"too many objectives", func(c *lc.Propose) { c.Objectives = make([]lc.Text, 51) }, coord("PA"), lc.KindInvalidInput, "objectives"},
		{"no milestones", func(c *lc.Propose) { c.Milestones = nil }, coord("PA"), lc.KindInvalidInput, "milestones"},
		{"too many milestones", func(c *lc.Propose) { c.Milestones = make([]lc.MilestoneSpec, 241) }, coord("PA"), lc.KindInvalidInput, "milestones"},
		{"bad milestone id", func(c *lc.Propose) { c.Milestones[1].ID = "has space" }, coord("PA"), lc.KindInvalidInput, "milestones[1].id"},
		{"duplicate milestone id", func(c *lc.Propose) { c.Milestones[1].ID = "m1" }, coord("PA"), lc.KindInvalidInput, "milestones[1].id"},
		{"default id collides", func(c *lc.Propose) { c.Milestones[0].ID = ""; c.Milestones[1].ID = "m1" }, coord("PA"), lc.KindInvalidInput, "milestones[1].id"},
		{"blank milestone title", func(c *lc.Propose) { c.Milestones[0].Title = lc.Plain("") }, coord("PA"), lc.KindInvalidInput, "milestones[0].title"},
		{"bad horizon", func(c *lc.Propose) { c.Milestones[0].Horizon = "eternal" }, coord("PA"), lc.KindInvalidInput, "milestones[0].horizon"},
		{"no owner", func(c *lc.Propose) { c.Milestones[0].Owner = "" }, coord("PA"), lc.KindInvalidInput, "milestones[0].owner"},
		{"owner of the dialogue but not the activity", func(c *lc.Propose) { c.Milestones[0].Owner = "ES" }, coord("PA"), lc.KindInvalidInput, "milestones[0].owner"},
		{"no due", func(c *lc.Propose) { c.Milestones[0].Due = " " }, coord("PA"), lc.KindInvalidInput, "milestones[0].due"},
		{"unparsable due", func(c *lc.Propose) { c.Milestones[0].Due = "next spring" }, coord("PA"), lc.KindInvalidInput, "milestones[0].due"},
		{"bad offset due", func(c *lc.Propose) { c.Milestones[0].Due = "P1.5M" }, coord("PA"), lc.KindInvalidInput, "milestones[0].due"},
		{"past instant due", func(c *lc.Propose) { c.Milestones[0].Due = t0.Add(-time.Second).Format(time.RFC3339) }, coord("PA"), lc.KindInvalidInput, "milestones[0].due"},
		{"due exactly now", func(c *lc.Propose) { c.Milestones[0].Due = t0.Format(time.RFC3339) }, coord("PA"), lc.KindInvalidInput, "milestones[0].due"},
		{"past date due", func(c *lc.Propose) { c.Milestones[1].Due = "2026-01-04" }, coord("PA"), lc.KindInvalidInput, "milestones[1].due"},
		{"NaN target", func(c *lc.Propose) { c.Milestones[0].Indicator = &lc.Indicator{Target: math.NaN()} }, coord("PA"), lc.KindInvalidInput, "milestones[0].indicator.target"},
		{"infinite baseline", func(c *lc.Propose) {
			c.Milestones[0].Indicator = &lc.Indicator{Target: 1, Baseline: ptr(math.Inf(-1))}
		}, coord("PA"), lc.KindInvalidInput, "milestones[0].indicator.baseline"},
		{"actual set up front", func(c *lc.Propose) { c.Milestones[0].Indicator = &lc.Indicator{Target: 1, Actual: ptr(0.5)} }, coord("PA"), lc.KindInvalidInput, "milestones[0].indicator.actual"},
		{"long unit", func(c *lc.Propose) {
			c.Milestones[0].Indicator = &lc.Indicator{Target: 1, Unit: lc.Plain(strings.Repeat("u", 33))}
		}, coord("PA"), lc.KindInvalidInput, "milestones[0].indicator.unit"},
		{"approval window zero", func(c *lc.Propose) { c.Policy.ApprovalWindow = ptr(time.Duration(0)) }, coord("PA"), lc.KindInvalidInput, "policy.approval_window"},
		{"approval window over two years", func(c *lc.Propose) { c.Policy.ApprovalWindow = ptr(733 * day) }, coord("PA"), lc.KindInvalidInput, "policy.approval_window"},
		{"reminder cadence zero", func(c *lc.Propose) { c.Policy.ApprovalReminderEvery = ptr(time.Duration(0)) }, coord("PA"), lc.KindInvalidInput, "policy.approval_reminder_every"},
		{"negative due-soon lead", func(c *lc.Propose) { c.Policy.DueSoonLead = ptr(-time.Second) }, coord("PA"), lc.KindInvalidInput, "policy.due_soon_lead"},
		{"overdue cadence sub-second", func(c *lc.Propose) { c.Policy.OverdueReminderEvery = ptr(time.Millisecond) }, coord("PA"), lc.KindInvalidInput, "policy.overdue_reminder_every"},
		{"negative reminder count", func(c *lc.Propose) { c.Policy.OverdueReminders = ptr(-1) }, coord("PA"), lc.KindInvalidInput, "policy.overdue_reminders"},
		{"reminder count over 20", func(c *lc.Propose) { c.Policy.OverdueReminders = ptr(21) }, coord("PA"), lc.KindInvalidInput, "policy.overdue_reminders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := proposal()
			tt.edit(&cmd)
			refuse(t, lc.State{}, cmd, tt.actor, t0, tt.kind, tt.field)
		})
	}
}

func TestProposeTwiceIsRefused(t *testing.T) {
	s := proposed(t, proposal())
	refuse(t, s, proposal(), coord("PA"), t0, lc.KindInvalidTransition, "")
}

func TestProposePolicyOverrides(t *testing.T) {
	cmd := proposal()
	cmd.Policy = lc.PolicyOverrides{
		ApprovalWindow:        ptr(10 * day),
		ApprovalReminderEvery: ptr(2 * day),
		DueSoonLead:           ptr(time.Duration(0)),
		OverdueReminderEvery:  ptr(time.Hour),
		OverdueReminders:      ptr(0),
	}
	s := proposed(t, cmd)
	want := lc.Policy{ApprovalWindow: 10 * day, ApprovalReminderEvery: 2 * day, OverdueReminderEvery: time.Hour}
	if s.Policy != want {
		t.Errorf("policy = %+v, want %+v", s.Policy, want)
	}
	if !s.ExpiresAt.Equal(t0.Add(10 * day)) {
		t.Errorf("expires at %s", s.ExpiresAt)
	}
	// A partial override keeps the other defaults.
	cmd.Policy = lc.PolicyOverrides{OverdueReminders: ptr(5)}
	s = proposed(t, cmd)
	want = lc.DefaultPolicy()
	want.OverdueReminders = 5
	if s.Policy != want {
		t.Errorf("policy = %+v, want %+v", s.Policy, want)
	}
}

// The term is derived from the distance between activation (or, before
// it, the proposal) and the due time: up to 12 months short, up to 36
// medium, beyond long; a given horizon always wins.
func TestHorizonDerivation(t *testing.T) {
	at := func(d time.Time) string { return d.Format(time.RFC3339) }
	tests := []struct {
		due         string
		horizon     lc.Horizon
		provisional lc.Horizon
		activeAt    time.Time
		atActive    lc.Horizon
	}{
		{at(t0.AddDate(1, 0, 0)), "", lc.HorizonShort, t0, lc.HorizonShort},
		{at(t0.AddDate(1, 0, 0).Add(time.Second)), "", lc.HorizonMedium, t0, lc.HorizonMedium},
		{at(t0.AddDate(3, 0, 0)), "", lc.HorizonMedium, t0, lc.HorizonMedium},
		{at(t0.AddDate(3, 0, 0).Add(time.Second)), "", lc.HorizonLong, t0, lc.HorizonLong},
		// Activation 200 days later brings a 400-day due inside 12 months.
		{at(t0.Add(400 * day)), "", lc.HorizonMedium, t0.Add(200 * day), lc.HorizonShort},
		{at(t0.Add(400 * day)), lc.HorizonLong, lc.HorizonLong, t0.Add(200 * day), lc.HorizonLong},
		{"2026-06-30", "", lc.HorizonShort, t0, lc.HorizonShort},
		{"P12M", "", lc.HorizonShort, t0, lc.HorizonShort},
		{"P12MT1S", "", lc.HorizonMedium, t0, lc.HorizonMedium},
		{"P1Y6M", "", lc.HorizonMedium, t0.Add(30 * day), lc.HorizonMedium},
		{"P3Y", "", lc.HorizonMedium, t0, lc.HorizonMedium},
		{"P3YT1S", "", lc.HorizonLong, t0, lc.HorizonLong},
		{"P5Y", lc.HorizonShort, lc.HorizonShort, t0, lc.HorizonShort},
	}
	for _, tt := range tests {
		t.Run(tt.due+"/"+string(tt.horizon), func(t *testing.T) {
			cmd := proposal()
			// PA is in Panama, which has no daylight saving, so offsets
			// keep the UTC clock time and the boundaries are exact.
			cmd.Milestones[0].Due, cmd.Milestones[0].Horizon = tt.due, tt.horizon
			cmd.Policy.ApprovalWindow = ptr(365 * day) // room for a late activation
			s := proposed(t, cmd)
			if got := milestone(t, s, "m1").Term; got != tt.provisional {
				t.Errorf("provisional term = %s, want %s", got, tt.provisional)
			}
			s = activeAt(t, s, tt.activeAt)
			m := milestone(t, s, "m1")
			if m.Term != tt.atActive {
				t.Errorf("term at activation = %s, want %s (due %s)", m.Term, tt.atActive, m.DueAt)
			}
			if m.Horizon != tt.horizon {
				t.Errorf("the given horizon changed from %q to %q", tt.horizon, m.Horizon)
			}
		})
	}
}

// A calendar date ends at 23:59:59 in the owner's zone, daylight saving
// included; an offset keeps the owner's local clock time.
func TestDueResolution(t *testing.T) {
	tests := []struct {
		owner lc.PartyCode
		due   string
		want  time.Time
	}{
		{"US", "2027-03-31", time.Date(2027, 4, 1, 3, 59, 59, 0, time.UTC)},
		{"US", "2027-01-15", time.Date(2027, 1, 16, 4, 59, 59, 0, time.UTC)},
		{"PA", "2027-03-31", time.Date(2027, 4, 1, 4, 59, 59, 0, time.UTC)},
		{"ES", "2027-03-31", time.Date(2027, 3, 31, 21, 59, 59, 0, time.UTC)},
		{"US", "2027-03-31T17:00:00-04:00", time.Date(2027, 3, 31, 21, 0, 0, 0, time.UTC)},
		{"US", "2027-03-31T17:00:00.5Z", time.Date(2027, 3, 31, 17, 0, 0, 5e8, time.UTC)},
		// Activation is t0 = 09:00Z = 04:00 EST; six months on is 04:00 EDT.
		{"US", "P6M", time.Date(2026, 7, 5, 8, 0, 0, 0, time.UTC)},
		{"PA", "P6M", time.Date(2026, 7, 5, 9, 0, 0, 0, time.UTC)},
		{"US", "P1Y6M", time.Date(2027, 7, 5, 8, 0, 0, 0, time.UTC)},
		{"US", "PT2M", t0.Add(2 * time.Minute)},
		{"US", "P2W", t0.Add(14 * day)},
		{"ES", "P1DT12H", t0.Add(36 * time.Hour)},
		{"US", "p10d", t0.Add(10 * day)},
	}
	for _, tt := range tests {
		t.Run(string(tt.owner)+" "+tt.due, func(t *testing.T) {
			cmd := proposal("PA", "US", "ES")
			cmd.Milestones[0].Owner, cmd.Milestones[0].Due = tt.owner, tt.due
			s := activeAt(t, proposed(t, cmd), t0)
			if got := milestone(t, s, "m1").DueAt; !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("due at %s, want %s", got, tt.want)
			}
		})
	}
}
