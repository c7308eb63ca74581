package review

import (
	"context"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"pacto/internal/lifecycle"
)

func local(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

// Every six months at 10:00 in Panama City, hosted in turn; the clock time
// holds in New York across daylight saving time too.
func TestSemiannualMeetings(t *testing.T) {
	c := Calendar{First: local(2027, time.March, 15, 10, 0), Every: 6, Zone: "America/Panama", Hosts: []lifecycle.PartyCode{"PA", "US"}}
	ms, err := c.Meetings(time.Time{}, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []Meeting{
		{1, time.Date(2027, 3, 15, 15, 0, 0, 0, time.UTC), "PA"},
		{2, time.Date(2027, 9, 15, 15, 0, 0, 0, time.UTC), "US"},
		{3, time.Date(2028, 3, 15, 15, 0, 0, 0, time.UTC), "PA"},
		{4, time.Date(2028, 9, 15, 15, 0, 0, 0, time.UTC), "US"},
	}
	if !slices.Equal(ms, want) {
		t.Fatalf("meetings %v, want %v", ms, want)
	}
	ny := c
	ny.Zone = "America/New_York"
	ms, _ = ny.Meetings(time.Time{}, 2)
	if ms[0].At.Hour() != 14 || ms[1].At.Hour() != 14 { // 10:00 EDT both in March and September
		t.Fatalf("New York meetings at %v", ms)
	}
	ny.First = local(2027, time.January, 20, 10, 0)
	ms, _ = ny.Meetings(time.Time{}, 2)
	if ms[0].At.Hour() != 15 || ms[1].At.Hour() != 14 { // EST in January, EDT in July
		t.Fatalf("New York meetings across DST at %v", ms)
	}
	// The 31st becomes the end of a shorter month, as due dates do.
	end := Calendar{First: local(2027, time.August, 31, 9, 0), Every: 6, Zone: "America/Panama", Hosts: []lifecycle.PartyCode{"PA"}}
	ms, _ = end.Meetings(time.Time{}, 2)
	if ms[1].At.Month() != time.February || ms[1].At.Day() != 29 {
		t.Fatalf("31 August + 6 months is %v, want 29 February 2028", ms[1].At)
	}
}

// A meeting moved or cancelled keeps the others' numbers and hosts, and
// only meetings from a time on are listed.
func TestMovedAndCancelledMeetings(t *testing.T) {
	c := Calendar{First: local(2027, time.March, 15, 10, 0), Every: 6, Zone: "America/Panama", Hosts: []lifecycle.PartyCode{"PA", "US"},
		Moved: map[int]time.Time{2: local(2027, time.October, 4, 9, 30)}, Cancelled: []int{3}}
	ms, err := c.Meetings(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []Meeting{
		{2, time.Date(2027, 10, 4, 14, 30, 0, 0, time.UTC), "US"},
		{4, time.Date(2028, 9, 15, 15, 0, 0, 0, time.UTC), "US"},
	}
	if !slices.Equal(ms, want) {
		t.Fatalf("meetings %v, want %v", ms, want)
	}
	dates := Calendar{Dates: []time.Time{local(2027, time.May, 3, 11, 0), local(2027, time.November, 8, 11, 0)}, Zone: "America/New_York", Hosts: []lifecycle.PartyCode{"US", "PA"}}
	ms, err = dates.Meetings(time.Time{}, 10)
	if err != nil || len(ms) != 2 || ms[1].Host != "PA" || ms[1].At.Hour() != 16 {
		t.Fatalf("explicit dates: %v, %v", ms, err)
	}
}

// Meetings come in time order, the soonest n, whatever the order of the
// dates (a meeting added later takes the next number) and wherever a move
// puts a meeting.
func TestMeetingsInTimeOrder(t *testing.T) {
	dates := Calendar{Dates: []time.Time{local(2031, time.January, 10, 10, 0), local(2030, time.June, 1, 9, 0), local(2030, time.December, 1, 9, 0)},
		Zone: "America/Panama", Hosts: []lifecycle.PartyCode{"MX", "CO"}}
	ms, err := dates.Meetings(time.Time{}, 2)
	want := []Meeting{
		{2, time.Date(2030, 6, 1, 14, 0, 0, 0, time.UTC), "CO"},
		{3, time.Date(2030, 12, 1, 14, 0, 0, 0, time.UTC), "MX"},
	}
	if err != nil || !slices.Equal(ms, want) {
		t.Fatalf("the soonest two of dates out of order: %v, %v; want %v", ms, err, want)
	}
	rule := Calendar{First: local(2027, time.March, 15, 10, 0), Every: 6, Zone: "America/Panama", Hosts: []lifecycle.PartyCode{"PA", "US"},
		Moved: map[int]time.Time{1: local(2027, time.October, 1, 10, 0)}}
	ms, err = rule.Meetings(time.Time{}, 2)
	want = []Meeting{
		{2, time.Date(2027, 9, 15, 15, 0, 0, 0, time.UTC), "US"},
		{1, time.Date(2027, 10, 1, 15, 0, 0, 0, time.UTC), "PA"},
	}
	if err != nil || !slices.Equal(ms, want) {
		t.Fatalf("the soonest two with meeting 1 moved past 2: %v, %v; want %v", ms, err, want)
	}
}

func TestCalendarIsChecked(t *testing.T) {
	for name, c := range map[string]Calendar{
		"no zone":          {First: local(2027, 1, 1, 9, 0), Every: 6, Hosts: []lifecycle.PartyCode{"PA"}},
		"an unknown zone":  {First: local(2027, 1, 1, 9, 0), Every: 6, Zone: "Mars/Olympus", Hosts: []lifecycle.PartyCode{"PA"}},
		"no host":          {First: local(2027, 1, 1, 9, 0), Every: 6, Zone: "UTC"},
		"rule and dates":   {First: local(2027, 1, 1, 9, 0), Every: 6, Zone: "UTC", Hosts: []lifecycle.PartyCode{"PA"}, Dates: []time.Time{local(2027, 2, 1, 9, 0)}},
		"neither":          {Zone: "UTC", Hosts: []lifecycle.PartyCode{"PA"}},
		"no interval":      {First: local(2027, 1, 1, 9, 0), Zone: "UTC", Hosts: []lifecycle.PartyCode{"PA"}},
		"a meeting absent": {First: local(2027, 1, 1, 9, 0), Every: 6, Zone: "UTC", Hosts: []lifecycle.PartyCode{"PA"}, Moved: map[int]time.Time{0: local(2027, 2, 1, 9, 0)}},
	} {
		if _, err := c.Meetings(time.Time{}, 1); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A Temporal Schedule made from the meetings fires at exactly their
// instants: the server reads them as Pacto resolved them.
func TestScheduleFiresAtTheMeetings(t *testing.T) {
	ts := temporaltest.NewServer(temporaltest.WithT(t))
	c := ts.GetDefaultClient()
	cal := Calendar{First: local(2031, time.January, 20, 10, 0), Every: 6, Zone: "America/New_York", Hosts: []lifecycle.PartyCode{"US", "PA"}}
	ms, err := cal.Meetings(time.Time{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:     "dialogue-meetings-test",
		Spec:   ScheduleSpec(ms),
		Action: &client.ScheduleWorkflowAction{ID: "review-test", Workflow: "Review", TaskQueue: "pacto-review-test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := d.Info.NextActionTimes
	if len(next) < len(ms) {
		t.Fatalf("next actions %v, want the %d meetings", next, len(ms))
	}
	for i, m := range ms {
		if !next[i].Equal(m.At) {
			t.Errorf("action %d at %s, meeting at %s", i, next[i].UTC(), m.At)
		}
	}
}
