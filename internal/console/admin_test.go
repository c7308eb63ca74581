package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pacto/internal/api"
	"pacto/internal/app"
)

var secretOnPage = regexp.MustCompile(`<code class="secret" id="secret">([^<]+)</code>`)

// apiStatus is the status of GET path on the API with a bearer token.
func apiStatus(t *testing.T, s *site, token, path string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// An admin sets up a party, a dialogue and an account through the forms,
// each refusal shown beside its field with the form kept; issues a token
// whose secret is shown once and works on the API until revoked; and
// disables the account, which ends its session at once.
func TestAdminSetsUpPartiesDialoguesAndAccounts(t *testing.T) {
	s := newSite(t)
	admin := s.as("admin")
	home := admin.get("/")
	must(t, home, 200, `href="/admin"`, "Administration")
	must(t, admin.get("/admin"), 200, `aria-current="page">Summary`, "2 parties", "1 dialogues", "7 accounts")

	// A party: a zone the core cannot resolve is refused beside its field.
	party := url.Values{"code": {"CR"}, "name": {"Costa Rica"}, "time_zone": {"America/Nowhere"}, "language": {"es"}}
	refused := admin.post("/admin/parties", party)
	must(t, refused, 422, "There is a problem", `href="#f-time_zone"`, `id="f-time_zone-error"`, `value="Costa Rica"`, `value="America/Nowhere"`)
	party.Set("time_zone", "America/Costa_Rica")
	must(t, admin.post("/admin/parties", party), 200, "The party was added.", "America/Costa_Rica")
	must(t, admin.post("/admin/parties", party), 409, "already exists")

	// A dialogue: one party is not enough.
	dialogue := url.Values{"id": {"pa-cr"}, "name": {"Diálogo Panamá–Costa Rica"}, "parties": {"CR"}, "languages": {"es"}}
	must(t, admin.post("/admin/dialogues", dialogue), 422, `id="f-parties-error"`, `value="pa-cr"`, `id="dp-CR" checked`)
	dialogue["parties"] = []string{"CR", "PA"}
	must(t, admin.post("/admin/dialogues", dialogue), 200, "The dialogue was created.", "Diálogo Panamá–Costa Rica", "CR, PA")

	// An account: a coordinator belongs to a party.
	account := url.Values{"id": {"cr-coordinator"}, "name": {"Coordinadora de Costa Rica"}, "party": {""}, "roles": {"coordinator"},
		"email": {"cr@cr.example"}, "language": {"es"}}
	must(t, admin.post("/admin/principals", account), 422, `id="f-party-error"`, `id="pr-coordinator" checked`, `value="cr@cr.example"`)
	account.Set("party", "CR")
	must(t, admin.post("/admin/principals", account), 200, "The account was created.", "Coordinadora de Costa Rica")
	if p, err := s.st.Principal(context.Background(), "cr-coordinator"); err != nil || p.Party != "CR" || p.Roles[0] != "coordinator" {
		t.Fatalf("stored principal %+v, %v", p, err)
	}

	// A token: its secret is on the page that issued it, and nowhere after.
	issued := admin.post("/admin/tokens", url.Values{"principal": {"cr-coordinator"}, "name": {"integración"}})
	must(t, issued, 201, "Token issued for cr-coordinator", "it will not be shown again")
	m := secretOnPage.FindStringSubmatch(issued.body)
	if m == nil {
		t.Fatalf("no secret on the page:\n%s", issued.body)
	}
	secret := m[1]
	if got := apiStatus(t, s, secret, "/v1/inbox"); got != 200 {
		t.Fatalf("the new token gets %d from the API", got)
	}
	list := admin.get("/admin/tokens?principal=cr-coordinator")
	must(t, list, 200, "integración")
	for _, page := range []reply{list, admin.get("/admin/tokens"), admin.get("/admin")} {
		if strings.Contains(page.body, secret) {
			t.Fatalf("%s shows the secret again", page.url)
		}
	}
	tid := regexp.MustCompile(`action="/admin/tokens/([^/"]+)/revoke"`).FindStringSubmatch(list.body)
	if tid == nil {
		t.Fatalf("no revoke button:\n%s", list.body)
	}
	must(t, admin.post("/admin/tokens/"+tid[1]+"/revoke", url.Values{}), 200, "The token was revoked.", "Revoked")
	if got := apiStatus(t, s, secret, "/v1/inbox"); got != 401 {
		t.Fatalf("a revoked token gets %d", got)
	}

	// Disabling an account ends its session at once; it stays listed.
	cr := s.as("cr-coordinator")
	must(t, cr.get("/"), 200, "Mi trabajo")
	if strings.Contains(cr.get("/").body, `href="/admin"`) {
		t.Fatal("a coordinator is offered the admin pages")
	}
	principals := admin.get("/admin/principals")
	must(t, principals, 200, `action="/admin/principals/cr-coordinator/disable"`)
	if strings.Contains(principals.body, `action="/admin/principals/admin/disable"`) {
		t.Fatal("an admin is offered to disable themselves")
	}
	must(t, admin.post("/admin/principals/cr-coordinator/disable", url.Values{}), 200, "The account is disabled", `<tr id="p-cr-coordinator" class="disabled">`)
	if r := cr.get("/"); !strings.Contains(r.url, "/signin") {
		t.Fatalf("a disabled account's session still works: %s", r.url)
	}
	// Disabling oneself is refused, even by a forged form.
	must(t, admin.post("/admin/principals/admin/disable", url.Values{}), 409, "There is a problem", "you cannot disable yourself")
	must(t, admin.get("/"), 200)
}

// Nobody but an admin sees or reaches the admin pages: no link, a 404 for
// every page and form, and nothing changes.
func TestAdminPagesAreNotFoundForOthers(t *testing.T) {
	s := newSite(t)
	for _, who := range []string{"pa-approver", "us-coordinator"} {
		b := s.as(who)
		if strings.Contains(b.get("/").body, `href="/admin"`) {
			t.Fatalf("%s sees an admin link", who)
		}
		for _, path := range []string{"/admin", "/admin/parties", "/admin/tokens", "/admin/failures"} {
			must(t, b.get(path), 404)
		}
		must(t, b.post("/admin/parties", url.Values{"code": {"XX"}, "name": {"X"}, "time_zone": {"UTC"}, "language": {"en"}}), 404)
		must(t, b.post("/admin/tokens", url.Values{"principal": {who}}), 404)
		must(t, b.post("/admin/principals/pa-observer/disable", url.Values{}), 404)
	}
	ps, err := s.st.Parties(context.Background())
	if err != nil || len(ps) != 2 {
		t.Fatalf("parties after refused forms: %v, %v", ps, err)
	}
	if p, err := s.st.Principal(context.Background(), "pa-observer"); err != nil || p.Disabled != nil {
		t.Fatalf("pa-observer after a refused disable: %+v, %v", p, err)
	}
	if ts, err := s.st.Tokens(context.Background(), "us-coordinator"); err != nil || len(ts) != 1 {
		t.Fatalf("tokens after a refused issue: %v, %v", ts, err)
	}
}

// A webhook's secret is shown once; a delivery its receiver refused is
// listed as failed and, retried from the page, arrives; the webhook can
// be deleted.
func TestAdminWebhooksAndFailedDeliveries(t *testing.T) {
	var accept atomic.Bool
	var delivered atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !accept.Load() {
			http.Error(w, "unknown signature", http.StatusUnauthorized) // permanent: no retries
			return
		}
		delivered.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	s, srv := newSiteWith(t, 0, true)
	admin := s.as("admin")

	must(t, admin.post("/admin/webhooks", url.Values{"id": {"ops"}, "url": {"ftp://nowhere"}, "event_types": {"proposed"}}), 422,
		`id="f-url-error"`, `id="we-proposed" checked`)
	created := admin.post("/admin/webhooks", url.Values{"id": {"ops"}, "url": {hook.URL}, "event_types": {"proposed"}, "parties": {"PA"}})
	must(t, created, 201, "Signing secret of webhook ops", "whsec_")
	secret := secretOnPage.FindStringSubmatch(created.body)[1]
	if again := admin.get("/admin/webhooks"); strings.Contains(again.body, secret) || !strings.Contains(again.body, hook.URL) {
		t.Fatal("the webhooks page shows the secret again, or not the webhook")
	}

	ctx := context.Background()
	coordinator, err := s.st.Principal(ctx, "pa-coordinator")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Propose(ctx, coordinator, api.ProposeRequest{Dialogue: app.DemoDialogue, Parties: []string{"PA", "US"},
		Title:      both("Intercambio", "Exchange"),
		Milestones: []api.MilestoneInput{{Title: both("Visita", "Visit"), Owner: "PA", Due: "P3M"}}}, ""); err != nil {
		t.Fatal(err)
	}
	failed := regexp.MustCompile(`action="/admin/failures/deliveries/(webhook-ops-[^/"]+)/retry"`)
	var did string
	deadline := time.Now().Add(30 * time.Second)
	for did == "" {
		if time.Now().After(deadline) {
			t.Fatal("the refused webhook never showed as failed")
		}
		if m := failed.FindStringSubmatch(admin.get("/admin/failures").body); m != nil {
			did = m[1]
		} else {
			time.Sleep(200 * time.Millisecond)
		}
	}
	accept.Store(true)
	must(t, admin.post("/admin/failures/deliveries/"+did+"/retry", url.Values{}), 200, "The delivery is being retried.")
	for deadline = time.Now().Add(30 * time.Second); delivered.Load() == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the retried webhook never arrived")
		}
	}
	if page := admin.get("/admin/failures"); strings.Contains(page.body, did) {
		t.Fatal("a delivered webhook is still listed as failed")
	}
	// Retrying what is no longer failed is not found.
	must(t, admin.post("/admin/failures/deliveries/"+did+"/retry", url.Values{}), 404)

	must(t, admin.post("/admin/webhooks/ops/delete", url.Values{}), 200, "The webhook was deleted.", "Deleted")
	subs, err := s.st.WebhookSubscriptions(ctx)
	if err != nil || len(subs) != 1 || subs[0].DisabledAt == nil {
		t.Fatalf("webhooks after deletion: %+v, %v", subs, err)
	}
}
