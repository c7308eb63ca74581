package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"pacto/internal/api"
	"pacto/internal/delivery"
	"pacto/internal/store"
)

// The admin pages manage parties, dialogues, principals, tokens, webhooks
// and failed deliveries, through the same api.Server operations as
// /v1/admin, so a page and an API call are checked alike. Only admins see
// them; anyone else gets a 404, as for a page that does not exist.

// adminRoutes are the admin pages, under /admin.
func (c *Console) adminRoutes(r chi.Router) {
	r.Use(c.requireAdmin)
	r.Get("/", c.adminHome)
	r.Get("/parties", c.adminSection("parties"))
	r.Post("/parties", c.createParty)
	r.Get("/dialogues", c.adminSection("dialogues"))
	r.Post("/dialogues", c.createDialogue)
	r.Get("/principals", c.adminSection("principals"))
	r.Post("/principals", c.createPrincipal)
	r.Post("/principals/{pid}/disable", c.disablePrincipal)
	r.Get("/tokens", c.adminSection("tokens"))
	r.Post("/tokens", c.createToken)
	r.Post("/tokens/{tid}/revoke", c.revokeToken)
	r.Get("/webhooks", c.adminSection("webhooks"))
	r.Post("/webhooks", c.createWebhook)
	r.Post("/webhooks/{wid}/delete", c.deleteWebhook)
	r.Get("/failures", c.adminSection("failures"))
	r.Post("/failures/deliveries/{did}/retry", c.retryDelivery)
	r.Post("/failures/records/{aid}/retry", c.retryRecord)
}

// requireAdmin answers 404 to anyone without the admin role.
func (c *Console) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(principalOf(r).Roles, "admin") {
			c.fail(w, r, errNotFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// adminSections are the admin pages, in the sub-navigation's order.
var adminSections = []string{"parties", "dialogues", "principals", "tokens", "webhooks", "failures"}

// adminView is what an admin page shows: its section's lists, the form as
// sent when it was refused, and a secret shown this once.
type adminView struct {
	Section  string
	Sections []string

	Parties        []store.Party
	Dialogues      []store.Dialogue
	Principals     []store.Principal
	Tokens         []store.TokenInfo
	Webhooks       []store.WebhookSubscription
	Deliveries     []store.DeliveryInfo
	RecordFailures []store.RecordFailure

	// Counts of the home page, by section.
	Counts map[string]int
	// Attention counts what needs an admin: failed deliveries and
	// activities whose records are behind.
	Attention int

	Form   map[string]string   // single fields as sent
	Chosen map[string][]string // checkboxes as sent

	// Secret is a new token's or webhook's secret; Created names what it
	// belongs to. Shown on the page that created it and never again.
	Secret, Created string

	// PrincipalFilter limits the tokens listed to one principal.
	PrincipalFilter string

	Languages, Roles, Events []string
}

// Has reports whether checkbox field was sent with value v.
func (v adminView) Has(field, value string) bool { return slices.Contains(v.Chosen[field], value) }

// adminPage renders section with its lists loaded; v may carry a refused
// form or a secret.
func (c *Console) adminPage(w http.ResponseWriter, r *http.Request, status int, v adminView, prob *api.Problem) {
	p := principalOf(r)
	ctx := r.Context()
	pg := c.base(r, "admin")
	v.Sections, v.Languages, v.Roles = adminSections, languages, []string{"coordinator", "approver", "observer", "admin"}
	for _, e := range delivery.Events() {
		v.Events = append(v.Events, string(e))
	}
	if v.Form == nil {
		v.Form = map[string]string{}
	}
	var err error
	load := func(sections ...string) bool { return slices.Contains(sections, v.Section) }
	if load("parties", "dialogues", "principals", "webhooks", "home") && err == nil {
		v.Parties, err = c.api.Parties(ctx, p)
	}
	if load("dialogues", "home") && err == nil {
		v.Dialogues, err = c.api.Dialogues(ctx, p)
	}
	if load("principals", "tokens", "home") && err == nil {
		v.Principals, err = c.api.Principals(ctx, p, "")
	}
	if load("tokens", "home") && err == nil {
		filter := v.PrincipalFilter
		if !slices.ContainsFunc(v.Principals, func(x store.Principal) bool { return x.ID == filter }) {
			filter, v.PrincipalFilter = "", ""
		}
		v.Tokens, err = c.api.Tokens(ctx, p, filter)
	}
	if load("webhooks", "home") && err == nil {
		v.Webhooks, err = c.api.Webhooks(ctx, p)
	}
	if load("failures", "home") && err == nil {
		if v.Deliveries, err = c.api.Deliveries(ctx, p, "failed", 200); err == nil {
			v.RecordFailures, err = c.api.RecordFailures(ctx, p, 200)
		}
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if v.Section == "home" {
		v.Counts = map[string]int{"parties": len(v.Parties), "dialogues": len(v.Dialogues), "principals": len(v.Principals),
			"failures": len(v.Deliveries) + len(v.RecordFailures)}
		for _, t := range v.Tokens {
			if t.RevokedAt == nil {
				v.Counts["tokens"]++
			}
		}
		for _, wh := range v.Webhooks {
			if wh.DisabledAt == nil {
				v.Counts["webhooks"]++
			}
		}
		v.Attention = v.Counts["failures"]
	}
	if prob != nil {
		pg.Problem = prob
		pg.Errors = map[string]string{}
		if prob.Field != "" {
			pg.Errors[prob.Field] = prob.Detail
		}
	}
	pg.D = v
	c.render(w, r, status, "admin", pg)
}

func (c *Console) adminHome(w http.ResponseWriter, r *http.Request) {
	c.adminPage(w, r, http.StatusOK, adminView{Section: "home"}, nil)
}

func (c *Console) adminSection(section string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c.adminPage(w, r, http.StatusOK, adminView{Section: section, PrincipalFilter: r.URL.Query().Get("principal")}, nil)
	}
}

// formOf keeps what a form sent: its single fields trimmed, and its
// checkbox groups.
func formOf(r *http.Request, fields []string, groups []string) (map[string]string, map[string][]string) {
	form, chosen := map[string]string{}, map[string][]string{}
	for _, f := range fields {
		form[f] = strings.TrimSpace(r.PostFormValue(f))
	}
	for _, g := range groups {
		chosen[g] = r.PostForm[g]
	}
	return form, chosen
}

// adminRefuse shows section again with the refusal, beside the field it
// names, and the form as it was sent. What no form can cure (a page that
// is not there, a failure on Pacto's side) gets the error page.
func (c *Console) adminRefuse(w http.ResponseWriter, r *http.Request, v adminView, err error) {
	prob := api.Describe(err)
	if prob.Status == http.StatusNotFound || (prob.Status >= 500 && prob.Status != http.StatusServiceUnavailable) {
		c.fail(w, r, err)
		return
	}
	c.adminPage(w, r, prob.Status, v, &prob)
}

// adminDone goes back to section with a confirmation.
func adminDone(w http.ResponseWriter, r *http.Request, section, done string) {
	http.Redirect(w, r, "/admin/"+section+"?done="+done, http.StatusSeeOther)
}

func (c *Console) createParty(w http.ResponseWriter, r *http.Request) {
	form, _ := formOf(r, []string{"code", "name", "time_zone", "language"}, nil)
	party := store.Party{Code: form["code"], Name: form["name"], TimeZone: form["time_zone"], Language: form["language"]}
	if _, err := c.api.CreateParty(r.Context(), principalOf(r), party); err != nil {
		c.adminRefuse(w, r, adminView{Section: "parties", Form: form}, err)
		return
	}
	adminDone(w, r, "parties", "admin_party")
}

func (c *Console) createDialogue(w http.ResponseWriter, r *http.Request) {
	form, chosen := formOf(r, []string{"id", "name"}, []string{"parties", "languages"})
	d := store.Dialogue{ID: form["id"], Name: form["name"], Parties: chosen["parties"], Languages: chosen["languages"]}
	if _, err := c.api.CreateDialogue(r.Context(), principalOf(r), d); err != nil {
		c.adminRefuse(w, r, adminView{Section: "dialogues", Form: form, Chosen: chosen}, err)
		return
	}
	adminDone(w, r, "dialogues", "admin_dialogue")
}

func (c *Console) createPrincipal(w http.ResponseWriter, r *http.Request) {
	form, chosen := formOf(r, []string{"id", "name", "party", "email", "language"}, []string{"roles"})
	np := store.Principal{ID: form["id"], Name: form["name"], Party: form["party"], Roles: chosen["roles"], Email: form["email"], Language: form["language"]}
	if _, err := c.api.CreatePrincipal(r.Context(), principalOf(r), np); err != nil {
		c.adminRefuse(w, r, adminView{Section: "principals", Form: form, Chosen: chosen}, err)
		return
	}
	adminDone(w, r, "principals", "admin_principal")
}

func (c *Console) disablePrincipal(w http.ResponseWriter, r *http.Request) {
	if err := c.api.DisablePrincipal(r.Context(), principalOf(r), chi.URLParam(r, "pid")); err != nil {
		c.adminRefuse(w, r, adminView{Section: "principals"}, err)
		return
	}
	adminDone(w, r, "principals", "admin_disabled")
}

// createToken issues a token and shows its secret on this page only: the
// answer is not a redirect, so that the secret is in no URL, and it is
// marked no-store like every console page.
func (c *Console) createToken(w http.ResponseWriter, r *http.Request) {
	form, _ := formOf(r, []string{"principal", "name"}, nil)
	created, err := c.api.CreateToken(r.Context(), principalOf(r), api.TokenRequest{Principal: form["principal"], Name: form["name"]})
	if err != nil {
		c.adminRefuse(w, r, adminView{Section: "tokens", Form: form}, err)
		return
	}
	c.adminPage(w, r, http.StatusCreated, adminView{Section: "tokens", Secret: created.Secret, Created: created.Token.Principal}, nil)
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := c.api.RevokeToken(r.Context(), principalOf(r), chi.URLParam(r, "tid")); err != nil {
		c.adminRefuse(w, r, adminView{Section: "tokens"}, err)
		return
	}
	adminDone(w, r, "tokens", "admin_revoked")
}

// createWebhook subscribes a URL and shows its signing secret this once.
func (c *Console) createWebhook(w http.ResponseWriter, r *http.Request) {
	form, chosen := formOf(r, []string{"id", "url"}, []string{"event_types", "parties"})
	req := api.WebhookRequest{ID: form["id"], URL: form["url"], EventTypes: chosen["event_types"], Parties: chosen["parties"]}
	created, err := c.api.CreateWebhook(r.Context(), principalOf(r), req)
	if err != nil {
		c.adminRefuse(w, r, adminView{Section: "webhooks", Form: form, Chosen: chosen}, err)
		return
	}
	c.adminPage(w, r, http.StatusCreated, adminView{Section: "webhooks", Secret: created.Secret, Created: created.Webhook.ID}, nil)
}

func (c *Console) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if err := c.api.DeleteWebhook(r.Context(), principalOf(r), chi.URLParam(r, "wid")); err != nil {
		c.adminRefuse(w, r, adminView{Section: "webhooks"}, err)
		return
	}
	adminDone(w, r, "webhooks", "admin_webhook_deleted")
}

func (c *Console) retryDelivery(w http.ResponseWriter, r *http.Request) {
	if _, err := c.api.RetryDelivery(r.Context(), principalOf(r), chi.URLParam(r, "did")); err != nil {
		c.adminRefuse(w, r, adminView{Section: "failures"}, err)
		return
	}
	adminDone(w, r, "failures", "admin_retried")
}

func (c *Console) retryRecord(w http.ResponseWriter, r *http.Request) {
	if _, err := c.api.RetryRecord(r.Context(), principalOf(r), chi.URLParam(r, "aid")); err != nil {
		c.adminRefuse(w, r, adminView{Section: "failures"}, err)
		return
	}
	adminDone(w, r, "failures", "admin_record_retried")
}
