package console

import (
	"bytes"
	"fmt"
	"html/template"
	"strconv"
	"time"
	"unicode/utf8"
)

// The overview's pictures are SVG drawn here, on the server: Go works out
// the geometry, and html/template writes the markup, escaping every text
// (titles are whatever people typed). They use presentation attributes
// only, no style attributes, so the console's Content-Security-Policy
// (no inline styles) lets them render. Each state has a colour and a
// pattern or shape of its own, so none is told by colour alone; every
// colour has at least 3:1 contrast against white.

// The states of a milestone in the timeline.
const (
	stateCompleted = "completed"
	stateOnTrack   = "ontrack"
	stateDueSoon   = "soon"
	stateOverdue   = "overdue"
)

// chartStates lists the states in the legend's order.
var chartStates = []string{stateOnTrack, stateDueSoon, stateOverdue, stateCompleted}

// The colours, as in the console's style sheet (contrast against white:
// ink 19.6, green 6.2, amber 6.8, red 6.5, blue 10.6; the grid lines, 2.1,
// only guide the eye: every tick has its label).
const (
	inkColour   = "#0b0c0c"
	greenColour = "#00703c"
	amberColour = "#8a4b00"
	redColour   = "#b3261e"
	blueColour  = "#1d3f6e"
	gridColour  = "#b1b4b6"
)

// chartWidth is the pictures' width in SVG units; at 100% zoom one unit
// is about one CSS pixel, and the page scrolls the picture sideways rather
// than shrink it below that.
const chartWidth = 960

// ganttBar is one milestone in the timeline: from the activity's
// activation to the milestone's due time.
type ganttBar struct {
	Label string // the milestone's title in the reader's language
	Owner string // the owner party's code
	// Tip says more in the bar's tooltip: the activity, dates, state.
	Tip         string
	Start, Due  time.Time
	CompletedAt time.Time // zero while open
	State       string    // one of chartStates
}

// ganttGroup is one term's bars, under its heading.
type ganttGroup struct {
	Label string
	Bars  []ganttBar
}

// chartText is what the pictures say, in the reader's language.
type chartText struct {
	Title, Desc string
	Today       string            // the label of today's line
	States      map[string]string // state → its name, for the legend
	// Month names a tick on the time axis ("ene 2027").
	Month func(time.Time) string
	// Date writes today's date beside its line.
	Date func(time.Time) string
}

// ganttInput is a timeline picture: ID prefixes its element ids, so that
// two pictures on a page do not clash.
type ganttInput struct {
	ID     string
	Text   chartText
	Groups []ganttGroup
	Now    time.Time
	Loc    *time.Location
}

// Layout of the timeline, in SVG units.
const (
	ganttLabelX   = 8.0
	ganttPlotLeft = 300.0
	ganttPlotEnd  = chartWidth - 24.0
	ganttTop      = 48.0 // room for the tick labels and today's label
	ganttRow      = 30.0
	ganttHeading  = 32.0
	ganttBarH     = 14.0
	ganttLegend   = 64.0
	labelRunes    = 30 // a label's longest title before it is cut short
)

type svgText struct {
	X, Y, Text, Anchor, Weight string
}

type svgLine struct {
	X1, Y1, X2, Y2, Stroke, Width, Dash string
}

type svgRect struct {
	X, Y, W, H, Fill, Stroke, Width string
}

// svgMark is a state's shape at a point: a circle, a triangle, a square
// or a diamond, by state.
type svgMark struct {
	State  string
	X, Y   string
	Points string // the polygon of triangle and diamond
}

type ganttRowView struct {
	Tip   string
	Label svgText
	Bar   svgRect
	Late  *svgLine // overdue: from the due time to today
	Mark  svgMark
}

type legendItem struct {
	Swatch svgRect
	Mark   svgMark
	Label  svgText
}

type ganttView struct {
	ID, Title, Desc string
	W, H            string
	Grid            []svgLine
	Ticks           []svgText
	Headings        []svgText
	Rules           []svgLine
	Rows            []ganttRowView
	Today           svgLine
	TodayLabel      svgText
	Legend          []legendItem
	Colours         map[string]string
}

// ganttSVG draws the timeline: a row per milestone grouped by term, a bar
// from activation to due time styled by state, a vertical line at today,
// the time axis in loc, and a legend.
func ganttSVG(in ganttInput) (template.HTML, error) {
	loc := in.Loc
	if loc == nil {
		loc = time.UTC
	}
	now := in.Now.In(loc)
	// The axis spans every bar and today, with a little room either side.
	from, to := now, now
	for _, g := range in.Groups {
		for _, b := range g.Bars {
			for _, t := range []time.Time{b.Start, b.Due, b.CompletedAt} {
				if t.IsZero() {
					continue
				}
				if t.Before(from) {
					from = t
				}
				if t.After(to) {
					to = t
				}
			}
		}
	}
	span := to.Sub(from)
	if span < 30*24*time.Hour {
		span = 30 * 24 * time.Hour
	}
	from, to = from.Add(-span/40), to.Add(span/40)
	x := func(t time.Time) float64 {
		return ganttPlotLeft + float64(t.Sub(from))/float64(to.Sub(from))*(ganttPlotEnd-ganttPlotLeft)
	}

	v := ganttView{ID: in.ID, Title: in.Text.Title, Desc: in.Text.Desc, Colours: stateColours}
	y := ganttTop
	for _, g := range in.Groups {
		if len(g.Bars) == 0 {
			continue
		}
		v.Rules = append(v.Rules, svgLine{X1: "0", Y1: num(y), X2: num(chartWidth), Y2: num(y), Stroke: gridColour, Width: "1"})
		v.Headings = append(v.Headings, svgText{X: num(ganttLabelX), Y: num(y + ganttHeading*0.65), Text: g.Label, Weight: "700"})
		y += ganttHeading
		for _, b := range g.Bars {
			mid := y + ganttRow/2
			x0, x1 := x(b.Start), x(b.Due)
			if x1 < x0 {
				x0 = x1
			}
			row := ganttRowView{Tip: b.Tip,
				Label: svgText{X: num(ganttLabelX + 12), Y: num(mid + 5), Text: clip(b.Label, labelRunes) + " · " + b.Owner},
				Bar:   barStyle(b.State, in.ID, x0, mid-ganttBarH/2, max(x1-x0, 2), ganttBarH),
			}
			markAt := x1
			switch b.State {
			case stateCompleted:
				if !b.CompletedAt.IsZero() {
					markAt = x(b.CompletedAt)
				}
			case stateOverdue:
				if xn := x(now); xn > x1 {
					row.Late = &svgLine{X1: num(x1), Y1: num(mid), X2: num(xn), Y2: num(mid), Stroke: redColour, Width: "2", Dash: "4 3"}
				}
			}
			row.Mark = mark(b.State, markAt, mid)
			v.Rows = append(v.Rows, row)
			y += ganttRow
		}
	}
	bottom := y
	// Ticks on whole months, as many months apart as keeps them few.
	for _, t := range monthTicks(from, to, loc) {
		tx := x(t)
		v.Grid = append(v.Grid, svgLine{X1: num(tx), Y1: num(ganttTop - 8), X2: num(tx), Y2: num(bottom), Stroke: gridColour, Width: "1"})
		label := t.Format("1/2006")
		if in.Text.Month != nil {
			label = in.Text.Month(t)
		}
		v.Ticks = append(v.Ticks, svgText{X: num(tx), Y: num(ganttTop - 14), Text: label, Anchor: "middle"})
	}
	xn := x(now)
	v.Today = svgLine{X1: num(xn), Y1: num(ganttTop - 30), X2: num(xn), Y2: num(bottom), Stroke: inkColour, Width: "2"}
	today := in.Text.Today
	if in.Text.Date != nil {
		today += " · " + in.Text.Date(now)
	}
	// The label sits on the side of the line with room for it.
	anchor, lx := "start", xn+6
	if xn > (ganttPlotLeft+ganttPlotEnd)/2 {
		anchor, lx = "end", xn-6
	}
	v.TodayLabel = svgText{X: num(lx), Y: num(ganttTop - 32), Text: today, Anchor: anchor, Weight: "700"}
	v.Legend = legend(in.ID, in.Text.States, bottom+24)
	v.W, v.H = num(chartWidth), num(bottom+ganttLegend)
	return execChart(ganttTemplate, v)
}

var stateColours = map[string]string{stateCompleted: blueColour, stateOnTrack: greenColour, stateDueSoon: amberColour, stateOverdue: redColour}

// barStyle is a bar's rectangle: solid for on track, dotted for due soon,
// hatched for overdue, an outline for completed.
func barStyle(state, id string, x, y, w, h float64) svgRect {
	r := svgRect{X: num(x), Y: num(y), W: num(w), H: num(h), Stroke: stateColours[state], Width: "1.5"}
	switch state {
	case stateOnTrack:
		r.Fill = greenColour
	case stateDueSoon:
		r.Fill = "url(#" + id + "-dots)"
	case stateOverdue:
		r.Fill = "url(#" + id + "-hatch)"
	default:
		r.Fill, r.Width = "#ffffff", "2"
	}
	return r
}

// mark is a state's shape centred at (x, y): circle (on track), triangle
// (due soon), square (overdue), diamond (completed).
func mark(state string, x, y float64) svgMark {
	m := svgMark{State: state, X: num(x), Y: num(y)}
	switch state {
	case stateDueSoon:
		m.Points = fmt.Sprintf("%s,%s %s,%s %s,%s", num(x), num(y-8), num(x+8), num(y+6), num(x-8), num(y+6))
	case stateCompleted:
		m.Points = fmt.Sprintf("%s,%s %s,%s %s,%s %s,%s", num(x), num(y-8), num(x+8), num(y), num(x), num(y+8), num(x-8), num(y))
	}
	return m
}

func legend(id string, names map[string]string, y float64) []legendItem {
	var out []legendItem
	x := ganttLabelX
	for _, s := range chartStates {
		item := legendItem{Swatch: barStyle(s, id, x, y-7, 36, ganttBarH), Mark: mark(s, x+36, y),
			Label: svgText{X: num(x + 50), Y: num(y + 5), Text: names[s]}}
		out = append(out, item)
		x += 56 + float64(8*utf8.RuneCountInString(names[s])) + 24
	}
	return out
}

// monthTicks are the first days of months between from and to in loc,
// 1, 3, 6, 12 or 24 months apart: the fewest that leave at most eight.
func monthTicks(from, to time.Time, loc *time.Location) []time.Time {
	from, to = from.In(loc), to.In(loc)
	for _, step := range []int{1, 3, 6, 12, 24, 60} {
		var out []time.Time
		t := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, loc)
		for ; !t.After(to); t = t.AddDate(0, 1, 0) {
			if t.Before(from) || (int(t.Month())-1)%min(step, 12) != 0 || (step > 12 && t.Year()%(step/12) != 0) {
				continue
			}
			out = append(out, t)
		}
		if len(out) <= 8 {
			return out
		}
	}
	return nil
}

// tlRow is one period's count of a party's milestones.
type tlRow struct {
	Label                 string // the period, "ene–jun 2027"
	OnTime, Late, Overdue int64
}

// tlGroup is one party's periods.
type tlGroup struct {
	Label string
	Rows  []tlRow
}

// timelinessText is what the timeliness picture says.
type timelinessText struct {
	Title, Desc string
	// Kinds names on time, late and overdue for the legend.
	Kinds map[string]string
	// Counts writes a row's counts in words ("2 on time, 1 late, 0 overdue").
	Counts func(onTime, late, overdue int64) string
}

type timelinessInput struct {
	ID     string
	Text   timelinessText
	Groups []tlGroup
}

// The kinds of the timeliness picture, in its order.
const (
	kindOnTime  = "ontime"
	kindLate    = "late"
	kindOverdue = "overdue"
)

// Layout of the timeliness picture.
const (
	tlLabelX  = 8.0
	tlBarLeft = 220.0
	tlBarEnd  = 600.0
	tlCountX  = 616.0
	tlTop     = 8.0
	tlRowH    = 30.0
	tlHeading = 34.0
	tlBarH    = 16.0
)

type tlRowView struct {
	Label, Count svgText
	Segments     []svgRect
}

type timelinessView struct {
	ID, Title, Desc string
	W, H            string
	Headings        []svgText
	Rules           []svgLine
	Rows            []tlRowView
	Legend          []legendItem
}

// segmentStyle fills a kind's segment: solid for on time, striped for
// late, hatched for overdue.
func segmentStyle(kind, id string, x, y, w, h float64) svgRect {
	r := svgRect{X: num(x), Y: num(y), W: num(w), H: num(h), Width: "1.5"}
	switch kind {
	case kindOnTime:
		r.Fill, r.Stroke = greenColour, greenColour
	case kindLate:
		r.Fill, r.Stroke = "url(#"+id+"-stripes)", amberColour
	default:
		r.Fill, r.Stroke = "url(#"+id+"-hatch)", redColour
	}
	return r
}

// timelinessSVG draws, per party, a stacked bar per period: milestones
// met on time, met late, and overdue, each count also written out.
func timelinessSVG(in timelinessInput) (template.HTML, error) {
	var most int64
	for _, g := range in.Groups {
		for _, r := range g.Rows {
			most = max(most, r.OnTime+r.Late+r.Overdue)
		}
	}
	scale := 0.0
	if most > 0 {
		scale = (tlBarEnd - tlBarLeft) / float64(most)
	}
	v := timelinessView{ID: in.ID, Title: in.Text.Title, Desc: in.Text.Desc}
	y := tlTop
	for _, g := range in.Groups {
		v.Rules = append(v.Rules, svgLine{X1: "0", Y1: num(y), X2: num(chartWidth), Y2: num(y), Stroke: gridColour, Width: "1"})
		v.Headings = append(v.Headings, svgText{X: num(tlLabelX), Y: num(y + tlHeading*0.65), Text: g.Label, Weight: "700"})
		y += tlHeading
		for _, r := range g.Rows {
			mid := y + tlRowH/2
			row := tlRowView{Label: svgText{X: num(tlLabelX + 12), Y: num(mid + 5), Text: r.Label}}
			x := tlBarLeft
			for _, seg := range []struct {
				kind string
				n    int64
			}{{kindOnTime, r.OnTime}, {kindLate, r.Late}, {kindOverdue, r.Overdue}} {
				if seg.n == 0 {
					continue
				}
				w := float64(seg.n) * scale
				row.Segments = append(row.Segments, segmentStyle(seg.kind, in.ID, x, mid-tlBarH/2, w, tlBarH))
				x += w
			}
			count := ""
			if in.Text.Counts != nil {
				count = in.Text.Counts(r.OnTime, r.Late, r.Overdue)
			}
			row.Count = svgText{X: num(tlCountX), Y: num(mid + 5), Text: count}
			v.Rows = append(v.Rows, row)
			y += tlRowH
		}
	}
	lx := tlLabelX
	for _, k := range []string{kindOnTime, kindLate, kindOverdue} {
		name := in.Text.Kinds[k]
		v.Legend = append(v.Legend, legendItem{Swatch: segmentStyle(k, in.ID, lx, y+17, 36, tlBarH),
			Label: svgText{X: num(lx + 46), Y: num(y + 30), Text: name}})
		lx += 70 + float64(8*utf8.RuneCountInString(name))
	}
	v.W, v.H = num(chartWidth), num(y+48)
	return execChart(timelinessTemplate, v)
}

// num writes an SVG coordinate with one decimal at most.
func num(f float64) string {
	return strconv.FormatFloat(float64(int64(f*10+0.5*sign(f)))/10, 'f', -1, 64)
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

// clip shortens s to n characters, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func execChart(t *template.Template, v any) (template.HTML, error) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return "", fmt.Errorf("draw %s: %w", t.Name(), err)
	}
	// html/template escaped every value it wrote, so the result is safe
	// to put in the page as it is.
	return template.HTML(buf.String()), nil
}

// The templates draw what the Go code above laid out. Shapes come before
// texts, so texts stay on top.
const chartDefs = `{{define "defs"}}<defs>
<pattern id="{{.ID}}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="` + redColour + `" stroke-width="3"/></pattern>
<pattern id="{{.ID}}-dots" width="5" height="5" patternUnits="userSpaceOnUse"><rect width="5" height="5" fill="#ffffff"/><circle cx="2.5" cy="2.5" r="1.6" fill="` + amberColour + `"/></pattern>
<pattern id="{{.ID}}-stripes" width="5" height="5" patternUnits="userSpaceOnUse"><rect width="5" height="5" fill="#ffffff"/><line x1="0" y1="1.5" x2="5" y2="1.5" stroke="` + amberColour + `" stroke-width="2.2"/></pattern>
</defs>{{end}}
{{define "text"}}<text x="{{.X}}" y="{{.Y}}"{{with .Anchor}} text-anchor="{{.}}"{{end}}{{with .Weight}} font-weight="{{.}}"{{end}} fill="` + inkColour + `">{{.Text}}</text>{{end}}
{{define "line"}}<line x1="{{.X1}}" y1="{{.Y1}}" x2="{{.X2}}" y2="{{.Y2}}" stroke="{{.Stroke}}" stroke-width="{{.Width}}"{{with .Dash}} stroke-dasharray="{{.}}"{{end}}/>{{end}}
{{define "rect"}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Fill}}"{{with .Stroke}} stroke="{{.}}" stroke-width="{{$.Width}}"{{end}}/>{{end}}
{{define "mark"}}{{if eq .State "ontrack"}}<circle class="mark-ontrack" cx="{{.X}}" cy="{{.Y}}" r="7" fill="` + greenColour + `" stroke="#ffffff" stroke-width="1.5"/>` +
	`{{else if eq .State "overdue"}}<rect class="mark-overdue" x="{{.X}}" y="{{.Y}}" width="14" height="14" transform="translate(-7 -7)" fill="` + redColour + `" stroke="#ffffff" stroke-width="1.5"/>` +
	`{{else if eq .State "soon"}}<polygon class="mark-soon" points="{{.Points}}" fill="` + amberColour + `" stroke="#ffffff" stroke-width="1.5"/>` +
	`{{else}}<polygon class="mark-completed" points="{{.Points}}" fill="` + blueColour + `" stroke="#ffffff" stroke-width="1.5"/>{{end}}{{end}}`

var ganttTemplate = template.Must(template.New("timeline").Parse(chartDefs + `
{{define "timeline"}}<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-labelledby="{{.ID}}-title {{.ID}}-desc" font-size="14">
<title id="{{.ID}}-title">{{.Title}}</title>
<desc id="{{.ID}}-desc">{{.Desc}}</desc>
{{template "defs" .}}
{{range .Grid}}{{template "line" .}}{{end}}
{{range .Rules}}{{template "line" .}}{{end}}
{{range .Ticks}}{{template "text" .}}{{end}}
{{range .Headings}}{{template "text" .}}{{end}}
{{range .Rows}}<g class="bar bar-{{.Mark.State}}"><title>{{.Tip}}</title>{{template "rect" .Bar}}{{with .Late}}{{template "line" .}}{{end}}{{template "mark" .Mark}}{{template "text" .Label}}</g>
{{end}}<g class="today">{{template "line" .Today}}{{template "text" .TodayLabel}}</g>
<g class="legend">{{range .Legend}}{{template "rect" .Swatch}}{{template "mark" .Mark}}{{template "text" .Label}}{{end}}</g>
</svg>{{end}}`)).Lookup("timeline")

var timelinessTemplate = template.Must(template.New("timeliness").Parse(chartDefs + `
{{define "timeliness"}}<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-labelledby="{{.ID}}-title {{.ID}}-desc" font-size="14">
<title id="{{.ID}}-title">{{.Title}}</title>
<desc id="{{.ID}}-desc">{{.Desc}}</desc>
{{template "defs" .}}
{{range .Rules}}{{template "line" .}}{{end}}
{{range .Headings}}{{template "text" .}}{{end}}
{{range .Rows}}<g class="period">{{template "text" .Label}}{{range .Segments}}{{template "rect" .}}{{end}}{{template "text" .Count}}</g>
{{end}}<g class="legend">{{range .Legend}}{{template "rect" .Swatch}}{{template "text" .Label}}{{end}}</g>
</svg>{{end}}`)).Lookup("timeliness")
