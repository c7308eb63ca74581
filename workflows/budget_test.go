package workflows

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"pacto/activities"
	"pacto/internal/lifecycle"
)

// payloadLimit is where Temporal starts warning about a payload; it
// refuses them at 2 MB.
const payloadLimit = 512 << 10

// worst builds the largest state legal commands can reach, greedily, and
// measures every payload the workflow would send on the way: the start
// input, each Update's request and answer, each Record input, the query
// answer and the continue-as-new input. Every text is at its limit in
// each of the dialogue's languages and made of characters JSON writes as
// six-byte escapes.
type worst struct {
	t       *testing.T
	s       lifecycle.State
	now     time.Time
	largest map[string]int
}

func (w *worst) measure(what string, v any) {
	w.t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayloads(v)
	if err != nil {
		w.t.Fatalf("encode %s: %v", what, err)
	}
	n := proto.Size(p)
	if n > w.largest[what] {
		w.largest[what] = n
	}
	if n >= payloadLimit {
		w.t.Fatalf("%s is %d KiB, over Temporal's %d KiB warning limit", what, n>>10, payloadLimit>>10)
	}
}

// try decides cmd; if the core accepts it, applies it and measures what
// the workflow would carry. It reports whether the command was accepted.
func (w *worst) try(cmd lifecycle.Command, who lifecycle.Principal) bool {
	w.t.Helper()
	w.now = w.now.Add(time.Minute)
	p, propose := cmd.(lifecycle.Propose)
	if !propose {
		w.measure("update request", Request[lifecycle.Command]{Actor: who, Command: cmd})
	}
	events, err := lifecycle.Decide(w.s, cmd, who, w.now)
	if err != nil {
		if lifecycle.KindOf(err) != lifecycle.KindInvalidInput || !strings.Contains(err.Error(), "KiB") {
			w.t.Fatalf("%s refused for another reason than its size: %v", cmd.CommandName(), err)
		}
		return false
	}
	if propose {
		// The API decides a proposal before it starts the workflow, so
		// only one the core accepts becomes a start input.
		w.measure("start input", Proposal(who, p))
	}
	w.apply(events)
	w.measure("update result", UpdateResult{Seq: w.s.Seq, Version: w.s.Version, Status: w.s.Status, StateHash: StateHash(w.s)})
	return true
}

func (w *worst) apply(events []lifecycle.Event) {
	w.t.Helper()
	for _, e := range events {
		w.s = lifecycle.Apply(w.s, e)
	}
	w.measure("record input", activities.RecordInput{Snapshot: w.s, Events: events, Refusable: true})
	w.measure("query answer", w.s)
	w.measure("continue-as-new input", Input{State: &w.s, Version: InputVersion})
}

// tick lets the clock act at t, as the workflow would.
func (w *worst) tick(at time.Time) {
	w.t.Helper()
	w.now = at
	events, err := lifecycle.Decide(w.s, lifecycle.Tick{}, lifecycle.Principal{ID: lifecycle.ClockActor}, at)
	if err != nil {
		w.t.Fatalf("tick: %v", err)
	}
	if len(events) > 0 {
		w.apply(events)
	}
}

func TestWorstCaseStateStaysUnderThePayloadLimit(t *testing.T) {
	w := &worst{t: t, now: t0, largest: map[string]int{}}
	amp := func(n int) string { return strings.Repeat("&", n) }
	lt := func(n int) string { return strings.Repeat("<", n) }
	// Under rules 3 every material text is written in each authentic
	// language, each up to the limit: the dialogue's two.
	both := func(s string) lifecycle.Text { return bilingual(s, s) }

	// The most milestones with the longest titles and units a proposal
	// can carry, then as much summary and as many objectives as fit.
	specs := func(n int) []lifecycle.MilestoneSpec {
		out := make([]lifecycle.MilestoneSpec, n)
		for i := range out {
			owner := lifecycle.PartyCode("PA")
			if i%2 == 1 {
				owner = "US"
			}
			out[i] = lifecycle.MilestoneSpec{ID: fmt.Sprintf("m%03d-%s", i, strings.Repeat("x", 95)), Title: both(amp(200)), Owner: owner,
				Due: fmt.Sprintf("P%dD", 10+i), Indicator: &lifecycle.Indicator{Target: 1e300, Baseline: ptr(-1e300), Unit: both(amp(32))}}
		}
		return out
	}
	n := 240
	for {
		p := proposal("worst")
		p.Rules = lifecycle.CurrentRules
		p.Milestones = specs(n)
		if w.try(p, paCoord) {
			break
		}
		if n -= 5; n <= 0 {
			t.Fatal("no proposal fits the budget")
		}
	}
	content := func() lifecycle.Amend {
		a := lifecycle.Amend{BaseVersion: w.s.Version, Title: w.s.Title, Summary: w.s.Summary, Objectives: w.s.Objectives}
		for _, m := range w.s.Milestones {
			a.Milestones = append(a.Milestones, m.MilestoneSpec)
		}
		return a
	}
	for size := 1000; size <= 20000; size += 1000 {
		a := content()
		a.Summary = both(lt(size))
		if !w.try(a, usCoord) {
			break
		}
	}
	for range 50 {
		a := content()
		a.Objectives = append(a.Objectives, both(lt(1000)))
		if !w.try(a, usCoord) {
			break
		}
	}
	for _, who := range []lifecycle.Principal{paApprover, usApprover} {
		if !w.try(lifecycle.DecideProposal{Version: w.s.Version, Decision: lifecycle.DecisionApprove, Comment: lt(4000)}, who) &&
			!w.try(lifecycle.DecideProposal{Version: w.s.Version, Decision: lifecycle.DecisionApprove}, who) {
			t.Fatalf("%s could not approve the worst-case proposal", who.ID)
		}
	}
	if w.s.Status != lifecycle.StatusActive {
		t.Fatalf("worst-case activity is %s, want active", w.s.Status)
	}

	// Reports with the longest note and as many of the longest links as
	// one change may carry, on every milestone, until the state is full.
	link := "https://example.org/?" + amp(2048-len("https://example.org/?"))
	links := 20
	reported := 0
	for round := range 3 {
		for _, m := range w.s.Milestones {
			coord := paCoord
			if m.Owner == "US" {
				coord = usCoord
			}
			for links > 0 && !w.try(lifecycle.ReportProgress{MilestoneID: m.ID, Note: lt(4000), Evidence: repeat(link, links)}, coord) {
				if round > 0 || reported > 0 {
					break // the state is full, not the change too large
				}
				links--
			}
			reported++
		}
	}
	// Extensions with the longest reasons, declined with the longest
	// comments, until the state refuses more.
	for i, m := range w.s.Milestones {
		coord, other := paCoord, usApprover
		if m.Owner == "US" {
			coord, other = usCoord, paApprover
		}
		if !w.try(lifecycle.RequestExtension{MilestoneID: m.ID, NewDue: "P1Y", Reason: lt(4000)}, coord) {
			break
		}
		w.try(lifecycle.DecideExtension{ExtensionID: w.s.Extensions[len(w.s.Extensions)-1].ID, Decision: lifecycle.DecisionDecline, Comment: lt(4000)}, other)
		if i > 40 {
			break
		}
	}
	// The clock adds what it owes to every milestone without asking:
	// due-soon notices, every overdue reminder and the escalations.
	end := w.now.Add(3 * 366 * day)
	for at := w.now; at.Before(end); at = at.Add(day) {
		w.tick(at)
	}
	overdue := 0
	for _, m := range w.s.Milestones {
		if m.Escalated {
			overdue++
		}
	}
	if overdue == 0 {
		t.Fatal("the clock never escalated a milestone; the worst case is not reached")
	}
	state := lifecycle.EncodedSize(w.s)
	t.Logf("worst case: %d milestones, %d reports with %d links each, %d extensions kept, %d escalated; state %d KiB (budget %d KiB)",
		len(w.s.Milestones), reported, links, len(w.s.Extensions), overdue, state>>10, lifecycle.StateBudget>>10)
	for what, n := range w.largest {
		t.Logf("largest %s: %d KiB", what, n>>10)
	}
	if state < lifecycle.StateBudget*9/10 {
		t.Fatalf("the worst case reached only %d KiB of the %d KiB budget: it is not the worst case", state>>10, lifecycle.StateBudget>>10)
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
