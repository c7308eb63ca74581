package review

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/client"

	"pacto/internal/lifecycle"
)

// Calendar is when a dialogue meets: by a rule (every Every months from
// First, at First's local time in Zone, hosted by each of Hosts in turn),
// or on the explicit Dates; Moved and Cancelled change single meetings.
type Calendar struct {
	// First is the first meeting's local date and time (its location is
	// ignored: the time is read on Zone's clock).
	First time.Time `json:"first,omitzero"`
	// Every is the number of months between meetings (6: semiannual).
	Every int `json:"every,omitempty"`
	// Zone is the IANA zone the meetings' local times are in.
	Zone string `json:"zone"`
	// Hosts host the meetings in turn, the first hosting the first.
	Hosts []lifecycle.PartyCode `json:"hosts"`
	// Dates, when given, are the meetings' local times instead of a rule.
	Dates []time.Time `json:"dates,omitempty"`
	// Moved gives a meeting, by its number from 1, another local time;
	// Cancelled drops meetings by number.
	Moved     map[int]time.Time `json:"moved,omitempty"`
	Cancelled []int             `json:"cancelled,omitempty"`
}

// Meeting is one meeting of the calendar.
type Meeting struct {
	// Number counts the calendar's meetings from 1, cancelled ones too,
	// so that a meeting keeps its number when another is cancelled.
	Number int                 `json:"number"`
	At     time.Time           `json:"at"` // the instant, UTC
	Host   lifecycle.PartyCode `json:"host"`
}

// maxMeetings bounds how far ahead a calendar is expanded: fifty years of
// semiannual meetings.
const maxMeetings = 100

// Check reports why the calendar cannot be kept, or nil.
func (c Calendar) Check() error {
	if _, err := lifecycle.LoadZone(c.Zone); err != nil || c.Zone == "" {
		return fmt.Errorf("zone %q is not a time zone name", c.Zone)
	}
	if len(c.Hosts) == 0 {
		return errors.New("a calendar needs at least one host party")
	}
	switch {
	case len(c.Dates) > 0 && !c.First.IsZero():
		return errors.New("give either a rule or dates, not both")
	case len(c.Dates) > maxMeetings:
		return fmt.Errorf("at most %d dates", maxMeetings)
	case len(c.Dates) == 0 && c.First.IsZero():
		return errors.New("give the first meeting's date, or the meetings' dates")
	case len(c.Dates) == 0 && (c.Every < 1 || c.Every > 24):
		return errors.New("meetings are 1 to 24 months apart")
	}
	for n := range c.Moved {
		if n < 1 || n > maxMeetings {
			return fmt.Errorf("there is no meeting %d to move", n)
		}
	}
	return nil
}

// Meetings lists the calendar's meetings at or after from, in order, at
// most n, without the cancelled ones. Local times are read on the zone's
// clock from Pacto's own zone database, so a meeting at 10:00 in
// America/New_York is at 10:00 in winter and in summer.
func (c Calendar) Meetings(from time.Time, n int) ([]Meeting, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	loc, _ := lifecycle.LoadZone(c.Zone)
	// Every meeting is read before the first n are taken: dates need not
	// be in order, and a moved meeting may pass another.
	count := maxMeetings
	if len(c.Dates) > 0 {
		count = len(c.Dates)
	}
	var out []Meeting
	for i := 0; i < count; i++ {
		number := i + 1
		var local time.Time
		switch {
		case len(c.Dates) > 0:
			local = c.Dates[i]
		default:
			first := wall(c.First, loc)
			local = lifecycle.Period{Months: i * c.Every}.AddToRules(first, lifecycle.CurrentRules)
		}
		if moved, ok := c.Moved[number]; ok {
			local = moved
		}
		at := wall(local, loc).UTC()
		if slices.Contains(c.Cancelled, number) || at.Before(from) {
			continue
		}
		out = append(out, Meeting{Number: number, At: at, Host: c.Hosts[i%len(c.Hosts)]})
	}
	slices.SortStableFunc(out, func(a, b Meeting) int { return a.At.Compare(b.At) })
	return out[:min(len(out), max(n, 0))], nil
}

// wall reads t's date and clock time in loc.
func wall(t time.Time, loc *time.Location) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc)
}

// ScheduleSpec is the Temporal Schedule spec that fires at each of the
// meetings: their exact instants, in UTC, since Pacto resolves local
// times from its own zone database rather than the server's.
func ScheduleSpec(meetings []Meeting) client.ScheduleSpec {
	spec := client.ScheduleSpec{TimeZoneName: "UTC"}
	one := func(v int) []client.ScheduleRange { return []client.ScheduleRange{{Start: v}} }
	for _, m := range meetings {
		at := m.At.UTC()
		spec.Calendars = append(spec.Calendars, client.ScheduleCalendarSpec{
			Year: one(at.Year()), Month: one(int(at.Month())), DayOfMonth: one(at.Day()),
			Hour: one(at.Hour()), Minute: one(at.Minute()), Second: one(at.Second()),
			Comment: fmt.Sprintf("meeting %d, hosted by %s", m.Number, m.Host),
		})
	}
	return spec
}
