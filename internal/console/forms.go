package console

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"pacto/internal/api"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// formError is a field the console cannot turn into a request.
func formError(field, what string) error {
	return api.InvalidField(field, fmt.Sprintf("%s is not a number", what))
}

// dueOf reads a due time from a form: a calendar date (<name>_date), or
// an amount and a unit after activation, or after the current due time for
// an extension (<name>_in, <name>_unit: minutes, days, months, years).
func dueOf(r *http.Request, name string) (string, error) {
	if d := strings.TrimSpace(r.PostFormValue(name + "_date")); d != "" {
		return d, nil
	}
	n := strings.TrimSpace(r.PostFormValue(name + "_in"))
	if n == "" {
		return "", nil
	}
	amount, err := strconv.Atoi(n)
	if err != nil || amount <= 0 {
		return "", api.InvalidField(name, "the amount is not a whole number above zero")
	}
	switch r.PostFormValue(name + "_unit") {
	case "minutes":
		return fmt.Sprintf("PT%dM", amount), nil
	case "days":
		return fmt.Sprintf("P%dD", amount), nil
	case "years":
		return fmt.Sprintf("P%dY", amount), nil
	default:
		return fmt.Sprintf("P%dM", amount), nil
	}
}

// milestoneRow is one milestone of the propose and amend form.
type milestoneRow struct {
	Index    int
	ID       string
	Title    map[string]string // by language
	Owner    string
	Horizon  string
	DueDate  string
	DueIn    string
	DueUnit  string
	DueExpr  string // a due expression the form's fields do not show (an RFC 3339 instant)
	Target   string
	Baseline string
	Unit     map[string]string
}

// contentForm is the propose and amend form: the dialogue, parties and
// texts per language side by side.
type contentForm struct {
	Action     string
	Key        string // an idempotency key, so a proposal sent twice is one
	Amend      bool
	Version    int
	Dialogue   string
	Dialogues  []store.Dialogue
	Parties    []store.Party
	Chosen     []string
	Languages  []string
	Title      map[string]string
	Summary    map[string]string
	Objectives []map[string]string
	Milestones []milestoneRow
}

func (c *Console) proposeForm(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	pg := c.base(r, "propose")
	f, err := c.newForm(r, p)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg.D = f
	c.render(w, r, http.StatusOK, "propose", pg)
}

// newForm is an empty proposal in the first dialogue of the viewer's
// party (or the one asked for), with every party of it chosen.
func (c *Console) newForm(r *http.Request, p store.Principal) (contentForm, error) {
	f := contentForm{Action: "/activities/new", Key: r.PostFormValue("key")}
	if f.Key == "" {
		f.Key = rand.Text()
	}
	ds, err := c.store.Dialogues(r.Context())
	if err != nil {
		return f, err
	}
	for _, d := range ds {
		if contains(d.Parties, p.Party) {
			f.Dialogues = append(f.Dialogues, d)
		}
	}
	want := r.URL.Query().Get("dialogue")
	for _, d := range f.Dialogues {
		if f.Dialogue == "" || d.ID == want {
			f.Dialogue, f.Chosen, f.Languages = d.ID, d.Parties, d.Languages
		}
	}
	if f.Parties, err = c.store.Parties(r.Context()); err != nil {
		return f, err
	}
	f.Title, f.Summary = map[string]string{}, map[string]string{}
	f.Objectives = []map[string]string{{}}
	f.Milestones = []milestoneRow{{Index: 0, Title: map[string]string{}, Unit: map[string]string{}, Owner: p.Party, DueUnit: "months"}}
	return f, nil
}

// formFromRequest reads the propose or amend form back, as sent.
func formFromRequest(r *http.Request, f contentForm) contentForm {
	f.Title, f.Summary = perLanguage(r, "title", f.Languages), perLanguage(r, "summary", f.Languages)
	f.Objectives = nil
	for i := 0; ; i++ {
		key := fmt.Sprintf("objective%d", i)
		if !sent(r, key, f.Languages) {
			break
		}
		f.Objectives = append(f.Objectives, perLanguage(r, key, f.Languages))
	}
	f.Milestones = nil
	for i := 0; ; i++ {
		key := fmt.Sprintf("m%d", i)
		if !sent(r, key+"_title", f.Languages) {
			break
		}
		f.Milestones = append(f.Milestones, milestoneRow{
			Index: i, ID: r.PostFormValue(key + "_id"), Title: perLanguage(r, key+"_title", f.Languages),
			Owner: r.PostFormValue(key + "_owner"), Horizon: r.PostFormValue(key + "_horizon"),
			DueDate: r.PostFormValue(key + "_due_date"), DueIn: r.PostFormValue(key + "_due_in"), DueUnit: r.PostFormValue(key + "_due_unit"),
			DueExpr: r.PostFormValue(key + "_due_expr"), Target: r.PostFormValue(key + "_target"), Baseline: r.PostFormValue(key + "_baseline"),
			Unit: perLanguage(r, key+"_unit", f.Languages),
		})
	}
	return f
}

func perLanguage(r *http.Request, key string, langs []string) map[string]string {
	out := map[string]string{}
	for _, l := range langs {
		out[l] = r.PostFormValue(key + "_" + l)
	}
	return out
}

func sent(r *http.Request, key string, langs []string) bool {
	for _, l := range langs {
		if _, ok := r.PostForm[key+"_"+l]; ok {
			return true
		}
	}
	return false
}

// text is a form's texts keyed by language; an empty one stays, so that an
// amendment removes that language's text.
func text(m map[string]string) lifecycle.Text {
	out := lifecycle.Text{}
	for l, s := range m {
		out[l] = s
	}
	return out
}

func blank(m map[string]string) bool {
	for _, s := range m {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

// content turns the form into the request's texts and milestones. Rows
// left blank are the form's spare rows, not content.
func (f contentForm) content(r *http.Request) (lifecycle.Text, lifecycle.Text, []lifecycle.Text, []api.MilestoneInput, error) {
	var objectives []lifecycle.Text
	for _, o := range f.Objectives {
		if !blank(o) {
			objectives = append(objectives, text(o))
		}
	}
	var ms []api.MilestoneInput
	for _, row := range f.Milestones {
		if blank(row.Title) && row.DueDate == "" && row.DueIn == "" && row.DueExpr == "" {
			continue
		}
		key := fmt.Sprintf("m%d", row.Index)
		due, err := dueOf(r, key+"_due")
		if err != nil {
			return nil, nil, nil, nil, api.InvalidField(fmt.Sprintf("milestones[%d].due", len(ms)), "the amount is not a whole number above zero")
		}
		if due == "" {
			due = row.DueExpr
		}
		m := api.MilestoneInput{ID: row.ID, Title: text(row.Title), Owner: row.Owner, Horizon: row.Horizon, Due: due}
		if strings.TrimSpace(row.Target) != "" {
			target, err := strconv.ParseFloat(strings.TrimSpace(row.Target), 64)
			if err != nil {
				return nil, nil, nil, nil, formError(fmt.Sprintf("milestones[%d].indicator.target", len(ms)), "the target")
			}
			in := &api.IndicatorInput{Target: target, Unit: text(row.Unit)}
			if b := strings.TrimSpace(row.Baseline); b != "" {
				baseline, err := strconv.ParseFloat(b, 64)
				if err != nil {
					return nil, nil, nil, nil, formError(fmt.Sprintf("milestones[%d].indicator.baseline", len(ms)), "the baseline")
				}
				in.Baseline = &baseline
			}
			m.Indicator = in
		}
		ms = append(ms, m)
	}
	return text(f.Title), text(f.Summary), objectives, ms, nil
}

// sentRows are the form's rows that content sends, in order: the k-th
// objective or milestone of the request is the form's row sentRows[k].
func (f contentForm) sentRows() (objectives, milestones []int) {
	for i, o := range f.Objectives {
		if !blank(o) {
			objectives = append(objectives, i)
		}
	}
	for _, row := range f.Milestones {
		if !(blank(row.Title) && row.DueDate == "" && row.DueIn == "" && row.DueExpr == "") {
			milestones = append(milestones, row.Index)
		}
	}
	return objectives, milestones
}

var rowField = regexp.MustCompile(`^(objectives|milestones)\[(\d+)\](.*)$`)

// formField names, by the form's rows, a field the core named by the
// request's: with a blank row left in the middle, the request's third
// milestone is the form's fourth.
func (f contentForm) formField(field string) string {
	m := rowField.FindStringSubmatch(field)
	if m == nil {
		return field
	}
	k, err := strconv.Atoi(m[2])
	if err != nil {
		return field
	}
	objectives, milestones := f.sentRows()
	rows := milestones
	if m[1] == "objectives" {
		rows = objectives
	}
	if k >= len(rows) {
		return field
	}
	return fmt.Sprintf("%s[%d]%s", m[1], rows[k], m[3])
}

// withSpareRows adds a blank objective and milestone row when asked
// ("more" buttons, which work without JavaScript).
func (f contentForm) withSpareRows(r *http.Request, owner string) contentForm {
	switch r.PostFormValue("more") {
	case "objective":
		f.Objectives = append(f.Objectives, map[string]string{})
	case "milestone":
		f.Milestones = append(f.Milestones, milestoneRow{Index: len(f.Milestones), Title: map[string]string{}, Unit: map[string]string{}, Owner: owner, DueUnit: "months"})
	}
	return f
}

func (c *Console) propose(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	pg := c.base(r, "propose")
	f, err := c.newForm(r, p)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if d := r.PostFormValue("dialogue"); d != "" {
		for _, dl := range f.Dialogues {
			if dl.ID == d {
				f.Dialogue, f.Languages = dl.ID, dl.Languages
			}
		}
	}
	f.Chosen = r.PostForm["parties"]
	f = formFromRequest(r, f)
	if r.PostFormValue("more") != "" {
		pg.D = f.withSpareRows(r, p.Party)
		c.render(w, r, http.StatusOK, "propose", pg)
		return
	}
	title, summary, objectives, ms, err := f.content(r)
	if err == nil {
		req := api.ProposeRequest{Dialogue: f.Dialogue, Parties: f.Chosen, Title: title, Summary: summary, Objectives: objectives, Milestones: ms}
		var st lifecycle.State
		if st, err = c.api.Propose(r.Context(), p, req, r.PostFormValue("key")); err == nil {
			http.Redirect(w, r, "/activities/"+st.ID+"?done=proposed", http.StatusSeeOther)
			return
		}
	}
	c.refuseForm(w, r, pg, f, "propose", err)
}

// refuseForm shows the form again as it was sent, with the refusal in a
// summary at the top and beside the field it names.
func (c *Console) refuseForm(w http.ResponseWriter, r *http.Request, pg page, f contentForm, name string, err error) {
	prob := api.Describe(err)
	if prob.Status >= 500 || prob.Status == http.StatusNotFound {
		c.fail(w, r, err)
		return
	}
	prob.Field = f.formField(prob.Field)
	pg.Problem = &prob
	pg.Errors = map[string]string{}
	if prob.Field != "" {
		pg.Errors[prob.Field] = prob.Detail
	}
	// The corrected form is a new request: a key of its own, so that it
	// is not taken for a replay of the refused one.
	if !f.Amend {
		f.Key = rand.Text()
	}
	pg.D = f
	c.render(w, r, prob.Status, name, pg)
}

func (c *Console) amendForm(w http.ResponseWriter, r *http.Request) {
	_, pg, f, err := c.amendFormOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg.D = f
	c.render(w, r, http.StatusOK, "propose", pg)
}

// amendFormOf is the amend form of the request's activity, filled with
// its current content as the viewer reads it, on the page it goes on.
func (c *Console) amendFormOf(r *http.Request) (api.ActivityView, page, contentForm, error) {
	p := principalOf(r)
	st, err := c.api.Activity(r.Context(), p, activityID(r))
	if err != nil {
		return api.ActivityView{}, page{}, contentForm{}, err
	}
	v, err := c.api.View(r.Context(), p, st)
	if err != nil {
		return api.ActivityView{}, page{}, contentForm{}, err
	}
	f, err := c.contentFormOf(r, v)
	return v, c.base(r, "activities"), f, err
}

// contentFormOf is the form filled with an activity's current content.
func (c *Console) contentFormOf(r *http.Request, v api.ActivityView) (contentForm, error) {
	f := contentForm{Action: "/activities/" + v.ID + "/edit", Amend: true, Version: v.Version, Dialogue: v.Dialogue, Languages: v.Languages}
	var err error
	if f.Parties, err = c.store.Parties(r.Context()); err != nil {
		return f, err
	}
	if len(f.Languages) == 0 {
		f.Languages = []string{"und"}
	}
	for _, party := range v.Parties {
		f.Chosen = append(f.Chosen, string(party.Code))
	}
	f.Title, f.Summary = map[string]string(v.Title), map[string]string(v.Summary)
	for _, o := range v.Objectives {
		f.Objectives = append(f.Objectives, map[string]string(o))
	}
	f.Objectives = append(f.Objectives, map[string]string{})
	for i, m := range v.Milestones {
		row := milestoneRow{Index: i, ID: m.ID, Title: map[string]string(m.Title), Owner: m.Owner, DueUnit: "months", Unit: map[string]string{}}
		row.DueDate, row.DueIn, row.DueUnit, row.DueExpr = splitDue(m.Due)
		if m.Indicator != nil {
			row.Target = formatNumber(&m.Indicator.Target)
			row.Target = strings.ReplaceAll(row.Target, ",", "")
			if m.Indicator.Baseline != nil {
				row.Baseline = strings.ReplaceAll(formatNumber(m.Indicator.Baseline), ",", "")
			}
			row.Unit = map[string]string(m.Indicator.Unit)
		}
		f.Milestones = append(f.Milestones, row)
	}
	return f, nil
}

// splitDue shows a due expression in the form's fields: a date, an amount
// and unit, or else as it is.
func splitDue(due string) (date, in, unit, expr string) {
	if _, err := time.Parse("2006-01-02", due); err == nil {
		return due, "", "months", ""
	}
	for suffix, u := range map[string]string{"M": "months", "D": "days", "Y": "years"} {
		if n, ok := strings.CutPrefix(due, "P"); ok && strings.HasSuffix(n, suffix) && !strings.Contains(n, "T") {
			if _, err := strconv.Atoi(strings.TrimSuffix(n, suffix)); err == nil {
				return "", strings.TrimSuffix(n, suffix), u, ""
			}
		}
	}
	if n, ok := strings.CutPrefix(due, "PT"); ok && strings.HasSuffix(n, "M") {
		if _, err := strconv.Atoi(strings.TrimSuffix(n, "M")); err == nil {
			return "", strings.TrimSuffix(n, "M"), "minutes", ""
		}
	}
	return "", "", "months", due
}

func (c *Console) amend(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	v, pg, f, err := c.amendFormOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	f = formFromRequest(r, f)
	if r.PostFormValue("more") != "" {
		pg.D = f.withSpareRows(r, p.Party)
		c.render(w, r, http.StatusOK, "propose", pg)
		return
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	title, summary, objectives, ms, err := f.content(r)
	if err == nil {
		if len(v.Languages) == 0 {
			// Texts without languages are sent as plain strings.
			title, summary = lifecycle.Plain(title["und"]), lifecycle.Plain(summary["und"])
			for i := range objectives {
				objectives[i] = lifecycle.Plain(objectives[i]["und"])
			}
			for i := range ms {
				ms[i].Title = lifecycle.Plain(ms[i].Title["und"])
				if ms[i].Indicator != nil {
					ms[i].Indicator.Unit = lifecycle.Plain(ms[i].Indicator.Unit["und"])
				}
			}
		}
		req := api.AmendRequest{Title: title, Summary: summary, Objectives: &objectives, Milestones: &ms}
		if _, err = c.api.Amend(r.Context(), p, v.ID, version, req); err == nil {
			http.Redirect(w, r, "/activities/"+v.ID+"?done=amended", http.StatusSeeOther)
			return
		}
	}
	c.refuseForm(w, r, pg, f, "propose", err)
}
