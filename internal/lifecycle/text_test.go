package lifecycle_test

import (
	"strings"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

// unstorable are texts PostgreSQL or an XML export cannot carry.
var unstorable = map[string]string{
	"NUL":          "Capacitación\x00aduanera",
	"invalid UTF8": "Capacitaci\xf3n",
	"C0 control":   "bell\x07",
	"escape":       "\x1b[31mred",
	"U+FFFE":       "odd\uFFFEtext",
}

func TestCheckTextAcceptsWhatPeopleWrite(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"", "Capacitación aduanera", "línea 1\nlínea 2\r\n\tsangría", "<&>\"'", "日本語", "emoji 🎉", "\u00a0nbsp", "\u0085 NEL"} {
		if err := lc.CheckText(v); err != nil {
			t.Errorf("CheckText(%q) = %v, want nil", v, err)
		}
	}
	for name, v := range unstorable {
		if err := lc.CheckText(v); err == nil {
			t.Errorf("CheckText(%s %q) = nil, want an error", name, v)
		}
	}
}

// Every free-text field of every command refuses text that cannot be
// stored, naming the field, before any event exists.
func TestUnstorableTextIsRefusedInEveryCommand(t *testing.T) {
	t.Parallel()
	base := proposed(t, proposal())
	active := activeAt(t, base, t0.Add(day))
	later := t0.Add(2 * day)
	withExt, _ := run(t, active, lc.RequestExtension{MilestoneID: "m1", NewDue: t0.Add(120 * day).Format(time.RFC3339), Reason: "rain"}, coord("PA"), later)

	for name, bad := range unstorable {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cases := []struct {
				field string
				state lc.State
				cmd   lc.Command
				actor lc.Principal
			}{
				{"title", lc.State{}, func() lc.Command { p := proposal(); p.Title = lc.Plain(bad); return p }(), coord("PA")},
				{"summary", lc.State{}, func() lc.Command { p := proposal(); p.Summary = lc.Plain(bad); return p }(), coord("PA")},
				{"objectives[0]", lc.State{}, func() lc.Command { p := proposal(); p.Objectives = plains(bad); return p }(), coord("PA")},
				{"milestones[0].title", lc.State{}, func() lc.Command { p := proposal(); p.Milestones[0].Title = lc.Plain(bad); return p }(), coord("PA")},
				{"milestones[0].indicator.unit", lc.State{}, func() lc.Command {
					p := proposal()
					p.Milestones[0].Indicator = &lc.Indicator{Target: 1, Unit: lc.Plain(bad)}
					return p
				}(), coord("PA")},
				{"title", base, lc.Amend{BaseVersion: 1, Title: lc.Plain(bad), Milestones: specs(base)}, coord("US")},
				{"comment", base, lc.DecideProposal{Version: 1, Decision: lc.DecisionApprove, Comment: bad}, approver("US")},
				{"comment", base, lc.DecideProposal{Version: 1, Decision: lc.DecisionDecline, Comment: bad}, approver("US")},
				{"note", active, lc.ReportProgress{MilestoneID: "m1", Note: bad}, coord("PA")},
				{"evidence[0]", active, lc.ReportProgress{MilestoneID: "m1", Evidence: []string{"https://example.org/" + bad}}, coord("PA")},
				{"note", active, lc.CompleteMilestone{MilestoneID: "m1", Note: bad}, coord("PA")},
				{"reason", active, lc.RequestExtension{MilestoneID: "m1", NewDue: t0.Add(120 * day).Format(time.RFC3339), Reason: bad}, coord("PA")},
				{"comment", withExt, lc.DecideExtension{ExtensionID: "x1", Decision: lc.DecisionDecline, Comment: bad}, approver("US")},
				{"reason", active, lc.Suspend{Reason: bad}, approver("US")},
				{"reason", base, lc.Cancel{Reason: bad}, approver("US")},
			}
			for _, c := range cases {
				e := refuse(t, c.state, c.cmd, c.actor, later, lc.KindInvalidInput, c.field)
				if !strings.Contains(e.Message, "U+") && !strings.Contains(e.Message, "UTF-8") {
					t.Errorf("%T %s: message %q does not say what is wrong", c.cmd, c.field, e.Message)
				}
			}
		})
	}
}

func specs(s lc.State) []lc.MilestoneSpec {
	out := make([]lc.MilestoneSpec, len(s.Milestones))
	for i, m := range s.Milestones {
		out[i] = m.MilestoneSpec
	}
	return out
}
