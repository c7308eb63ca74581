package lifecycle_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

// activeV2 is an active two-party activity decided under rules 2, with a
// milestone per party due 90 days after t0.
func activeV2(t *testing.T) lc.State {
	t.Helper()
	p := proposal()
	p.Rules = 2
	return activeAt(t, proposed(t, p), t0)
}

func TestRules2KeepsBoundedSummariesOfReports(t *testing.T) {
	t.Parallel()
	s := activeV2(t)
	long := strings.Repeat("é", 3990)
	for i := range 30 {
		s, _ = run(t, s, lc.ReportProgress{MilestoneID: "m1", Note: fmt.Sprintf("%d %s", i, long),
			Evidence: []string{fmt.Sprintf("https://example.org/%d/a", i), fmt.Sprintf("https://example.org/%d/b", i)}}, coord("PA"), t0.Add(time.Duration(i+1)*time.Hour))
	}
	m := milestone(t, s, "m1")
	if m.NoteCount != 30 || m.EvidenceCount != 60 {
		t.Fatalf("counts = %d notes, %d links; want 30 and 60", m.NoteCount, m.EvidenceCount)
	}
	if len(m.Notes) != 2 || len(m.Evidence) != 5 {
		t.Fatalf("kept %d notes and %d links; want the latest 2 and 5", len(m.Notes), len(m.Evidence))
	}
	if !strings.HasPrefix(m.Notes[1].Text, "29 ") || len([]rune(m.Notes[1].Text)) != 280 || !strings.HasSuffix(m.Notes[1].Text, "…") {
		t.Fatalf("latest note kept as %q…, %d runes; want the 29th, cut to 280 runes", m.Notes[1].Text[:10], len([]rune(m.Notes[1].Text)))
	}
	if m.Evidence[4] != "https://example.org/29/b" {
		t.Fatalf("latest link = %q", m.Evidence[9])
	}

	// Rules 1 keeps what it always kept, so old histories replay unchanged.
	old := activeAt(t, proposed(t, proposal()), t0)
	old, _ = run(t, old, lc.ReportProgress{MilestoneID: "m1", Note: long}, coord("PA"), t0.Add(time.Hour))
	if m := milestone(t, old, "m1"); m.Notes[0].Text != long || m.NoteCount != 0 {
		t.Fatalf("rules 1 changed the kept note (count %d)", m.NoteCount)
	}
}

func TestRules2PrunesDecidedExtensionsWithoutReusingIDs(t *testing.T) {
	t.Parallel()
	s := activeV2(t)
	now := t0.Add(time.Hour)
	seen := map[string]bool{}
	for i := range 30 {
		due := milestone(t, s, "m1").DueAt.Add(24 * time.Hour).Format(time.RFC3339)
		var evs []lc.Event
		s, evs = run(t, s, lc.RequestExtension{MilestoneID: "m1", NewDue: due, Reason: "rain"}, coord("PA"), now)
		id := evs[0].Extension
		if seen[id] {
			t.Fatalf("request %d reused extension id %s", i, id)
		}
		seen[id] = true
		s, _ = run(t, s, lc.DecideExtension{ExtensionID: id, Decision: lc.DecisionDecline, Comment: "no"}, approver("US"), now)
	}
	if len(s.Extensions) != 20 || s.Extensions[0].ID != "x11" || s.Extensions[19].ID != "x30" {
		t.Fatalf("kept %d extensions from %s; want the latest 20 decided, x11 to x30", len(s.Extensions), s.Extensions[0].ID)
	}
}

func TestRules2RefusesACommandOverTheByteBudget(t *testing.T) {
	t.Parallel()
	// A report of 20 links of 2,048 characters full of '&', which JSON
	// writes as six bytes each, is over the budget for one change.
	s := activeV2(t)
	link := "https://example.org/?" + strings.Repeat("&", 2048-len("https://example.org/?"))
	links := make([]string, 20)
	for i := range links {
		links[i] = link
	}
	e := refuse(t, s, lc.ReportProgress{MilestoneID: "m1", Evidence: links}, coord("PA"), t0.Add(time.Hour), lc.KindInvalidInput, "")
	if !strings.Contains(e.Message, "KiB") {
		t.Fatalf("message %q does not say how large", e.Message)
	}
	// The same report is accepted under rules 1 (replays as it ran).
	old := activeAt(t, proposed(t, proposal()), t0)
	run(t, old, lc.ReportProgress{MilestoneID: "m1", Evidence: links}, coord("PA"), t0.Add(time.Hour))

	// A proposal whose content alone is over the state budget is refused
	// before it exists.
	p := proposal("PA", "US")
	p.Rules = 2
	p.Summary = lc.Plain(strings.Repeat("<", 20000))
	p.Objectives = nil
	for range 50 {
		p.Objectives = append(p.Objectives, lc.Plain(strings.Repeat("&", 1000)))
	}
	refuse(t, lc.State{}, p, coord("PA"), t0, lc.KindInvalidInput, "")
}

// The 12-month line between short and medium term is drawn with the same
// month arithmetic as due times: from rules 2, a year after 29 February is
// 28 February, so a milestone due on 1 March after it is medium term.
func TestHorizonFollowsTheRulesMonthArithmetic(t *testing.T) {
	t.Parallel()
	activation := time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		rules int
		want  lc.Horizon
	}{{1, lc.HorizonShort}, {2, lc.HorizonMedium}} {
		p := proposal()
		p.Rules = c.rules
		p.Milestones[0].Due = "2029-03-01T12:00:00Z"
		p.Milestones[1].Due = "2029-06-01T12:00:00Z"
		s, _ := run(t, lc.State{}, p, coord("PA"), activation.Add(-time.Hour))
		s = activeAt(t, s, activation)
		if got := milestone(t, s, "m1").Term; got != c.want {
			t.Errorf("rules %d: a milestone due 1 March 2029 after activation on 29 February 2028 is %s term, want %s", c.rules, got, c.want)
		}
	}
}
