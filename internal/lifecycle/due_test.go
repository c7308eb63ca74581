package lifecycle_test

import (
	"strings"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

func TestParsePeriodValid(t *testing.T) {
	tests := []struct {
		in   string
		want lc.Period
		str  string
	}{
		{"P6M", lc.Period{Months: 6}, "P6M"},
		{"P2Y", lc.Period{Years: 2}, "P2Y"},
		{"P1Y6M", lc.Period{Years: 1, Months: 6}, "P1Y6M"},
		{"P2W", lc.Period{Days: 14}, "P14D"},
		{"P10D", lc.Period{Days: 10}, "P10D"},
		{"PT2M", lc.Period{Clock: 2 * time.Minute}, "PT2M"},
		{"P1DT12H", lc.Period{Days: 1, Clock: 12 * time.Hour}, "P1DT12H"},
		{"PT1H30M15S", lc.Period{Clock: time.Hour + 30*time.Minute + 15*time.Second}, "PT1H30M15S"},
		{"PT90S", lc.Period{Clock: 90 * time.Second}, "PT1M30S"},
		{"PT5S", lc.Period{Clock: 5 * time.Second}, "PT5S"},
		{"p1y2m3dt4h5m6s", lc.Period{Years: 1, Months: 2, Days: 3, Clock: 4*time.Hour + 5*time.Minute + 6*time.Second}, "P1Y2M3DT4H5M6S"},
		{"P1W2D", lc.Period{Days: 9}, "P9D"},
		{"P0Y6M", lc.Period{Months: 6}, "P6M"},
		{"P100Y", lc.Period{Years: 100}, "P100Y"},
		{"P1200M", lc.Period{Months: 1200}, "P1200M"},
		{"P36600D", lc.Period{Days: 36600}, "P36600D"},
		{"PT878400H", lc.Period{Clock: 878400 * time.Hour}, "PT878400H"},
		{"PT999999999S", lc.Period{Clock: 999999999 * time.Second}, "PT277777H46M39S"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := lc.ParsePeriod(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if s := got.String(); s != tt.str {
				t.Errorf("String = %q, want %q", s, tt.str)
			}
			back, err := lc.ParsePeriod(got.String())
			if err != nil || back != got {
				t.Errorf("round trip %q -> %+v, %v", got.String(), back, err)
			}
			if got.IsZero() {
				t.Error("IsZero")
			}
		})
	}
}

func TestParsePeriodInvalid(t *testing.T) {
	for _, in := range []string{
		"", "P", "p", "PT", "6M", "X6M", "P6", "P1Y2", "P 1D", "P-1D", "P+1D",
		"P1.5D", "P1,5D", "PT0.5S",
		"P1H", "P1S", "PT1D", "PT1Y", "PT1W", "P1Z",
		"P1Y1Y", "P1M2M", "PT1M1M", "P1W1W",
		"P1DT", "PTT1H", "P1DT1HT1M",
		"P0D", "PT0S", "P0Y0M0W0DT0H0M0S",
		"P1234567890D", "P101Y", "P1201M", "P36601D", "P5229W",
		"PT878401H", "PT52704001M", "PT878400H1S",
		// Numbers that overflow time.Duration must be refused, not wrapped
		// into a plausible but wrong length.
		"PT999999999H", "PT5130904H", "PT999999999M", "PT300000000M",
		"PT878400H52704000M999999999S",
		// Units out of order, and a non-ASCII letter that upper-cases to S.
		"P1D1Y", "P1W1M", "PT1S1H", "PT5ſ",
	} {
		t.Run(in, func(t *testing.T) {
			if p, err := lc.ParsePeriod(in); err == nil {
				t.Errorf("ParsePeriod(%q) = %+v (%s), want an error", in, p, p)
			}
		})
	}
}

func TestPeriodAddTo(t *testing.T) {
	ny, err := lc.LoadZone("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 31, 12, 0, 0, 0, ny)
	tests := []struct {
		p    lc.Period
		want time.Time
	}{
		{lc.Period{Months: 1}, time.Date(2026, 3, 3, 12, 0, 0, 0, ny)}, // Go's AddDate normalises 31 Feb
		{lc.Period{Months: 6}, time.Date(2026, 7, 31, 12, 0, 0, 0, ny)},
		{lc.Period{Days: 1, Clock: time.Hour}, time.Date(2026, 2, 1, 13, 0, 0, 0, ny)},
		{lc.Period{}, start},
	}
	for _, tt := range tests {
		if got := tt.p.AddTo(start); !got.Equal(tt.want) {
			t.Errorf("%s.AddTo = %s, want %s", tt.p, got, tt.want)
		}
	}
	if s := (lc.Period{}).String(); s != "PT0S" {
		t.Errorf("zero period String = %q", s)
	}
	if !(lc.Period{}).IsZero() {
		t.Error("zero period not IsZero")
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"P2W":     14 * day,
		"P1D":     day,
		"P1DT12H": 36 * time.Hour,
		"PT90S":   90 * time.Second,
		"PT2M":    2 * time.Minute,
	} {
		got, err := lc.ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "P1M", "P1Y", "P1Y2D", "P1.5D", "1D"} {
		if d, err := lc.ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %s, want an error", in, d)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                            "PT0S",
		time.Second:                  "PT1S",
		90 * time.Second:             "PT1M30S",
		36 * time.Hour:               "P1DT12H",
		7 * day:                      "P7D",
		60 * day:                     "P60D",
		day + time.Minute:            "P1DT1M",
		2 * 366 * day:                "P732D",
		25*time.Hour + 5*time.Second: "P1DT1H5S",
	} {
		if got := lc.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%s) = %q, want %q", d, got, want)
		}
		if d == 0 {
			continue
		}
		if back, err := lc.ParseDuration(lc.FormatDuration(d)); err != nil || back != d {
			t.Errorf("ParseDuration(FormatDuration(%s)) = %s, %v", d, back, err)
		}
	}
}

func TestParseDue(t *testing.T) {
	tests := []struct {
		in   string
		want lc.Due
	}{
		{"2027-03-31", lc.Due{Kind: lc.DueDate, Year: 2027, Month: time.March, Day: 31}},
		{" 2028-02-29 ", lc.Due{Kind: lc.DueDate, Year: 2028, Month: time.February, Day: 29}},
		{"2027-03-31T17:00:00-04:00", lc.Due{Kind: lc.DueInstant, At: time.Date(2027, 3, 31, 21, 0, 0, 0, time.UTC)}},
		{"2027-03-31T17:00:00.123Z", lc.Due{Kind: lc.DueInstant, At: time.Date(2027, 3, 31, 17, 0, 0, 123e6, time.UTC)}},
		{"P6M", lc.Due{Kind: lc.DueOffset, Offset: lc.Period{Months: 6}}},
		{"p1y6m", lc.Due{Kind: lc.DueOffset, Offset: lc.Period{Years: 1, Months: 6}}},
		{"PT2M", lc.Due{Kind: lc.DueOffset, Offset: lc.Period{Clock: 2 * time.Minute}}},
	}
	for _, tt := range tests {
		got, err := lc.ParseDue(tt.in)
		if err != nil {
			t.Errorf("ParseDue(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseDue(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if got.Kind == lc.DueInstant && got.At.Location() != time.UTC {
			t.Errorf("instant %q not in UTC", tt.in)
		}
	}
	for _, in := range []string{
		"", "   ", "P", "P1.5M", "PT", "2027-02-30", "2027-13-01", "2027/03/31", "31-03-2027",
		"2027-03-31T25:00:00Z", "2027-03-31 17:00:00", "2027-03-31T17:00:00", "tomorrow", "1700000000",
	} {
		if d, err := lc.ParseDue(in); err == nil {
			t.Errorf("ParseDue(%q) = %+v, want an error", in, d)
		}
	}
}

func TestDueResolve(t *testing.T) {
	ny, _ := lc.LoadZone("America/New_York")
	act := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	date := lc.Due{Kind: lc.DueDate, Year: 2027, Month: time.March, Day: 31}
	if got, ok := date.Resolve(ny, time.Time{}); !ok || !got.Equal(time.Date(2027, 4, 1, 3, 59, 59, 0, time.UTC)) {
		t.Errorf("date resolves to %s %v", got, ok)
	}
	off := lc.Due{Kind: lc.DueOffset, Offset: lc.Period{Months: 6}}
	if _, ok := off.Resolve(ny, time.Time{}); ok {
		t.Error("an offset resolved before activation")
	}
	if got, ok := off.Resolve(ny, act); !ok || !got.Equal(time.Date(2026, 7, 5, 8, 0, 0, 0, time.UTC)) || got.Location() != time.UTC {
		t.Errorf("offset resolves to %s %v", got, ok)
	}
	inst := lc.Due{Kind: lc.DueInstant, At: act}
	if got, ok := inst.Resolve(ny, time.Time{}); !ok || !got.Equal(act) {
		t.Errorf("instant resolves to %s %v", got, ok)
	}
	if _, ok := (lc.Due{}).Resolve(ny, act); ok {
		t.Error("a zero Due resolved")
	}
}

// The error names the input, so a caller can show it as is.
func TestParseErrorsNameTheInput(t *testing.T) {
	for _, in := range []string{"P1.5D", "P1H", "P1Y1Y", "PT"} {
		_, err := lc.ParsePeriod(in)
		if err == nil || !strings.Contains(err.Error(), in) {
			t.Errorf("ParsePeriod(%q) error %v does not name the input", in, err)
		}
	}
}

// A policy may switch a lead time off: ParseDuration takes zero, although
// a due offset of zero makes no sense and ParsePeriod refuses it.
func TestParseDurationAcceptsZero(t *testing.T) {
	for _, in := range []string{"PT0S", "P0D", "P0W", "PT0H0M", "P0DT0S"} {
		if d, err := lc.ParseDuration(in); err != nil || d != 0 {
			t.Errorf("ParseDuration(%q) = %v, %v", in, d, err)
		}
	}
	for _, in := range []string{"P", "PT", "P0Y", "P0M"} {
		if _, err := lc.ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
}
