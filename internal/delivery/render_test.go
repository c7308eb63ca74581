package delivery

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/notify"
	"pacto/internal/store"
)

// allEventTypes lists every lifecycle event, notified or not, an
// activity's and a meeting's, so the test can hold Render to exactly what
// notify.AudienceOf and notify.MeetingAudienceOf tell someone about.
var allEventTypes = []lifecycle.EventType{
	lifecycle.EventProposed, lifecycle.EventAmended, lifecycle.EventApproved,
	lifecycle.EventChangesRequested, lifecycle.EventDeclined, lifecycle.EventActivated,
	lifecycle.EventApprovalReminder, lifecycle.EventExpired, lifecycle.EventProgressReported,
	lifecycle.EventMilestoneCompleted, lifecycle.EventCompleted, lifecycle.EventExtensionRequested,
	lifecycle.EventExtensionDecided, lifecycle.EventExtensionApproved, lifecycle.EventExtensionDeclined,
	lifecycle.EventMilestoneDueSoon, lifecycle.EventMilestoneOverdue, lifecycle.EventMilestoneEscalated,
	lifecycle.EventSuspended, lifecycle.EventResumed, lifecycle.EventCancelled,
	lifecycle.EventLanguagesAssigned, lifecycle.EventWorkflowLost, lifecycle.EventRestarted,
	lifecycle.EventMeetingDrafted, lifecycle.EventStatementMade, lifecycle.EventStatementReminder,
	lifecycle.EventMeetingMoved, lifecycle.EventMeetingCancelled, lifecycle.EventReportFrozen,
	lifecycle.EventMinutesRecorded, lifecycle.EventMinutesSigned, lifecycle.EventMinutesAdopted,
}

// due is 17:00 in New York on a Monday after the 2027 US DST change, when
// New York is UTC-4 and Panama UTC-5, so the two renderings differ by an
// hour and neither is ambiguous.
var due = time.Date(2027, 3, 15, 21, 0, 0, 0, time.UTC)

var (
	usRecipient = Recipient{ID: "us-coordinator", Name: "Jane Doe", Email: "jane@example.gov", Language: "en", TimeZone: "America/New_York"}
	paRecipient = Recipient{ID: "pa-coordinator", Name: "Ana Pérez", Email: "ana@example.gob.pa", Language: "es", TimeZone: "America/Panama"}
)

// sampleTitle is the title of sample's activity, recorded before texts
// had languages.
const sampleTitle = "Joint customs training"

// sample is a notification of type t with every field a template may use:
// for a meeting's event, meetingSample's.
func sample(t lifecycle.EventType) store.NotificationContent {
	if IsMeetingNotice(store.NotificationContent{Event: t}) {
		return meetingSample(t)
	}
	d := due
	return store.NotificationContent{
		Activity: "act-01J9Z", Title: lifecycle.Plain(sampleTitle), Event: t, Seq: 7,
		At: due.Add(-2 * time.Hour), Actor: "pa-approver", Party: "PA", Version: 2,
		Milestone: "m1", Extension: "x1", Due: &d, Notice: 2,
		Parties: []lifecycle.PartyCode{"PA", "US"}, Comment: "Budget not yet confirmed",
	}
}

func TestRenderCoversExactlyTheNotifiedEvents(t *testing.T) {
	st := lifecycle.State{Parties: []lifecycle.Party{{Code: "PA"}, {Code: "US"}}}
	for _, et := range allEventTypes {
		e := lifecycle.Event{Type: et, Party: "PA", Parties: []lifecycle.PartyCode{"US"}}
		_, ofActivity := notify.AudienceOf(st, e)
		_, ofMeeting := notify.MeetingAudienceOf([]lifecycle.PartyCode{"PA", "US"}, e)
		notified := ofActivity || ofMeeting
		if ofMeeting != (notified && IsMeetingNotice(store.NotificationContent{Event: et})) {
			t.Errorf("%s: a meeting's event = %v, but MeetingAudienceOf says %v", et, IsMeetingNotice(store.NotificationContent{Event: et}), ofMeeting)
		}
		if got := Supported(et); got != notified {
			t.Errorf("Supported(%s) = %v, but notify.AudienceOf says notified = %v", et, got, notified)
		}
		_, err := Render(sample(et), usRecipient, "")
		if notified && err != nil {
			t.Errorf("Render(%s): %v", et, err)
		}
		if !notified && (!errors.Is(err, ErrUnsupportedEvent) || !Permanent(err)) {
			t.Errorf("Render(%s) = %v, want a permanent ErrUnsupportedEvent", et, err)
		}
	}
	if _, err := Render(sample("no_such_event"), usRecipient, ""); !errors.Is(err, ErrUnsupportedEvent) {
		t.Errorf("unknown event: got %v, want ErrUnsupportedEvent", err)
	}
}

func TestRenderEveryEventInBothLanguages(t *testing.T) {
	for _, et := range Events() {
		n := sample(et)
		en, err := Render(n, usRecipient, "https://pacto.example.org")
		if err != nil {
			t.Fatalf("%s en: %v", et, err)
		}
		es, err := Render(n, paRecipient, "https://pacto.example.org")
		if err != nil {
			t.Fatalf("%s es: %v", et, err)
		}
		title := n.Title.In("en")
		for lang, m := range map[string]Message{"en": en, "es": es} {
			if m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") {
				t.Errorf("%s %s: bad subject %q", et, lang, m.Subject)
			}
			if !strings.Contains(m.Subject, title) {
				t.Errorf("%s %s: subject %q does not name the activity or dialogue", et, lang, m.Subject)
			}
			if !strings.Contains(m.Text, title) || !strings.Contains(m.HTML, title) {
				t.Errorf("%s %s: body does not name the activity or dialogue", et, lang)
			}
			if strings.Contains(m.Text, "<no value>") || strings.Contains(m.HTML, "<no value>") {
				t.Errorf("%s %s: template printed a missing value", et, lang)
			}
			if !strings.Contains(m.HTML, `<html lang="`+lang+`">`) {
				t.Errorf("%s %s: HTML not marked as %s", et, lang, lang)
			}
		}
		if en.Subject == es.Subject {
			t.Errorf("%s: same subject in both languages: %q", et, en.Subject)
		}
		if en.Text == es.Text {
			t.Errorf("%s: same text in both languages", et)
		}
		// Every time is in the reader's zone, with the zone named.
		if strings.Contains(en.Text, "America/Panama") || strings.Contains(es.Text, "America/New_York") {
			t.Errorf("%s: a time was rendered in the other party's zone", et)
		}
		if !strings.Contains(en.Text, "(America/New_York)") || !strings.Contains(es.Text, "(America/Panama)") {
			t.Errorf("%s: times do not name the reader's zone:\n%s\n%s", et, en.Text, es.Text)
		}
	}
}

func TestRenderMinimalNotifications(t *testing.T) {
	// The clock's notices have no actor, and older rows may lack fields:
	// every template must still produce a sensible message.
	for _, et := range Events() {
		n := store.NotificationContent{Activity: "a1", Title: lifecycle.Plain("T"), Event: et, Actor: lifecycle.ClockActor}
		for _, r := range []Recipient{usRecipient, paRecipient, {}} {
			m, err := Render(n, r, "")
			if err != nil {
				t.Fatalf("%s: %v", et, err)
			}
			if m.Subject == "" || strings.Contains(m.Text, "clock") {
				t.Errorf("%s: subject %q, text %q", et, m.Subject, m.Text)
			}
		}
	}
}

func TestRenderDueTimesInRecipientZone(t *testing.T) {
	n := sample(lifecycle.EventMilestoneOverdue)
	en, err := Render(n, usRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	es, err := Render(n, paRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	if en.Subject != "Milestone overdue: Joint customs training" {
		t.Errorf("en subject = %q", en.Subject)
	}
	if want := "Monday, March 15, 2027, 5:00 PM (America/New_York)"; !strings.Contains(en.Text, want) || !strings.Contains(en.HTML, want) {
		t.Errorf("en body lacks %q:\n%s", want, en.Text)
	}
	if want := "lunes, 15 de marzo de 2027, 4:00 p. m. (America/Panama)"; !strings.Contains(es.Text, want) || !strings.Contains(es.HTML, want) {
		t.Errorf("es body lacks %q:\n%s", want, es.Text)
	}
	if !strings.Contains(en.Text, "overdue reminder no. 2") || !strings.Contains(es.Text, "aviso de vencimiento n.º 2") {
		t.Errorf("notice number missing:\n%s\n%s", en.Text, es.Text)
	}

	n.Title = lifecycle.Plain("Capacitación aduanera conjunta")
	es, err = Render(n, paRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	if es.Subject != "Hito vencido: Capacitación aduanera conjunta" {
		t.Errorf("es subject = %q", es.Subject)
	}
}

func TestRenderLanguageAndZoneFallbacks(t *testing.T) {
	n := sample(lifecycle.EventMilestoneDueSoon)
	for _, c := range []struct {
		lang, zone, wantSubject, wantTime string
	}{
		{"es-PA", "America/Panama", "Hito próximo a vencer", "4:00 p. m. (America/Panama)"},
		{"ES_419", "America/Panama", "Hito próximo a vencer", "4:00 p. m. (America/Panama)"},
		{"fr", "America/New_York", "Milestone due soon", "5:00 PM (America/New_York)"},
		{"", "", "Milestone due soon", "9:00 PM (UTC)"},
		{"en", "Not/AZone", "Milestone due soon", "9:00 PM (UTC)"},
		// The machine's own zone is not a party's zone: mails name the
		// same zone on every worker, from the core's zone database.
		{"en", "Local", "Milestone due soon", "9:00 PM (UTC)"},
	} {
		m, err := Render(n, Recipient{Language: c.lang, TimeZone: c.zone}, "")
		if err != nil {
			t.Fatalf("%q/%q: %v", c.lang, c.zone, err)
		}
		if !strings.HasPrefix(m.Subject, c.wantSubject) || !strings.Contains(m.Text, c.wantTime) {
			t.Errorf("%q/%q: subject %q, text:\n%s", c.lang, c.zone, m.Subject, m.Text)
		}
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	n := sample(lifecycle.EventDeclined)
	title := `<script>alert("x")</script> & co`
	n.Title = lifecycle.Plain(title)
	n.Comment = `<img src=x onerror=alert(1)>`
	for _, r := range []Recipient{usRecipient, paRecipient} {
		m, err := Render(n, r, "https://pacto.example.org")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "<img") {
			t.Errorf("%s: HTML not escaped:\n%s", r.Language, m.HTML)
		}
		if !strings.Contains(m.HTML, "&lt;script&gt;") {
			t.Errorf("%s: escaped title missing:\n%s", r.Language, m.HTML)
		}
		// The plain text is not HTML and must keep the title as written.
		if !strings.Contains(m.Text, title) || !strings.Contains(m.Subject, title) {
			t.Errorf("%s: text or subject altered the title: %q", r.Language, m.Subject)
		}
	}
}

func TestRenderLinks(t *testing.T) {
	n := sample(lifecycle.EventActivated)
	m, err := Render(n, usRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Text, "/activities/") || strings.Contains(m.HTML, "href") {
		t.Errorf("link without a baseURL:\n%s\n%s", m.Text, m.HTML)
	}

	m, err = Render(n, paRecipient, "https://pacto.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	want := "https://pacto.example.org/activities/act-01J9Z"
	if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, `href="`+want+`"`) {
		t.Errorf("link %s missing:\n%s\n%s", want, m.Text, m.HTML)
	}

	// An id that is not a plain path segment is escaped, in the URL and
	// again for the HTML attribute.
	n.Activity = `a/../b?x="y"&z`
	m, err = Render(n, usRecipient, "https://pacto.example.org/base")
	if err != nil {
		t.Fatal(err)
	}
	want = "https://pacto.example.org/base/activities/a%2F..%2Fb%3Fx=%22y%22&z"
	if !strings.Contains(m.Text, want) {
		t.Errorf("text link: want %s in\n%s", want, m.Text)
	}
	if !strings.Contains(m.HTML, `href="https://pacto.example.org/base/activities/a%2F..%2Fb%3Fx=%22y%22&amp;z"`) {
		t.Errorf("HTML link not escaped:\n%s", m.HTML)
	}

	n.Activity = ".."
	if m, err = Render(n, usRecipient, "https://pacto.example.org"); err != nil || !strings.Contains(m.Text, "/activities/%2E%2E") {
		t.Errorf("dot-dot id: %v\n%s", err, m.Text)
	}

	for _, bad := range []string{"javascript:alert(1)", "pacto.example.org", "https://pacto.example.org/?q=1", "ht tp://x"} {
		if _, err := Render(n, usRecipient, bad); !errors.Is(err, ErrInvalidInput) || !Permanent(err) {
			t.Errorf("baseURL %q: got %v, want a permanent ErrInvalidInput", bad, err)
		}
	}
}

// FuzzRender holds Render to its promise of no panics on bad input: any
// event name, title, language, zone, base URL or activity id either
// renders or returns an error.
func FuzzRender(f *testing.F) {
	f.Add("milestone_overdue", "Joint customs training", "es", "America/Panama", "https://pacto.example.org", "act-1", "pa-approver", 2)
	f.Add("proposed", "<script>x</script>\r\nBcc: evil@example.org", "en-US", "../../etc/passwd", "javascript:alert(1)", "../..", "", -1)
	f.Add("nope", "\xff\xfe", "", "", "http://[::1", "", "clock", 0)
	f.Fuzz(func(t *testing.T, event, title, lang, zone, base, id, actor string, notice int) {
		d := due
		n := store.NotificationContent{Activity: id, Title: lifecycle.Plain(title), Event: lifecycle.EventType(event), Actor: actor, Notice: notice, Due: &d, At: due}
		m, err := Render(n, Recipient{Language: lang, TimeZone: zone}, base)
		if err != nil {
			return
		}
		if strings.ContainsAny(m.Subject, "\r\n") {
			t.Errorf("subject spans lines: %q", m.Subject)
		}
	})
}

// Both readers' locales use the 12-hour clock (es-PA and en-US in CLDR)
// and the US writes the month before the day.
func TestFormatTimeFollowsEachLocale(t *testing.T) {
	pa, ny := location("America/Panama"), location("America/New_York")
	for _, c := range []struct {
		at   time.Time
		loc  *time.Location
		lang string
		want string
	}{
		{time.Date(2026, 11, 30, 20, 56, 0, 0, pa), pa, "es", "lunes, 30 de noviembre de 2026, 8:56 p. m. (America/Panama)"},
		{time.Date(2026, 11, 30, 20, 56, 0, 0, ny), ny, "en", "Monday, November 30, 2026, 8:56 PM (America/New_York)"},
		{time.Date(2027, 1, 1, 0, 5, 0, 0, pa), pa, "es", "viernes, 1 de enero de 2027, 12:05 a. m. (America/Panama)"},
		{time.Date(2027, 1, 1, 12, 0, 0, 0, ny), ny, "en", "Friday, January 1, 2027, 12:00 PM (America/New_York)"},
		{time.Date(2027, 7, 4, 9, 30, 0, 0, ny), pa, "es", "domingo, 4 de julio de 2027, 8:30 a. m. (America/Panama)"},
	} {
		if got := formatTime(c.at, c.loc, c.lang); got != c.want {
			t.Errorf("formatTime(%s, %s) = %q, want %q", c.at, c.lang, got, c.want)
		}
	}
}

// People, parties and milestones are named as people read them, not by
// their ids; content recorded before names were kept falls back to ids.
func TestRenderNamesPeoplePartiesAndMilestones(t *testing.T) {
	n := sample(lifecycle.EventMilestoneCompleted)
	n.ActorName, n.PartyName, n.MilestoneTitle = "Coordinadora de Panamá", "Panamá", lifecycle.Plain("Primera cohorte formada")
	n.PartyNames = []string{"Panamá", "Estados Unidos"}
	es, err := Render(n, paRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Coordinadora de Panamá (Panamá) ha completado el hito «Primera cohorte formada»", "Panamá, Estados Unidos"} {
		if !strings.Contains(es.Text, want) || !strings.Contains(es.HTML, want) {
			t.Errorf("Spanish mail lacks %q:\n%s", want, es.Text)
		}
	}
	if strings.Contains(es.Text, "pa-approver") || strings.Contains(es.Text, "PA (") {
		t.Errorf("Spanish mail names people by id:\n%s", es.Text)
	}
	n.Event = lifecycle.EventExtensionRequested
	en, err := Render(n, usRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Coordinadora de Panamá (Panamá) asks to move the due time of the milestone “Primera cohorte formada”"; !strings.Contains(en.Text, want) {
		t.Errorf("English mail lacks %q:\n%s", want, en.Text)
	}
	old, err := Render(sample(lifecycle.EventMilestoneCompleted), usRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "pa-approver (PA) has completed the milestone “m1”"; !strings.Contains(old.Text, want) {
		t.Errorf("without names the mail should fall back to ids, %q:\n%s", want, old.Text)
	}
}

// An activity with languages has its titles in each of them: every reader
// reads the ones in their own language, and another where a title lacks
// it.
func TestRenderEachReaderReadsTheirLanguage(t *testing.T) {
	n := sample(lifecycle.EventMilestoneCompleted)
	n.Title = lifecycle.Text{"es": "Capacitación aduanera", "en": "Customs training"}
	n.MilestoneTitle = lifecycle.Text{"es": "Taller en Colón", "en": "Workshop in Colón"}
	spanish := []string{"Capacitación aduanera", "Taller en Colón"}
	english := []string{"Customs training", "Workshop in Colón"}
	for _, c := range []struct {
		r            Recipient
		subject, say string
		not          []string
	}{
		{paRecipient, "Hito completado: Capacitación aduanera", "ha completado el hito «Taller en Colón» de la actividad «Capacitación aduanera»", english},
		{usRecipient, "Milestone completed: Customs training", "has completed the milestone “Workshop in Colón” of the activity “Customs training”", spanish},
		{Recipient{Language: "es-PA", TimeZone: "America/Panama"}, "Hito completado: Capacitación aduanera", "«Taller en Colón»", english},
		{Recipient{Language: "en-US", TimeZone: "America/New_York"}, "Milestone completed: Customs training", "“Workshop in Colón”", spanish},
	} {
		m, err := Render(n, c.r, "")
		if err != nil {
			t.Fatalf("%q: %v", c.r.Language, err)
		}
		if m.Subject != c.subject {
			t.Errorf("%q: subject %q, want %q", c.r.Language, m.Subject, c.subject)
		}
		if !strings.Contains(m.Text, c.say) || !strings.Contains(m.HTML, c.say) {
			t.Errorf("%q: body lacks %q:\n%s", c.r.Language, c.say, m.Text)
		}
		for _, other := range c.not {
			if strings.Contains(m.Subject, other) || strings.Contains(m.Text, other) || strings.Contains(m.HTML, other) {
				t.Errorf("%q: the mail has the other language's %q:\n%s", c.r.Language, other, m.Text)
			}
		}
	}

	// A title not yet written in the reader's language is given in the
	// one it has, rather than left out.
	n.Title, n.MilestoneTitle = lifecycle.Text{"es": "Capacitación aduanera"}, lifecycle.Text{"es": "Taller en Colón"}
	m, err := Render(n, usRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "has completed the milestone “Taller en Colón” of the activity “Capacitación aduanera”"; m.Subject != "Milestone completed: Capacitación aduanera" || !strings.Contains(m.Text, want) {
		t.Errorf("a text only in Spanish, to an English reader: %q\n%s", m.Subject, m.Text)
	}
	// A reader of a language the activity has but the templates lack
	// reads the templates' English around the activity's own text.
	n.Title = lifecycle.Text{"fr": "Formation douanière", "en": "Customs training"}
	if m, err = Render(n, Recipient{Language: "fr"}, ""); err != nil || m.Subject != "Milestone completed: Formation douanière" {
		t.Errorf("a French reader: %q, %v", m.Subject, err)
	}
}

// Content recorded before texts had languages holds plain strings, and
// renders as it did for every reader.
func TestRenderContentWithoutLanguages(t *testing.T) {
	var n store.NotificationContent
	old := `{"activity":"act-01J9Z","title":"Joint customs training","event":"milestone_completed","seq":7,"at":"2027-03-15T19:00:00Z",
		"actor":"pa-approver","party":"PA","milestone":"m1","actor_name":"Ana Pérez","party_name":"Panamá","milestone_title":"Primera cohorte formada"}`
	if err := json.Unmarshal([]byte(old), &n); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		r            Recipient
		subject, say string
	}{
		{paRecipient, "Hito completado: Joint customs training", "Ana Pérez (Panamá) ha completado el hito «Primera cohorte formada» de la actividad «Joint customs training»"},
		{usRecipient, "Milestone completed: Joint customs training", "Ana Pérez (Panamá) has completed the milestone “Primera cohorte formada” of the activity “Joint customs training”"},
		{Recipient{}, "Milestone completed: Joint customs training", "“Primera cohorte formada”"},
	} {
		m, err := Render(n, c.r, "")
		if err != nil {
			t.Fatalf("%q: %v", c.r.Language, err)
		}
		if m.Subject != c.subject || !strings.Contains(m.Text, c.say) || !strings.Contains(m.HTML, c.say) {
			t.Errorf("%q: subject %q, want %q; body should say %q:\n%s", c.r.Language, m.Subject, c.subject, c.say, m.Text)
		}
	}
}

// A cancellation an operator made in Temporal names no person: the mail
// says it was made there, outside Pacto, with the reason given.
func TestRenderCancelledInTemporal(t *testing.T) {
	n := sample(lifecycle.EventCancelled)
	n.Actor, n.Party, n.Comment = lifecycle.TemporalActor, "", "Opened twice by mistake"
	for _, c := range []struct {
		r    Recipient
		want []string
	}{
		{usRecipient, []string{"An operator has cancelled the activity “Joint customs training” in Temporal, the system that runs it, outside Pacto. No further reminders will be sent.", "Opened twice by mistake"}},
		{paRecipient, []string{"Un operador ha cancelado la actividad «Joint customs training» en Temporal, el sistema que la ejecuta, fuera de Pacto. No se enviarán más recordatorios.", "Opened twice by mistake"}},
	} {
		m, err := Render(n, c.r, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range c.want {
			if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
				t.Errorf("%s mail lacks %q:\n%s", c.r.Language, want, m.Text)
			}
		}
		if strings.Contains(m.Text, "temporal ha") || strings.Contains(m.Text, "temporal has") {
			t.Errorf("%s mail names the Temporal actor as a person:\n%s", c.r.Language, m.Text)
		}
	}
}
