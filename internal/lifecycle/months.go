package lifecycle

import "time"

// rulesClampMonths is the first rule version whose month arithmetic
// clamps to the end of the month (see AddToRules).
const rulesClampMonths = 2

// AddToRules returns t moved forward by the period in t's location, with
// the month arithmetic of rule version rules.
//
// From version 2 the years and months are added first as one number of
// months, landing on the same day of the month or, when the target month
// is shorter, on its last day: 31 January plus P1M is 28 February (29 in a
// leap year), as in PostgreSQL and java.time and as a coordinator reading
// "one month after activation" expects. Then the days, on the wall clock,
// then the clock part as elapsed time. Earlier versions keep AddTo, whose
// time.AddDate carries the overflow into the next month (31 January plus
// P1M is 3 March), so histories recorded under them replay unchanged.
func (p Period) AddToRules(t time.Time, rules int) time.Time {
	if rules < rulesClampMonths {
		return p.AddTo(t)
	}
	return addMonthsClamped(t, 12*p.Years+p.Months).AddDate(0, 0, p.Days).Add(p.Clock)
}

// addMonthsClamped adds n months to t's wall-clock date in t's location,
// keeping the time of day and clamping the day to the target month's length.
func addMonthsClamped(t time.Time, n int) time.Time {
	if n == 0 {
		return t
	}
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	// time.Date normalises month overflow, so the target month's first day
	// names the year and month; its length is the day before the next one.
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	if last := first.AddDate(0, 1, -1).Day(); d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, hh, mm, ss, t.Nanosecond(), t.Location())
}

// ResolveRules is Resolve with the month arithmetic of rule version rules
// (see Period.AddToRules): the core resolves a milestone's due time under
// its activity's State.Rules.
func (d Due) ResolveRules(loc *time.Location, activation time.Time, rules int) (t time.Time, ok bool) {
	if d.Kind != DueOffset || rules < rulesClampMonths {
		return d.Resolve(loc, activation)
	}
	if activation.IsZero() {
		return time.Time{}, false
	}
	return d.Offset.AddToRules(activation.In(loc), rules).UTC(), true
}
