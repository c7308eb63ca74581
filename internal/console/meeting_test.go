package console

import (
	"context"
	"fmt"
	"html"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"pacto/internal/api"
	"pacto/internal/app"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
	"pacto/workflows"
)

// meetingSite is a site over a fresh backend whose worker makes the
// proposals of adopted minutes through the API, with an activity of the
// demo dialogue running (a milestone of each party) and two meetings
// under way: meeting 1, held a minute ago, its report frozen, and
// meeting 2, in two hours, its draft out and statements open.
type meetingSite struct {
	*site
	srv      *api.Server
	activity string
}

func newMeetingSite(t *testing.T) *meetingSite {
	t.Helper()
	ctx := context.Background()
	st, tc, _ := newBackend(t, false)
	srv := api.New(st, tc, api.Options{Logger: quietLogger()})
	w := app.NewWorker(tc, st, app.Delivery{Logger: quietLogger(), Proposer: srv})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	con, err := New(Options{API: srv, Store: st, Log: quietLogger(), DevSignIn: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount(con.Handler())
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	s := &meetingSite{site: &site{t: t, base: hs.URL, st: st}, srv: srv}

	act, err := srv.Propose(ctx, principal(t, st, "pa-coordinator"), api.ProposeRequest{Dialogue: app.DemoDialogue, Parties: []string{"PA", "US"},
		Title: both("Capacitación aduanera", "Customs training"),
		Milestones: []api.MilestoneInput{
			{ID: "m1", Title: both("Primera cohorte", "First cohort"), Owner: "PA", Due: "P90D"},
			{ID: "m2", Title: both("Manual publicado", "Handbook published"), Owner: "US", Due: "P400D"},
		}}, "")
	if err != nil {
		t.Fatal(err)
	}
	s.activity = act.ID
	for _, who := range []string{"pa-approver", "us-approver"} {
		if _, err := srv.Decide(ctx, principal(t, st, who), act.ID, api.DecisionRequest{Version: 1, Decision: "approve"}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the activity to be active", func() bool {
		a, err := st.Activity(ctx, act.ID)
		return err == nil && a.Status == lifecycle.StatusActive
	})
	panama, err := time.LoadLocation("America/Panama")
	if err != nil {
		t.Fatal(err)
	}
	local := func(d time.Duration) string { return time.Now().In(panama).Add(d).Format("2006-01-02T15:04") }
	// Both meetings ahead, their drafts due a day before: setting the
	// calendar starts both runs at once, and each drafts its report.
	cal := api.Calendar{Zone: "America/Panama", Hosts: []string{"PA", "US"}, Dates: []string{local(time.Hour), local(2 * time.Hour)},
		DraftBefore: "P1D", StatementsBefore: "PT1M"}
	admin := principal(t, st, "admin")
	if _, err := srv.SetDialogueCalendar(ctx, admin, app.DemoDialogue, cal); err != nil {
		t.Fatal(err)
	}
	// A phase is the store's once the run has recorded it, and the
	// run's own a moment later, when the recording activity's result is
	// back: the updates answer by the run's. Both, then.
	phase := func(number int, want string) {
		t.Helper()
		waitFor(t, fmt.Sprintf("meeting %d to be %s", number, want), func() bool {
			m, err := st.Meeting(ctx, app.DemoDialogue, number)
			if err != nil || m.Phase != want {
				return false
			}
			v, err := tc.QueryWorkflow(ctx, m.WorkflowID, "", workflows.QueryReviewState)
			var run workflows.ReviewState
			return err == nil && v.Get(&run) == nil && run.Phase == want
		})
	}
	phase(1, store.MeetingDraft)
	phase(2, store.MeetingDraft)
	// Meeting 1 then moves to a minute ago: its run follows the calendar
	// and, the meeting's time past, freezes its report. (The calendar
	// takes a past time; it is how a meeting held is had without waiting
	// for one.)
	cal.Dates[0] = local(-time.Minute)
	if _, err := srv.SetDialogueCalendar(ctx, admin, app.DemoDialogue, cal); err != nil {
		t.Fatal(err)
	}
	phase(1, store.MeetingFrozen)
	return s
}

// waitFor polls ok for up to a minute.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func meetingURL(n int) string { return fmt.Sprintf("/dialogues/%s/meetings/%d", app.DemoDialogue, n) }

// lacks fails if the page shows any of unwanted.
func lacks(t *testing.T, r reply, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(r.body, u) {
			t.Fatalf("%s: the page shows %q\n%s", r.url, u, r.body)
		}
	}
}

var sha256Hex = regexp.MustCompile(`<code class="digest">[0-9a-f]{64}</code>`)

// meetingMinutes is the minutes of the demo dialogue's meeting number.
func meetingMinutes(t *testing.T, st *store.Store, number int) lifecycle.Minutes {
	t.Helper()
	m, err := st.Meeting(context.Background(), app.DemoDialogue, number)
	if err != nil || m.Minutes == nil {
		t.Fatalf("the minutes of meeting %d: %v", number, err)
	}
	return *m.Minutes
}

var (
	formTag    = regexp.MustCompile(`(?s)<form [^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	inputTag   = regexp.MustCompile(`<input [^>]*name="([^"]*)"[^>]*value="([^"]*)"`)
	textareaEl = regexp.MustCompile(`(?s)<textarea [^>]*name="([^"]*)"[^>]*>(.*?)</textarea>`)
	selectEl   = regexp.MustCompile(`(?s)<select [^>]*name="([^"]*)"[^>]*>(.*?)</select>`)
	selected   = regexp.MustCompile(`<option value="([^"]*)" selected>`)
)

// formValues is what the page's form that posts to action sends as it
// is filled: its inputs, text areas and selects.
func formValues(t *testing.T, body, action string) url.Values {
	t.Helper()
	for _, f := range formTag.FindAllStringSubmatch(body, -1) {
		if f[1] != action {
			continue
		}
		out := url.Values{}
		for _, m := range inputTag.FindAllStringSubmatch(f[2], -1) {
			out.Set(m[1], html.UnescapeString(m[2]))
		}
		for _, m := range textareaEl.FindAllStringSubmatch(f[2], -1) {
			out.Set(m[1], html.UnescapeString(m[2]))
		}
		for _, m := range selectEl.FindAllStringSubmatch(f[2], -1) {
			if sel := selected.FindStringSubmatch(m[2]); sel != nil {
				out.Set(m[1], sel[1])
			}
		}
		return out
	}
	t.Fatalf("the page has no form posting to %s", action)
	return nil
}

// A meeting whose statements are open, in both languages: its times in
// each party's zone, its agenda and report links; the coordinator of a
// party that owes a statement makes it through the page's form (refused
// first, beside the field), the other party reads it and its own
// statement marked missing, and an observer's forged form is refused.
func TestMeetingStatements(t *testing.T) {
	s := newMeetingSite(t)
	pa := s.as("pa-coordinator")
	overview := pa.get("/dialogues/" + app.DemoDialogue)
	must(t, overview, 200, `href="`+meetingURL(1)+`"`, `href="`+meetingURL(2)+`"`)

	page := pa.get(meetingURL(2))
	must(t, page, 200, `lang="es"`, "<h1>Reunión 2</h1>", "Informes de las partes abiertos",
		"Los informes de las partes se reciben hasta el", "(America/Panama)", "United States: ", "(America/New_York)",
		"Parte anfitriona", `href="/activities/`+s.activity+`">Capacitación aduanera</a>`,
		`href="`+meetingURL(2)+`/report?format=json"`, `href="`+meetingURL(2)+`/report?format=pdf"`, `href="`+meetingURL(2)+`/report?format=csv"`,
		`href="`+meetingURL(1)+`">Reunión 1</a>`, "Reunión anterior",
		`action="`+meetingURL(2)+`/statements"`, `name="activity" value="`+s.activity+`"`, `maxlength="4000"`,
		"Todavía no se ha presentado ningún informe.", "Informes pendientes", "Panamá no ha presentado informe sobre")
	lacks(t, page, "Customs training", `action="`+meetingURL(2)+`/minutes"`, "SHA-256")

	// Refused: an empty statement, and one over 4,000 bytes, each shown
	// in the summary and beside the text, which is kept.
	must(t, pa.post(meetingURL(2)+"/statements", url.Values{"activity": {s.activity}, "body": {"  "}}), 422,
		"Hay un problema", `href="#f-body"`, `id="f-body-error"`, "a statement has a text of 1 to 4000 bytes")
	long := strings.Repeat("á", 2001)
	refused := pa.post(meetingURL(2)+"/statements", url.Values{"activity": {s.activity}, "body": {long}})
	must(t, refused, 422, `id="f-body"`, long, "1 to 4000 bytes")
	if made, _ := s.st.MeetingStatements(context.Background(), app.DemoDialogue, 2); len(made) != 0 {
		t.Fatalf("refused statements were kept: %+v", made)
	}

	done := pa.post(meetingURL(2)+"/statements", url.Values{"activity": {s.activity}, "body": {"La primera cohorte avanza <según> lo previsto."}})
	must(t, done, 200, "Se registró el informe de su parte.", "La primera cohorte avanza &lt;según&gt; lo previsto.", "pa-coordinator",
		"Informes que su parte ya presentó sobre ella: 1.")
	lacks(t, done, "Panamá no ha presentado informe sobre")

	us := s.as("us-observer")
	en := us.get(meetingURL(2))
	must(t, en, 200, `lang="en"`, "<h1>Meeting 2</h1>", "Statements open", "Statements close",
		`>Customs training</a>`, "La primera cohorte avanza", "Panamá", "Statements still owed", "Missing", "United States has made no statement on")
	lacks(t, en, `action="`+meetingURL(2)+`/statements"`, "Capacitación aduanera")
	// An observer's forged statement gets the API's refusal.
	must(t, us.post(meetingURL(2)+"/statements", url.Values{"activity": {s.activity}, "body": {"Forged"}}), 403)
	// So does a coordinator's on a meeting whose statements have closed.
	must(t, pa.post(meetingURL(1)+"/statements", url.Values{"activity": {s.activity}, "body": {"Tarde"}}), 409, "Hay un problema")
	if made, _ := s.st.MeetingStatements(context.Background(), app.DemoDialogue, 2); len(made) != 1 {
		t.Fatalf("statements kept: %+v", made)
	}
	must(t, pa.get(meetingURL(99)), 404)
}

// The minutes of a held meeting through the page: a refused form keeps
// what was typed and points at the field, the coordinator records them
// with a new activity agreed in principle, Panama signs, a change resets
// the signature, a signature of the old version is refused, both parties
// sign the new one, and the adopted minutes link the proposal they made.
func TestMeetingMinutes(t *testing.T) {
	s := newMeetingSite(t)
	pa := s.as("pa-coordinator")
	page := pa.get(meetingURL(1))
	must(t, page, 200, `lang="es"`, "Informe congelado", "Una persona coordinadora registra el acta",
		"SHA-256 del informe congelado", "Todavía no se ha registrado el acta.", "Registrar el acta",
		`action="`+meetingURL(1)+`/minutes"`, "se anulan todas las firmas ya dadas", `name="fu2_owner"`, `name="na1_due_in"`)
	if !sha256Hex.MatchString(page.body) {
		t.Fatal("the frozen report's digest is not shown")
	}
	lacks(t, page, `action="`+meetingURL(1)+`/statements"`, "Reunión anterior")
	// An approver has nothing to sign yet.
	paa := s.as("pa-approver")
	lacks(t, paa.get(meetingURL(1)), `/minutes/sign"`, `action="`+meetingURL(1)+`/minutes"`)

	minutes := url.Values{
		"decisions": {"Ampliar el programa a Colón.\n\n  Revisar el avance en la próxima reunión.  "},
		"fu0_text":  {""}, "fu0_owner": {"PA"}, "fu0_due": {""},
		"fu1_text": {"Enviar el manual"}, "fu1_owner": {"US"}, "fu1_due": {"2031-06-30"},
		"fu2_text": {""}, "fu2_owner": {"PA"}, "fu2_due": {""},
		"na0_title": {"Intercambio de datos"}, "na0_summary": {"Compartir datos de carga"}, "na0_milestone": {"Acuerdo firmado"},
		"na0_owner": {"US"}, "na0_due_date": {""}, "na0_due_in": {"6"}, "na0_due_unit": {"months"},
		"na1_title": {""}, "na1_summary": {""}, "na1_milestone": {""}, "na1_owner": {"PA"}, "na1_due_date": {""}, "na1_due_in": {""}, "na1_due_unit": {"months"},
	}
	// A follow-up without its date: refused beside the row's date (the
	// second row, the first being left blank), nothing typed lost.
	noDate := cloneValues(minutes)
	noDate.Set("fu1_due", "")
	must(t, pa.post(meetingURL(1)+"/minutes", noDate), 422, "Hay un problema", `href="#f-follow_ups_1_due"`, `id="f-follow_ups_1_due-error"`,
		"due must be a date", `value="Enviar el manual"`, `value="Intercambio de datos"`, "Ampliar el programa a Colón.")
	// A new activity without its milestone's title: the proposal's
	// refusal, beside that row's milestone.
	noMilestone := cloneValues(minutes)
	noMilestone.Set("na0_milestone", "")
	must(t, pa.post(meetingURL(1)+"/minutes", noMilestone), 422, `href="#f-new_activities_0_milestone"`, `id="f-new_activities_0_milestone-error"`)

	recorded := pa.post(meetingURL(1)+"/minutes", minutes)
	must(t, recorded, 200, "Se registró el acta.", "Versión 1", "registrada por pa-coordinator (Panamá)",
		"<li>Ampliar el programa a Colón.</li>", "<li>Revisar el avance en la próxima reunión.</li>",
		"Enviar el manual", `<time datetime="2031-06-30">6/30/2031</time>`, "Intercambio de datos", "Compartir datos de carga",
		"Acuerdo firmado", "6 meses después de la activación", "Firmas de la versión 1", "Sin firmar todavía", "Modificar el acta", "Registrar la versión 2")
	if strings.Count(section(t, recorded.body, "minutes"), "Sin firmar todavía") != 2 {
		t.Fatal("a party is shown as having signed minutes nobody signed")
	}

	// Panama's approver signs version 1.
	must(t, paa.get(meetingURL(1)), 200, "Firmar la versión 1 por Panamá", `name="version" value="1"`)
	signed := paa.post(meetingURL(1)+"/minutes/sign", url.Values{"version": {"1"}})
	must(t, signed, 200, "Usted firmó el acta por su parte.", "Firmada", "pa-approver")
	lacks(t, signed, "Firmar la versión 1 por Panamá")

	// The coordinator changes the minutes: version 2, no signature left.
	changed := cloneValues(minutes)
	changed.Set("decisions", "Ampliar el programa a Colón y a David.")
	must(t, pa.post(meetingURL(1)+"/minutes", changed), 200, "Versión 2", "Ampliar el programa a Colón y a David.", "Firmas de la versión 2")
	if body := paa.get(meetingURL(1)).body; !strings.Contains(body, "Firmar la versión 2 por Panamá") || strings.Count(section(t, body, "minutes"), "Sin firmar todavía") != 2 {
		t.Fatalf("changing the minutes kept a signature:\n%s", section(t, body, "minutes"))
	}

	// The United States' coordinator adds a decision in English through
	// the form as the page fills it: what it leaves unchanged keeps its
	// Spanish texts, and the agreed proposal stays as it was.
	usc := s.as("us-coordinator")
	form := formValues(t, usc.get(meetingURL(1)).body, meetingURL(1)+"/minutes")
	if form.Get("decisions") != "Ampliar el programa a Colón y a David." || form.Get("fu0_text") != "Enviar el manual" || form.Get("fu0_owner") != "US" ||
		form.Get("fu0_due") != "2031-06-30" || form.Get("na0_title") != "Intercambio de datos" || form.Get("na0_due_in") != "6" || form.Get("na0_owner") != "US" {
		t.Fatalf("the minutes form is not filled with the minutes: %v", form)
	}
	v2 := meetingMinutes(t, s.st, 1)
	form.Set("decisions", form.Get("decisions")+"\nPublish the handbook in both languages.")
	must(t, usc.post(meetingURL(1)+"/minutes", form), 200, "The minutes are recorded.", "Version 3", "Publish the handbook in both languages.")
	v3 := meetingMinutes(t, s.st, 1)
	if len(v3.Decisions) != 2 || fmt.Sprint(v3.Decisions[0]) != fmt.Sprint(lifecycle.Text{"es": "Ampliar el programa a Colón y a David."}) ||
		fmt.Sprint(v3.Decisions[1]) != fmt.Sprint(lifecycle.Text{"en": "Publish the handbook in both languages."}) ||
		fmt.Sprint(v3.FollowUps[0].Text) != fmt.Sprint(lifecycle.Text{"es": "Enviar el manual"}) ||
		string(v3.NewActivities[0].Proposal) != string(v2.NewActivities[0].Proposal) {
		t.Fatalf("version 3 of the minutes: %+v\nversion 2: %+v", v3, v2)
	}

	// The United States, reading version 1, is refused: it is stale.
	usa := s.as("us-approver")
	must(t, usa.post(meetingURL(1)+"/minutes/sign", url.Values{"version": {"1"}}), 409, `lang="en"`, "There is a problem",
		"version 1 of the minutes is not the current one", "Sign version 3 for United States")
	en := usa.get(meetingURL(1))
	must(t, en, 200, "Report frozen", "Signatures of version 3", "Not yet signed", "Ampliar el programa a Colón y a David.", "Sign version 3 for United States")
	must(t, usa.post(meetingURL(1)+"/minutes/sign", url.Values{"version": {"3"}}), 200, "You signed the minutes for your party.")
	// The approvers only sign: a forged minutes form is refused.
	must(t, usa.post(meetingURL(1)+"/minutes", minutes), 403)
	must(t, paa.post(meetingURL(1)+"/minutes/sign", url.Values{"version": {"3"}}), 200)

	// Adopted: the run makes the agreed proposal and closes the meeting.
	var adopted reply
	waitFor(t, "the adopted minutes' proposal", func() bool {
		adopted = pa.get(meetingURL(1))
		return strings.Contains(adopted.body, "Acta adoptada") && activityPath.MatchString(section(t, adopted.body, "minutes"))
	})
	must(t, adopted, 200, "Todas las partes firmaron el acta; se adoptó el", "La versión 3 del acta se adoptó el", "Propuestas presentadas")
	lacks(t, adopted, `action="`+meetingURL(1)+`/minutes"`, "/minutes/sign")
	proposed := activityPath.FindStringSubmatch(section(t, adopted.body, "minutes"))[1]
	must(t, usa.get("/activities/"+proposed), 200, "Intercambio de datos", "Proposed")
	// Adopted minutes take no change.
	must(t, pa.post(meetingURL(1)+"/minutes", minutes), 409, "Hay un problema")
	must(t, s.as("us-observer").get(meetingURL(1)), 200, "Minutes adopted", "Version 3 of the minutes was adopted on", "Proposals made")
}
