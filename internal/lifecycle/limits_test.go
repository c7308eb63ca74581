package lifecycle_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	lc "pacto/internal/lifecycle"
)

// limitProbe runs one command whose field under test holds n characters,
// items or (for integers) the value n, and returns the core's answer.
type limitProbe func(t *testing.T, n int) error

// text is n characters of two bytes each, so a limit counted in bytes
// rather than characters would show.
func text(n int) string { return strings.Repeat("é", n) }

func limitProbes() map[string]limitProbe {
	propose := func(edit func(*lc.Propose)) error {
		cmd := proposal()
		edit(&cmd)
		_, err := lc.Decide(lc.State{}, cmd, coord("PA"), t0)
		return err
	}
	proposeIn := func(edit func(*lc.Propose)) error {
		cmd := spanishProposal()
		edit(&cmd)
		_, err := lc.Decide(lc.State{}, cmd, coord("PA"), t0)
		return err
	}
	active := func(t *testing.T) lc.State { return activeAt(t, proposed(t, proposal()), t0) }
	progress := func(t *testing.T, p lc.ReportProgress) error {
		p.MilestoneID = "m1"
		_, err := lc.Decide(active(t), p, coord("PA"), t0.Add(day))
		return err
	}
	links := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("https://evidence.example/%d", i)
		}
		return out
	}
	return map[string]limitProbe{
		"dialogue": func(_ *testing.T, n int) error {
			return propose(func(c *lc.Propose) { c.Dialogue = strings.Repeat("d", n) })
		},
		"parties": func(_ *testing.T, n int) error {
			return propose(func(c *lc.Propose) {
				c.DialogueParties, c.Parties = nil, nil
				for i := range n {
					code := lc.PartyCode(fmt.Sprintf("P%d", i))
					if i == 0 {
						code = "PA"
					}
					c.DialogueParties = append(c.DialogueParties, lc.Party{Code: code, TimeZone: "UTC"})
					c.Parties = append(c.Parties, code)
				}
				c.Milestones = c.Milestones[:1]
			})
		},
		"title":   func(_ *testing.T, n int) error { return propose(func(c *lc.Propose) { c.Title = lc.Plain(text(n)) }) },
		"summary": func(_ *testing.T, n int) error { return propose(func(c *lc.Propose) { c.Summary = lc.Plain(text(n)) }) },
		"objectives": func(_ *testing.T, n int) error {
			return propose(func(c *lc.Propose) { c.Objectives = plains(strings.Split(strings.Repeat("o,", n), ",")[:n]...) })
		},
		"objectives[]": func(_ *testing.T, n int) error {
			return propose(func(c *lc.Propose) { c.Objectives = plains(text(n)) })
		},
		"milestones": func(_ *testing.T, n int) error {
			return propose(func(c *lc.Propose) {
				first := c.Milestones[0]
				c.Milestones = nil
				for i := range n {
					m := first
					m.ID = fmt.Sprintf("m%d", i+1)
					c.Milestones = append(c.Milestones, m)
				}
			})
		},
		"milestones[].id": func(_ *testing.T, n int) error {
			return propose(func(c *lc.Propose) { c.Milestones[0].ID = strings.Repeat("m", n) })
		},
		"milestones[].title": func(_ *testing.T, n int) error {
			return propose(func(c *lc.Propose) { c.Milestones[0].Title = lc.Plain(text(n)) })
		},
		"milestones[].owner": func(_ *testing.T, n int) error {
			return propose(func(c *lc.Propose) { c.Milestones[0].Owner = lc.PartyCode(strings.Repeat("P", n)) })
		},
		"milestones[].due": func(_ *testing.T, n int) error {
			return propose(func(c *lc.Propose) { c.Milestones[0].Due = strings.Repeat("P", n) })
		},
		"milestones[].indicator.unit": func(_ *testing.T, n int) error {
			return propose(func(c *lc.Propose) { c.Milestones[0].Indicator = &lc.Indicator{Target: 1, Unit: lc.Plain(text(n))} })
		},
		"policy.overdue_reminders": func(_ *testing.T, n int) error {
			return propose(func(c *lc.Propose) { c.Policy.OverdueReminders = &n })
		},
		"comment": func(t *testing.T, n int) error {
			_, err := lc.Decide(proposed(t, proposal()), lc.DecideProposal{Version: 1, Decision: lc.DecisionApprove, Comment: text(n)}, approver("US"), t0)
			return err
		},
		"reason": func(t *testing.T, n int) error {
			_, err := lc.Decide(proposed(t, proposal()), lc.Cancel{Reason: text(n)}, approver("US"), t0)
			return err
		},
		"evidence": func(t *testing.T, n int) error { return progress(t, lc.ReportProgress{Evidence: links(n)}) },
		"evidence[]": func(t *testing.T, n int) error {
			link := "https://evidence.example/"
			return progress(t, lc.ReportProgress{Evidence: []string{link + strings.Repeat("a", n-len(link))}})
		},
		"note": func(t *testing.T, n int) error {
			return progress(t, lc.ReportProgress{Note: text(n), Evidence: links(1)})
		},
		// Texts keyed by language, in an activity with languages: the
		// English text of each is the one measured.
		"title{}": func(_ *testing.T, n int) error {
			return proposeIn(func(c *lc.Propose) { c.Title = lc.Text{"en": text(n), "es": "t"} })
		},
		"summary{}": func(_ *testing.T, n int) error {
			return proposeIn(func(c *lc.Propose) { c.Summary = lc.Text{"en": text(n)} })
		},
		"objectives[]{}": func(_ *testing.T, n int) error {
			return proposeIn(func(c *lc.Propose) { c.Objectives = []lc.Text{{"en": text(n)}} })
		},
		"milestones[].title{}": func(_ *testing.T, n int) error {
			return proposeIn(func(c *lc.Propose) { c.Milestones[0].Title = lc.Text{"en": text(n)} })
		},
		"milestones[].indicator.unit{}": func(_ *testing.T, n int) error {
			return proposeIn(func(c *lc.Propose) {
				c.Milestones[0].Indicator = &lc.Indicator{Target: 1, Unit: lc.Text{"en": text(n)}}
			})
		},
		"languages[]": func(_ *testing.T, n int) error {
			return proposeIn(func(c *lc.Propose) { c.Languages = []string{strings.Repeat("x", n), "es", "en"} })
		},
		"sector": func(_ *testing.T, n int) error {
			return propose(func(c *lc.Propose) { c.Sector = strings.Repeat("x", n) })
		},
		"recipient_countries": func(_ *testing.T, n int) error {
			return propose(func(c *lc.Propose) {
				for i := range n {
					c.RecipientCountries = append(c.RecipientCountries, string(rune('A'+i/26))+string(rune('A'+i%26)))
				}
			})
		},
		"recipient_countries[]": func(_ *testing.T, n int) error {
			return propose(func(c *lc.Propose) { c.RecipientCountries = []string{strings.Repeat("x", n)} })
		},
		"new_due": func(t *testing.T, n int) error {
			_, err := lc.Decide(active(t), lc.RequestExtension{MilestoneID: "m1", NewDue: strings.Repeat("2", n), Reason: "rain"}, coord("PA"), t0.Add(day))
			return err
		},
	}
}

// Every limit the core publishes is the one it enforces: a value at the
// bound is accepted and one past it is refused, naming the field. A limit
// added to the table without a probe here fails too.
func TestLimitsAreWhatTheCoreEnforces(t *testing.T) {
	probes := limitProbes()
	for field, l := range lc.Limits() {
		t.Run(field, func(t *testing.T) {
			probe := probes[field]
			if probe == nil {
				t.Fatalf("no probe for the limit on %s", field)
			}
			// The field an error names: the first element of a list.
			named := strings.Replace(strings.ReplaceAll(field, "[]", "[0]"), "{}", ".en", 1)
			accepts := func(n int) {
				t.Helper()
				if err := probe(t, n); err != nil {
					t.Errorf("%s of %d refused: %v", field, n, err)
				}
			}
			refuses := func(n int) {
				t.Helper()
				err := probe(t, n)
				e, ok := err.(*lc.Error)
				if !ok || e.Kind != lc.KindInvalidInput || (e.Field != named && e.Field != field) {
					t.Errorf("%s of %d: got %v, want an invalid %s", field, n, err, named)
				}
			}
			for _, b := range []struct{ min, max int }{{l.MinLength, l.MaxLength}, {l.MinItems, l.MaxItems}} {
				if b.max > 0 {
					accepts(b.max)
					refuses(b.max + 1)
				}
				if b.min > 0 {
					refuses(b.min - 1)
				}
			}
			if l.Minimum != nil {
				accepts(int(*l.Minimum))
				refuses(int(*l.Minimum) - 1)
			}
			if l.Maximum != nil {
				accepts(int(*l.Maximum))
				refuses(int(*l.Maximum) + 1)
			}
			if l.Pattern != "" {
				// The probe's value is n repetitions of one letter: the
				// pattern and the core must agree on each length.
				re := regexp.MustCompile(l.Pattern)
				for _, n := range []int{1, 100, 101} {
					if re.MatchString(strings.Repeat("x", n)) {
						accepts(n)
					} else {
						refuses(n)
					}
				}
			}
		})
	}
}

// The id pattern refuses what the core's ids refuse, such as '@'.
func TestIDPatternRefusesAt(t *testing.T) {
	re := regexp.MustCompile(lc.IDPattern())
	for id, want := range map[string]bool{"hld-pa-us": true, "a.b:c_d": true, "a@b": false, "-a": false, "": false} {
		if got := re.MatchString(id); got != want {
			t.Errorf("IDPattern matches %q = %v, want %v", id, got, want)
		}
	}
}
