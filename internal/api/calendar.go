package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"go.temporal.io/api/serviceerror"

	"pacto/internal/lifecycle"
	"pacto/internal/review"
	"pacto/internal/store"
	"pacto/workflows"
)

// localTimeLayout is how the API writes a meeting's local time: a date and
// a clock time on the calendar zone's clock, with no offset.
const localTimeLayout = "2006-01-02T15:04"

// Calendar is a dialogue's meeting calendar as the API takes and gives
// it: a rule (First, Every, Hosts in turn) or explicit Dates, all local
// times on Zone's clock; Moved gives a meeting, by number, another local
// time, and Cancelled drops meetings by number.
type Calendar struct {
	First     string            `json:"first,omitempty"`
	Every     int               `json:"every,omitempty"`
	Zone      string            `json:"zone"`
	Hosts     []string          `json:"hosts"`
	Dates     []string          `json:"dates,omitempty"`
	Moved     map[string]string `json:"moved,omitempty"`
	Cancelled []int             `json:"cancelled,omitempty"`
	// The review's offsets from each meeting, ISO 8601 durations: the
	// draft report (default P30D before), the close of statements (P7D
	// before) and how often parties owing statements are reminded (P7D).
	DraftBefore      string `json:"draft_before,omitempty"`
	StatementsBefore string `json:"statements_before,omitempty"`
	RemindEvery      string `json:"remind_every,omitempty"`
	// Paused pauses the calendar's schedule: no meeting's review starts
	// while it is paused; those under way go on.
	Paused bool `json:"paused,omitempty"`
}

// reviewPolicy is the calendar's review offsets; the defaults for those
// not given.
func reviewPolicy(c Calendar) (workflows.ReviewInput, error) {
	var in workflows.ReviewInput
	for _, f := range []struct {
		field, v string
		into     *time.Duration
	}{
		{"draft_before", c.DraftBefore, &in.DraftBefore},
		{"statements_before", c.StatementsBefore, &in.StatementsBefore},
		{"remind_every", c.RemindEvery, &in.RemindEvery},
	} {
		if f.v == "" {
			continue
		}
		d, err := lifecycle.ParseDuration(f.v)
		if err != nil || d < time.Minute || d > 366*24*time.Hour {
			return in, failField(probInvalid, f.field, fmt.Sprintf("%s must be an ISO 8601 duration from PT1M to P366D, such as P30D", f.field))
		}
		*f.into = d
	}
	p := in.Defaults()
	if p.StatementsBefore >= p.DraftBefore {
		return in, failField(probInvalid, "statements_before", "statements must close after the draft report: statements_before must be shorter than draft_before")
	}
	return in, nil
}

// MeetingView is one meeting of a dialogue.
type MeetingView struct {
	Number int       `json:"number"`
	At     time.Time `json:"at"`
	// Local is the meeting's time on the calendar zone's clock.
	Local string `json:"local"`
	Zone  string `json:"zone"`
	Host  string `json:"host"`
}

// MeetingList is GET /v1/dialogues/{dialogue}/meetings.
type MeetingList struct {
	Meetings []MeetingView `json:"meetings"`
}

// Bounds of a calendar.
const (
	minMeetingEvery = 1
	maxMeetingEvery = 24
	maxMeetingDates = 100
)

var localTimePattern = regexp.MustCompile(localTimeRE)

func localTime(field, v string) (time.Time, error) {
	if !localTimePattern.MatchString(v) {
		return time.Time{}, failField(probInvalid, field, fmt.Sprintf("%s must be a local date and time such as 2027-03-15T10:00", field))
	}
	t, err := time.Parse(localTimeLayout, v)
	if err != nil {
		return time.Time{}, failField(probInvalid, field, fmt.Sprintf("%s must be a local date and time such as 2027-03-15T10:00", field))
	}
	return t, nil
}

// calendarOf checks a calendar for dialogue d and turns it into the
// review package's.
func calendarOf(c Calendar, d store.Dialogue) (review.Calendar, error) {
	out := review.Calendar{Every: c.Every, Zone: c.Zone, Cancelled: c.Cancelled}
	if _, err := lifecycle.LoadZone(c.Zone); err != nil || c.Zone == "" {
		return out, failField(probInvalid, "zone", fmt.Sprintf("zone %q is not a time zone name such as America/Panama", c.Zone))
	}
	if len(c.Hosts) == 0 {
		return out, failField(probInvalid, "hosts", "name the parties that host the meetings, in turn")
	}
	for i, h := range c.Hosts {
		if !slices.Contains(d.Parties, h) {
			return out, failField(probInvalid, fmt.Sprintf("hosts[%d]", i), fmt.Sprintf("party %q is not a party of dialogue %s", h, d.ID))
		}
		out.Hosts = append(out.Hosts, lifecycle.PartyCode(h))
	}
	var err error
	switch {
	case c.First != "" && len(c.Dates) > 0:
		return out, failField(probInvalid, "dates", "give either the first meeting and every, or dates, not both")
	case c.First == "" && len(c.Dates) == 0:
		return out, failField(probInvalid, "first", "give the first meeting's local time (with every), or the meetings' dates")
	case c.First != "":
		if out.First, err = localTime("first", c.First); err != nil {
			return out, err
		}
		if c.Every < minMeetingEvery || c.Every > maxMeetingEvery {
			return out, failField(probInvalid, "every", fmt.Sprintf("every must be %d to %d months", minMeetingEvery, maxMeetingEvery))
		}
	default:
		if len(c.Dates) > maxMeetingDates {
			return out, failField(probInvalid, "dates", fmt.Sprintf("at most %d dates", maxMeetingDates))
		}
		for i, v := range c.Dates {
			t, err := localTime(fmt.Sprintf("dates[%d]", i), v)
			if err != nil {
				return out, err
			}
			out.Dates = append(out.Dates, t)
		}
	}
	for k, v := range c.Moved {
		n, err := strconv.Atoi(k)
		if err != nil || n < 1 || n > maxMeetingDates {
			return out, failField(probInvalid, "moved", fmt.Sprintf("%q is not a meeting's number", k))
		}
		t, err := localTime("moved."+k, v)
		if err != nil {
			return out, err
		}
		if out.Moved == nil {
			out.Moved = map[int]time.Time{}
		}
		out.Moved[n] = t
	}
	for i, n := range c.Cancelled {
		if n < 1 || n > maxMeetingDates {
			return out, failField(probInvalid, fmt.Sprintf("cancelled[%d]", i), fmt.Sprintf("%d is not a meeting's number", n))
		}
	}
	if err := out.Check(); err != nil {
		return out, failField(probInvalid, "", err.Error())
	}
	return out, nil
}

// dialogueOf is dialogue id if principal p may see it (404 otherwise).
func (s *Server) dialogueOf(ctx context.Context, p store.Principal, id string) (store.Dialogue, error) {
	ds, err := s.DialoguesOf(ctx, p)
	if err != nil {
		return store.Dialogue{}, err
	}
	i := slices.IndexFunc(ds, func(d store.Dialogue) bool { return d.ID == id })
	if i < 0 {
		return store.Dialogue{}, fail(probNotFound, "no such dialogue")
	}
	return ds[i], nil
}

// DialogueCalendar is GET /v1/dialogues/{dialogue}/calendar.
func (s *Server) DialogueCalendar(ctx context.Context, p store.Principal, id string) (Calendar, error) {
	if _, err := s.dialogueOf(ctx, p, id); err != nil {
		return Calendar{}, err
	}
	return storedCalendar(ctx, s.store, id)
}

// storedCalendar is dialogue id's calendar as kept.
func storedCalendar(ctx context.Context, st *store.Store, id string) (Calendar, error) {
	b, err := st.DialogueCalendar(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Calendar{}, fail(probNotFound, "the dialogue has no meeting calendar yet")
	}
	if err != nil {
		return Calendar{}, err
	}
	var c Calendar
	if err := json.Unmarshal(b, &c); err != nil {
		return Calendar{}, fmt.Errorf("decode the calendar of dialogue %s: %w", id, err)
	}
	return c, nil
}

// SetDialogueCalendar is PUT /v1/dialogues/{dialogue}/calendar: admins
// and the coordinators of the dialogue's parties keep it.
func (s *Server) SetDialogueCalendar(ctx context.Context, p store.Principal, id string, c Calendar) (Calendar, error) {
	return s.setCalendar(ctx, p, id, c, nil)
}

// setCalendar keeps c as dialogue id's calendar and has its meetings'
// reviews follow it. With read set, it replaces only the calendar read
// (store.ErrChanged otherwise), so that an edit made from it loses no
// one else's.
func (s *Server) setCalendar(ctx context.Context, p store.Principal, id string, c Calendar, read []byte) (Calendar, error) {
	d, err := s.dialogueOf(ctx, p, id)
	if err != nil {
		return Calendar{}, err
	}
	if !hasRole(p, "admin") && !hasRole(p, "coordinator") {
		return Calendar{}, fail(probForbidden, "only an admin or a coordinator of the dialogue's parties may keep its calendar")
	}
	cal, err := calendarOf(c, d)
	if err != nil {
		return Calendar{}, err
	}
	policy, err := reviewPolicy(c)
	if err != nil {
		return Calendar{}, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return Calendar{}, err
	}
	if read == nil {
		err = s.store.SetDialogueCalendar(ctx, id, b, p.ID)
	} else {
		err = s.store.ReplaceDialogueCalendar(ctx, id, read, b, p.ID)
	}
	if err != nil {
		return Calendar{}, err
	}
	// The meetings' reviews follow the calendar; should Temporal be
	// unreachable, setting the same calendar again sets them.
	all, err := cal.Meetings(time.Time{}, maxMeetingDates)
	if err != nil {
		return Calendar{}, err
	}
	runs, err := s.store.MeetingRuns(ctx, id)
	if err != nil {
		return Calendar{}, err
	}
	policy.Dialogue, policy.Meetings = id, all
	for _, r := range runs {
		if r.Phase != store.MeetingCancelled {
			policy.Started = append(policy.Started, r.Meeting)
		}
	}
	if err := workflows.SetReviewScheduleOn(ctx, s.temporal, s.taskQueue, policy, s.now()); err != nil {
		return Calendar{}, err
	}
	note := "resumed by " + p.ID
	if c.Paused {
		note = "paused by " + p.ID
	}
	if err := workflows.PauseReviewSchedule(ctx, s.temporal, id, c.Paused, note); err != nil {
		return Calendar{}, err
	}
	// Runs under way follow their meeting: moved, or cancelled.
	for _, r := range runs {
		if r.Phase != store.MeetingWaiting && r.Phase != store.MeetingDraft {
			continue
		}
		err := s.temporal.SignalWorkflow(ctx, r.WorkflowID, "", workflows.SignalReschedule, all)
		var gone *serviceerror.NotFound
		if err != nil && !errors.As(err, &gone) {
			return Calendar{}, fmt.Errorf("tell the review of %s meeting %d of the calendar: %w", id, r.Meeting, err)
		}
	}
	return c, nil
}

// Meetings is GET /v1/dialogues/{dialogue}/meetings: the next limit
// meetings from now.
func (s *Server) Meetings(ctx context.Context, p store.Principal, id string, limit int) (MeetingList, error) {
	c, err := s.DialogueCalendar(ctx, p, id)
	if err != nil {
		return MeetingList{}, err
	}
	d, err := s.dialogueOf(ctx, p, id)
	if err != nil {
		return MeetingList{}, err
	}
	cal, err := calendarOf(c, d)
	if err != nil {
		return MeetingList{}, fmt.Errorf("the stored calendar of dialogue %s: %w", id, err)
	}
	ms, err := cal.Meetings(s.now(), limit)
	if err != nil {
		return MeetingList{}, err
	}
	loc, _ := lifecycle.LoadZone(cal.Zone)
	out := MeetingList{Meetings: make([]MeetingView, len(ms))}
	for i, m := range ms {
		out.Meetings[i] = MeetingView{Number: m.Number, At: m.At, Local: m.At.In(loc).Format(localTimeLayout), Zone: cal.Zone, Host: string(m.Host)}
	}
	return out, nil
}

func (s *Server) getCalendar(w http.ResponseWriter, r *http.Request) error {
	c, err := s.DialogueCalendar(r.Context(), principalOf(r), chi.URLParam(r, "dialogue"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) putCalendar(w http.ResponseWriter, r *http.Request) error {
	var c Calendar
	if err := decode(w, r, &c); err != nil {
		return err
	}
	out, err := s.SetDialogueCalendar(r.Context(), principalOf(r), chi.URLParam(r, "dialogue"), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) listMeetings(w http.ResponseWriter, r *http.Request) error {
	limit := 10
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxMeetingDates {
			return failField(probInvalid, "limit", fmt.Sprintf("limit must be 1 to %d", maxMeetingDates))
		}
		limit = n
	}
	out, err := s.Meetings(r.Context(), principalOf(r), chi.URLParam(r, "dialogue"), limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// Where a meeting's report comes from (KeptReport.Kind).
const (
	// ReportFrozen is the report its Review run froze at the meeting.
	ReportFrozen = "frozen"
	// ReportDraft is the draft its run keeps, with the statements made
	// so far.
	ReportDraft = "draft"
	// ReportCompiled is compiled when asked: the meeting has no draft
	// yet (or, a past meeting, never had a run).
	ReportCompiled = "compiled"
)

// KeptReport is a meeting's report and where it comes from.
type KeptReport struct {
	Report review.Report
	// Kind is ReportFrozen, ReportDraft or ReportCompiled.
	Kind string
	// JSON is the frozen report's bytes as kept, whose SHA-256 is SHA256,
	// when the report is frozen and read whole (nil for a party's part).
	JSON   []byte
	SHA256 string
	// Previous is the number of the meeting before it, 0 for the first.
	Previous int
}

// ReadMeetingReport is dialogue id's report for meeting number with every
// party's activities, as Pacto's operators read it (see MeetingReport).
func ReadMeetingReport(ctx context.Context, st *store.Store, id string, number int, now time.Time) (KeptReport, error) {
	ds, err := st.Dialogues(ctx)
	if err != nil {
		return KeptReport{}, err
	}
	i := slices.IndexFunc(ds, func(d store.Dialogue) bool { return d.ID == id })
	if i < 0 {
		return KeptReport{}, fail(probNotFound, "no such dialogue")
	}
	c, err := storedCalendar(ctx, st, id)
	if err != nil {
		return KeptReport{}, err
	}
	return readMeetingReport(ctx, st, ds[i], c, number, now)
}

// MeetingReport is a dialogue's progress report for its meeting number,
// as principal p may read it: once frozen at the meeting, the frozen
// report; before, once its draft is out, the draft with the statements
// made so far; before the draft, compiled from the read model now (or
// from the audit log as of the meeting's time, once it has passed),
// counting changes from the previous meeting.
func (s *Server) MeetingReport(ctx context.Context, p store.Principal, id string, number int) (review.Report, error) {
	kr, err := s.keptReport(ctx, p, id, number)
	return kr.Report, err
}

// keptReport is MeetingReport with where the report comes from.
func (s *Server) keptReport(ctx context.Context, p store.Principal, id string, number int) (KeptReport, error) {
	d, err := s.dialogueOf(ctx, p, id)
	if err != nil {
		return KeptReport{}, err
	}
	c, err := storedCalendar(ctx, s.store, id)
	if err != nil {
		return KeptReport{}, err
	}
	kr, err := readMeetingReport(ctx, s.store, d, c, number, s.now())
	if err != nil {
		return KeptReport{}, err
	}
	if !hasRole(p, "admin") {
		kr.Report, kr.JSON = kr.Report.VisibleTo(lifecycle.PartyCode(p.Party)), nil
	}
	return kr, nil
}

// readMeetingReport is the report of meeting number of dialogue d, whose
// calendar is c, with every party's activities.
func readMeetingReport(ctx context.Context, st *store.Store, d store.Dialogue, c Calendar, number int, now time.Time) (KeptReport, error) {
	id := d.ID
	cal, err := calendarOf(c, d)
	if err != nil {
		return KeptReport{}, fmt.Errorf("the stored calendar of dialogue %s: %w", id, err)
	}
	all, err := cal.Meetings(time.Time{}, maxMeetingDates)
	if err != nil {
		return KeptReport{}, err
	}
	i := slices.IndexFunc(all, func(m review.Meeting) bool { return m.Number == number })
	if i < 0 {
		return KeptReport{}, fail(probNotFound, fmt.Sprintf("dialogue %s has no meeting %d", id, number))
	}
	var out KeptReport
	var since time.Time
	if i > 0 {
		out.Previous, since = all[i-1].Number, all[i-1].At
	}
	decode := func(kind string) (store.MeetingReport, bool, error) {
		kept, err := st.MeetingReport(ctx, id, number, kind)
		if errors.Is(err, store.ErrNotFound) {
			return kept, false, nil
		}
		if err != nil {
			return kept, false, err
		}
		if err := json.Unmarshal(kept.JSON, &out.Report); err != nil {
			return kept, false, fmt.Errorf("decode the %s report of %s meeting %d: %w", kind, id, number, err)
		}
		return kept, true, nil
	}
	// Once frozen at its meeting, a report is what was frozen, statements
	// and all.
	frozen, ok, err := decode(store.ReportFrozen)
	if err != nil {
		return out, err
	}
	if ok {
		out.Kind, out.JSON, out.SHA256 = ReportFrozen, frozen.JSON, frozen.SHA256
		return out, nil
	}
	// Once drafted, it is the draft the parties were sent, with the
	// statements made on it so far, at the meeting's time now (a moved
	// meeting keeps its draft).
	_, ok, err = decode(store.ReportDraft)
	if err != nil {
		return out, err
	}
	if ok {
		made, err := st.MeetingStatements(ctx, id, number)
		if err != nil {
			return out, err
		}
		out.Report = out.Report.WithStatements(made)
		out.Report.MeetingAt, out.Kind = all[i].At, ReportDraft
		return out, nil
	}
	// An upcoming meeting's report is the read model now; a past
	// meeting's stands as of its time, which only the audit log knows.
	compile, asOf := review.Compile, now
	if asOf.After(all[i].At) {
		compile, asOf = review.Recompute, all[i].At
	}
	out.Report, err = compile(ctx, st, id, strconv.Itoa(number), all[i].At, since, asOf)
	out.Kind = ReportCompiled
	return out, err
}

// reportFormats are the forms a report is given in, by the `format`
// query parameter or the Accept header.
var reportFormats = map[string]string{
	"json": "application/json",
	"csv":  "text/csv; charset=utf-8",
	"html": "text/html; charset=utf-8",
	"pdf":  "application/pdf",
}

func reportFormat(r *http.Request) (string, error) {
	if f := r.URL.Query().Get("format"); f != "" {
		if _, ok := reportFormats[f]; !ok {
			return "", failField(probInvalid, "format", "format must be json, csv, html or pdf")
		}
		return f, nil
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		for f, ct := range reportFormats {
			if ct0, _, _ := strings.Cut(ct, ";"); ct0 == mt {
				return f, nil
			}
		}
	}
	return "json", nil
}

func (s *Server) meetingReport(w http.ResponseWriter, r *http.Request) error {
	format, err := reportFormat(r)
	if err != nil {
		return err
	}
	link := func(prev string) string {
		if f := r.URL.Query().Get("format"); f != "" {
			return prev + "?format=" + f
		}
		return prev
	}
	return s.serveMeetingReport(w, r, format, link)
}

// meetingReportAs serves .../report.{format}: the format named by the
// path alone. Any other suffix names no resource.
func (s *Server) meetingReportAs(w http.ResponseWriter, r *http.Request) error {
	format := chi.URLParam(r, "format")
	if _, ok := reportFormats[format]; !ok {
		return fail(probNotFound, "a report is served as report.json, report.csv, report.html or report.pdf")
	}
	return s.serveMeetingReport(w, r, format, func(prev string) string { return prev + "." + format })
}

// serveMeetingReport answers with the report of the path's meeting in
// format, with a Link to the previous meeting's report in the same form
// (link makes its URL from the previous report's path).
func (s *Server) serveMeetingReport(w http.ResponseWriter, r *http.Request, format string, link func(prev string) string) error {
	number, err := strconv.Atoi(chi.URLParam(r, "number"))
	if err != nil {
		return fail(probNotFound, "no such meeting")
	}
	p := principalOf(r)
	id := chi.URLParam(r, "dialogue")
	kr, err := s.keptReport(r.Context(), p, id, number)
	if err != nil {
		return err
	}
	if kr.Previous > 0 {
		prev := fmt.Sprintf("/v1/dialogues/%s/meetings/%d/report", id, kr.Previous)
		w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"prev\"", link(prev)))
	}
	// A frozen report read whole is the bytes kept, so that their SHA-256
	// is the digest in the meeting's audit chain.
	if kr.JSON != nil && format == "json" {
		return writeReport(w, kr.Report, format, kr.JSON)
	}
	return ServeReport(w, p, kr.Report, format)
}

// ServeReport answers with a report in format for principal p (see
// RenderReport): CSV and PDF as downloads, HTML as a document of its own.
func ServeReport(w http.ResponseWriter, p store.Principal, rep review.Report, format string) error {
	body, err := RenderReport(p, rep, format)
	if err != nil {
		return err
	}
	return writeReport(w, rep, format, body)
}

// writeReport answers with body, rep in format.
func writeReport(w http.ResponseWriter, rep review.Report, format string, body []byte) error {
	w.Header().Set("Content-Type", reportFormats[format])
	if format == "csv" || format == "pdf" {
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-meeting-%s.%s"`, rep.Dialogue, rep.Meeting, format))
	}
	if format == "html" {
		// Its inline style, nothing else.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'")
	}
	w.Header().Set("Vary", "Accept")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

// RenderReport writes a report in format (json, csv, html or pdf) for
// principal p: in p's language, times in p's party's zone (UTC for those
// of no party of it).
func RenderReport(p store.Principal, rep review.Report, format string) ([]byte, error) {
	zone := "UTC"
	for _, party := range rep.Parties {
		if string(party.Code) == p.Party {
			zone = party.TimeZone
		}
	}
	return RenderReportIn(rep, format, consoleLanguage(p.Language), zone)
}

// RenderReportIn writes a report in format (json, csv, html or pdf) in
// lang (es or en), times first in zone.
func RenderReportIn(rep review.Report, format, lang, zone string) ([]byte, error) {
	var body []byte
	var err error
	switch format {
	case "csv":
		body, err = review.CSV(rep, lang)
	case "html":
		body, err = review.HTML(rep, lang, zone)
	case "pdf":
		body, err = review.PDF(rep, lang, zone)
	case "json":
		body, err = review.JSON(rep)
	default:
		return nil, failField(probInvalid, "format", "format must be json, csv, html or pdf")
	}
	if err != nil {
		return nil, fmt.Errorf("render the report of %s meeting %s as %s: %w", rep.Dialogue, rep.Meeting, format, err)
	}
	return body, nil
}

// consoleLanguage is the language, es or en, a report is written in for
// a reader of tag.
func consoleLanguage(tag string) string {
	if primary, _, _ := strings.Cut(strings.ToLower(tag), "-"); primary == "es" {
		return "es"
	}
	return "en"
}
