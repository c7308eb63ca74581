package lifecycle_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

// ops is a little script language for the fuzzer: each step is an opcode
// byte followed by the bytes its arguments pick from fixed tables, so that
// nearly every input is a meaningful command sequence.
type ops struct{ b []byte }

func (o *ops) next() byte {
	if len(o.b) == 0 {
		return 0
	}
	c := o.b[0]
	o.b = o.b[1:]
	return c
}

func pick[T any](o *ops, from ...T) T { return from[int(o.next())%len(from)] }

// The opcodes of the script.
const (
	opPropose byte = iota
	opAmend
	opDecide
	opProgress
	opComplete
	opRequestExtension
	opDecideExtension
	opSuspend
	opResume
	opCancel
	opTick
	opTickAtWake
	opNil
	numOps
)

// fuzzSetup turns the setup byte into a valid proposal: 2 or 3 parties, 1
// to 3 milestones with assorted due forms, and one of a few policies.
func fuzzSetup(setup byte) lc.Propose {
	parties := []lc.PartyCode{"PA", "US"}
	if setup&1 != 0 {
		parties = append(parties, "MX")
	}
	cmd := proposal(parties...)
	dues := []string{
		t0.Add(10 * day).Format(time.RFC3339), t0.Add(90 * day).Format(time.RFC3339),
		"2026-03-31", "P1M", "PT2M", "P2Y", "P6M", t0.Add(3 * day).Format(time.RFC3339),
	}
	n := 1 + int(setup>>1)%3
	cmd.Milestones = nil
	for i := range n {
		cmd.Milestones = append(cmd.Milestones, lc.MilestoneSpec{
			ID:    fmt.Sprintf("m%d", i+1),
			Title: lc.Plain("milestone"),
			Owner: parties[i%len(parties)],
			Due:   dues[(int(setup>>5)+3*i)%len(dues)],
		})
	}
	// m1 alone measures something, so readings on the others are refused.
	cmd.Milestones[0].Indicator = &lc.Indicator{Target: 10}
	switch (setup >> 3) & 3 {
	case 1:
		cmd.Policy.OverdueReminders = ptr(0)
	case 2:
		cmd.Policy = lc.PolicyOverrides{DueSoonLead: ptr(time.Duration(0)), OverdueReminderEvery: ptr(time.Hour), OverdueReminders: ptr(1)}
	case 3:
		cmd.Policy = lc.PolicyOverrides{ApprovalWindow: ptr(10 * day), ApprovalReminderEvery: ptr(day), DueSoonLead: ptr(30 * day)}
	}
	return cmd
}

// fuzzActors are everyone who may try a command: each role of each
// dialogue party (ES is in the dialogue but never in the activity), a
// second approver per party, coordinators who also hold the approver role
// (coord-PA is the proposer), a principal without a party and an admin.
func fuzzActors() []lc.Principal {
	var out []lc.Principal
	for _, p := range []lc.PartyCode{"PA", "US", "MX", "ES"} {
		second := approver(p)
		second.ID = "appr2-" + string(p)
		out = append(out, coord(p), approver(p), observer(p), second)
	}
	out = append(out,
		lc.Principal{ID: "coord-PA", Party: "PA", Roles: []lc.Role{lc.RoleCoordinator, lc.RoleApprover}},
		lc.Principal{ID: "coord-US", Party: "US", Roles: []lc.Role{lc.RoleCoordinator, lc.RoleApprover}},
		lc.Principal{ID: "nobody", Roles: []lc.Role{lc.RoleApprover, lc.RoleCoordinator}},
		lc.Principal{ID: "admin", Party: "PA", Roles: []lc.Role{lc.RoleAdmin}},
	)
	return out
}

// command decodes one step into a command, its actor and how far the clock
// moves first.
func command(o *ops, s lc.State, orig lc.Propose, actors []lc.Principal, now time.Time) (lc.Command, lc.Principal, time.Time) {
	op := o.next() % numOps
	actor := actors[int(o.next())%len(actors)]
	now = now.Add(pick(o, 0, time.Minute, time.Hour, day, 7*day, 30*day))
	milestoneID := func() string { return pick(o, fuzzMilestoneIDs...) }
	reason := func() string { return pick(o, fuzzReasons...) }
	switch op {
	case opPropose:
		return orig, coord("PA"), now
	case opAmend:
		if len(s.Languages) > 0 {
			return amendTexts(o, s), actor, now
		}
		a := lc.Amend{BaseVersion: s.Version + pick(o, 0, 0, -1, 1), Title: orig.Title, Summary: orig.Summary, Objectives: orig.Objectives, Milestones: orig.Milestones}
		switch o.next() % 4 {
		case 1:
			a.Title = lc.Plain(fmt.Sprintf("revision %d", o.next()))
		case 2:
			a.Milestones = nil
		case 3:
			a.Title = lc.Plain(pick(o, oddText...))
		}
		return a, actor, now
	case opDecide:
		return lc.DecideProposal{
			Version:  s.Version + pick(o, 0, 0, 0, -1, 1),
			Party:    pick(o, withOdd[lc.PartyCode]("", actor.Party, "PA", "US", "MX")...),
			Decision: pick(o, lc.DecisionApprove, lc.DecisionApprove, lc.DecisionRequestChanges, lc.DecisionDecline, lc.DecisionPending, "bogus"),
			Comment:  reason(),
		}, actor, now
	case opProgress, opComplete:
		id := milestoneID()
		ev := pick(o, nil, []string{"https://e.org/x"}, []string{"ftp://e.org/x"},
			[]string{"https://e.org/\x00"}, []string{"https://e.org/ñ%_"}, []string{"\xff"},
			[]string{"https://e.org/" + strings.Repeat("x", 5000)})
		actual := pick(o, nil, ptr(1.5), ptr(math.NaN()))
		note := pick(o, fuzzNotes...)
		if op == opProgress {
			return lc.ReportProgress{MilestoneID: id, Evidence: ev, Actual: actual, Note: note}, actor, now
		}
		return lc.CompleteMilestone{MilestoneID: id, Evidence: ev, Actual: actual, Note: note}, actor, now
	case opRequestExtension:
		nd := pick(o,
			now.Add(day).Format(time.RFC3339), now.Add(30*day).Format(time.RFC3339), now.Add(400*day).Format(time.RFC3339),
			"2030-01-01", "P1M", now.Add(-time.Hour).Format(time.RFC3339), "junk")
		return lc.RequestExtension{MilestoneID: milestoneID(), NewDue: nd, Reason: reason()}, actor, now
	case opDecideExtension:
		return lc.DecideExtension{
			ExtensionID: pick(o, withOdd("x1", "x2", "x3", "x9")...),
			MilestoneID: pick(o, "", "", "m1", "m2"),
			Party:       pick(o, "", "", actor.Party, "PA", "US"),
			Decision:    pick(o, lc.DecisionApprove, lc.DecisionApprove, lc.DecisionDecline, lc.DecisionRequestChanges),
			Comment:     reason(),
		}, actor, now
	case opSuspend:
		return lc.Suspend{Reason: reason()}, actor, now
	case opResume:
		return lc.Resume{Reason: reason()}, actor, now
	case opCancel:
		return lc.Cancel{Reason: reason()}, actor, now
	case opTickAtWake:
		// Land exactly on the wake-up the core asked for, as the workflow does.
		if at, ok := lc.NextWake(s); ok && at.After(now) {
			now = at
		}
		return lc.Tick{}, clock, now
	case opTick:
		return lc.Tick{}, clock, now
	}
	return nil, actor, now
}

// oddText is text no form would produce but any client may send: NUL
// bytes, invalid UTF-8, C0 and C1 controls, a bidi override, non-ASCII
// letters, LIKE wildcards and strings far past every limit. The core may
// refuse any of it; it must not crash or break an invariant either way.
var oddText = []string{
	"\x00", "m1\x00", "\xff", "a\xc3", "\x1b[2J", "line\nbreak\r", "\t", "\x7f", "\u0085", "\u202eevil",
	"ñ", "act_ñ", "%", "_", "m%", "100%_\\", strings.Repeat("x", 5000), strings.Repeat("ñ", 3000),
}

// withOdd is base followed by oddText, so that the bytes of existing
// seeds still pick from base.
func withOdd[T ~string](base ...T) []T {
	out := slices.Clone(base)
	for _, s := range oddText {
		out = append(out, T(s))
	}
	return out
}

// fuzzTexts are the texts a script amends an activity with languages
// with: a plain string (the actor's language), each language alone, both,
// a removal, a language of no party, and text that is refused.
var fuzzTexts = []lc.Text{
	lc.Plain("texto"), {"en": "English text"}, {"es": "texto en español"}, {"es": ""}, {"en": ""},
	{"es": "uno", "en": "one"}, {"fr": "français"}, {"": "x", "en": "y"}, {"en": "a\x00b"},
}

// amendTexts decodes an amendment of one text of an activity with
// languages, keeping the rest of its content: the version offset, which
// text (title, summary, first objective, a milestone's title, m1's unit)
// and what to write from fuzzTexts.
func amendTexts(o *ops, s lc.State) lc.Amend {
	a := lc.Amend{BaseVersion: s.Version + pick(o, 0, 0, -1, 1), Title: s.Title, Summary: s.Summary, Objectives: s.Objectives}
	for _, m := range s.Milestones {
		a.Milestones = append(a.Milestones, m.MilestoneSpec)
	}
	field := o.next() % 5
	var idx int
	if field == 3 && len(a.Milestones) > 0 {
		idx = int(o.next()) % len(a.Milestones)
	}
	text := pick(o, fuzzTexts...)
	switch field {
	case 0:
		a.Title = text
	case 1:
		a.Summary = text
	case 2:
		a.Objectives = []lc.Text{text}
	case 3:
		if len(a.Milestones) > 0 {
			a.Milestones[idx].Title = text
		}
	case 4:
		if len(a.Milestones) > 0 && a.Milestones[0].Indicator != nil {
			in := *a.Milestones[0].Indicator
			in.Unit = text
			a.Milestones[0].Indicator = &in
		}
	}
	return a
}

// The tables the script picks text from.
var (
	fuzzMilestoneIDs = withOdd("m1", "m2", "m3", "zz")
	fuzzReasons      = withOdd("", "because", " ")
	fuzzNotes        = withOdd("", "note")
)

// history is what the event stream alone says, kept apart from State so the
// invariants do not trust the code they check.
type history struct {
	parties []lc.PartyCode
	// languages are the authentic ones, lang each party's, and lacking
	// the languages the current version lacks some text in.
	languages []string
	lang      map[lc.PartyCode]string
	lacking   map[string]bool
	policy    lc.Policy
	expires   time.Time
	version   int
	latest    map[lc.PartyCode]lc.Decision // each party's last word on version
	notices   map[string]notices           // per milestone, since it was armed
	seq       int64
}

type notices struct {
	dueSoon   int
	overdue   int
	escalated int
	last      time.Time // last overdue or escalation notice
}

func (h *history) observe(t *testing.T, e lc.Event, actor lc.Principal) {
	t.Helper()
	if e.Seq != h.seq+1 {
		t.Fatalf("event %s has seq %d after %d", e.Type, e.Seq, h.seq)
	}
	h.seq = e.Seq
	switch e.Type {
	case lc.EventApproved, lc.EventChangesRequested, lc.EventDeclined, lc.EventExtensionDecided:
		if e.Party != actor.Party || e.Actor != actor.ID {
			t.Fatalf("%s event for party %s by %s, but the actor is %s of %s", e.Type, e.Party, e.Actor, actor.ID, actor.Party)
		}
	}
	switch e.Type {
	case "":
		t.Fatalf("event with no type: %+v", e)
	case lc.EventProposed:
		h.parties = nil
		for _, p := range e.Proposal.Parties {
			h.parties = append(h.parties, p.Code)
		}
		h.policy, h.expires = e.Proposal.Policy, e.Proposal.ExpiresAt
		h.languages, h.lang = e.Proposal.Languages, map[lc.PartyCode]string{}
		for _, p := range e.Proposal.Parties {
			h.lang[p.Code] = p.Language
		}
		fallthrough
	case lc.EventAmended:
		h.version, h.latest = e.Version, map[lc.PartyCode]lc.Decision{}
		h.lacking = lacking(e.Content, h.languages)
	case lc.EventApproved, lc.EventChangesRequested, lc.EventDeclined:
		if !e.At.Before(h.expires) {
			t.Fatalf("%s at %s, after the approval window closed at %s", e.Type, e.At, h.expires)
		}
		if e.Version != h.version {
			t.Fatalf("%s on version %d while the current one is %d", e.Type, e.Version, h.version)
		}
		h.latest[e.Party] = e.Decision
		if e.Type == lc.EventApproved && h.lacking[h.lang[e.Party]] {
			t.Fatalf("%s approved version %d, which lacks a text in its language %s", e.Party, e.Version, h.lang[e.Party])
		}
	case lc.EventActivated:
		for l := range h.lacking {
			t.Fatalf("version %d activated without every text in %s", h.version, l)
		}
		if e.Version != h.version {
			t.Fatalf("activated version %d, current %d", e.Version, h.version)
		}
		for _, p := range h.parties {
			if h.latest[p] != lc.DecisionApprove {
				t.Fatalf("activated without %s approving version %d (last word %q)", p, h.version, h.latest[p])
			}
		}
		h.notices = map[string]notices{}
	case lc.EventExtensionApproved:
		delete(h.notices, e.Milestone) // the cycle restarts
	case lc.EventMilestoneDueSoon, lc.EventMilestoneOverdue, lc.EventMilestoneEscalated:
		h.notice(t, e)
	}
}

// lacking is, worked out apart from the core, the set of languages in
// which some text of the content that is written at all is not.
func lacking(c *lc.Content, langs []string) map[string]bool {
	texts := append([]lc.Text{c.Title, c.Summary}, c.Objectives...)
	for _, m := range c.Milestones {
		texts = append(texts, m.Title)
		if m.Indicator != nil {
			texts = append(texts, m.Indicator.Unit)
		}
	}
	out := map[string]bool{}
	for _, t := range texts {
		written := false
		for _, v := range t {
			written = written || strings.TrimSpace(v) != ""
		}
		for _, l := range langs {
			if written && strings.TrimSpace(t[l]) == "" {
				out[l] = true
			}
		}
	}
	return out
}

// notice checks one reminder against the cycle: at most one due-soon, and
// only before the due time; overdue notices numbered 1..N from the due time
// and a cadence apart; then at most one escalation.
func (h *history) notice(t *testing.T, e lc.Event) {
	t.Helper()
	n := h.notices[e.Milestone]
	switch e.Type {
	case lc.EventMilestoneDueSoon:
		if n.dueSoon > 0 || n.overdue > 0 || n.escalated > 0 || !e.At.Before(e.Due) {
			t.Fatalf("due-soon for %s at %s (due %s) after %+v", e.Milestone, e.At, e.Due, n)
		}
		n.dueSoon++
	default:
		if e.At.Before(e.Due) {
			t.Fatalf("%s for %s at %s before its due time %s", e.Type, e.Milestone, e.At, e.Due)
		}
		if !n.last.IsZero() && e.At.Sub(n.last) < h.policy.OverdueReminderEvery {
			t.Fatalf("%s for %s at %s only %s after the previous one", e.Type, e.Milestone, e.At, e.At.Sub(n.last))
		}
		if n.escalated > 0 {
			t.Fatalf("%s for %s after its escalation", e.Type, e.Milestone)
		}
		if e.Type == lc.EventMilestoneOverdue {
			n.overdue++
			if e.Notice != n.overdue || n.overdue > h.policy.OverdueReminders {
				t.Fatalf("overdue notice %d for %s is number %d of at most %d", e.Notice, e.Milestone, n.overdue, h.policy.OverdueReminders)
			}
		} else {
			if n.overdue != h.policy.OverdueReminders {
				t.Fatalf("escalation of %s after %d of %d reminders", e.Milestone, n.overdue, h.policy.OverdueReminders)
			}
			n.escalated++
		}
		n.last = e.At
	}
	h.notices[e.Milestone] = n
}

// checkState holds whatever the state alone must satisfy.
func checkState(t *testing.T, s lc.State) {
	t.Helper()
	switch s.Status {
	case lc.StatusActive, lc.StatusSuspended, lc.StatusCompleted:
		for _, a := range s.Approvals {
			if a.Decision != lc.DecisionApprove || a.Version != s.Version {
				t.Fatalf("status %s with %s at %q on v%d (current v%d)", s.Status, a.Party, a.Decision, a.Version, s.Version)
			}
		}
	}
	if s.Status == lc.StatusCompleted {
		for _, m := range s.Milestones {
			if m.Status != lc.MilestoneCompleted {
				t.Fatalf("completed with %s %s", m.ID, m.Status)
			}
		}
	}
	for _, m := range s.Milestones {
		if m.OverdueNotices > s.Policy.OverdueReminders {
			t.Fatalf("%s has %d overdue notices; the policy allows %d", m.ID, m.OverdueNotices, s.Policy.OverdueReminders)
		}
	}
	for _, x := range s.Extensions {
		if x.Status == lc.ExtensionApproved {
			for _, d := range x.Decisions {
				if d.Decision != lc.DecisionApprove {
					t.Fatalf("extension %s approved with %s at %q", x.ID, d.Party, d.Decision)
				}
			}
		}
	}
	if s.Status.Terminal() {
		if at, ok := lc.NextWake(s); ok {
			t.Fatalf("terminal %s still wakes at %s", s.Status, at)
		}
	}
}

// frozen is a deep copy of s made without the core's Clone, so that a
// Clone that shares memory cannot hide a mutation from the comparison.
func frozen(s lc.State) lc.State {
	c := s
	c.Parties = slices.Clone(s.Parties)
	c.Objectives = slices.Clone(s.Objectives)
	c.Approvals = slices.Clone(s.Approvals)
	c.RecipientCountries = slices.Clone(s.RecipientCountries)
	c.Publication = slices.Clone(s.Publication)
	c.Milestones = slices.Clone(s.Milestones)
	for i := range c.Milestones {
		m := &c.Milestones[i]
		m.Evidence, m.Notes = slices.Clone(m.Evidence), slices.Clone(m.Notes)
		if m.Indicator != nil {
			in := *m.Indicator
			in.Baseline, in.Actual = clonePtr(in.Baseline), clonePtr(in.Actual)
			m.Indicator = &in
		}
	}
	c.Extensions = slices.Clone(s.Extensions)
	for i := range c.Extensions {
		c.Extensions[i].Decisions = slices.Clone(c.Extensions[i].Decisions)
	}
	return c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

var knownKinds = []lc.Kind{lc.KindForbidden, lc.KindNotFound, lc.KindStaleVersion, lc.KindInvalidTransition, lc.KindInvalidInput}

// Actor indexes into fuzzActors, for writing seeds by hand.
const (
	coordPA, apprPA = 0, 1
	coordUS, apprUS = 4, 5
	apprMX          = 9
	proposerAppr    = 16 // coord-PA, who also holds the approver role
)

// approveAll is every party's approval of version 1, in three steps of
// opcode, actor, time step, version, party, decision, comment.
var approveAll = []byte{
	opDecide, apprPA, 0, 0, 0, 0, 0,
	opDecide, apprUS, 1, 0, 0, 0, 0,
	opDecide, apprMX, 1, 0, 0, 0, 0,
}

func seed(parts ...[]byte) []byte { return slices.Concat(parts...) }

// fuzzSeeds are the corpus FuzzLifecycle starts from; each reaches a
// deep state, which TestFuzzSeeds checks so that they stay useful.
var fuzzSeeds = []struct {
	name   string
	setup  byte
	script []byte
	want   func(lc.State) bool
}{
	{"three parties approve", 0x01, approveAll, func(s lc.State) bool { return s.Status == lc.StatusActive }},
	{"whole reminder cycle", 0x01, seed(approveAll, []byte{
		opTickAtWake, 0, 0, opTickAtWake, 0, 0, opTickAtWake, 0, 0,
		opTickAtWake, 0, 0, opTickAtWake, 0, 0, opTickAtWake, 0, 0,
	}), func(s lc.State) bool { return s.Milestones[0].Escalated }},
	{"extension approved, then completion", 0x02, seed(approveAll[:14], []byte{
		opRequestExtension, coordPA, 3, 0, 0, 1,
		opDecideExtension, apprUS, 0, 0, 0, 0, 0, 0,
		opDecideExtension, apprPA, 0, 0, 0, 0, 0, 0,
		opTickAtWake, 0, 0,
		opComplete, coordPA, 0, 0, 1, 0, 1,
	}), func(s lc.State) bool {
		return len(s.Extensions) == 1 && s.Extensions[0].Status == lc.ExtensionApproved && s.Milestones[0].Status == lc.MilestoneCompleted
	}},
	{"suspended through the due time", 0x12, seed(approveAll[:14], []byte{
		opSuspend, apprPA, 5, 1, opTick, 0, 5, opResume, apprUS, 5, 1, opTick, 0, 0, opTickAtWake, 0, 0,
	}), func(s lc.State) bool { return s.Status == lc.StatusActive && s.Milestones[0].Escalated }},
	{"changes requested, amended, reminded", 0x1b, []byte{
		opDecide, apprUS, 0, 0, 0, 2, 1,
		opAmend, coordUS, 2, 0, 1, 7,
		opDecide, apprUS, 0, 0, 0, 0, 0,
		opTickAtWake, 0, 0, opTickAtWake, 0, 0,
		opDecide, apprPA, 0, 0, 0, 0, 0,
	}, func(s lc.State) bool {
		return s.Status == lc.StatusProposed && s.Version == 2 && !s.LastApprovalReminderAt.IsZero()
	}},
	{"proposer refused, then declined", 0xe5, []byte{
		opDecide, proposerAppr, 0, 0, 0, 0, 0,
		opDecide, apprUS, 0, 0, 0, 3, 1,
		opCancel, apprPA, 0, 1,
		opNil, 0, 0,
	}, func(s lc.State) bool { return s.Status == lc.StatusDeclined }},
	// One activation under each other policy, ticking weekly from there.
	{"no overdue reminders", 0x09, seed(approveAll, []byte{opTick, 0, 4, opTick, 0, 4, opTick, 0, 4}),
		func(s lc.State) bool { return s.Status == lc.StatusActive }},
	{"hourly reminders, no due-soon", 0x11, seed(approveAll, []byte{opTick, 0, 4, opTick, 0, 4, opTick, 0, 4}),
		func(s lc.State) bool { return s.Status == lc.StatusActive }},
	{"long lead, short window", 0x19, seed(approveAll, []byte{opTick, 0, 4, opTick, 0, 4, opTick, 0, 4}),
		func(s lc.State) bool { return s.Status == lc.StatusActive }},
	{"expired", 0x40, []byte{opPropose, 0, 0, opTick, 0, 5, opTick, 0, 5, opTick, 0, 5},
		func(s lc.State) bool { return s.Status == lc.StatusExpired }},
	// Odd text (oddText) wherever a command carries some. Whether the core
	// takes or refuses it, the activity still activates and stays open.
	{"odd comments, reasons, notes and evidence", 0x01, oddTextScript(), func(s lc.State) bool {
		return s.Status == lc.StatusActive || s.Status == lc.StatusSuspended
	}},
	{"odd milestone and extension ids", 0x01, oddIDScript(), func(s lc.State) bool { return s.Status == lc.StatusActive }},
	{"odd titles amended", 0x01, oddTitleScript(), func(s lc.State) bool { return s.Status == lc.StatusActive }},
}

// oddTextScript decides for odd parties and requests changes with odd
// comments (amending after each, so the next request is for a new
// version), then, once every party approves, suspends, resumes and reports
// progress with odd reasons, notes and evidence.
func oddTextScript() []byte {
	var b []byte
	for i := range oddText {
		b = append(b,
			opDecide, apprPA, 0, 0, byte(5+i), 0, 1,
			opDecide, apprPA, 0, 0, 1, 2, byte(3+i),
			opAmend, coordPA, 0, 0, 1, byte(i))
	}
	b = append(b, approveAll...)
	for i := range oddText {
		b = append(b,
			opSuspend, apprPA, 0, byte(3+i),
			opResume, apprUS, 0, byte(3+i),
			opProgress, coordPA, 0, 0, byte(i%7), 0, byte(2+i))
	}
	return b
}

// oddIDScript names odd milestones and extensions in an active activity.
func oddIDScript() []byte {
	b := slices.Clone(approveAll)
	for i := range oddText {
		id := byte(4 + i)
		b = append(b,
			opRequestExtension, coordPA, 0, 1, id, 1,
			opDecideExtension, apprUS, 0, id, 0, 0, 0, 0,
			opComplete, coordPA, 0, id, 0, 0, 0)
	}
	return b
}

// oddTitleScript amends the title to each odd text, then approves
// whichever version is current.
func oddTitleScript() []byte {
	var b []byte
	for i := range oddText {
		b = append(b, opAmend, coordPA, 0, 0, 3, byte(i))
	}
	return append(b, approveAll...)
}

// multilingualSetup is fuzzSetup(setup) under rules 3 in a dialogue of
// Spanish and English, proposed by Panama in Spanish only.
func multilingualSetup(setup byte) lc.Propose {
	p := fuzzSetup(setup)
	p.Rules, p.DialogueParties = lc.CurrentRules, bilingualParties
	p.Title, p.Summary, p.Objectives = lc.Plain("Capacitación"), lc.Plain("Resumen"), plains("objetivo")
	return p
}

// englishAdded has the US coordinator add English to every text of a
// one-milestone activity, then both parties approve; apprUS is refused
// at first, as the English is missing.
var englishAdded = seed([]byte{
	opDecide, apprUS, 0, 0, 0, 0, 0,
	opAmend, coordUS, 0, 0, 0, 0,
	opAmend, coordUS, 0, 0, 1, 0,
	opAmend, coordUS, 0, 0, 2, 0,
	opAmend, coordUS, 0, 0, 3, 0, 0,
}, approveAll[:14])

// multilingualSeeds start FuzzMultilingual.
var multilingualSeeds = []struct {
	name   string
	setup  byte
	script []byte
	want   func(lc.State) bool
}{
	{"English added, both approve", 0x00, englishAdded, func(s lc.State) bool { return s.Status == lc.StatusActive && s.Title.Has("en") }},
	{"English removed again", 0x00, seed(englishAdded[:32], []byte{opAmend, coordPA, 0, 0, 0, 4}, approveAll[:14]),
		func(s lc.State) bool { return s.Status == lc.StatusProposed && !s.Title.Has("en") }},
	{"odd texts", 0x02, []byte{
		opAmend, coordUS, 0, 0, 0, 6, opAmend, coordUS, 0, 0, 1, 7, opAmend, coordUS, 0, 0, 3, 1, 8,
		opAmend, coordUS, 0, 0, 4, 5, opAmend, coordPA, 0, 0, 0, 3, opAmend, coordPA, 0, 1, 0, 2,
	}, func(s lc.State) bool {
		// Refused: French, plain and keyed at once, NUL, and the title
		// removed in its only language; taken: the unit in both, and a
		// new Spanish title.
		return s.Version == 3 && s.Title.Equal(lc.Text{"es": "texto en español"}) && s.Milestones[0].Indicator.Unit.Has("en")
	}},
}

func TestMultilingualFuzzSeeds(t *testing.T) {
	for _, sd := range multilingualSeeds {
		t.Run(sd.name, func(t *testing.T) {
			if s := play(t, multilingualSetup(sd.setup), sd.script); !sd.want(s) {
				t.Errorf("seed ended in %s v%d: %v", s.Status, s.Version, s.Title)
			}
		})
	}
}

// FuzzMultilingual plays random scripts on an activity with languages:
// no party approves a version lacking its language, and no version
// activates lacking any.
func FuzzMultilingual(f *testing.F) {
	for _, sd := range multilingualSeeds {
		f.Add(sd.setup, sd.script)
	}
	f.Fuzz(func(t *testing.T, setup byte, script []byte) {
		play(t, multilingualSetup(setup), script)
	})
}

func TestFuzzSeeds(t *testing.T) {
	for _, sd := range fuzzSeeds {
		t.Run(sd.name, func(t *testing.T) {
			if s := playScript(t, sd.setup, sd.script); !sd.want(s) {
				t.Errorf("seed ended in %s: %+v", s.Status, s.Milestones)
			}
		})
	}
}

// FuzzLifecycle plays random command scripts from random actors and checks
// the invariants after every step (see playScript).
func FuzzLifecycle(f *testing.F) {
	for _, sd := range fuzzSeeds {
		f.Add(sd.setup, sd.script)
	}
	f.Fuzz(func(t *testing.T, setup byte, script []byte) {
		playScript(t, setup, script)
	})
}

var fuzzPrincipals = fuzzActors()

// playScript proposes fuzzSetup(setup), then plays script against it,
// checking every invariant after each step; it returns the final state.
func playScript(t *testing.T, setup byte, script []byte) lc.State {
	t.Helper()
	return play(t, fuzzSetup(setup), script)
}

// play proposes orig, then plays script against it (see playScript).
func play(t *testing.T, orig lc.Propose, script []byte) lc.State {
	t.Helper()
	actors := fuzzPrincipals
	now := t0
	evs, err := lc.Decide(lc.State{}, orig, coord("PA"), now)
	if err != nil {
		t.Fatalf("setup proposal refused: %v", err)
	}
	var h history
	var s lc.State
	for _, e := range evs {
		h.observe(t, e, coord("PA"))
		s = lc.Apply(s, e)
	}
	o := &ops{b: script}
	for step := 0; len(o.b) > 0 && step < 300; step++ {
		cmd, actor, at := command(o, s, orig, actors, now)
		now = at
		before := frozen(s)
		wake, wakes := lc.NextWake(s)
		evs, err := lc.Decide(s, cmd, actor, now)
		if !reflect.DeepEqual(s, before) {
			t.Fatalf("Decide(%T) mutated its input", cmd)
		}
		if err != nil {
			var ce *lc.Error
			if !errors.As(err, &ce) || err != error(ce) {
				t.Fatalf("Decide(%T) error %v is %T, not *lifecycle.Error", cmd, err, err)
			}
			if !slices.Contains(knownKinds, ce.Kind) || ce.Message == "" {
				t.Fatalf("Decide(%T) error with kind %q: %v", cmd, ce.Kind, err)
			}
			if evs != nil {
				t.Fatalf("Decide(%T) returned events with an error", cmd)
			}
		}
		if s.Status.Terminal() {
			if _, tick := cmd.(lc.Tick); tick && len(evs) > 0 {
				t.Fatalf("the clock acted on a %s activity: %v", s.Status, types(evs))
			}
			if cmd != nil && err == nil && len(evs) > 0 {
				t.Fatalf("%T changed a %s activity", cmd, s.Status)
			}
		}
		// The clock and NextWake agree: a tick is owed something
		// exactly when the wake-up time has come.
		if _, tick := cmd.(lc.Tick); tick {
			owed := wakes && !now.Before(wake)
			if owed != (len(evs) > 0) {
				t.Fatalf("tick at %s: NextWake %s (%v) but events %v", now, wake, wakes, types(evs))
			}
		}
		prevSeq := s.Seq
		for _, e := range evs {
			if !e.At.Equal(now) {
				t.Fatalf("event %s at %s, decided at %s", e.Type, e.At, now)
			}
			h.observe(t, e, actor)
			pre := frozen(s)
			next := lc.Apply(s, e)
			if !reflect.DeepEqual(s, pre) {
				t.Fatalf("Apply(%s) mutated its input", e.Type)
			}
			if next.Seq < s.Seq {
				t.Fatalf("Seq went back from %d to %d", s.Seq, next.Seq)
			}
			s = next
		}
		if s.Seq != prevSeq+int64(len(evs)) {
			t.Fatalf("Seq %d after %d events from %d", s.Seq, len(evs), prevSeq)
		}
		checkState(t, s)
	}
	return s
}

func FuzzParseDue(f *testing.F) {
	for _, s := range []string{
		"2027-03-31", "2027-03-31T17:00:00-04:00", "2027-03-31T17:00:00.5Z", "P6M", "p1y6m", "PT2M",
		"", " ", "P", "2027-02-30", "2027/03/31", "9999-12-31", "0000-01-01", "P1.5D", "tomorrow",
		// NUL, invalid UTF-8, controls, non-ASCII, wildcards, length.
		"\x00", "P6M\x00", "2027-03-31\x00", "\x002027-03-31", "\xff", "P\xff", "2027-03-3\xff",
		"\t2027-03-31\n", "\x1b[0mP6M", "\u00a0P6M\u0085", "\x7f", "P6ñ", "ñ", "act_ñ", "2027-03-31T17:00:00+ñ",
		"%", "_", "P%M", "2027-03-%", "P1_M", strings.Repeat("P6M", 1000), "P" + strings.Repeat("9", 5000) + "D",
		"2027-03-31T17:00:00." + strings.Repeat("9", 5000) + "Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := lc.ParseDue(s)
		if err != nil {
			return
		}
		act := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
		ny, _ := lc.LoadZone("America/New_York")
		at, ok := d.Resolve(ny, act)
		if !ok || at.Location() != time.UTC {
			t.Fatalf("ParseDue(%q) = %+v resolves to %s, %v", s, d, at, ok)
		}
		// Every form parses back from its canonical spelling.
		var canon string
		switch d.Kind {
		case lc.DueInstant:
			canon = d.At.Format(time.RFC3339Nano)
		case lc.DueDate:
			canon = fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
		case lc.DueOffset:
			if d.Offset.IsZero() || !at.After(act) {
				t.Fatalf("offset %q = %+v resolves to %s, not after activation", s, d.Offset, at)
			}
			// Clamping to the month's end only moves a due time back, by
			// less than the three days 31 February overflows by, and never
			// to activation or before.
			monthEnd := time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC)
			old, _ := d.ResolveRules(ny, monthEnd, 1)
			clamped, ok := d.ResolveRules(ny, monthEnd, 2)
			if !ok || !clamped.After(monthEnd) || clamped.After(old) || old.Sub(clamped) > 3*24*time.Hour+time.Hour {
				t.Fatalf("offset %q = %+v from %s resolves to %s under rules 2 and %s under rules 1", s, d.Offset, monthEnd, clamped, old)
			}
			canon = d.Offset.String()
		default:
			t.Fatalf("ParseDue(%q) has kind %q", s, d.Kind)
		}
		back, err := lc.ParseDue(canon)
		if err != nil {
			t.Fatalf("ParseDue(%q) = %+v, but its canonical form %q fails: %v", s, d, canon, err)
		}
		if back.Kind != d.Kind || !back.At.Equal(d.At) || back.Year != d.Year || back.Month != d.Month || back.Day != d.Day || back.Offset != d.Offset {
			t.Fatalf("ParseDue(%q) = %+v, via %q = %+v", s, d, canon, back)
		}
	})
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{
		"P6M", "P2Y", "P1Y6M", "P2W", "PT2M", "P1DT12H", "PT1H30M15S", "p3d",
		"", "P", "PT", "P1.5D", "P1H", "P1Y1Y", "P999999999Y", "PT999999999H", "P0D", "P1DT", "PT1S1H",
		// NUL, invalid UTF-8, controls, non-ASCII, wildcards, length.
		"\x00", "P\x00", "P6M\x00", "P6\x00M", "\xff", "P\xff", "P6\xffM", "P\x1b6M", "P6M\n", "\tP6M",
		"P6ñ", "Pñ", "ñ", "act_ñ", "P٦M", "P６M", "%", "_", "P%M", "P1_M", "P6M%",
		strings.Repeat("P6M", 1000), "P" + strings.Repeat("1", 5000) + "D", "PT" + strings.Repeat("0", 5000) + "1S",
	} {
		f.Add(s)
	}
	const maxClock = 100 * 366 * 24 * time.Hour
	f.Fuzz(func(t *testing.T, s string) {
		p, err := lc.ParsePeriod(s)
		if err != nil {
			return
		}
		if p.IsZero() || p.Years < 0 || p.Months < 0 || p.Days < 0 || p.Clock < 0 ||
			p.Years > 100 || p.Months > 1200 || p.Days > 36600 || p.Clock > maxClock {
			t.Fatalf("ParsePeriod(%q) = %+v is out of bounds", s, p)
		}
		back, err := lc.ParsePeriod(p.String())
		if err != nil || back != p {
			t.Fatalf("ParsePeriod(%q) = %+v; String %q parses to %+v, %v", s, p, p.String(), back, err)
		}
		d, err := lc.ParseDuration(s)
		switch {
		case p.Years != 0 || p.Months != 0:
			if err == nil {
				t.Fatalf("ParseDuration(%q) accepted a calendar length", s)
			}
		case err != nil || d != time.Duration(p.Days)*24*time.Hour+p.Clock:
			t.Fatalf("ParseDuration(%q) = %s, %v; period %+v", s, d, err, p)
		}
	})
}
