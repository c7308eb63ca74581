package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/go-chi/chi/v5"

	"pacto/internal/api"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// workItem is one line of My work: an activity and, for a milestone or
// an extension, which.
type workItem struct {
	Activity  api.ActivityView
	Milestone *api.MilestoneView
	Extension *lifecycle.Extension
}

type myWorkView struct {
	Decisions []workItem
	// MoreDecisions links to the whole list when one page does not hold it.
	MoreDecisions string
	Extensions    []workItem
	Overdue       []workItem
	DueSoon       []workItem
	Inbox         []notice
}

// myWork is what waits for the viewer's party: decisions on the current
// version, extensions to decide, its milestones overdue or due soon, and
// unread notifications.
func (c *Console) myWork(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	pg := c.base(r, "work")
	var v myWorkView
	ctx := r.Context()
	if p.Party != "" {
		proposed, err := c.api.List(ctx, p, url.Values{"status": {"proposed"}, "pending_party": {p.Party}, "limit": {"50"}})
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, a := range proposed.Activities {
			v.Decisions = append(v.Decisions, workItem{Activity: a})
		}
		if proposed.NextCursor != "" {
			v.MoreDecisions = "/activities?" + url.Values{"status": {"proposed"}, "pending_party": {p.Party}}.Encode()
		}
		// The milestones due within the default lead (and those overdue)
		// and the extensions awaiting the party, straight from the read
		// model's milestones and extensions.
		soon := c.now().Add(lifecycle.DefaultPolicy().DueSoonLead)
		awaiting, err := c.api.Awaiting(ctx, p, soon, 100)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, a := range awaiting {
			v.add(a, p.Party)
		}
	}
	ns, _, err := c.api.Inbox(ctx, p, true, nil, 10)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Inbox = notices(ns)
	pg.D = v
	c.render(w, r, http.StatusOK, "mywork", pg)
}

// add files what of activity a waits for party.
func (v *myWorkView) add(a api.ActivityView, party string) {
	for i := range a.Extensions {
		x := &a.Extensions[i]
		if x.Status == lifecycle.ExtensionPending && partyPending(x.Decisions, party) {
			v.Extensions = append(v.Extensions, workItem{Activity: a, Extension: x})
		}
	}
	for i := range a.Milestones {
		m := &a.Milestones[i]
		if m.Owner != party || m.Status != string(lifecycle.MilestoneOpen) {
			continue
		}
		switch m.Colour {
		case "red":
			v.Overdue = append(v.Overdue, workItem{Activity: a, Milestone: m})
		case "amber":
			v.DueSoon = append(v.DueSoon, workItem{Activity: a, Milestone: m})
		}
	}
}

func partyPending(ds []lifecycle.Approval, party string) bool {
	for _, d := range ds {
		if string(d.Party) == party && d.Decision == lifecycle.DecisionPending {
			return true
		}
	}
	return false
}

// listView is the activities page: the filters as given and a page.
type listView struct {
	Q        url.Values
	List     api.ActivityList
	NextLink string
	// Export links the list's activities, every page, as a download.
	Export   exportLinks
	Statuses []string
	Horizons []string
	Parties  []store.Party
}

func (c *Console) activities(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	pg := c.base(r, "activities")
	q := url.Values{}
	for _, k := range []string{"status", "party", "pending_party", "overdue", "horizon", "dialogue", "q", "due_before", "due_after", "cursor"} {
		if v := r.URL.Query().Get(k); v != "" {
			q.Set(k, v)
		}
	}
	q.Set("limit", "25")
	list, err := c.api.List(r.Context(), p, q)
	if err != nil {
		prob := api.Describe(err)
		if prob.Status >= 500 {
			c.fail(w, r, err)
			return
		}
		pg.Problem, pg.Errors = &prob, map[string]string{prob.Field: prob.Detail}
	}
	v := listView{Q: q, List: list, Statuses: []string{"proposed", "active", "suspended", "completed", "declined", "expired", "cancelled"},
		Horizons: []string{"short", "medium", "long"}, Export: exportLinksFor(q)}
	if parties, err := c.store.Parties(r.Context()); err == nil {
		v.Parties = parties
	}
	if list.NextCursor != "" {
		next := url.Values{}
		for k, vs := range q {
			next[k] = vs
		}
		next.Set("cursor", list.NextCursor)
		next.Del("limit")
		v.NextLink = "/activities?" + next.Encode()
	}
	pg.D = v
	c.render(w, r, http.StatusOK, "activities", pg)
}

// notice is a notification as the console shows it.
type notice struct {
	ID    int64
	Link  string // the page of what it is about; empty when it does not say
	Kind  string
	Title string // the activity's title, or the dialogue's name
	// Meeting is the number of the dialogue meeting the notice is about;
	// 0 for an activity's.
	Meeting int
	Actor   string
	At      any
	Read    bool
}

func notices(ns []api.InboxNotification) []notice {
	out := make([]notice, 0, len(ns))
	for _, n := range ns {
		var c struct {
			TitleText string `json:"title_text"`
			ActorName string `json:"actor_name"`
			Actor     string `json:"actor"`
			Dialogue  string `json:"dialogue"`
			Meeting   int    `json:"meeting"`
		}
		_ = json.Unmarshal(n.Content, &c)
		actor := c.ActorName
		if actor == "" && c.Actor != lifecycle.ClockActor {
			actor = c.Actor
		}
		item := notice{ID: n.ID, Link: n.Link, Kind: n.Kind, Title: c.TitleText, Actor: actor, At: n.CreatedAt, Read: n.ReadAt != nil}
		if c.Dialogue != "" {
			item.Meeting = c.Meeting
		}
		out = append(out, item)
	}
	return out
}

type inboxView struct {
	Notices  []notice
	Unread   bool
	NextLink string
}

func (c *Console) inbox(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	pg := c.base(r, "inbox")
	unread := r.URL.Query().Get("unread") == "true"
	var after *store.InboxCursor
	if cur := r.URL.Query().Get("after"); cur != "" {
		id, err := strconv.ParseInt(cur, 10, 64)
		if err == nil {
			after = &store.InboxCursor{ID: id, Read: r.URL.Query().Get("read") == "true"}
		}
	}
	ns, next, err := c.api.Inbox(r.Context(), p, unread, after, 50)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := inboxView{Notices: notices(ns), Unread: unread}
	if next != nil {
		q := url.Values{"after": {strconv.FormatInt(next.ID, 10)}, "read": {strconv.FormatBool(next.Read)}}
		if unread {
			q.Set("unread", "true")
		}
		v.NextLink = "/inbox?" + q.Encode()
	}
	pg.D = v
	c.render(w, r, http.StatusOK, "inbox", pg)
}

func (c *Console) markRead(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	var ids []int64
	if r.PostFormValue("all") != "true" {
		for _, v := range r.PostForm["id"] {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				c.fail(w, r, errNotFound)
				return
			}
			ids = append(ids, id)
		}
		if len(ids) == 0 {
			http.Redirect(w, r, "/inbox", http.StatusSeeOther)
			return
		}
	}
	if _, err := c.api.MarkRead(r.Context(), p, ids); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/inbox?done=read", http.StatusSeeOther)
}

type settingsView struct {
	Mail      string // mailEach, mailDigest or mailOff
	Hour      int    // the digest's hour, shown even while not chosen
	Hours     []hourOption
	Languages []string
}

func (c *Console) settings(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	pg := c.base(r, "settings")
	prefs, err := c.api.NotificationPreferences(r.Context(), p)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	mail, hour := mailChoice(prefs)
	pg.D = settingsView{Mail: mail, Hour: hour, Hours: digestHours(pg.Lang), Languages: languages}
	c.render(w, r, http.StatusOK, "settings", pg)
}

// saveSettings keeps the language on this browser and the choice of
// email (a mail per notice, a daily digest, or none) in the principal's
// preferences.
func (c *Console) saveSettings(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if lang := r.PostFormValue("language"); lang != "" {
		if !slices.Contains(languages, lang) {
			c.fail(w, r, errNotFound)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: languageCookie, Value: lang, Path: "/", HttpOnly: true, Secure: c.secure,
			SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
	}
	if r.PostFormValue("email") != "" {
		cur, err := c.api.NotificationPreferences(r.Context(), p)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		prefs, ok := chosenPreferences(r, cur)
		if !ok {
			c.fail(w, r, errNotFound)
			return
		}
		if _, err := c.api.SetNotificationPreferences(r.Context(), p, prefs); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	back := validNext(r.PostFormValue("back"))
	if back == "/" && r.PostFormValue("back") == "" {
		back = "/settings?done=saved"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// activityID is the {id} of the request's path.
func activityID(r *http.Request) string { return chi.URLParam(r, "id") }
