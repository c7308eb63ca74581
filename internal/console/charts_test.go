package console

import (
	"encoding/xml"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// node is an element of a drawn picture, read back with an XML parser:
// what html/template writes for SVG is well-formed XML too.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Nodes   []node     `xml:",any"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// all returns every element below n (n too) for which keep is true.
func (n node) all(keep func(node) bool) []node {
	var out []node
	if keep(n) {
		out = append(out, n)
	}
	for _, c := range n.Nodes {
		out = append(out, c.all(keep)...)
	}
	return out
}

func named(local string) func(node) bool {
	return func(n node) bool { return n.XMLName.Local == local }
}

func withClass(class string) func(node) bool {
	return func(n node) bool { return strings.Contains(" "+n.attr("class")+" ", " "+class+" ") }
}

func parseSVG(t *testing.T, svg string) node {
	t.Helper()
	var root node
	if err := xml.Unmarshal([]byte(svg), &root); err != nil {
		t.Fatalf("the picture is not well-formed: %v\n%s", err, svg)
	}
	if root.XMLName.Local != "svg" || root.XMLName.Space != "http://www.w3.org/2000/svg" {
		t.Fatalf("root element %v", root.XMLName)
	}
	return root
}

func coord(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("coordinate %q: %v", s, err)
	}
	return f
}

// checkAccessible holds a picture to what the page relies on: an image
// role named by its own title and description, and no inline styles (the
// Content-Security-Policy would drop them).
func checkAccessible(t *testing.T, root node, id, title, desc, raw string) {
	t.Helper()
	if root.attr("role") != "img" {
		t.Errorf("role = %q, want img", root.attr("role"))
	}
	if got := root.attr("aria-labelledby"); got != id+"-title "+id+"-desc" {
		t.Errorf("aria-labelledby = %q", got)
	}
	if len(root.Nodes) < 2 || root.Nodes[0].XMLName.Local != "title" || root.Nodes[1].XMLName.Local != "desc" {
		t.Fatal("the picture does not start with its title and description")
	}
	if got := root.Nodes[0]; got.attr("id") != id+"-title" || got.Text != title {
		t.Errorf("title %q (id %q), want %q", got.Text, got.attr("id"), title)
	}
	if got := root.Nodes[1]; got.attr("id") != id+"-desc" || got.Text != desc {
		t.Errorf("desc %q (id %q), want %q", got.Text, got.attr("id"), desc)
	}
	if strings.Contains(raw, "style=") || strings.Contains(raw, "<style") || strings.Contains(raw, "<script") {
		t.Error("the picture carries styles or scripts inline")
	}
	if root.attr("viewBox") == "" {
		t.Error("no viewBox: the picture would not scale")
	}
}

const hostile = `Fase <1> & "piloto" <script>alert(1)</script>`

func sampleGantt(now time.Time) ganttInput {
	day := 24 * time.Hour
	return ganttInput{ID: "tl", Now: now, Loc: time.UTC,
		Text: chartText{Title: "Hitos de " + hostile, Desc: "4 hitos & más", Today: "Hoy",
			States: map[string]string{stateOnTrack: "Al día", stateDueSoon: "Por vencer", stateOverdue: "Vencido", stateCompleted: "Completado"},
			Month:  func(t time.Time) string { return t.Format("Jan 2006") },
			Date:   func(t time.Time) string { return t.Format("1/2/2006") }},
		Groups: []ganttGroup{
			{Label: "Corto plazo", Bars: []ganttBar{
				// Due as far after today as it started before: today is its middle.
				{Label: hostile, Owner: "PA", Tip: "tip " + hostile, Start: now.Add(-100 * day), Due: now.Add(100 * day), State: stateOnTrack},
				{Label: "Manual", Owner: "US", Tip: "manual", Start: now.Add(-100 * day), Due: now.Add(5 * day), State: stateDueSoon},
			}},
			{Label: "Mediano plazo", Bars: []ganttBar{
				{Label: "Informe", Owner: "PA", Tip: "informe", Start: now.Add(-200 * day), Due: now.Add(-30 * day), State: stateOverdue},
				{Label: "Taller", Owner: "US", Tip: "taller", Start: now.Add(-200 * day), Due: now.Add(-60 * day), CompletedAt: now.Add(-70 * day), State: stateCompleted},
			}},
			{Label: "Largo plazo"}, // empty: no heading drawn
		}}
}

func TestGanttStructureAndEscaping(t *testing.T) {
	now := time.Date(2027, 3, 15, 12, 0, 0, 0, time.UTC)
	in := sampleGantt(now)
	out, err := ganttSVG(in)
	if err != nil {
		t.Fatal(err)
	}
	raw := string(out)
	root := parseSVG(t, raw)
	checkAccessible(t, root, "tl", in.Text.Title, in.Text.Desc, raw)

	// Typed text arrives as text, never as markup.
	if strings.Contains(raw, "<script>") || strings.Contains(raw, "<1>") || strings.Contains(raw, `"piloto"`) {
		t.Fatalf("a title was written unescaped:\n%s", raw)
	}
	texts := map[string]bool{}
	for _, n := range root.all(named("text")) {
		texts[n.Text] = true
	}
	// A long title is cut short in the label (the tooltip and the table
	// have it whole).
	if want := `Fase <1> & "piloto" <script>a… · PA`; !texts[want] {
		t.Errorf("the label does not read back as typed; texts: %v", texts)
	}
	for _, want := range []string{"Corto plazo", "Mediano plazo", "Hoy · 3/15/2027", "Al día", "Por vencer", "Vencido", "Completado"} {
		if !texts[want] {
			t.Errorf("no text %q", want)
		}
	}
	if texts["Largo plazo"] {
		t.Error("an empty term has a heading")
	}
	// One group per bar, with its tooltip.
	bars := root.all(withClass("bar"))
	if len(bars) != 4 {
		t.Fatalf("%d bars, want 4", len(bars))
	}
	if tip := bars[0].Nodes[0]; tip.XMLName.Local != "title" || tip.Text != "tip "+hostile {
		t.Errorf("first bar's tooltip %q", tip.Text)
	}
}

// Each state is drawn with its own fill and its own mark, never by
// colour alone, and the patterns the fills name are defined.
func TestGanttStatesHavePatternsAndShapes(t *testing.T) {
	now := time.Date(2027, 3, 15, 12, 0, 0, 0, time.UTC)
	out, err := ganttSVG(sampleGantt(now))
	if err != nil {
		t.Fatal(err)
	}
	root := parseSVG(t, string(out))
	patterns := map[string]bool{}
	for _, p := range root.all(named("pattern")) {
		patterns["url(#"+p.attr("id")+")"] = true
	}
	want := map[string]struct {
		fill, shape string
	}{
		stateOnTrack:   {greenColour, "circle"},
		stateDueSoon:   {"url(#tl-dots)", "polygon"},
		stateOverdue:   {"url(#tl-hatch)", "rect"},
		stateCompleted: {"#ffffff", "polygon"},
	}
	fills := map[string]string{}
	for state, w := range want {
		gs := root.all(withClass("bar-" + state))
		if len(gs) != 1 {
			t.Fatalf("%d bars in state %s, want 1", len(gs), state)
		}
		g := gs[0]
		bar := g.all(named("rect"))[0]
		if bar.attr("fill") != w.fill {
			t.Errorf("%s bar filled %q, want %q", state, bar.attr("fill"), w.fill)
		}
		if strings.HasPrefix(w.fill, "url(") && !patterns[w.fill] {
			t.Errorf("%s names pattern %s, which is not defined", state, w.fill)
		}
		if bar.attr("stroke") != stateColours[state] {
			t.Errorf("%s bar outlined %q", state, bar.attr("stroke"))
		}
		marks := g.all(withClass("mark-" + state))
		if len(marks) != 1 || marks[0].XMLName.Local != w.shape {
			t.Errorf("%s has marks %v, want one %s", state, marks, w.shape)
		}
		fills[bar.attr("fill")] = state
	}
	if len(fills) != len(want) {
		t.Errorf("two states share a fill: %v", fills)
	}
	// The overdue bar runs on to today as a dashed line.
	late := root.all(withClass("bar-overdue"))[0].all(named("line"))
	if len(late) != 1 || late[0].attr("stroke-dasharray") == "" {
		t.Errorf("overdue bar's line to today: %v", late)
	}
	// The legend shows every state with the same fill and mark.
	legend := root.all(withClass("legend"))[0]
	for state, w := range want {
		found := false
		for _, r := range legend.all(named("rect")) {
			found = found || r.attr("fill") == w.fill
		}
		if !found || len(legend.all(withClass("mark-"+state))) != 1 {
			t.Errorf("the legend lacks %s", state)
		}
	}
}

// Today's line stands where today falls on the axis: in the middle of a
// bar that started as long before today as it is due after.
func TestGanttTodayLine(t *testing.T) {
	for _, now := range []time.Time{
		time.Date(2027, 3, 15, 12, 0, 0, 0, time.UTC),
		time.Date(2030, 11, 2, 0, 0, 0, 0, time.UTC),
	} {
		out, err := ganttSVG(sampleGantt(now))
		if err != nil {
			t.Fatal(err)
		}
		root := parseSVG(t, string(out))
		today := root.all(withClass("today"))[0].all(named("line"))[0]
		x1, x2 := coord(t, today.attr("x1")), coord(t, today.attr("x2"))
		if x1 != x2 {
			t.Fatalf("today's line is not vertical: %v to %v", x1, x2)
		}
		bar := root.all(withClass("bar-ontrack"))[0].all(named("rect"))[0]
		mid := coord(t, bar.attr("x")) + coord(t, bar.attr("width"))/2
		if math.Abs(x1-mid) > 0.3 {
			t.Errorf("%s: today at x=%v, want the bar's middle %v", now, x1, mid)
		}
		if x1 < ganttPlotLeft || x1 > ganttPlotEnd {
			t.Errorf("today at x=%v, outside the plot", x1)
		}
		// The completed bar's diamond sits at its completion date, before its due date.
		done := root.all(withClass("bar-completed"))[0]
		rect := done.all(named("rect"))[0]
		diamond := done.all(withClass("mark-completed"))[0]
		first := strings.Split(strings.Fields(diamond.attr("points"))[0], ",")[0]
		if dx, end := coord(t, first), coord(t, rect.attr("x"))+coord(t, rect.attr("width")); dx >= end {
			t.Errorf("completion mark at %v, not before the due date at %v", dx, end)
		}
	}
}

func TestMonthTicks(t *testing.T) {
	loc, err := time.LoadLocation("America/Panama")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 20, 0, 0, 0, 0, loc)
	ticks := monthTicks(from, from.AddDate(3, 0, 0), loc)
	if len(ticks) == 0 || len(ticks) > 8 {
		t.Fatalf("%d ticks over three years", len(ticks))
	}
	for _, tk := range ticks {
		if tk.Day() != 1 || tk.Hour() != 0 || tk.Location() != loc || (tk.Month() != time.January && tk.Month() != time.July) {
			t.Errorf("tick %v is not the start of a half-year in Panama", tk)
		}
	}
	if short := monthTicks(from, from.AddDate(0, 4, 0), loc); len(short) != 4 || short[0].Month() != time.December {
		t.Errorf("ticks over four months: %v", short)
	}
}

func TestTimelinessStructure(t *testing.T) {
	in := timelinessInput{ID: "tm", Text: timelinessText{Title: "A tiempo " + hostile, Desc: "desc",
		Kinds: map[string]string{kindOnTime: "A tiempo", kindLate: "Con retraso", kindOverdue: "Vencidos"},
		Counts: func(on, late, over int64) string {
			return strconv.FormatInt(on, 10) + "/" + strconv.FormatInt(late, 10) + "/" + strconv.FormatInt(over, 10)
		}},
		Groups: []tlGroup{
			{Label: "Panamá", Rows: []tlRow{{Label: "ene–jun 2027", OnTime: 3, Late: 1, Overdue: 2}, {Label: "jul–dic 2027"}}},
			{Label: "United States & <co>", Rows: []tlRow{{Label: "ene–jun 2027", Overdue: 6}}},
		}}
	out, err := timelinessSVG(in)
	if err != nil {
		t.Fatal(err)
	}
	raw := string(out)
	root := parseSVG(t, raw)
	checkAccessible(t, root, "tm", in.Text.Title, "desc", raw)
	if strings.Contains(raw, "<co>") || strings.Contains(raw, "<script>") {
		t.Fatal("a name was written unescaped")
	}
	periods := root.all(withClass("period"))
	if len(periods) != 3 {
		t.Fatalf("%d period rows, want 3", len(periods))
	}
	segs := periods[0].all(named("rect"))
	if len(segs) != 3 {
		t.Fatalf("first row has %d segments, want 3", len(segs))
	}
	fills := []string{greenColour, "url(#tm-stripes)", "url(#tm-hatch)"}
	var widths []float64
	for i, s := range segs {
		if s.attr("fill") != fills[i] {
			t.Errorf("segment %d filled %q, want %q", i, s.attr("fill"), fills[i])
		}
		widths = append(widths, coord(t, s.attr("width")))
	}
	// Lengths are proportional to the counts: 3, 1, 2 of a largest row of 6.
	full := tlBarEnd - tlBarLeft
	for i, n := range []float64{3, 1, 2} {
		if math.Abs(widths[i]-full*n/6) > 0.2 {
			t.Errorf("segment %d is %v long, want %v", i, widths[i], full*n/6)
		}
	}
	if len(periods[1].all(named("rect"))) != 0 {
		t.Error("a period with nothing due has a bar")
	}
	if w := coord(t, periods[2].all(named("rect"))[0].attr("width")); math.Abs(w-full) > 0.2 {
		t.Errorf("the largest row is %v long, want the full %v", w, full)
	}
	texts := map[string]bool{}
	for _, n := range root.all(named("text")) {
		texts[n.Text] = true
	}
	for _, want := range []string{"3/1/2", "0/0/0", "0/0/6", "United States & <co>", "A tiempo", "Con retraso", "Vencidos"} {
		if !texts[want] {
			t.Errorf("no text %q", want)
		}
	}
}
