package review

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Differences lists, one line each, the figures in which two reports of
// the same meeting disagree: activities, their statuses, milestones'
// states, due and completion times and indicators' actuals, extensions,
// counts and changes. Texts are not compared. No lines means the figures
// agree; checking a compiled report against Recompute's is how a frozen
// report is shown to rest on the audit log.
func Differences(a, b Report) []string {
	var out []string
	diff := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	ids := func(r Report) []string {
		s := make([]string, len(r.Activities))
		for i, x := range r.Activities {
			s[i] = x.ID
		}
		return s
	}
	if ia, ib := ids(a), ids(b); !slices.Equal(ia, ib) {
		diff("activities: %v against %v", ia, ib)
		return out
	}
	for i, x := range a.Activities {
		y := b.Activities[i]
		if x.Status != y.Status {
			diff("%s: status %s against %s", x.ID, x.Status, y.Status)
		}
		if x.ExtensionsGranted != y.ExtensionsGranted {
			diff("%s: %d extensions granted against %d", x.ID, x.ExtensionsGranted, y.ExtensionsGranted)
		}
		if len(x.Milestones) != len(y.Milestones) {
			diff("%s: %d milestones against %d", x.ID, len(x.Milestones), len(y.Milestones))
			continue
		}
		for j, m := range x.Milestones {
			n := y.Milestones[j]
			where := x.ID + "/" + m.ID
			switch {
			case m.ID != n.ID:
				diff("%s: milestone %s against %s", where, m.ID, n.ID)
			case m.State != n.State:
				diff("%s: %s against %s", where, m.State, n.State)
			case m.Owner != n.Owner || m.Term != n.Term:
				diff("%s: owner %s, term %s against %s, %s", where, m.Owner, m.Term, n.Owner, n.Term)
			case !sameTime(m.DueAt, n.DueAt):
				diff("%s: due %v against %v", where, m.DueAt, n.DueAt)
			case !sameTime(m.CompletedAt, n.CompletedAt):
				diff("%s: completed %v against %v", where, m.CompletedAt, n.CompletedAt)
			case !sameActual(m.Indicator, n.Indicator):
				diff("%s: indicator %+v against %+v", where, m.Indicator, n.Indicator)
			}
		}
	}
	if !maps.Equal(a.ByParty, b.ByParty) {
		diff("counts by party: %+v against %+v", a.ByParty, b.ByParty)
	}
	if !maps.Equal(a.ByTerm, b.ByTerm) {
		diff("counts by term: %+v against %+v", a.ByTerm, b.ByTerm)
	}
	for _, c := range []struct {
		name string
		a, b []string
	}{
		{"proposed", a.Changes.Proposed, b.Changes.Proposed},
		{"activated", a.Changes.Activated, b.Changes.Activated},
		{"declined", a.Changes.Declined, b.Changes.Declined},
		{"cancelled", a.Changes.Cancelled, b.Changes.Cancelled},
		{"completed", a.Changes.Completed, b.Changes.Completed},
	} {
		if !slices.Equal(c.a, c.b) {
			diff("%s since the last meeting: %v against %v", c.name, c.a, c.b)
		}
	}
	return out
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func sameActual(a, b *Indicator) bool {
	if a == nil || b == nil {
		return a == b
	}
	same := func(x, y *float64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return a.Target == b.Target && same(a.Actual, b.Actual) && same(a.Baseline, b.Baseline)
}
