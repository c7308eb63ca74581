package console

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"pacto/internal/api"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
	"pacto/workflows"
)

// activityView is the activity page: the activity, what the viewer may do
// with it, its timeline and what changed since the viewer's party last
// decided.
type activityView struct {
	V         api.ActivityView
	Parties   map[string]string // code → name
	Terms     []termGroup
	Can       can
	Timeline  []timelineItem
	Verify    store.AuditVerification
	Changes   []change
	SinceSeen int // the version the changes are counted from
	// Form holds what was sent when an action was refused, to show again.
	Form map[string]string
}

type termGroup struct {
	Term       string
	Milestones []api.MilestoneView
}

// can is what the viewer may do, worked out from their roles, party and
// the activity's status only to decide what to show: the core decides
// every action again, so a forged form is refused all the same.
type can struct {
	Decide, Amend, Suspend, Resume, Cancel bool
	// Consent and Withdraw: the viewer's party may consent to publishing
	// the current version, or withdraw its consent.
	Consent, Withdraw        bool
	Report, Complete, Extend map[string]bool // by milestone
	DecideExtension          map[string]bool // by extension
}

func (c *Console) activity(w http.ResponseWriter, r *http.Request) {
	c.showActivity(w, r, http.StatusOK, nil, nil)
}

// showActivity renders the activity page, with the refusal of an action
// and the form it came from when there was one.
func (c *Console) showActivity(w http.ResponseWriter, r *http.Request, status int, refused *api.Problem, form map[string]string) {
	p := principalOf(r)
	ctx := r.Context()
	st, err := c.api.Activity(ctx, p, activityID(r))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v, err := c.api.View(ctx, p, st)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pg := c.base(r, "activities")
	av := activityView{V: v, Parties: map[string]string{}, Form: form}
	if parties, err := c.store.Parties(ctx); err == nil {
		for _, party := range parties {
			av.Parties[party.Code] = party.Name
		}
	}
	for _, term := range []string{"short", "medium", "long"} {
		g := termGroup{Term: term}
		for _, m := range v.Milestones {
			if m.Horizon == term {
				g.Milestones = append(g.Milestones, m)
			}
		}
		if len(g.Milestones) > 0 {
			av.Terms = append(av.Terms, g)
		}
	}
	av.Can = permissions(p, st)
	events, err := c.api.Audit(ctx, p, st.ID, 0, 200)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	av.Timeline = timeline(events, av.Parties)
	if av.Verify, err = c.api.VerifyAudit(ctx, p, st.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	av.SinceSeen, av.Changes = changesSince(events, st, lifecycle.PartyCode(p.Party), pg.Lang)
	pg.D = av
	if refused != nil {
		shown := *refused
		// The evidence links are one field of the form, one link a line:
		// a refused link points at that field.
		if strings.HasPrefix(shown.Field, "evidence[") {
			shown.Field = "evidence"
		}
		pg.Problem = &shown
		pg.Errors = map[string]string{}
		if shown.Field != "" {
			pg.Errors[shown.Field] = shown.Detail
		}
	}
	c.render(w, r, status, "activity", pg)
}

func permissions(p store.Principal, st lifecycle.State) can {
	has := func(role string) bool { return slices.Contains(p.Roles, role) }
	party := lifecycle.PartyCode(p.Party)
	_, member := st.Party(party)
	out := can{Report: map[string]bool{}, Complete: map[string]bool{}, Extend: map[string]bool{}, DecideExtension: map[string]bool{}}
	if !member {
		return out
	}
	approver, coordinator := has("approver"), has("coordinator")
	pending := slices.Contains(lifecycle.PendingParties(st), party)
	out.Decide = approver && st.Status == lifecycle.StatusProposed && pending && p.ID != st.Proposer
	out.Amend = coordinator && st.Status == lifecycle.StatusProposed
	out.Suspend = approver && st.Status == lifecycle.StatusActive
	out.Resume = approver && st.Status == lifecycle.StatusSuspended
	out.Cancel = approver && (st.Status == lifecycle.StatusProposed || st.Status == lifecycle.StatusActive || st.Status == lifecycle.StatusSuspended)
	_, consents := st.ConsentOf(party)
	out.Consent, out.Withdraw = approver && !consents, approver && consents
	for _, m := range st.Milestones {
		if !coordinator || m.Owner != party || m.Status != lifecycle.MilestoneOpen {
			continue
		}
		out.Report[m.ID] = st.Status == lifecycle.StatusActive || st.Status == lifecycle.StatusSuspended
		out.Complete[m.ID] = st.Status == lifecycle.StatusActive
		extending := false
		for _, x := range st.Extensions {
			extending = extending || (x.MilestoneID == m.ID && x.Status == lifecycle.ExtensionPending)
		}
		out.Extend[m.ID] = st.Status == lifecycle.StatusActive && !extending
	}
	for _, x := range st.Extensions {
		out.DecideExtension[x.ID] = approver && st.Status == lifecycle.StatusActive && x.Status == lifecycle.ExtensionPending &&
			x.RequestedBy != p.ID && partyPending(x.Decisions, p.Party)
	}
	return out
}

// timelineItem is one event of the audit log in plain words.
type timelineItem struct {
	Seq     int64
	Type    string
	Actor   string
	Party   string
	At      any
	Version int
	Comment string
}

// timeline is the audit log newest first.
func timeline(events []store.AuditEvent, parties map[string]string) []timelineItem {
	out := make([]timelineItem, 0, len(events))
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		var content struct {
			Event lifecycle.Event `json:"event"`
		}
		_ = json.Unmarshal(e.Content, &content)
		item := timelineItem{Seq: e.Seq, Type: e.Type, Actor: e.Actor, Party: parties[e.Party], At: e.At,
			Version: content.Event.Version, Comment: content.Event.Comment}
		if item.Party == "" {
			item.Party = e.Party
		}
		out = append(out, item)
	}
	return out
}

// change is one difference between two versions, in the reader's
// language: what, and how it read before and reads now.
type change struct {
	What, Before, After string
}

// changesSince compares the current version with the last one the
// viewer's party decided on (from the audit log), in lang; none when the
// party has not decided, or decided on the current version.
func changesSince(events []store.AuditEvent, st lifecycle.State, party lifecycle.PartyCode, lang string) (int, []change) {
	contents := map[int]*lifecycle.Content{}
	seen := 0
	for _, e := range events {
		var content struct {
			Event lifecycle.Event `json:"event"`
		}
		if json.Unmarshal(e.Content, &content) != nil {
			continue
		}
		ev := content.Event
		switch ev.Type {
		case lifecycle.EventProposed, lifecycle.EventAmended:
			if ev.Content != nil {
				contents[ev.Version] = ev.Content
			}
		case lifecycle.EventApproved, lifecycle.EventChangesRequested:
			if ev.Party == party {
				seen = ev.Version
			}
		}
	}
	before, now := contents[seen], contents[st.Version]
	if seen == 0 || seen == st.Version || before == nil || now == nil {
		return 0, nil
	}
	fallback, _ := st.LanguageOf(st.ProposerParty)
	in := func(t lifecycle.Text) string { return t.In(lang, fallback) }
	var out []change
	diff := func(what, a, b string) {
		if a != b {
			out = append(out, change{What: what, Before: a, After: b})
		}
	}
	diff("field.title", in(before.Title), in(now.Title))
	diff("field.summary", in(before.Summary), in(now.Summary))
	objectives := func(c *lifecycle.Content) string {
		var parts []string
		for _, o := range c.Objectives {
			parts = append(parts, in(o))
		}
		return strings.Join(parts, "\n")
	}
	diff("field.objectives", objectives(before), objectives(now))
	old := map[string]lifecycle.Milestone{}
	for _, m := range before.Milestones {
		old[m.ID] = m
	}
	for _, m := range now.Milestones {
		o, ok := old[m.ID]
		describe := func(m lifecycle.Milestone) string {
			return in(m.Title) + " · " + string(m.Owner) + " · " + m.Due
		}
		if !ok {
			diff("field.milestone_added", "", describe(m))
			continue
		}
		diff("field.milestone_changed", describe(o), describe(m))
		delete(old, m.ID)
	}
	for _, m := range before.Milestones {
		if _, gone := old[m.ID]; gone {
			diff("field.milestone_removed", in(m.Title)+" · "+string(m.Owner)+" · "+m.Due, "")
		}
	}
	return seen, out
}

// act runs one action and answers as a form should: back to the activity
// with a confirmation, or the page again with the refusal beside the form.
func (c *Console) act(w http.ResponseWriter, r *http.Request, done string, run func() (lifecycle.State, error)) {
	if _, err := run(); err != nil {
		prob := api.Describe(err)
		if prob.Status >= 500 || prob.Status == http.StatusNotFound || prob.Status == http.StatusForbidden {
			c.fail(w, r, err)
			return
		}
		form := map[string]string{"action": r.URL.Path}
		for k, vs := range r.PostForm {
			form[k] = strings.Join(vs, "\n")
		}
		c.showActivity(w, r, prob.Status, &prob, form)
		return
	}
	http.Redirect(w, r, "/activities/"+activityID(r)+"?done="+done, http.StatusSeeOther)
}

func (c *Console) decide(w http.ResponseWriter, r *http.Request) {
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	req := api.DecisionRequest{Version: version, Decision: r.PostFormValue("decision"), Comment: r.PostFormValue("comment")}
	c.act(w, r, "decided_"+req.Decision, func() (lifecycle.State, error) {
		return c.api.Decide(r.Context(), principalOf(r), activityID(r), req)
	})
}

// progressRequest reads a progress report: evidence links one per line,
// an optional reading and a note.
func progressRequest(r *http.Request) (api.ProgressRequest, error) {
	req := api.ProgressRequest{Note: r.PostFormValue("note")}
	for _, line := range strings.Split(r.PostFormValue("evidence"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			req.Evidence = append(req.Evidence, line)
		}
	}
	if v := strings.TrimSpace(r.PostFormValue("actual")); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return req, formError("actual", "actual")
		}
		req.Actual = &f
	}
	return req, nil
}

func (c *Console) progress(w http.ResponseWriter, r *http.Request) {
	c.act(w, r, "reported", func() (lifecycle.State, error) {
		req, err := progressRequest(r)
		if err != nil {
			return lifecycle.State{}, err
		}
		return c.api.ReportProgress(r.Context(), principalOf(r), activityID(r), chi.URLParam(r, "mid"), req)
	})
}

func (c *Console) complete(w http.ResponseWriter, r *http.Request) {
	c.act(w, r, "completed", func() (lifecycle.State, error) {
		req, err := progressRequest(r)
		if err != nil {
			return lifecycle.State{}, err
		}
		return c.api.Complete(r.Context(), principalOf(r), activityID(r), chi.URLParam(r, "mid"), req)
	})
}

func (c *Console) requestExtension(w http.ResponseWriter, r *http.Request) {
	c.act(w, r, "extension_requested", func() (lifecycle.State, error) {
		due, err := dueOf(r, "new_due")
		if err != nil {
			return lifecycle.State{}, err
		}
		req := api.ExtensionRequest{NewDue: due, Reason: r.PostFormValue("reason")}
		return c.api.RequestExtension(r.Context(), principalOf(r), activityID(r), chi.URLParam(r, "mid"), req)
	})
}

func (c *Console) decideExtension(w http.ResponseWriter, r *http.Request) {
	req := api.ExtensionDecisionRequest{Decision: r.PostFormValue("decision"), Comment: r.PostFormValue("comment")}
	c.act(w, r, "extension_"+req.Decision, func() (lifecycle.State, error) {
		return c.api.DecideExtension(r.Context(), principalOf(r), activityID(r), chi.URLParam(r, "mid"), chi.URLParam(r, "eid"), req)
	})
}

// publication consents to publishing the activity's version for the
// viewer's party, or withdraws the consent.
func (c *Console) publication(w http.ResponseWriter, r *http.Request) {
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	req := api.PublicationRequest{Version: version, Decision: r.PostFormValue("decision")}
	c.act(w, r, "publication_"+req.Decision, func() (lifecycle.State, error) {
		return c.api.DecidePublication(r.Context(), principalOf(r), activityID(r), req, "")
	})
}

func (c *Console) control(w http.ResponseWriter, r *http.Request) {
	what := chi.URLParam(r, "what")
	if what != workflows.UpdateSuspend && what != workflows.UpdateResume && what != workflows.UpdateCancel {
		c.fail(w, r, errNotFound)
		return
	}
	c.act(w, r, what, func() (lifecycle.State, error) {
		return c.api.Control(r.Context(), principalOf(r), activityID(r), what, r.PostFormValue("reason"))
	})
}
