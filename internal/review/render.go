package review

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"

	"pacto/internal/delivery"
	"pacto/internal/lifecycle"
)

// JSON is the report as indented JSON, the same bytes for the same
// report (encoding/json writes map keys sorted), ending in a newline.
func JSON(r Report) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("review: report as JSON: %w", err)
	}
	return append(b, '\n'), nil
}

// states are the milestone states in the order every format shows them.
var states = []string{StateOnTime, StateLate, StateOverdue, StateUpcoming, StatePending}

// terms are the terms in the order every format shows them.
var terms = []lifecycle.Horizon{lifecycle.HorizonShort, lifecycle.HorizonMedium, lifecycle.HorizonLong}

// count is c's number of milestones in state.
func (c Counts) count(state string) int {
	switch state {
	case StateOnTime:
		return c.OnTime
	case StateLate:
		return c.Late
	case StateOverdue:
		return c.Overdue
	case StateUpcoming:
		return c.Upcoming
	case StatePending:
		return c.Pending
	}
	return 0
}

// total is c's number of milestones.
func (c Counts) total() int { return c.OnTime + c.Late + c.Overdue + c.Upcoming + c.Pending }

// sum is the counts of every party: the dialogue's milestones by state.
func (r Report) sum() Counts {
	var s Counts
	for _, c := range r.ByParty {
		s.OnTime += c.OnTime
		s.Late += c.Late
		s.Overdue += c.Overdue
		s.Upcoming += c.Upcoming
		s.Pending += c.Pending
	}
	return s
}

// extensions is the number of extensions granted since the previous
// meeting, over every activity.
func (r Report) extensions() int {
	n := 0
	for _, a := range r.Activities {
		n += a.ExtensionsGranted
	}
	return n
}

// partyCodes are the parties counted in ByParty: the report's parties in
// their order, then any other counted party by code, so no count is left
// out of a picture.
func (r Report) partyCodes() []lifecycle.PartyCode {
	var codes []lifecycle.PartyCode
	for _, p := range r.Parties {
		codes = append(codes, p.Code)
	}
	var rest []lifecycle.PartyCode
	for code := range r.ByParty {
		if !slices.Contains(codes, code) {
			rest = append(rest, code)
		}
	}
	slices.Sort(rest)
	return append(codes, rest...)
}

// party is the party with code, or one named by its code if the report
// does not describe it.
func (r Report) party(code lifecycle.PartyCode) Party {
	for _, p := range r.Parties {
		if p.Code == code {
			return p
		}
	}
	return Party{Code: code}
}

// partyName is how the report names the party with code.
func (r Report) partyName(code lifecycle.PartyCode) string {
	return cmp.Or(r.party(code).Name, string(code))
}

// zone is the location of a party's time zone. A party without a valid
// zone has its dates in UTC, which the formats name, rather than failing
// the whole report.
func zone(name string) *time.Location {
	loc, err := lifecycle.LoadZone(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// isoDate is t's calendar date in loc (2027-03-15), or "" for no time.
func isoDate(t *time.Time, loc *time.Location) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.In(loc).Format(time.DateOnly)
}

// shortDate is t's date in loc as both locales write it short (M/d/y;
// Panama writes it as the US does), or "" for no time.
func shortDate(t *time.Time, loc *time.Location) string {
	if t == nil || t.IsZero() {
		return ""
	}
	d := t.In(loc)
	return fmt.Sprintf("%d/%d/%d", d.Month(), d.Day(), d.Year())
}

// plainNumber is f as a spreadsheet reads it (no thousands separator), or
// "" for none.
func plainNumber(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// number is f as both locales write it for people (1,234.5), or "—" for
// none.
func number(f *float64) string {
	if f == nil {
		return "—"
	}
	s := strconv.FormatFloat(*f, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// milestoneRow is a milestone's cells as a reader of one language reads
// them; CSV, HTML and PDF share it so they say the same.
type milestoneRow struct {
	ID, Title, Owner, Term, State, StateKey string
	Due, Completed                          string // ISO dates in the owner's zone
	DueShort, CompletedShort                string // M/d/y in the owner's zone
	Zone                                    string
	Baseline, Target, Actual, Unit          *float64
	UnitText                                string
	HasIndicator                            bool
}

func (r Report) milestoneRow(m MilestoneReport, lang string) milestoneRow {
	owner := r.party(m.Owner)
	loc := zone(owner.TimeZone)
	row := milestoneRow{
		ID:             m.ID,
		Title:          text(m.Title, lang),
		Owner:          r.partyName(m.Owner),
		Term:           termLabel(m.Term, lang),
		State:          msg(lang, "state."+m.State),
		StateKey:       m.State,
		Due:            isoDate(m.DueAt, loc),
		Completed:      isoDate(m.CompletedAt, loc),
		DueShort:       shortDate(m.DueAt, loc),
		CompletedShort: shortDate(m.CompletedAt, loc),
		Zone:           loc.String(),
	}
	if in := m.Indicator; in != nil {
		target := in.Target
		row.HasIndicator = true
		row.Baseline, row.Target, row.Actual = in.Baseline, &target, in.Actual
		row.UnitText = text(in.Unit, lang)
	}
	return row
}

func termLabel(t lifecycle.Horizon, lang string) string {
	if t == "" {
		return ""
	}
	return msg(lang, "term."+string(t))
}

//go:embed templates/report.html
var templates embed.FS

// chart is the inline picture of one party's milestones by state.
type chart struct {
	ID, Title, Desc string
	Segments        []segment
}

// segment is one state's part of a chart's bar, and its legend entry.
type segment struct {
	State, Label string
	Count        int
	X, W         float64 // of the bar, in the picture's units
	LegendX      int
}

// chartWidth is the width of a chart's bar in the picture's units.
const chartWidth = 600

func (r Report) charts(lang string) []chart {
	var out []chart
	for i, code := range r.partyCodes() {
		c := r.ByParty[code]
		total := c.total()
		ch := chart{ID: fmt.Sprintf("c%d", i), Title: msg(lang, "chart_title", r.partyName(code))}
		var parts []string
		x := 0.0
		for j, s := range states {
			n := c.count(s)
			seg := segment{State: s, Label: msg(lang, "state."+s), Count: n, X: x, LegendX: j * (chartWidth / len(states))}
			if total > 0 {
				seg.W = float64(chartWidth) * float64(n) / float64(total)
			}
			x += seg.W
			ch.Segments = append(ch.Segments, seg)
			parts = append(parts, fmt.Sprintf("%s %d", strings.ToLower(seg.Label), n))
		}
		ch.Desc = msg(lang, "chart_desc", total, strings.Join(parts, ", "))
		out = append(out, ch)
	}
	return out
}

// htmlPage is what the report's template sees.
type htmlPage struct {
	Lang, Title, Dialogue, Meeting string
	MeetingAt, AsOf, Since         []string
	Total                          countRow
	ByParty, ByTerm                []countRow
	Charts                         []chart
	Timeline                       *timeline
	Changes                        []changeRow
	Extensions                     int
	Activities                     []activityView
}

type countRow struct {
	Label  string
	Counts []int // by states
	Total  int
}

func newCountRow(label string, c Counts) countRow {
	row := countRow{Label: label, Total: c.total()}
	for _, s := range states {
		row.Counts = append(row.Counts, c.count(s))
	}
	return row
}

type changeRow struct {
	Label string
	IDs   []string
}

type activityView struct {
	ID, Title, Status, Parties string
	Extensions                 int
	Milestones                 []milestoneRow
	Statements                 []statementView
}

// times is t as each reader reads it: in the reader's zone first, then in
// each party's own zone, every one named.
func (r Report) times(t time.Time, lang, readerZone string) []string {
	if t.IsZero() {
		return nil
	}
	out := []string{delivery.FormatTime(t, readerZone, lang)}
	for _, p := range r.Parties {
		if s := delivery.FormatTime(t, p.TimeZone, lang); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// HTML is the report as a printable page for a reader of lang (es or en)
// whose time zone is readerZone: self-contained (no scripts, no external
// resources), every text escaped, and the pictures drawn with patterns as
// well as colours so that they read in grey and for colour-blind readers.
func HTML(r Report, lang, readerZone string) ([]byte, error) {
	lang, err := language(lang)
	if err != nil {
		return nil, err
	}
	if _, err := lifecycle.LoadZone(readerZone); err != nil {
		return nil, fmt.Errorf("review: reader's time zone %q: %w", readerZone, err)
	}
	p := htmlPage{
		Lang:       lang,
		Title:      msg(lang, "title"),
		Dialogue:   r.DialogueName,
		Meeting:    r.Meeting,
		MeetingAt:  r.times(r.MeetingAt, lang, readerZone),
		AsOf:       r.times(r.AsOf, lang, readerZone),
		Since:      r.times(r.Since, lang, readerZone),
		Total:      newCountRow(msg(lang, "total"), r.sum()),
		Charts:     r.charts(lang),
		Extensions: r.extensions(),
	}
	for _, code := range r.partyCodes() {
		p.ByParty = append(p.ByParty, newCountRow(r.partyName(code), r.ByParty[code]))
	}
	for _, t := range terms {
		p.ByTerm = append(p.ByTerm, newCountRow(termLabel(t, lang), r.ByTerm[t]))
	}
	for _, c := range []struct {
		key string
		ids []string
	}{
		{"proposed", r.Changes.Proposed}, {"activated", r.Changes.Activated}, {"declined", r.Changes.Declined},
		{"cancelled", r.Changes.Cancelled}, {"completed", r.Changes.Completed},
	} {
		p.Changes = append(p.Changes, changeRow{Label: msg(lang, "change."+c.key), IDs: c.ids})
	}
	for _, a := range r.Activities {
		v := activityView{ID: a.ID, Title: text(a.Title, lang), Status: msg(lang, "status."+string(a.Status)), Extensions: a.ExtensionsGranted}
		var names []string
		for _, code := range a.Parties {
			names = append(names, r.partyName(code))
		}
		v.Parties = strings.Join(names, ", ")
		for _, m := range a.Milestones {
			v.Milestones = append(v.Milestones, r.milestoneRow(m, lang))
		}
		v.Statements = r.statementsOf(a.ID, lang, readerZone)
		p.Activities = append(p.Activities, v)
	}
	if tl, ok := r.timeline(lang); ok {
		p.Timeline = &tl
	}
	t, err := template.New("report.html").Funcs(template.FuncMap{
		"t":      func(key string, args ...any) string { return msg(lang, key, args...) },
		"number": number,
		"states": func() []string { return states },
		"join":   strings.Join,
		"add":    func(a, b float64) float64 { return a + b },
	}).ParseFS(templates, "templates/report.html")
	if err != nil {
		return nil, fmt.Errorf("review: parse the report's template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, p); err != nil {
		return nil, fmt.Errorf("review: render the report as HTML: %w", err)
	}
	return b.Bytes(), nil
}
