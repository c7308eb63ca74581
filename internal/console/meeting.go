package console

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"pacto/internal/api"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// A dialogue meeting's page: where its cycle stands, its agenda, the
// parties' statements and the minutes, with the forms of those who act
// on them. Every action goes through the API's operations, so a forged
// form gets the API's refusal.

// Spare rows the minutes form offers beyond those recorded.
const (
	spareFollowUps     = 3
	spareNewActivities = 2
)

// meetingView is the meeting page.
type meetingView struct {
	M api.MeetingDetail
	// Dialogue is the meeting's dialogue, Parties its parties in order.
	Dialogue store.Dialogue
	Parties  []store.Party
	Names    map[string]string // party code → name
	Titles   map[string]string // activity id → title in the reader's language
	// Times is the meeting's time for each party, in its zone.
	Times      []partyTime
	Statements []statementRow
	Missing    []statementRow
	// Owed are the forms of the statements the viewer's party owes.
	Owed    []owedStatement
	Minutes *minutesView
	// Can says which forms the viewer is offered; the API decides again.
	CanState, CanMinutes, CanSign bool
	// Form is what was sent when an action was refused, Sent which form
	// it was ("statement:<activity>", "minutes", "sign").
	Form        map[string]string
	Sent        string
	MinutesForm minutesForm
}

type partyTime struct {
	Party store.Party
	At    time.Time
}

type statementRow struct {
	Activity, Title, Party, Author, Body string
	At                                   time.Time
}

type owedStatement struct {
	Activity, Title string
	Made            int // statements the party made on it already
}

// minutesView is the minutes in the reader's language.
type minutesView struct {
	Version       int
	RecordedBy    string
	RecordedParty string
	RecordedAt    time.Time
	Decisions     []string
	FollowUps     []followUpView
	NewActivities []agreedView
	Signatures    []signatureRow
	AdoptedAt     time.Time
	// Proposed lists the ids the agreed activities were proposed under,
	// and Problems why some could not be, once the minutes are adopted.
	Proposed []string
	Problems string
}

type followUpView struct {
	Text, Owner string
	Due         time.Time
	DueText     string // as recorded, when it is not a date
}

type agreedView struct {
	Title, Summary, Milestone, Owner, Due string
}

type signatureRow struct {
	Party  string
	Signed bool
	By     string
	At     time.Time
}

// minutesForm is the form that records or changes the minutes.
type minutesForm struct {
	Decisions     string
	FollowUps     []followUpRow
	NewActivities []newActivityRow
}

type followUpRow struct {
	Index            int
	Text, Owner, Due string
}

type newActivityRow struct {
	Index                                                     int
	Title, Summary, Milestone, Owner, DueDate, DueIn, DueUnit string
}

func meetingNumber(r *http.Request) (int, bool) {
	n, err := strconv.Atoi(chi.URLParam(r, "number"))
	return n, err == nil && n >= 1
}

func meetingPath(dialogue string, number int) string {
	return fmt.Sprintf("/dialogues/%s/meetings/%d", url.PathEscape(dialogue), number)
}

func (c *Console) meeting(w http.ResponseWriter, r *http.Request) {
	c.showMeeting(w, r, http.StatusOK, nil, "", nil)
}

// showMeeting renders the meeting page, with the refusal of an action and
// the form it came from when there was one.
func (c *Console) showMeeting(w http.ResponseWriter, r *http.Request, status int, refused *api.Problem, sent string, form map[string]string) {
	number, ok := meetingNumber(r)
	if !ok {
		c.fail(w, r, errNotFound)
		return
	}
	p := principalOf(r)
	ctx := r.Context()
	id := chi.URLParam(r, "dialogue")
	m, err := c.api.Meeting(ctx, p, id, number)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg := c.base(r, "overview")
	v := meetingView{M: m, Names: map[string]string{}, Titles: map[string]string{}, Form: form, Sent: sent}
	ds, err := c.api.DialoguesOf(ctx, p)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, d := range ds {
		if d.ID == id {
			v.Dialogue = d
		}
	}
	parties, err := c.store.Parties(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, party := range parties {
		v.Names[party.Code] = party.Name
		if slices.Contains(v.Dialogue.Parties, party.Code) {
			v.Parties = append(v.Parties, party)
			v.Times = append(v.Times, partyTime{Party: party, At: m.At})
		}
	}
	name := func(code string) string { return cmp.Or(v.Names[code], code) }
	for _, a := range m.Agenda {
		v.Titles[a.Activity] = cmp.Or(a.TitleText, a.Activity)
	}
	title := func(activity string) string { return cmp.Or(v.Titles[activity], activity) }
	for _, st := range m.Statements {
		v.Statements = append(v.Statements, statementRow{Activity: st.Activity, Title: title(st.Activity), Party: name(string(st.Party)),
			Author: st.Author, Body: st.Body, At: st.MadeAt})
	}
	for _, ms := range m.Missing {
		v.Missing = append(v.Missing, statementRow{Activity: ms.Activity, Title: title(ms.Activity), Party: name(string(ms.Party))})
	}
	coordinator, approver := slices.Contains(p.Roles, "coordinator"), slices.Contains(p.Roles, "approver")
	member := slices.Contains(v.Dialogue.Parties, p.Party)
	open := m.Phase == store.MeetingDraft && pg.Now.Before(m.StatementsDue)
	if coordinator && member && open {
		for _, a := range m.Owed {
			o := owedStatement{Activity: a, Title: title(a)}
			for _, st := range m.Statements {
				if st.Activity == a && string(st.Party) == p.Party {
					o.Made++
				}
			}
			v.Owed = append(v.Owed, o)
		}
		v.CanState = len(v.Owed) > 0
	}
	adopted := m.Minutes != nil && m.Minutes.Adopted()
	v.CanMinutes = coordinator && member && m.Phase == store.MeetingFrozen && !adopted
	v.CanSign = approver && member && m.Phase == store.MeetingFrozen && m.Minutes != nil && !adopted && slices.Contains(m.Unsigned, p.Party)
	if m.Minutes != nil {
		mv := minutesOf(*m.Minutes, set(c, pg.Lang), pg.Lang, v.Parties, name)
		if adopted {
			mv.Proposed, mv.Problems = c.proposedFromMinutes(r, id, number)
		}
		v.Minutes = &mv
	}
	if v.CanMinutes {
		if sent == "minutes" {
			v.MinutesForm = minutesFormFromRequest(r)
		} else {
			v.MinutesForm = minutesFormOf(m.Minutes, c.partyLanguage(r, p), p.Party)
		}
	}
	pg.D = v
	if refused != nil {
		pg.Problem = refused
		pg.Errors = map[string]string{}
		if refused.Field != "" {
			pg.Errors[refused.Field] = refused.Detail
		}
	}
	c.render(w, r, status, "meeting", pg)
}

// minutesOf is the minutes as the reader reads them.
func minutesOf(m lifecycle.Minutes, cat catalog, lang string, parties []store.Party, name func(string) string) minutesView {
	out := minutesView{Version: m.Version, RecordedBy: m.RecordedBy, RecordedParty: name(string(m.RecordedParty)),
		RecordedAt: m.RecordedAt, AdoptedAt: m.AdoptedAt}
	for _, d := range m.Decisions {
		out.Decisions = append(out.Decisions, d.In(lang))
	}
	for _, f := range m.FollowUps {
		fv := followUpView{Text: f.Text.In(lang), Owner: name(string(f.Owner)), DueText: f.Due}
		if due, err := time.Parse(time.DateOnly, f.Due); err == nil {
			// A calendar date, written as both locales write it.
			fv.Due, fv.DueText = due, fmt.Sprintf("%d/%d/%d", due.Month(), due.Day(), due.Year())
		}
		out.FollowUps = append(out.FollowUps, fv)
	}
	for _, a := range m.NewActivities {
		av := agreedView{Title: a.Title.In(lang)}
		var req api.ProposeRequest
		if json.Unmarshal(a.Proposal, &req) == nil {
			av.Summary = req.Summary.In(lang)
			if len(req.Milestones) > 0 {
				ms := req.Milestones[0]
				av.Milestone, av.Owner, av.Due = ms.Title.In(lang), name(ms.Owner), dueWords(cat, ms.Due)
			}
		}
		out.NewActivities = append(out.NewActivities, av)
	}
	for _, party := range parties {
		row := signatureRow{Party: party.Name}
		for _, s := range m.Signatures {
			if string(s.Party) == party.Code && s.Version == m.Version {
				row.Signed, row.By, row.At = true, s.By, s.At
			}
		}
		out.Signatures = append(out.Signatures, row)
	}
	return out
}

// dueWords says a proposed due time as people read it: a date as both
// locales write it, an amount of time after activation, or as given.
func dueWords(cat catalog, due string) string {
	date, in, unit, expr := splitDue(due)
	switch {
	case date != "":
		d, _ := time.Parse(time.DateOnly, date)
		return fmt.Sprintf("%d/%d/%d", d.Month(), d.Day(), d.Year())
	case in != "":
		return cat.t("m.after", in+" "+cat.t("due."+unit))
	}
	return expr
}

// proposedFromMinutes reads, from the meeting's audit chain, the ids of
// the proposals adopted minutes made, and why some could not be made.
// The page is shown without them should the log not answer.
func (c *Console) proposedFromMinutes(r *http.Request, dialogue string, number int) ([]string, string) {
	events, err := c.store.Audit(r.Context(), lifecycle.MeetingChain(dialogue, number), 0, 1000)
	if err != nil {
		c.log.WarnContext(r.Context(), "read a meeting's audit chain", "err", err, "request_id", requestID(r))
		return nil, ""
	}
	for _, e := range events {
		if e.Type != string(lifecycle.EventMinutesAdopted) {
			continue
		}
		var content struct {
			Event lifecycle.Event `json:"event"`
		}
		if json.Unmarshal(e.Content, &content) == nil {
			return content.Event.Activities, content.Event.Comment
		}
	}
	return nil, ""
}

// minutesFormOf is the minutes form filled with the current minutes, if
// any, their texts in lang (the language the form records them in), and
// spare rows.
func minutesFormOf(m *lifecycle.Minutes, lang, party string) minutesForm {
	var f minutesForm
	if m != nil {
		var ds []string
		for _, d := range m.Decisions {
			ds = append(ds, d.In(lang))
		}
		f.Decisions = strings.Join(ds, "\n")
		for _, fu := range m.FollowUps {
			f.FollowUps = append(f.FollowUps, followUpRow{Index: len(f.FollowUps), Text: fu.Text.In(lang), Owner: string(fu.Owner), Due: fu.Due})
		}
		for _, a := range m.NewActivities {
			row := agreedRow(a, lang, party)
			row.Index = len(f.NewActivities)
			f.NewActivities = append(f.NewActivities, row)
		}
	}
	for range spareFollowUps {
		f.FollowUps = append(f.FollowUps, followUpRow{Index: len(f.FollowUps), Owner: party})
	}
	for range spareNewActivities {
		f.NewActivities = append(f.NewActivities, newActivityRow{Index: len(f.NewActivities), Owner: party, DueUnit: "months"})
	}
	return f
}

// agreedRow is an agreed activity as the form shows it: its proposal's
// title, summary and first milestone, texts in lang.
func agreedRow(a lifecycle.AgreedActivity, lang, party string) newActivityRow {
	row := newActivityRow{Title: a.Title.In(lang), Owner: party, DueUnit: "months"}
	var req api.ProposeRequest
	if json.Unmarshal(a.Proposal, &req) == nil {
		row.Summary = req.Summary.In(lang)
		if len(req.Milestones) > 0 {
			ms := req.Milestones[0]
			row.Milestone, row.Owner = ms.Title.In(lang), ms.Owner
			row.DueDate, row.DueIn, row.DueUnit, _ = splitDue(ms.Due)
		}
	}
	return row
}

// same reports whether two rows of the form say the same.
func (row newActivityRow) same(o newActivityRow) bool {
	eq := func(a, b string) bool { return strings.TrimSpace(a) == strings.TrimSpace(b) }
	return eq(row.Title, o.Title) && eq(row.Summary, o.Summary) && eq(row.Milestone, o.Milestone) && row.Owner == o.Owner &&
		eq(row.DueDate, o.DueDate) && eq(row.DueIn, o.DueIn) && (row.DueIn == "" || row.DueUnit == o.DueUnit)
}

// minutesFormFromRequest reads the minutes form back, as sent.
func minutesFormFromRequest(r *http.Request) minutesForm {
	f := minutesForm{Decisions: r.PostFormValue("decisions")}
	for i := 0; ; i++ {
		k := fmt.Sprintf("fu%d_", i)
		if _, ok := r.PostForm[k+"text"]; !ok {
			break
		}
		f.FollowUps = append(f.FollowUps, followUpRow{Index: i, Text: r.PostFormValue(k + "text"), Owner: r.PostFormValue(k + "owner"), Due: r.PostFormValue(k + "due")})
	}
	for i := 0; ; i++ {
		k := fmt.Sprintf("na%d_", i)
		if _, ok := r.PostForm[k+"title"]; !ok {
			break
		}
		f.NewActivities = append(f.NewActivities, newActivityRow{Index: i, Title: r.PostFormValue(k + "title"), Summary: r.PostFormValue(k + "summary"),
			Milestone: r.PostFormValue(k + "milestone"), Owner: r.PostFormValue(k + "owner"),
			DueDate: r.PostFormValue(k + "due_date"), DueIn: r.PostFormValue(k + "due_in"), DueUnit: r.PostFormValue(k + "due_unit")})
	}
	return f
}

func (row followUpRow) blank() bool {
	return strings.TrimSpace(row.Text) == "" && strings.TrimSpace(row.Due) == ""
}

func (row newActivityRow) blank() bool {
	return strings.TrimSpace(row.Title+row.Summary+row.Milestone+row.DueDate+row.DueIn) == ""
}

// content turns the form into the minutes the API takes: decisions one a
// line, the rows not left blank, and each new activity as the proposal it
// will make, with the dialogue's parties and one milestone. Texts are in
// lang, the coordinator's party's language; what the form shows of the
// current minutes (prev) unchanged keeps its texts in every language.
func (f minutesForm) content(r *http.Request, d store.Dialogue, lang string, prev *lifecycle.Minutes) (lifecycle.MinutesContent, error) {
	var out lifecycle.MinutesContent
	if prev == nil {
		prev = &lifecycle.Minutes{}
	}
	texts := map[string]lifecycle.Text{}
	for _, d := range prev.Decisions {
		texts[strings.TrimSpace(d.In(lang))] = d
	}
	for _, fu := range prev.FollowUps {
		texts[strings.TrimSpace(fu.Text.In(lang))] = fu.Text
	}
	text := func(s string) lifecycle.Text {
		if t, ok := texts[strings.TrimSpace(s)]; ok {
			return t
		}
		return keyed(lang, s)
	}
	for _, line := range strings.Split(f.Decisions, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out.Decisions = append(out.Decisions, text(line))
		}
	}
	for _, row := range f.FollowUps {
		if row.blank() {
			continue
		}
		out.FollowUps = append(out.FollowUps, lifecycle.FollowUp{Text: text(row.Text),
			Owner: lifecycle.PartyCode(row.Owner), Due: strings.TrimSpace(row.Due)})
	}
rows:
	for _, row := range f.NewActivities {
		if row.blank() {
			continue
		}
		for _, a := range prev.NewActivities {
			if row.same(agreedRow(a, lang, "")) {
				out.NewActivities = append(out.NewActivities, lifecycle.AgreedActivity{Title: a.Title, Proposal: a.Proposal})
				continue rows
			}
		}
		due, err := dueOf(r, fmt.Sprintf("na%d_due", row.Index))
		if err != nil {
			return out, api.InvalidField(fmt.Sprintf("new_activities[%d].proposal.milestones[0].due", len(out.NewActivities)), "the amount is not a whole number above zero")
		}
		req := api.ProposeRequest{Dialogue: d.ID, Parties: d.Parties, Title: keyed(lang, row.Title), Summary: keyed(lang, row.Summary),
			Milestones: []api.MilestoneInput{{ID: "m1", Title: keyed(lang, row.Milestone), Owner: row.Owner, Due: due}}}
		proposal, err := json.Marshal(req)
		if err != nil {
			return out, fmt.Errorf("encode an agreed activity's proposal: %w", err)
		}
		out.NewActivities = append(out.NewActivities, lifecycle.AgreedActivity{Title: keyed(lang, row.Title), Proposal: proposal})
	}
	return out, nil
}

// keyed is s as a text in lang; nothing when s is blank, so that the API
// names what is missing.
func keyed(lang, s string) lifecycle.Text {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return lifecycle.Text{lang: s}
}

var minutesRowField = regexp.MustCompile(`^(follow_ups|new_activities)\[(\d+)\]\.?(.*)$`)

// minutesField names, by the form's inputs, a field the API named in the
// minutes it was sent: the k-th follow-up sent is the form's k-th row not
// left blank, and a new activity's proposal fields are the row's inputs.
// A field the form has no input for is named by nothing.
func (f minutesForm) minutesField(field string) string {
	if field == "decisions" || strings.HasPrefix(field, "decisions[") {
		return "decisions"
	}
	m := minutesRowField.FindStringSubmatch(field)
	if m == nil {
		return ""
	}
	k, _ := strconv.Atoi(m[2])
	var rows []int
	if m[1] == "follow_ups" {
		for _, row := range f.FollowUps {
			if !row.blank() {
				rows = append(rows, row.Index)
			}
		}
	} else {
		for _, row := range f.NewActivities {
			if !row.blank() {
				rows = append(rows, row.Index)
			}
		}
	}
	if k >= len(rows) {
		return ""
	}
	row := fmt.Sprintf("%s[%d]", m[1], rows[k])
	rest := m[3]
	if m[1] == "follow_ups" {
		switch rest {
		case "text", "owner", "due":
			return row + "." + rest
		}
		return row + ".text"
	}
	switch {
	case rest == "proposal.summary" || strings.HasPrefix(rest, "proposal.summary."):
		return row + ".summary"
	case strings.HasPrefix(rest, "proposal.milestones"):
		switch {
		case strings.HasSuffix(rest, ".owner"):
			return row + ".owner"
		case strings.HasSuffix(rest, ".due"):
			return row + ".due"
		}
		return row + ".milestone"
	}
	return row + ".title"
}

// refuseMeeting shows the meeting page again with an action's refusal,
// beside the form it came from; errors that are not a refusal of the
// form are an error page, as elsewhere.
func (c *Console) refuseMeeting(w http.ResponseWriter, r *http.Request, err error, sent string, field func(string) string) {
	prob := api.Describe(err)
	if prob.Status >= 500 || prob.Status == http.StatusNotFound || prob.Status == http.StatusForbidden {
		c.fail(w, r, err)
		return
	}
	prob.Field = field(prob.Field)
	form := map[string]string{}
	for k, vs := range r.PostForm {
		form[k] = strings.Join(vs, "\n")
	}
	c.showMeeting(w, r, prob.Status, &prob, sent, form)
}

func (c *Console) makeStatement(w http.ResponseWriter, r *http.Request) {
	number, ok := meetingNumber(r)
	if !ok {
		c.fail(w, r, errNotFound)
		return
	}
	id := chi.URLParam(r, "dialogue")
	req := api.StatementRequest{Activity: r.PostFormValue("activity"), Body: r.PostFormValue("body")}
	if _, err := c.api.MakeStatement(r.Context(), principalOf(r), id, number, req); err != nil {
		// The activity is the form's, not a field of it: a refusal of
		// either stands beside the text.
		c.refuseMeeting(w, r, err, "statement:"+req.Activity, func(field string) string {
			if field == "" {
				return ""
			}
			return "body"
		})
		return
	}
	http.Redirect(w, r, meetingPath(id, number)+"?done=statement#statements", http.StatusSeeOther)
}

func (c *Console) recordMinutes(w http.ResponseWriter, r *http.Request) {
	number, ok := meetingNumber(r)
	if !ok {
		c.fail(w, r, errNotFound)
		return
	}
	p := principalOf(r)
	ctx := r.Context()
	id := chi.URLParam(r, "dialogue")
	ds, err := c.api.DialoguesOf(ctx, p)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(ds, func(d store.Dialogue) bool { return d.ID == id })
	if i < 0 {
		c.fail(w, r, errNotFound)
		return
	}
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, api.InvalidField("", "the form could not be read"))
		return
	}
	// The minutes as they stand, for what the form leaves unchanged.
	var prev *lifecycle.Minutes
	if m, err := c.api.Meeting(ctx, p, id, number); err == nil {
		prev = m.Minutes
	}
	f := minutesFormFromRequest(r)
	content, err := f.content(r, ds[i], c.partyLanguage(r, p), prev)
	if err == nil {
		_, err = c.api.RecordMinutes(ctx, p, id, number, content)
	}
	if err != nil {
		c.refuseMeeting(w, r, err, "minutes", f.minutesField)
		return
	}
	http.Redirect(w, r, meetingPath(id, number)+"?done=minutes#minutes", http.StatusSeeOther)
}

func (c *Console) signMinutes(w http.ResponseWriter, r *http.Request) {
	number, ok := meetingNumber(r)
	if !ok {
		c.fail(w, r, errNotFound)
		return
	}
	id := chi.URLParam(r, "dialogue")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	if _, err := c.api.SignMinutes(r.Context(), principalOf(r), id, number, api.SignRequest{Version: version}); err != nil {
		c.refuseMeeting(w, r, err, "sign", func(string) string { return "" })
		return
	}
	http.Redirect(w, r, meetingPath(id, number)+"?done=signed#minutes", http.StatusSeeOther)
}

// partyLanguage is the language p's party writes in, the one the API
// keys plain texts by; the console's language when it has none.
func (c *Console) partyLanguage(r *http.Request, p store.Principal) string {
	if parties, err := c.store.Parties(r.Context()); err == nil {
		for _, party := range parties {
			if party.Code == p.Party && party.Language != "" {
				return party.Language
			}
		}
	}
	return consoleLanguage(p.Language)
}
