package lifecycle_test

import (
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

// Month arithmetic from rule version 2 lands on the last day of a shorter
// month, as PostgreSQL and java.time do; versions 0 and 1 keep Go's
// AddDate, which carries the overflow into the next month.
func TestAddToRulesMonthEnd(t *testing.T) {
	type wall struct {
		y      int
		m      time.Month
		d, h   int
		minute int
	}
	tests := []struct {
		name   string
		zone   string
		start  wall
		period string
		clamp  wall // rules 2
		old    wall // rules 0 and 1
		utc    string
	}{
		{"31 Jan + P1M", "America/Panama", wall{2026, 1, 31, 10, 0}, "P1M", wall{2026, 2, 28, 10, 0}, wall{2026, 3, 3, 10, 0}, "2026-02-28T15:00:00Z"},
		{"31 Jan + P1M, leap year", "America/Panama", wall{2028, 1, 31, 10, 0}, "P1M", wall{2028, 2, 29, 10, 0}, wall{2028, 3, 2, 10, 0}, ""},
		{"31 Mar + P1M", "America/Panama", wall{2026, 3, 31, 10, 0}, "P1M", wall{2026, 4, 30, 10, 0}, wall{2026, 5, 1, 10, 0}, ""},
		{"30 Jan + P1M", "America/Panama", wall{2026, 1, 30, 10, 0}, "P1M", wall{2026, 2, 28, 10, 0}, wall{2026, 3, 2, 10, 0}, ""},
		{"29 Feb + P1Y", "America/Panama", wall{2028, 2, 29, 10, 0}, "P1Y", wall{2029, 2, 28, 10, 0}, wall{2029, 3, 1, 10, 0}, ""},
		{"29 Feb + P4Y", "America/Panama", wall{2028, 2, 29, 10, 0}, "P4Y", wall{2032, 2, 29, 10, 0}, wall{2032, 2, 29, 10, 0}, ""},
		{"31 Aug + P6M", "America/Panama", wall{2025, 8, 31, 10, 0}, "P6M", wall{2026, 2, 28, 10, 0}, wall{2026, 3, 3, 10, 0}, ""},
		{"31 Aug + P6M, leap year", "America/Panama", wall{2027, 8, 31, 10, 0}, "P6M", wall{2028, 2, 29, 10, 0}, wall{2028, 3, 2, 10, 0}, ""},
		{"31 Aug + P1Y6M", "America/Panama", wall{2025, 8, 31, 10, 0}, "P1Y6M", wall{2027, 2, 28, 10, 0}, wall{2027, 3, 3, 10, 0}, ""},
		{"31 Jan + P13M", "America/Panama", wall{2026, 1, 31, 10, 0}, "P13M", wall{2027, 2, 28, 10, 0}, wall{2027, 3, 3, 10, 0}, ""},
		{"31 Dec + P2M", "America/Panama", wall{2025, 12, 31, 10, 0}, "P2M", wall{2026, 2, 28, 10, 0}, wall{2026, 3, 3, 10, 0}, ""},
		{"15 Jan + P1M, nothing to clamp", "America/Panama", wall{2026, 1, 15, 10, 0}, "P1M", wall{2026, 2, 15, 10, 0}, wall{2026, 2, 15, 10, 0}, ""},
		// Months first, then days: P1M1D from 31 January is 1 March.
		{"31 Jan + P1M1D", "America/Panama", wall{2026, 1, 31, 10, 0}, "P1M1D", wall{2026, 3, 1, 10, 0}, wall{2026, 3, 4, 10, 0}, ""},
		{"31 Jan + P1M2W", "America/Panama", wall{2026, 1, 31, 10, 0}, "P1M2W", wall{2026, 3, 14, 10, 0}, wall{2026, 3, 17, 10, 0}, ""},
		// Then the clock part, as elapsed time.
		{"31 Jan 22:00 + P1MT3H", "America/Panama", wall{2026, 1, 31, 22, 0}, "P1MT3H", wall{2026, 3, 1, 1, 0}, wall{2026, 3, 4, 1, 0}, "2026-03-01T06:00:00Z"},
		// Across the US spring change (8 March 2026): the days keep the
		// wall clock, the 24 hours do not.
		{"31 Jan + P1M7DT24H, New York", "America/New_York", wall{2026, 1, 31, 12, 0}, "P1M7DT24H", wall{2026, 3, 8, 13, 0}, wall{2026, 3, 11, 12, 0}, "2026-03-08T17:00:00Z"},
		{"31 Jan + P1M8D, New York", "America/New_York", wall{2026, 1, 31, 12, 0}, "P1M8D", wall{2026, 3, 8, 12, 0}, wall{2026, 3, 11, 12, 0}, "2026-03-08T16:00:00Z"},
		{"31 Oct EDT + P4M, New York", "America/New_York", wall{2025, 10, 31, 9, 0}, "P4M", wall{2026, 2, 28, 9, 0}, wall{2026, 3, 3, 9, 0}, "2026-02-28T14:00:00Z"},
		{"31 Aug CEST + P6M, Madrid", "Europe/Madrid", wall{2025, 8, 31, 9, 0}, "P6M", wall{2026, 2, 28, 9, 0}, wall{2026, 3, 3, 9, 0}, "2026-02-28T08:00:00Z"},
		{"31 Jan CET + P2M, Madrid", "Europe/Madrid", wall{2026, 1, 31, 9, 0}, "P2M", wall{2026, 3, 31, 9, 0}, wall{2026, 3, 31, 9, 0}, "2026-03-31T07:00:00Z"},
		{"31 Mar + P1M, Chatham", "Pacific/Chatham", wall{2026, 3, 31, 12, 0}, "P1M", wall{2026, 4, 30, 12, 0}, wall{2026, 5, 1, 12, 0}, "2026-04-29T23:15:00Z"},
		{"31 May + P1M, Kolkata", "Asia/Kolkata", wall{2026, 5, 31, 12, 30}, "P1M", wall{2026, 6, 30, 12, 30}, wall{2026, 7, 1, 12, 30}, "2026-06-30T07:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := lc.LoadZone(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			p, err := lc.ParsePeriod(tt.period)
			if err != nil {
				t.Fatal(err)
			}
			at := func(w wall) time.Time { return time.Date(w.y, w.m, w.d, w.h, w.minute, 0, 0, loc) }
			start := at(tt.start)
			got := p.AddToRules(start, 2)
			if !got.Equal(at(tt.clamp)) {
				t.Errorf("rules 2: %s + %s = %s, want %s", start, tt.period, got, at(tt.clamp))
			}
			if tt.utc != "" && got.UTC().Format(time.RFC3339) != tt.utc {
				t.Errorf("rules 2: %s + %s = %s, want %s", start, tt.period, got.UTC().Format(time.RFC3339), tt.utc)
			}
			for _, rules := range []int{0, 1} {
				if got := p.AddToRules(start, rules); !got.Equal(at(tt.old)) {
					t.Errorf("rules %d: %s + %s = %s, want %s as before", rules, start, tt.period, got, at(tt.old))
				}
			}
			if got := p.AddTo(start); !got.Equal(at(tt.old)) {
				t.Errorf("AddTo: %s + %s = %s, want %s as before", start, tt.period, got, at(tt.old))
			}
			// Later rule versions keep the clamp.
			if got := p.AddToRules(start, 3); !got.Equal(at(tt.clamp)) {
				t.Errorf("rules 3: %s, want %s", got, at(tt.clamp))
			}
		})
	}
}

func TestResolveRules(t *testing.T) {
	pa, err := lc.LoadZone("America/Panama")
	if err != nil {
		t.Fatal(err)
	}
	// 22:00 on 30 January in Panama is already 31 January in UTC: the
	// month is counted on the owner's calendar.
	act := time.Date(2026, 1, 31, 3, 0, 0, 0, time.UTC)
	off := lc.Due{Kind: lc.DueOffset, Offset: lc.Period{Months: 1}}
	for rules, want := range map[int]time.Time{
		0: time.Date(2026, 3, 3, 3, 0, 0, 0, time.UTC),
		1: time.Date(2026, 3, 3, 3, 0, 0, 0, time.UTC),
		2: time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC), // 28 February, 22:00 in Panama
	} {
		got, ok := off.ResolveRules(pa, act, rules)
		if !ok || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("rules %d: P1M from %s resolves to %s, %v; want %s", rules, act, got, ok, want)
		}
		if _, ok := off.ResolveRules(pa, time.Time{}, rules); ok {
			t.Errorf("rules %d: an offset resolved before activation", rules)
		}
		// Dates and instants do not depend on month arithmetic.
		date := lc.Due{Kind: lc.DueDate, Year: 2026, Month: time.February, Day: 28}
		if got, ok := date.ResolveRules(pa, time.Time{}, rules); !ok || !got.Equal(time.Date(2026, 3, 1, 4, 59, 59, 0, time.UTC)) {
			t.Errorf("rules %d: date resolves to %s, %v", rules, got, ok)
		}
		inst := lc.Due{Kind: lc.DueInstant, At: act}
		if got, ok := inst.ResolveRules(pa, time.Time{}, rules); !ok || !got.Equal(act) {
			t.Errorf("rules %d: instant resolves to %s, %v", rules, got, ok)
		}
	}
}

// The core resolves offsets at activation under the activity's rules: an
// activity decided under version 2 activated on 31 January is due on the
// last day of February, one under version 1 as its history recorded.
func TestActivationMonthEndFollowsRules(t *testing.T) {
	for _, tt := range []struct {
		rules  int
		m1, m2 time.Time
	}{
		{1, time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC), time.Date(2026, 8, 31, 14, 0, 0, 0, time.UTC)},
		{2, time.Date(2026, 2, 28, 15, 0, 0, 0, time.UTC), time.Date(2026, 8, 31, 14, 0, 0, 0, time.UTC)},
	} {
		c := proposal("PA", "US")
		c.Rules = tt.rules
		c.Milestones[0].Due = "P1M"
		c.Milestones[1].Due = "P7M"
		s := proposed(t, c)
		if s.Rules != tt.rules {
			t.Fatalf("state decided under rules %d, want %d", s.Rules, tt.rules)
		}
		// 10:00 on 31 January in Panama.
		s = activeAt(t, s, time.Date(2026, 1, 31, 15, 0, 0, 0, time.UTC))
		if got := milestone(t, s, "m1").DueAt; !got.Equal(tt.m1) {
			t.Errorf("rules %d: P1M due at %s, want %s", tt.rules, got, tt.m1)
		}
		if got := milestone(t, s, "m2").DueAt; !got.Equal(tt.m2) {
			t.Errorf("rules %d: P7M due at %s, want %s", tt.rules, got, tt.m2)
		}
	}
}
