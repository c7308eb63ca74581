package lifecycle

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Period is an ISO-8601 duration split into its calendar part (years,
// months, days, applied with calendar arithmetic in a time zone) and its
// clock part (hours, minutes, seconds).
type Period struct {
	Years  int           `json:"years,omitempty"`
	Months int           `json:"months,omitempty"`
	Days   int           `json:"days,omitempty"`
	Clock  time.Duration `json:"clock,omitempty"`
}

// Bounds that keep calendar arithmetic far from overflow; no cooperation
// activity runs for a century.
const (
	maxPeriodYears = 100
	maxClock       = 100 * 366 * 24 * time.Hour
)

// ParsePeriod parses an ISO-8601 duration such as P6M, P1Y6M, P2W, P10D or
// PT2M. Only whole, non-negative numbers are accepted and the period must be
// longer than zero.
func ParsePeriod(s string) (Period, error) {
	var p Period
	if len(s) < 2 || (s[0] != 'P' && s[0] != 'p') {
		return p, fmt.Errorf("%q is not an ISO-8601 duration (expected a form like P6M, P1Y6M, P30D or PT2M)", s)
	}
	rest := asciiUpper(s[1:])
	inTime := false
	last := -1 // position of the previous unit in P…Y…M…W…D T…H…M…S
	any := false
	for len(rest) > 0 {
		if rest[0] == 'T' {
			if inTime {
				return Period{}, fmt.Errorf("%q has more than one T", s)
			}
			inTime = true
			rest = rest[1:]
			if rest == "" {
				return Period{}, fmt.Errorf("%q has a T with no hours, minutes or seconds after it", s)
			}
			continue
		}
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return Period{}, fmt.Errorf("%q: expected a number at %q", s, rest)
		}
		if i == len(rest) {
			return Period{}, fmt.Errorf("%q: number %s has no unit (Y, M, W, D, H or S)", s, rest)
		}
		if rest[i] == '.' || rest[i] == ',' {
			return Period{}, fmt.Errorf("%q: fractions are not supported; use a smaller unit", s)
		}
		if i > 9 {
			return Period{}, fmt.Errorf("%q: number %s is too large", s, rest[:i])
		}
		n, _ := strconv.Atoi(rest[:i])
		unit := rest[i]
		order := strings.IndexByte("YMWD", unit)
		if inTime {
			if order = strings.IndexByte("HMS", unit); order >= 0 {
				order += 4
			}
		}
		if order >= 0 && order <= last {
			return Period{}, fmt.Errorf("%q: unit %c repeats or is out of order (write years, months, weeks, days, then T hours, minutes, seconds)", s, unit)
		}
		last = order
		switch {
		case !inTime && unit == 'Y':
			p.Years = n
		case !inTime && unit == 'M':
			p.Months = n
		case !inTime && unit == 'W':
			p.Days += 7 * n
		case !inTime && unit == 'D':
			p.Days += n
		case inTime && unit == 'H':
			p.Clock += clockPart(n, time.Hour)
		case inTime && unit == 'M':
			p.Clock += clockPart(n, time.Minute)
		case inTime && unit == 'S':
			p.Clock += clockPart(n, time.Second)
		default:
			return Period{}, fmt.Errorf("%q: unit %c is not valid here (date part takes Y, M, W, D; after T: H, M, S)", s, unit)
		}
		any = true
		rest = rest[i+1:]
	}
	if !any {
		return Period{}, fmt.Errorf("%q has no components", s)
	}
	if p.Years > maxPeriodYears || p.Months > 12*maxPeriodYears || p.Days > 366*maxPeriodYears || p.Clock > maxClock || p.Clock < 0 {
		return Period{}, fmt.Errorf("%q is longer than %d years", s, maxPeriodYears)
	}
	if p.IsZero() {
		return Period{}, fmt.Errorf("%q is zero; a period must be longer than that", s)
	}
	return p, nil
}

// clockPart is n units, capped just past maxClock: nine digits of hours or
// minutes overflow time.Duration and could wrap into range. The three
// capped parts still sum without overflow, and the caller refuses the total.
func clockPart(n int, unit time.Duration) time.Duration {
	if time.Duration(n) > maxClock/unit {
		return maxClock + unit
	}
	return time.Duration(n) * unit
}

var zeroPeriod = regexp.MustCompile(`^[Pp]((0+[WwDd])+([Tt](0+[HhMmSs])+)?|[Tt](0+[HhMmSs])+)$`)

// asciiUpper upper-cases ASCII letters only, so no other script's letter
// can turn into a unit.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// IsZero reports whether the period has no length.
func (p Period) IsZero() bool { return p == Period{} }

// AddTo returns t moved forward by the period, calendar part first, in t's
// location.
func (p Period) AddTo(t time.Time) time.Time {
	return t.AddDate(p.Years, p.Months, p.Days).Add(p.Clock)
}

// String formats the period back as ISO-8601.
func (p Period) String() string {
	var b strings.Builder
	b.WriteByte('P')
	if p.Years != 0 {
		fmt.Fprintf(&b, "%dY", p.Years)
	}
	if p.Months != 0 {
		fmt.Fprintf(&b, "%dM", p.Months)
	}
	if p.Days != 0 {
		fmt.Fprintf(&b, "%dD", p.Days)
	}
	if p.Clock != 0 {
		b.WriteByte('T')
		c := p.Clock
		if h := c / time.Hour; h != 0 {
			fmt.Fprintf(&b, "%dH", h)
			c -= h * time.Hour
		}
		if m := c / time.Minute; m != 0 {
			fmt.Fprintf(&b, "%dM", m)
			c -= m * time.Minute
		}
		if c != 0 {
			fmt.Fprintf(&b, "%dS", c/time.Second)
		}
	}
	if b.Len() == 1 {
		return "PT0S"
	}
	return b.String()
}

// ParseDuration parses an ISO-8601 duration that has a fixed length: weeks,
// days, hours, minutes and seconds. Years and months are refused because
// their length depends on the calendar; policies use this form. Unlike
// ParsePeriod it accepts a zero duration such as PT0S or P0D.
func ParseDuration(s string) (time.Duration, error) {
	if zeroPeriod.MatchString(s) {
		return 0, nil // a policy may turn a lead time off with PT0S
	}
	p, err := ParsePeriod(s)
	if err != nil {
		return 0, err
	}
	if p.Years != 0 || p.Months != 0 {
		return 0, fmt.Errorf("%q uses years or months, whose length varies; give it in days or weeks", s)
	}
	return time.Duration(p.Days)*24*time.Hour + p.Clock, nil
}

// FormatDuration renders a fixed duration as ISO-8601 (days and clock).
func FormatDuration(d time.Duration) string {
	days := d / (24 * time.Hour)
	return Period{Days: int(days), Clock: d - days*24*time.Hour}.String()
}

// DueKind says how a milestone's due time was given.
type DueKind string

// The forms a due time may take.
const (
	// DueInstant is an RFC 3339 timestamp.
	DueInstant DueKind = "instant"
	// DueDate is a calendar date: the end of that day in the owner party's zone.
	DueDate DueKind = "date"
	// DueOffset is an ISO-8601 duration counted from activation.
	DueOffset DueKind = "offset"
)

// Due is a parsed due-time expression.
type Due struct {
	Kind   DueKind
	At     time.Time // DueInstant
	Year   int       // DueDate
	Month  time.Month
	Day    int
	Offset Period // DueOffset
}

// ParseDue parses a due time given as an RFC 3339 timestamp
// (2027-03-31T17:00:00-04:00), a calendar date (2027-03-31) or an ISO-8601
// duration from activation (P6M, P1Y6M, PT2M).
func ParseDue(s string) (Due, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Due{}, fmt.Errorf("a due time is required (an RFC 3339 timestamp, a date like 2027-03-31, or a duration from activation like P6M)")
	case s[0] == 'P' || s[0] == 'p':
		p, err := ParsePeriod(s)
		if err != nil {
			return Due{}, err
		}
		return Due{Kind: DueOffset, Offset: p}, nil
	case len(s) == len("2006-01-02"):
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			return Due{}, fmt.Errorf("%q is not a valid calendar date (YYYY-MM-DD)", s)
		}
		return Due{Kind: DueDate, Year: d.Year(), Month: d.Month(), Day: d.Day()}, nil
	default:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return Due{}, fmt.Errorf("%q is not an RFC 3339 timestamp, a date (YYYY-MM-DD) or an ISO-8601 duration", s)
		}
		return Due{Kind: DueInstant, At: t.UTC()}, nil
	}
}

// Resolve turns the due expression into an instant. Calendar dates end at
// 23:59:59 in loc; offsets count from activation in loc, so "P1M" lands on
// the same local clock time a month later. ok is false for an offset when
// the activity has not been activated yet.
func (d Due) Resolve(loc *time.Location, activation time.Time) (t time.Time, ok bool) {
	switch d.Kind {
	case DueInstant:
		return d.At, true
	case DueDate:
		return time.Date(d.Year, d.Month, d.Day, 23, 59, 59, 0, loc).UTC(), true
	case DueOffset:
		if activation.IsZero() {
			return time.Time{}, false
		}
		return d.Offset.AddTo(activation.In(loc)).UTC(), true
	}
	return time.Time{}, false
}
