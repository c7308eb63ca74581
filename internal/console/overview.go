package console

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"pacto/internal/api"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// The dialogue overview: what stands where in one dialogue, for anyone of
// its parties (admins: any dialogue). Counts come from the read model in
// SQL; the timeline and what awaits each party from the activities as the
// API shows them to the viewer, texts in the viewer's language.

// overviewPeriods is how many half-years the timeliness picture covers.
// The dialogue meets every six months; until its meetings are recorded,
// calendar half-years stand in for the periods between them.
const overviewPeriods = 4

// Bounds on what the overview reads, so that a very large dialogue makes a
// slower page, not an unbounded one.
const (
	overviewPages   = 5   // pages of 200 activities per status
	overviewBars    = 150 // milestones drawn in the timeline
	overviewPageMax = 200
)

// overview sends the viewer to a dialogue's overview: the one asked for,
// else the first of theirs.
func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if d := r.URL.Query().Get("dialogue"); d != "" {
		http.Redirect(w, r, "/dialogues/"+url.PathEscape(d), http.StatusSeeOther)
		return
	}
	ds, err := c.api.DialoguesOf(r.Context(), p)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if len(ds) == 0 {
		pg := c.base(r, "overview")
		pg.D = overviewView{}
		c.render(w, r, http.StatusOK, "overview", pg)
		return
	}
	http.Redirect(w, r, "/dialogues/"+url.PathEscape(ds[0].ID), http.StatusSeeOther)
}

// statusRow is one line of the counts table.
type statusRow struct {
	Status string // "" for the total
	Total  int64
	Terms  map[string]int64
}

// awaiting is what waits for one party of the dialogue.
type awaiting struct {
	Party      store.Party
	Decisions  []workItem
	Extensions []workItem
	Overdue    []workItem
}

// timelineRow is one milestone of the timeline's table.
type timelineRow struct {
	Activity  api.ActivityView
	Milestone api.MilestoneView
	Start     time.Time
	State     string
}

type timelineTerm struct {
	Term string
	Rows []timelineRow
}

// timelinessRow is one party's period in the timeliness table.
type timelinessRow struct {
	Period                string
	OnTime, Late, Overdue int64
}

type timelinessParty struct {
	Party store.Party
	Rows  []timelinessRow
}

type overviewView struct {
	Dialogue  store.Dialogue
	Dialogues []store.Dialogue
	Parties   map[string]string // code → name
	Terms     []string
	Statuses  []statusRow
	Awaits    []awaiting
	// Partial says the dialogue has more activities than the page reads.
	Partial       bool
	Timeline      template.HTML
	TimelineTerms []timelineTerm
	Drawn, Bars   int // milestones drawn, and in the table
	Timeliness    template.HTML
	TimelinessBy  []timelinessParty
	// Meetings are the dialogue's next meetings, when it has a calendar,
	// and LastMeeting the one held before them (0 when none was).
	Meetings    []api.MeetingView
	LastMeeting int
	// Export links the dialogue's activities as a download.
	Export exportLinks
}

var overviewStatuses = []string{"proposed", "active", "suspended", "completed", "declined", "expired", "cancelled"}

var terms = []string{"short", "medium", "long"}

func (c *Console) dialogueOverview(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	ctx := r.Context()
	pg := c.base(r, "overview")
	cat := set(c, pg.Lang)
	loc, err := lifecycle.LoadZone(pg.Zone)
	if err != nil {
		loc = time.UTC
	}
	bounds := halfYears(pg.Now, loc, overviewPeriods)
	stats, err := c.api.DialogueStats(ctx, p, chi.URLParam(r, "dialogue"), bounds)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := overviewView{Dialogue: stats.Dialogue, Parties: map[string]string{}, Terms: terms,
		Export: dialogueExportLinks(stats.Dialogue.ID)}
	if v.Dialogues, err = c.api.DialoguesOf(ctx, p); err != nil {
		c.fail(w, r, err)
		return
	}
	for _, party := range stats.Parties {
		v.Parties[party.Code] = party.Name
	}
	v.Statuses = statusRows(stats.Counts)
	if next, err := c.api.Meetings(ctx, p, stats.Dialogue.ID, 3); err == nil {
		v.Meetings = next.Meetings
		if len(v.Meetings) > 0 {
			// The way to the meetings held: each page links the one
			// before.
			if m, err := c.api.Meeting(ctx, p, stats.Dialogue.ID, v.Meetings[0].Number); err == nil {
				v.LastMeeting = m.Previous
			}
		}
	} else if api.Describe(err).Status != http.StatusNotFound {
		c.fail(w, r, err)
		return
	}

	lists := map[string][]api.ActivityView{}
	for _, status := range []string{"proposed", "active", "suspended", "completed"} {
		pages := overviewPages
		if status == "completed" {
			pages = 1 // the newest are the ones the timeline's window holds
		}
		as, more, err := c.dialogueActivities(ctx, p, stats.Dialogue.ID, status, pages)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		lists[status] = as
		v.Partial = v.Partial || (more && status != "completed")
	}
	running := append(slices.Clone(lists["active"]), lists["suspended"]...)
	v.Awaits = awaits(stats.Parties, lists["proposed"], running)

	rows := timelineRows(append(running, lists["completed"]...), bounds[0])
	v.Bars = len(rows)
	drawn := mostRelevant(rows, overviewBars)
	v.Drawn = len(drawn)
	v.TimelineTerms = byTerm(rows)
	date := func(t time.Time) string { return shortDate(t, pg.Zone) }
	if v.Timeline, err = ganttSVG(ganttInput{ID: "timeline", Now: pg.Now, Loc: loc,
		Groups: ganttGroups(byTerm(drawn), cat, v.Parties, date),
		Text: chartText{
			Title:  cat.t("overview.timeline.title", stats.Dialogue.Name),
			Desc:   timelineDesc(cat, drawn, date(pg.Now)),
			Today:  cat.t("overview.today"),
			States: stateNames(cat),
			Month: func(t time.Time) string {
				return cat.t(fmt.Sprintf("month.%d", t.Month())) + " " + fmt.Sprint(t.Year())
			},
			Date: date,
		}}); err != nil {
		c.fail(w, r, err)
		return
	}

	v.TimelinessBy = timelinessParties(stats, bounds, loc, cat)
	var groups []tlGroup
	for _, tp := range v.TimelinessBy {
		g := tlGroup{Label: tp.Party.Name}
		for _, row := range tp.Rows {
			g.Rows = append(g.Rows, tlRow{Label: row.Period, OnTime: row.OnTime, Late: row.Late, Overdue: row.Overdue})
		}
		groups = append(groups, g)
	}
	if v.Timeliness, err = timelinessSVG(timelinessInput{ID: "timeliness", Groups: groups, Text: timelinessText{
		Title: cat.t("overview.timeliness.title"),
		Desc:  cat.t("overview.timeliness.desc", len(bounds)-1),
		Kinds: map[string]string{kindOnTime: cat.t("overview.ontime"), kindLate: cat.t("overview.late"), kindOverdue: cat.t("overview.overdue")},
		Counts: func(on, late, over int64) string {
			if on+late+over == 0 {
				return cat.t("overview.nothingdue")
			}
			return cat.t("overview.counts", on, late, over)
		},
	}}); err != nil {
		c.fail(w, r, err)
		return
	}
	pg.D = v
	c.render(w, r, http.StatusOK, "overview", pg)
}

// dialogueActivities reads up to pages pages of a dialogue's activities
// in one status, as the API lists them to p, and whether there are more.
func (c *Console) dialogueActivities(ctx context.Context, p store.Principal, dialogue, status string, pages int) ([]api.ActivityView, bool, error) {
	var out []api.ActivityView
	q := url.Values{"dialogue": {dialogue}, "status": {status}, "limit": {fmt.Sprint(overviewPageMax)}}
	for range pages {
		list, err := c.api.List(ctx, p, q)
		if err != nil {
			return nil, false, err
		}
		out = append(out, list.Activities...)
		if list.NextCursor == "" {
			return out, false, nil
		}
		q.Set("cursor", list.NextCursor)
	}
	return out, true, nil
}

// halfYears are the bounds of the last n calendar half-years in loc, the
// current one last: n+1 instants, from the start of the oldest to the end
// of the current.
func halfYears(now time.Time, loc *time.Location, n int) []time.Time {
	now = now.In(loc)
	month := time.January
	if now.Month() >= time.July {
		month = time.July
	}
	start := time.Date(now.Year(), month, 1, 0, 0, 0, 0, loc)
	out := make([]time.Time, n+1)
	for i := range out {
		out[i] = start.AddDate(0, 6*(i-n+1), 0)
	}
	return out
}

// halfYearName is "ene–jun 2027" or "Jul–Dec 2027" for the half-year
// starting at t.
func halfYearName(cat catalog, t time.Time) string {
	if t.Month() < time.July {
		return cat.t("overview.half1", t.Year())
	}
	return cat.t("overview.half2", t.Year())
}

func statusRows(counts store.DialogueCounts) []statusRow {
	var out []statusRow
	total := statusRow{Terms: map[string]int64{}}
	for _, s := range overviewStatuses {
		n := counts.ByStatus[s]
		if n == 0 {
			continue
		}
		row := statusRow{Status: s, Total: n, Terms: map[string]int64{}}
		for _, term := range terms {
			row.Terms[term] = counts.ByStatusTerm[s][term]
			total.Terms[term] += row.Terms[term]
		}
		total.Total += n
		out = append(out, row)
	}
	return append(out, total)
}

// awaits is what waits for each party: proposals pending its decision,
// extensions pending its decision, and its overdue milestones.
func awaits(parties []store.Party, proposed, running []api.ActivityView) []awaiting {
	out := make([]awaiting, len(parties))
	for i, party := range parties {
		a := awaiting{Party: party}
		for _, act := range proposed {
			if slices.Contains(act.PendingParties, party.Code) {
				a.Decisions = append(a.Decisions, workItem{Activity: act})
			}
		}
		for _, act := range running {
			for j := range act.Extensions {
				x := &act.Extensions[j]
				if x.Status == lifecycle.ExtensionPending && partyPending(x.Decisions, party.Code) {
					a.Extensions = append(a.Extensions, workItem{Activity: act, Extension: x})
				}
			}
			for j := range act.Milestones {
				if m := &act.Milestones[j]; m.Owner == party.Code && m.Overdue {
					a.Overdue = append(a.Overdue, workItem{Activity: act, Milestone: m})
				}
			}
		}
		// The longest overdue first.
		sort.SliceStable(a.Overdue, func(x, y int) bool { return a.Overdue[x].Milestone.DueAt.Before(*a.Overdue[y].Milestone.DueAt) })
		out[i] = a
	}
	return out
}

// milestoneState is how the timeline draws a milestone, from the state and
// colour the API gives it.
func milestoneState(m api.MilestoneView) string {
	switch {
	case m.Status == string(lifecycle.MilestoneCompleted):
		return stateCompleted
	case m.Colour == string(lifecycle.ColourRed):
		return stateOverdue
	case m.Colour == string(lifecycle.ColourAmber):
		return stateDueSoon
	}
	return stateOnTrack
}

// timelineRows are the milestones with a due time of activities that
// have started, leaving out those completed and due before since.
func timelineRows(acts []api.ActivityView, since time.Time) []timelineRow {
	var out []timelineRow
	for _, a := range acts {
		if a.ActivatedAt == nil {
			continue
		}
		for _, m := range a.Milestones {
			if m.DueAt == nil {
				continue
			}
			state := milestoneState(m)
			if state == stateCompleted && m.DueAt.Before(since) && (m.CompletedAt == nil || m.CompletedAt.Before(since)) {
				continue
			}
			out = append(out, timelineRow{Activity: a, Milestone: m, Start: *a.ActivatedAt, State: state})
		}
	}
	return out
}

// mostRelevant keeps at most n rows: open milestones before completed
// ones, the sooner due first among open ones and the latest among
// completed ones.
func mostRelevant(rows []timelineRow, n int) []timelineRow {
	if len(rows) <= n {
		return rows
	}
	sorted := slices.Clone(rows)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if (a.State == stateCompleted) != (b.State == stateCompleted) {
			return b.State == stateCompleted
		}
		if a.State == stateCompleted {
			return a.Milestone.DueAt.After(*b.Milestone.DueAt)
		}
		return a.Milestone.DueAt.Before(*b.Milestone.DueAt)
	})
	return sorted[:n]
}

// byTerm groups rows by their milestone's term, each by due time.
func byTerm(rows []timelineRow) []timelineTerm {
	var out []timelineTerm
	for _, term := range terms {
		g := timelineTerm{Term: term}
		for _, r := range rows {
			if r.Milestone.Horizon == term {
				g.Rows = append(g.Rows, r)
			}
		}
		sort.SliceStable(g.Rows, func(i, j int) bool { return g.Rows[i].Milestone.DueAt.Before(*g.Rows[j].Milestone.DueAt) })
		if len(g.Rows) > 0 {
			out = append(out, g)
		}
	}
	return out
}

func stateNames(cat catalog) map[string]string {
	out := map[string]string{}
	for _, s := range chartStates {
		out[s] = cat.t("overview.state." + s)
	}
	return out
}

func ganttGroups(groups []timelineTerm, cat catalog, parties map[string]string, date func(time.Time) string) []ganttGroup {
	out := make([]ganttGroup, len(groups))
	for i, g := range groups {
		out[i] = ganttGroup{Label: cat.t("term." + g.Term)}
		for _, r := range g.Rows {
			m := r.Milestone
			b := ganttBar{Label: m.TitleText, Owner: m.Owner, Start: r.Start, Due: *m.DueAt, State: r.State,
				Tip: cat.t("overview.tip", m.TitleText, r.Activity.TitleText, cmp.Or(parties[m.Owner], m.Owner), date(*m.DueAt), cat.t("overview.state."+r.State))}
			if m.CompletedAt != nil {
				b.CompletedAt = *m.CompletedAt
			}
			out[i].Bars = append(out[i].Bars, b)
		}
	}
	return out
}

// timelineDesc sums the timeline up in words, for those who do not see it.
func timelineDesc(cat catalog, rows []timelineRow, today string) string {
	n := map[string]int{}
	for _, r := range rows {
		n[r.State]++
	}
	return cat.t("overview.timeline.desc", len(rows), n[stateOnTrack], n[stateDueSoon], n[stateOverdue], n[stateCompleted], today)
}

// timelinessParties lays the counts out per party of the dialogue and
// period, oldest period first, with zeros where nothing was due.
func timelinessParties(stats api.DialogueStats, bounds []time.Time, loc *time.Location, cat catalog) []timelinessParty {
	out := make([]timelinessParty, len(stats.Parties))
	for i, party := range stats.Parties {
		tp := timelinessParty{Party: party}
		for period := range len(bounds) - 1 {
			row := timelinessRow{Period: halfYearName(cat, bounds[period].In(loc))}
			for _, t := range stats.Timeliness {
				if t.Party == party.Code && t.Period == period {
					row.OnTime, row.Late, row.Overdue = t.OnTime, t.Late, t.Overdue
				}
			}
			tp.Rows = append(tp.Rows, row)
		}
		out[i] = tp
	}
	return out
}

// meetingReport is a meeting's progress report, as the API gives it, for
// the signed-in reader: a printable page, or a PDF or CSV to hand on.
func (c *Console) meetingReport(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "html"
	}
	number, err := strconv.Atoi(chi.URLParam(r, "number"))
	if err != nil || number < 1 {
		c.fail(w, r, errNotFound)
		return
	}
	p := principalOf(r)
	rep, err := c.api.MeetingReport(r.Context(), p, chi.URLParam(r, "dialogue"), number)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if err := api.ServeReport(w, p, rep, format); err != nil {
		c.fail(w, r, err)
	}
}

// dialogueExportLinks are a dialogue's downloads: its activities as a CSV
// and a workbook, and its published ones as an IATI file.
func dialogueExportLinks(dialogue string) exportLinks {
	l := exportLinksFor(url.Values{"dialogue": {dialogue}})
	l.IATI = "/dialogues/" + url.PathEscape(dialogue) + "/export/iati"
	return l
}
