package console

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"

	"pacto/internal/api"
	"pacto/internal/app"
	"pacto/internal/pgtest"
	"pacto/internal/store"
	"pacto/workflows"
)

func TestMain(m *testing.M) {
	pgtest.SetTemplateSetup(store.Migrate)
	pgtest.Main(m)
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// site is the API with the console at its root, on loopback, over a real
// PostgreSQL and the in-process Temporal server, with the demo's parties,
// principals and dialogue.
type site struct {
	t    *testing.T
	base string
	st   *store.Store
}

func newSite(t *testing.T) *site {
	t.Helper()
	st, tc, _ := newBackend(t, true)
	srv := api.New(st, tc, api.Options{Logger: quietLogger()})
	con, err := New(Options{API: srv, Store: st, Log: quietLogger(), DevSignIn: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount(con.Handler())
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &site{t: t, base: hs.URL, st: st}
}

// newBackend starts what the console stands on: a fresh database with the
// demo data, the in-process Temporal server and, if asked, a worker. It
// returns the demo principals' API tokens too.
func newBackend(t *testing.T, worker bool) (*store.Store, client.Client, map[string]string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	ts := temporaltest.NewServer(temporaltest.WithT(t),
		temporaltest.WithBaseClientOptions(client.Options{Logger: sdklog.NewStructuredLogger(quietLogger())}))
	tc := ts.GetDefaultClient()
	if _, err := workflows.RegisterSearchAttributes(ctx, tc, ts.GetDefaultNamespace()); err != nil {
		t.Fatal(err)
	}
	if worker {
		w := app.NewWorker(tc, st, app.Delivery{Logger: quietLogger()})
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}
	tokensFile := t.TempDir() + "/tokens.json"
	if _, err := app.SeedDemo(ctx, st, tokensFile); err != nil {
		t.Fatal(err)
	}
	var tokens map[string]string
	if b, err := os.ReadFile(tokensFile); err != nil || json.Unmarshal(b, &tokens) != nil {
		t.Fatalf("demo tokens: %v", err)
	}
	return st, tc, tokens
}

// browser is one person's cookie jar on the site.
type browser struct {
	t    *testing.T
	s    *site
	http *http.Client
}

// as signs in on the dev sign-in page as principal id.
func (s *site) as(id string) *browser {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: s.t, s: s, http: &http.Client{Jar: jar}}
	page := b.post("/signin", url.Values{"principal": {id}, "next": {"/"}})
	if page.status != http.StatusOK || !strings.Contains(page.body, "/signout") {
		s.t.Fatalf("sign in as %s: %d\n%s", id, page.status, page.body)
	}
	return b
}

type reply struct {
	status int
	body   string
	url    string
}

func (b *browser) do(req *http.Request) reply {
	b.t.Helper()
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, body: string(body), url: resp.Request.URL.String()}
}

func (b *browser) get(path string) reply {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.s.base+path, nil)
	return b.do(req)
}

// post sends a form as the browser would from the site's own page.
func (b *browser) post(path string, form url.Values) reply {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.s.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.s.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func must(t *testing.T, r reply, status int, wants ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", r.url, r.status, status, r.body)
	}
	for _, w := range wants {
		if !strings.Contains(r.body, w) {
			t.Fatalf("%s: page lacks %q\n%s", r.url, w, r.body)
		}
	}
}

var activityPath = regexp.MustCompile(`/activities/(act_[a-z0-9]+)`)

// The story through the console's forms: Panama proposes in
// Spanish only, the US approver cannot approve and says so, the US
// coordinator adds English side by side, both approve, and each reads
// their own language.
func TestProposeAmendApproveInTwoLanguages(t *testing.T) {
	s := newSite(t)
	pa := s.as("pa-coordinator")
	must(t, pa.get("/"), 200, `lang="es"`, "Mi trabajo")
	form := pa.get("/activities/new")
	must(t, form, 200, `name="title_es"`, `name="title_en"`, "Proponer una actividad")
	key := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(form.body)[1]
	proposal := url.Values{"key": {key}, "dialogue": {app.DemoDialogue}, "parties": {"PA", "US"},
		"title_es": {"Capacitación aduanera"}, "title_en": {""}, "summary_es": {"Formar al personal"}, "summary_en": {""},
		"objective0_es": {"Formar a 40 funcionarios"}, "objective0_en": {""},
		"m0_id": {""}, "m0_title_es": {"Taller en Colón"}, "m0_title_en": {""}, "m0_owner": {"PA"}, "m0_horizon": {""},
		"m0_due_date": {""}, "m0_due_in": {"6"}, "m0_due_unit": {"months"}, "m0_target": {""}, "m0_baseline": {""}, "m0_unit_es": {""}, "m0_unit_en": {""}}
	// A blank title is refused beside the field, and nothing is lost.
	blankTitle := cloneValues(proposal)
	blankTitle.Set("title_es", "")
	again := pa.post("/activities/new", blankTitle)
	must(t, again, 422, "Hay un problema", `id="f-title"`, "Formar a 40 funcionarios")
	// The form comes back with a new key: the corrected proposal is a
	// request of its own, not a replay of the refused one.
	proposal.Set("key", regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(again.body)[1])
	created := pa.post("/activities/new", proposal)
	must(t, created, 200, "Capacitación aduanera", "Se envió su propuesta")
	id := activityPath.FindStringSubmatch(created.url)[1]

	us := s.as("us-approver")
	page := us.get("/activities/" + id)
	must(t, page, 200, `lang="en"`, "Missing in English", "Capacitación aduanera", "Approve")
	refused := us.post("/activities/"+id+"/decide", url.Values{"version": {"1"}, "decision": {"approve"}})
	must(t, refused, 409, "There is a problem", "Texts without en")

	usc := s.as("us-coordinator")
	edit := usc.get("/activities/" + id + "/edit")
	must(t, edit, 200, `value="Capacitación aduanera"`, `name="title_en"`)
	amend := cloneValues(proposal)
	amend.Del("key")
	amend.Set("version", "1")
	amend.Set("m0_id", "m1")
	amend.Set("title_en", "Customs training")
	amend.Set("summary_en", "Train staff")
	amend.Set("objective0_en", "Train 40 officers")
	amend.Set("m0_title_en", "Workshop in Colón")
	// A second milestone, due three days after activation.
	for k, v := range map[string]string{"m1_id": "m2", "m1_title_es": "Informe publicado", "m1_title_en": "Report published",
		"m1_owner": "PA", "m1_due_in": "3", "m1_due_unit": "days"} {
		amend.Set(k, v)
	}
	must(t, usc.post("/activities/"+id+"/edit", amend), 200, "Customs training", "The amendment is a new version")

	for _, who := range []string{"pa-approver", "us-approver"} {
		must(t, s.as(who).post("/activities/"+id+"/decide", url.Values{"version": {"2"}, "decision": {"approve"}}), 200)
	}
	must(t, s.as("pa-observer").get("/activities/"+id), 200, "Activa", "Capacitación aduanera", "Taller en Colón")
	must(t, s.as("us-observer").get("/activities/"+id), 200, "Active", "Customs training", "Workshop in Colón", "Record intact")

	// The milestone due in three days is on the PA coordinator's My work;
	// an extension it asks for is on the US approver's.
	work := pa.get("/")
	must(t, work, 200, "Hitos de su parte por vencer", "Informe publicado")
	must(t, pa.post("/activities/"+id+"/milestones/m2/extensions", url.Values{"new_due_in": {"1"}, "new_due_unit": {"months"}, "reason": {"Lluvias"}}),
		200, "Se solicitó la prórroga")
	must(t, us.get("/"), 200, "Extensions waiting for your party", "Customs training", "#ext-x1")
	must(t, s.as("us-coordinator").get("/"), 200, "Nothing waiting.")

	// Publication: each party's approver consents on the activity's page;
	// observers see where it stands, with no button.
	must(t, s.as("pa-approver").get("/activities/"+id), 200, "Datos abiertos (IATI)", "No publicada", "Dar el consentimiento de su parte para publicar la versión 2")
	must(t, s.as("pa-approver").post("/activities/"+id+"/publication", url.Values{"version": {"2"}, "decision": {"consent"}}), 200,
		"Su parte dio su consentimiento", "Retirar el consentimiento de su parte")
	must(t, us.post("/activities/"+id+"/publication", url.Values{"version": {"1"}, "decision": {"consent"}}), 409, "There is a problem")
	must(t, us.post("/activities/"+id+"/publication", url.Values{"version": {"2"}, "decision": {"consent"}}), 200, "Your party consents to publishing this version.")
	obs := s.as("us-observer").get("/activities/" + id)
	must(t, obs, 200, "Open data (IATI)", "Published", "Consent to publish")
	if strings.Contains(obs.body, `action="/activities/`+id+`/publication"`) {
		t.Fatal("an observer is offered the consent form")
	}
	if r := s.as("us-observer").post("/activities/"+id+"/publication", url.Values{"version": {"2"}, "decision": {"withdraw"}}); r.status != http.StatusForbidden {
		t.Fatalf("an observer's forged withdrawal: %d", r.status)
	}
}

// What a principal may not do is neither shown nor accepted: an observer
// sees no action, and a forged form gets the core's refusal.
func TestObserverSeesNoActionAndForgedFormsAreRefused(t *testing.T) {
	s := newSite(t)
	pa := s.as("pa-coordinator")
	created := pa.post("/activities/new", url.Values{"dialogue": {app.DemoDialogue}, "parties": {"PA", "US"},
		"title_es": {"Intercambio"}, "title_en": {"Exchange"}, "m0_id": {""}, "m0_title_es": {"Visita"}, "m0_title_en": {"Visit"},
		"m0_owner": {"PA"}, "m0_due_in": {"3"}, "m0_due_unit": {"months"}})
	must(t, created, 200)
	id := activityPath.FindStringSubmatch(created.url)[1]
	obs := s.as("us-observer")
	page := obs.get("/activities/" + id)
	must(t, page, 200, "Exchange")
	for _, action := range []string{"/decide", "/edit", "/control/"} {
		if strings.Contains(page.body, `action="/activities/`+id+action) {
			t.Fatalf("the observer is offered %s", action)
		}
	}
	forged := obs.post("/activities/"+id+"/decide", url.Values{"version": {"1"}, "decision": {"approve"}})
	must(t, forged, 403)
	if v, _ := s.st.Activity(context.Background(), id); v.Version != 1 || v.Approvals[1].Decision != "pending" {
		t.Fatalf("a forged decision changed the activity: %+v", v.Approvals)
	}
	// A form posted from another site is refused before any handler.
	req, _ := http.NewRequest(http.MethodPost, s.base+"/activities/"+id+"/decide", strings.NewReader("version=1&decision=approve"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := obs.do(req); r.status != http.StatusForbidden {
		t.Fatalf("a cross-site POST got %d", r.status)
	}
}

// A session ends on sign-out and the moment its principal is disabled;
// without one, pages send the browser to sign in.
func TestSessionsEnd(t *testing.T) {
	s := newSite(t)
	anon := &browser{t: t, s: s, http: &http.Client{}}
	r := anon.get("/activities")
	must(t, r, 200, "Iniciar sesión")
	if !strings.Contains(r.url, "/signin?next=%2Factivities") {
		t.Fatalf("not sent to sign in: %s", r.url)
	}
	b := s.as("pa-observer")
	must(t, b.get("/"), 200, "Mi trabajo")
	if err := s.st.DisablePrincipal(context.Background(), "pa-observer"); err != nil {
		t.Fatal(err)
	}
	if r := b.get("/"); !strings.Contains(r.url, "/signin") {
		t.Fatalf("a disabled principal's session still works: %s", r.url)
	}
	c := s.as("pa-approver")
	must(t, c.post("/signout", url.Values{}), 200, "Iniciar sesión")
	if r := c.get("/"); !strings.Contains(r.url, "/signin") {
		t.Fatalf("signed out, still in: %s", r.url)
	}
	// A session idle for longer than allowed is over.
	d := s.as("us-observer")
	u, _ := url.Parse(s.base)
	secret := d.http.Jar.Cookies(u)[0].Value
	if _, err := s.st.SessionPrincipal(context.Background(), secret, time.Now().Add(9*time.Hour), store.SessionTimes{Idle: 8 * time.Hour, Absolute: 7 * 24 * time.Hour}); err != store.ErrNoSession {
		t.Fatalf("an idle session: %v", err)
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// A dialogue with a calendar shows its next meetings on the overview,
// each with its progress report as a page, a PDF and a CSV.
func TestMeetingReportsFromTheOverview(t *testing.T) {
	s := newSite(t)
	cal := `{"first":"2031-03-15T10:00","every":6,"zone":"America/Panama","hosts":["PA","US"]}`
	if err := s.st.SetDialogueCalendar(context.Background(), app.DemoDialogue, []byte(cal), "admin"); err != nil {
		t.Fatal(err)
	}
	pa := s.as("pa-coordinator")
	must(t, pa.post("/activities/new", url.Values{"dialogue": {app.DemoDialogue}, "parties": {"PA", "US"},
		"title_es": {"Capacitación aduanera"}, "title_en": {"Customs training"}, "m0_id": {""}, "m0_title_es": {"Taller"}, "m0_title_en": {"Workshop"},
		"m0_owner": {"PA"}, "m0_due_in": {"3"}, "m0_due_unit": {"months"}}), 200)
	page := pa.get("/dialogues/" + app.DemoDialogue)
	must(t, page, 200, "Próximas reuniones", "Reunión 1", "organizada por Panamá", "/meetings/1/report?format=pdf",
		`href="/dialogues/`+app.DemoDialogue+`/meetings/2"`)
	// A meeting on the calendar, its run not started: when its draft and
	// agenda come, and nothing to act on yet.
	must(t, pa.get("/dialogues/"+app.DemoDialogue+"/meetings/2"), 200, `lang="es"`, "<h1>Reunión 2</h1>", "Programada",
		"La reunión está en el calendario. Su borrador del informe sale el", "El orden del día se fija con el borrador del informe",
		"Parte anfitriona</dt><dd>United States", `href="/dialogues/`+app.DemoDialogue+`/meetings/1">Reunión 1</a>`)
	must(t, s.as("us-observer").get("/dialogues/"+app.DemoDialogue+"/meetings/1"), 200, `lang="en"`, "Scheduled",
		// In the reader's zone, and in the other party's.
		"Saturday, March 15, 2031, 11:00 AM (America/New_York)", "Panamá: Saturday, March 15, 2031, 10:00 AM (America/Panama)",
		"The minutes are recorded after the meeting")
	must(t, pa.get("/dialogues/"+app.DemoDialogue+"/meetings/1/report"), 200, `lang="es"`, "Capacitación aduanera")
	for format, ct := range map[string]string{"pdf": "application/pdf", "csv": "text/csv"} {
		req, _ := http.NewRequest(http.MethodGet, s.base+"/dialogues/"+app.DemoDialogue+"/meetings/2/report?format="+format, nil)
		resp, err := pa.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("the report as %s: %d %s %s", format, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
		}
	}
	must(t, pa.get("/dialogues/"+app.DemoDialogue+"/meetings/500/report"), 404)
}
