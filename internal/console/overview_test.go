package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"pacto/internal/api"
	"pacto/internal/app"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// newSiteAhead is newSite whose API and console read the clock ahead by
// shift, while the workflows keep real time: milestones due within shift
// of their activation read as overdue without waiting for them.
func newSiteAhead(t *testing.T, shift time.Duration) (*site, *api.Server) {
	return newSiteWith(t, shift, false)
}

// newSiteWith is newSite with the clock of the API and the console ahead
// by shift, and, when deliveries is set, failed deliveries retried through
// Temporal as `pacto serve` does.
func newSiteWith(t *testing.T, shift time.Duration, deliveries bool) (*site, *api.Server) {
	t.Helper()
	st, tc, _ := newBackend(t, true)
	ahead := func() time.Time { return time.Now().Add(shift) }
	opts := api.Options{Logger: quietLogger(), Now: ahead}
	if deliveries {
		opts.Deliveries = app.Starter{Client: tc}
	}
	srv := api.New(st, tc, opts)
	con, err := New(Options{API: srv, Store: st, Log: quietLogger(), DevSignIn: true, Now: ahead})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount(con.Handler())
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &site{t: t, base: hs.URL, st: st}, srv
}

func principal(t *testing.T, st *store.Store, id string) store.Principal {
	t.Helper()
	p, err := st.Principal(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func both(es, en string) lifecycle.Text { return lifecycle.Text{"es": es, "en": en} }

// The overview of the demo dialogue, eight months after an activity
// started: counts by status and term, what awaits each party, the
// timeline with a milestone in each state, and the half-years' counts,
// each picture beside its table, in the reader's language.
func TestDialogueOverview(t *testing.T) {
	const day = 24 * time.Hour
	s, srv := newSiteAhead(t, 240*day)
	ctx := context.Background()
	coordinator := principal(t, s.st, "pa-coordinator")
	running, err := srv.Propose(ctx, coordinator, api.ProposeRequest{Dialogue: app.DemoDialogue, Parties: []string{"PA", "US"},
		Title: both(`Aduanas <b>&"juntas"`, `Customs <b>&"together"`),
		Milestones: []api.MilestoneInput{
			{ID: "m1", Title: both("Primera cohorte", "First cohort"), Owner: "PA", Due: "P90D", Horizon: "short"},
			{ID: "m2", Title: both("Manual publicado", "Handbook published"), Owner: "US", Due: "P400D", Horizon: "medium"},
			{ID: "m3", Title: both("Informe de medio término", "Mid-term report"), Owner: "PA", Due: "P243D", Horizon: "medium"},
			{ID: "m4", Title: both("Plan de trabajo", "Work plan"), Owner: "US", Due: "P60D", Horizon: "short"},
		}}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"pa-approver", "us-approver"} {
		if _, err := srv.Decide(ctx, principal(t, s.st, who), running.ID, api.DecisionRequest{Version: 1, Decision: "approve"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := srv.Complete(ctx, principal(t, s.st, "us-coordinator"), running.ID, "m4", api.ProgressRequest{Note: "done"}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.RequestExtension(ctx, principal(t, s.st, "us-coordinator"), running.ID, "m2", api.ExtensionRequest{NewDue: "P60D", Reason: "printing"}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Propose(ctx, coordinator, api.ProposeRequest{Dialogue: app.DemoDialogue, Parties: []string{"PA", "US"},
		Title:      both("Intercambio de datos", "Data exchange"),
		Milestones: []api.MilestoneInput{{ID: "m1", Title: both("Acuerdo", "Agreement"), Owner: "US", Due: "P3Y", Horizon: "long"}}}, ""); err != nil {
		t.Fatal(err)
	}

	us := s.as("us-observer")
	page := us.get("/overview")
	must(t, page, 200, `lang="en"`, "Panamá–United States High-Level Dialogue", `aria-current="page">Overview`,
		"Activities by status and term", "What awaits each party", "Milestones over time", "Milestones on time, late and overdue, by party",
		// Titles in the reader's language, escaped wherever they appear.
		"First cohort", "Handbook published", "Customs &lt;b&gt;&amp;&#34;together&#34;",
		// Each picture is an image with a name, beside its data as a table.
		`role="img" aria-labelledby="timeline-title timeline-desc"`, `role="img" aria-labelledby="timeliness-title timeliness-desc"`,
		`<details class="chart-data">`, "Show the data as a table",
		`class="bar bar-overdue"`, `class="bar bar-soon"`, `class="bar bar-ontrack"`, `class="bar bar-completed"`,
		"4 milestones: 1 on track, 1 due soon, 1 overdue and 1 completed.")
	if !strings.Contains(page.url, "/dialogues/"+app.DemoDialogue) {
		t.Fatalf("/overview led to %s", page.url)
	}
	if strings.Contains(page.body, "<b>&") || strings.Contains(page.body, "Aduanas") {
		t.Fatal("a title is unescaped, or in the other party's language")
	}
	// Counts: one active with short and medium milestones, one proposed
	// with a long one.
	counts := section(t, page.body, "o-counts")
	for _, row := range [][]string{{"Proposed", "1", "0", "0", "1"}, {"Active", "1", "1", "1", "0"}, {"Total", "2", "1", "1", "1"}} {
		if !rowMatches(counts, row) {
			t.Errorf("counts lack the row %v:\n%s", row, counts)
		}
	}
	// Each party: the proposal and the extension await both; Panama's
	// first milestone is overdue.
	awaits := section(t, page.body, "o-awaits")
	for _, row := range [][]string{{"Panamá", "1", "1", "1"}, {"United States", "1", "1", "0"}} {
		if !rowMatches(awaits, row) {
			t.Errorf("what awaits lacks %v:\n%s", row, awaits)
		}
	}
	// The half-years: the US met its work plan on time, Panama's first
	// cohort is overdue, both in the half-year they fell due in.
	now := time.Now().Add(240 * day)
	loc, _ := time.LoadLocation("America/New_York")
	bounds := halfYears(now, loc, overviewPeriods)
	half := func(due time.Time) string {
		for i := range len(bounds) - 1 {
			if !due.Before(bounds[i]) && due.Before(bounds[i+1]) {
				return halfYearName(enCatalog(t), bounds[i])
			}
		}
		t.Fatalf("%v is in none of the half-years", due)
		return ""
	}
	activated := time.Now()
	timeliness := section(t, page.body, "o-timeliness")
	if !rowMatches(timeliness, []string{"United States", half(activated.Add(60 * day)), "1", "0", "0"}) ||
		!rowMatches(timeliness, []string{"Panamá", half(activated.Add(90 * day)), "0", "0", "1"}) {
		t.Errorf("the half-years' table:\n%s", timeliness)
	}

	// Panama reads the same in Spanish.
	must(t, s.as("pa-observer").get("/dialogues/"+app.DemoDialogue), 200, `lang="es"`, "Panorama del diálogo", "Primera cohorte",
		"Aduanas &lt;b&gt;&amp;&#34;juntas&#34;", "Hitos en el tiempo", "Ver los datos en una tabla", "Completados a tiempo")
	// An admin sees any dialogue; someone of a party outside it, none.
	must(t, s.as("admin").get("/dialogues/"+app.DemoDialogue), 200, "First cohort")
	if _, err := s.st.CreateParty(ctx, store.Party{Code: "CR", Name: "Costa Rica", TimeZone: "America/Costa_Rica", Language: "es"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.CreatePrincipal(ctx, store.Principal{ID: "cr-observer", Party: "CR", Roles: []string{"observer"}, Name: "CR", Language: "es"}); err != nil {
		t.Fatal(err)
	}
	cr := s.as("cr-observer")
	must(t, cr.get("/dialogues/"+app.DemoDialogue), 404)
	must(t, cr.get("/overview"), 200, "Su parte no participa todavía en ningún diálogo.")
	must(t, us.get("/dialogues/no-such-dialogue"), 404)
}

// section is the HTML of the <section> whose heading has id.
func section(t *testing.T, body, id string) string {
	t.Helper()
	start := strings.Index(body, `aria-labelledby="`+id+`"`)
	if start < 0 {
		t.Fatalf("no section %s", id)
	}
	end := strings.Index(body[start:], "</section>")
	return body[start : start+end]
}

var cell = regexp.MustCompile(`(?s)<t[hd][^>]*>(.*?)</t[hd]>`)
var tag = regexp.MustCompile(`<[^>]+>`)

// rowMatches reports whether a table row of html has exactly the cells'
// texts, in order.
func rowMatches(html string, want []string) bool {
	for _, row := range strings.Split(html, "<tr") {
		var got []string
		for _, m := range cell.FindAllStringSubmatch(row, -1) {
			got = append(got, strings.TrimSpace(tag.ReplaceAllString(m[1], "")))
		}
		if strings.Join(got, "|") == strings.Join(want, "|") {
			return true
		}
	}
	return false
}

func enCatalog(t *testing.T) catalog {
	t.Helper()
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	return cats["en"]
}

// The overview is served only to those signed in.
func TestOverviewNeedsSignIn(t *testing.T) {
	s := newSite(t)
	anon := &browser{t: t, s: s, http: &http.Client{}}
	if r := anon.get("/dialogues/" + app.DemoDialogue); !strings.Contains(r.url, "/signin?next=") {
		t.Fatalf("not sent to sign in: %s", r.url)
	}
}

// The periods are the current calendar half-year and the three before,
// from midnight in the viewer's zone.
func TestHalfYears(t *testing.T) {
	loc, err := time.LoadLocation("America/Panama")
	if err != nil {
		t.Fatal(err)
	}
	cat := enCatalog(t)
	for _, c := range []struct {
		now   time.Time
		first string
		names []string
	}{
		{time.Date(2027, 3, 15, 12, 0, 0, 0, loc), "2025-07-01", []string{"Jul–Dec 2025", "Jan–Jun 2026", "Jul–Dec 2026", "Jan–Jun 2027"}},
		// 1 July 03:00 UTC is still 30 June in Panama.
		{time.Date(2027, 7, 1, 3, 0, 0, 0, time.UTC), "2025-07-01", []string{"Jul–Dec 2025", "Jan–Jun 2026", "Jul–Dec 2026", "Jan–Jun 2027"}},
		{time.Date(2027, 7, 1, 5, 0, 0, 0, time.UTC), "2026-01-01", []string{"Jan–Jun 2026", "Jul–Dec 2026", "Jan–Jun 2027", "Jul–Dec 2027"}},
	} {
		b := halfYears(c.now, loc, overviewPeriods)
		if len(b) != overviewPeriods+1 || b[0].Format("2006-01-02") != c.first || b[0].Location() != loc || b[0].Hour() != 0 {
			t.Errorf("%v: bounds %v", c.now, b)
			continue
		}
		if !c.now.Before(b[len(b)-1]) || c.now.Before(b[len(b)-2]) {
			t.Errorf("%v is not in the last period %v–%v", c.now, b[len(b)-2], b[len(b)-1])
		}
		for i, want := range c.names {
			if got := halfYearName(cat, b[i]); got != want {
				t.Errorf("%v: period %d is %q, want %q", c.now, i, got, want)
			}
		}
	}
}
