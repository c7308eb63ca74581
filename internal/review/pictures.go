package review

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"pacto/internal/lifecycle"
)

// Layout of the milestone timeline, in the picture's units.
const (
	timelineWidth  = 760
	timelineLabel  = 130 // the party names' column
	timelineRow    = 28
	timelineTop    = 20 // above the first row: the meeting's label
	timelineAxis   = 28 // below the last row: the months
	timelineLegend = 26
	// maxTimelineMarks bounds the picture; the tables list every
	// milestone.
	maxTimelineMarks = 300
)

// timeline is the picture of the dialogue's milestones on a time axis:
// one row per owner party, one mark per milestone with a due date at
// that date, its state told by shape, pattern and colour.
type timeline struct {
	Title, Desc   string
	Width, Height int
	Rows          []timelineRowView
	Marks         []timelineMark
	Ticks         []timelineTick
	// MeetingX is where the meeting falls, -1 when outside the axis.
	MeetingX      float64
	MeetingLabel  string
	Legend        []segment
	Shown, Total  int
	AxisY, PlotX0 float64
}

type timelineRowView struct {
	Label string
	Y     float64 // the row's middle
}

type timelineMark struct {
	X, Y  float64
	State string
	Tip   string
}

type timelineTick struct {
	X     float64
	Label string
}

// timeline lays out the report's milestones for a reader of lang; ok is
// false when no milestone has a due date.
func (r Report) timeline(lang string) (timeline, bool) {
	type due struct {
		at    time.Time
		owner lifecycle.PartyCode
		state string
		tip   string
	}
	var dues []due
	total := 0
	for _, a := range r.Activities {
		for _, m := range a.Milestones {
			if m.DueAt == nil {
				continue
			}
			total++
			if len(dues) < maxTimelineMarks {
				dues = append(dues, due{*m.DueAt, m.Owner, m.State,
					fmt.Sprintf("%s — %s: %s", text(m.Title, lang), text(a.Title, lang), msg(lang, "state."+m.State))})
			}
		}
	}
	if len(dues) == 0 {
		return timeline{}, false
	}
	from, to := r.MeetingAt, r.MeetingAt
	for _, d := range dues {
		from, to = minTime(from, d.at), maxTime(to, d.at)
	}
	// A month of margin each side, and whole months on the axis.
	from = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	to = time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 2, 0)
	x0, x1 := float64(timelineLabel), float64(timelineWidth-10)
	xOf := func(t time.Time) float64 {
		return x0 + (x1-x0)*float64(t.Sub(from))/float64(to.Sub(from))
	}
	t := timeline{Width: timelineWidth, PlotX0: x0, Shown: len(dues), Total: total,
		Title: msg(lang, "timeline_title"), MeetingX: xOf(r.MeetingAt), MeetingLabel: msg(lang, "timeline_meeting")}
	rows := map[lifecycle.PartyCode]float64{}
	for i, code := range r.partyCodes() {
		y := float64(timelineTop + i*timelineRow + timelineRow/2)
		rows[code] = y
		t.Rows = append(t.Rows, timelineRowView{Label: r.partyName(code), Y: y})
	}
	t.AxisY = float64(timelineTop + len(t.Rows)*timelineRow)
	t.Height = int(t.AxisY) + timelineAxis + timelineLegend
	counts := map[string]int{}
	for _, d := range dues {
		y, ok := rows[d.owner]
		if !ok {
			continue
		}
		t.Marks = append(t.Marks, timelineMark{X: xOf(d.at), Y: y, State: d.state, Tip: d.tip})
		counts[d.state]++
	}
	// Month ticks, spaced so that at most a dozen are labelled.
	months := (to.Year()-from.Year())*12 + int(to.Month()-from.Month())
	step := max(1, (months+11)/12)
	for m := 0; m <= months; m += step {
		at := from.AddDate(0, m, 0)
		t.Ticks = append(t.Ticks, timelineTick{X: xOf(at), Label: monthLabel(at)})
	}
	for j, s := range states {
		t.Legend = append(t.Legend, segment{State: s, Label: msg(lang, "state."+s), Count: counts[s], LegendX: j * (timelineWidth / len(states))})
	}
	t.Desc = msg(lang, "timeline_desc", t.Shown, total)
	return t, true
}

// monthLabel is a month as the axis names it, "03/2027": month before
// year, as both languages write a date.
func monthLabel(t time.Time) string {
	return fmt.Sprintf("%02d/%d", int(t.Month()), t.Year())
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// statementView is one statement, or one owed and not made, as the
// report's pages list them under their activity.
type statementView struct {
	Party, Author, Body, At string
	Missing                 bool
}

// statementsOf lists activity id's statements and the missing ones, for a
// reader of lang in readerZone.
func (r Report) statementsOf(id, lang, readerZone string) []statementView {
	var out []statementView
	for _, s := range r.Statements {
		if s.Activity == id {
			at := s.MadeAt
			out = append(out, statementView{Party: r.partyName(s.Party), Author: s.Author, Body: s.Body,
				At: shortDate(&at, zone(readerZone))})
		}
	}
	for _, m := range r.Missing {
		if m.Activity == id {
			out = append(out, statementView{Party: r.partyName(m.Party), Missing: true})
		}
	}
	return out
}

// ownerStatement is what party said about activity id: its statement,
// "missing" when it owed one and made none, or "" when it owed none.
func (r Report) ownerStatement(id string, party lifecycle.PartyCode, lang string) string {
	var bodies []string
	for _, s := range r.Statements {
		if s.Activity == id && s.Party == party {
			bodies = append(bodies, s.Body)
		}
	}
	if len(bodies) > 0 {
		return strings.Join(bodies, " / ")
	}
	if slices.Contains(r.Missing, MissingStatement{Activity: id, Party: party}) {
		return msg(lang, "statement_missing")
	}
	return ""
}
