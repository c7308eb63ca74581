package delivery

import (
	"errors"
	"html"
	"strings"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// dialogueName is the name of meetingSample's dialogue, as its notices
// carry it: a plain text, the same for every reader.
const dialogueName = "Diálogo de Alto Nivel Panamá–Estados Unidos"

// meetingAt is 10:00 in New York on the Monday after due, 9:00 in Panama.
var meetingAt = time.Date(2027, 3, 22, 14, 0, 0, 0, time.UTC)

// meetingAgenda is what meeting 3 reviews: one activity titled in both
// languages, one only in Spanish.
var meetingAgenda = []store.AgendaItem{
	{Activity: "act-1", Title: lifecycle.Text{"es": "Capacitación aduanera en Colón", "en": "Customs training in Colón"}},
	{Activity: "act-2", Title: lifecycle.Text{"es": "Línea de base de la migración irregular"}},
}

// reportSHA is the frozen report's SHA-256.
const reportSHA = "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

// meetingSample is a notice of meeting event t of meeting 3, as the
// meeting's workflow records it: statements close at due, the meeting is
// at meetingAt.
func meetingSample(t lifecycle.EventType) store.NotificationContent {
	at, closes := meetingAt, due
	n := store.NotificationContent{
		Title: lifecycle.Plain(dialogueName), Event: t, Seq: 4, At: due.Add(-2 * time.Hour),
		Actor: "pa-coordinator", ActorName: "Ana Pérez",
		Dialogue: "hld-pa-us", Meeting: 3, MeetingAt: &at,
	}
	switch t {
	case lifecycle.EventMeetingDrafted:
		n.Actor, n.ActorName = lifecycle.ClockActor, ""
		n.Due, n.Agenda, n.Digest = &closes, meetingAgenda, reportSHA
	case lifecycle.EventStatementReminder:
		n.Actor, n.ActorName = lifecycle.ClockActor, ""
		n.Due, n.Notice = &closes, 2
		n.Parties, n.PartyNames = []lifecycle.PartyCode{"US"}, []string{"Estados Unidos"}
	case lifecycle.EventReportFrozen:
		n.Actor, n.ActorName = lifecycle.ClockActor, ""
		n.Digest = reportSHA
		n.Parties, n.PartyNames = []lifecycle.PartyCode{"US"}, []string{"Estados Unidos"}
	case lifecycle.EventMinutesRecorded, lifecycle.EventMinutesAdopted:
		n.Version = 2
	case lifecycle.EventMinutesSigned:
		n.Version, n.Party, n.PartyName = 2, "US", "Estados Unidos"
	}
	return n
}

// Each meeting notice people are sent reads, in each reader's language,
// what happened to which meeting, when it is in the reader's zone, and
// links to the meeting's page.
func TestRenderMeetingNotices(t *testing.T) {
	const link = "https://pacto.example.org/dialogues/hld-pa-us/meetings/3"
	for _, c := range []struct {
		event   lifecycle.EventType
		r       Recipient
		subject string
		// says are the intro's words, in the text and the HTML; lines
		// are the plain text's rows, which the HTML has as a table.
		says, lines []string
	}{
		{lifecycle.EventMeetingDrafted, usRecipient,
			"Draft report and agenda: " + dialogueName + " meeting 3 on Monday, March 22, 2027", []string{
				"The draft progress report and the agenda for meeting 3 of “" + dialogueName + "”, to be held on Monday, March 22, 2027, 10:00 AM (America/New_York), are ready",
				"until Monday, March 15, 2027, 5:00 PM (America/New_York), when statements close",
			}, []string{
				"Statements close: Monday, March 15, 2027, 5:00 PM (America/New_York)",
				"Agenda:",
				"- Customs training in Colón (act-1): https://pacto.example.org/activities/act-1",
				"- Línea de base de la migración irregular (act-2)",
				"Open the meeting: " + link,
			}},
		{lifecycle.EventMeetingDrafted, paRecipient,
			"Borrador del informe de avance y orden del día: " + dialogueName + ", reunión n.º 3, el lunes, 22 de marzo de 2027", []string{
				"el borrador del informe de avance y el orden del día de la reunión n.º 3 de «" + dialogueName + "», que se celebrará el lunes, 22 de marzo de 2027, 9:00 a. m. (America/Panama)",
				"pueden presentar el informe de su parte sobre cada actividad del orden del día hasta el lunes, 15 de marzo de 2027, 4:00 p. m. (America/Panama)",
			}, []string{
				"Plazo de los informes de las partes: lunes, 15 de marzo de 2027, 4:00 p. m. (America/Panama)",
				"Orden del día:",
				"- Capacitación aduanera en Colón (act-1): https://pacto.example.org/activities/act-1",
				"- Línea de base de la migración irregular (act-2)",
				"Abrir la reunión: " + link,
			}},
		{lifecycle.EventStatementReminder, usRecipient,
			"Statements due Monday, March 15, 2027: " + dialogueName + " meeting 3", []string{
				"Statements for meeting 3 of “" + dialogueName + "” are still awaited from Estados Unidos.",
				"by Monday, March 15, 2027, 5:00 PM (America/New_York), when statements close. This is reminder no. 2.",
			}, []string{
				"Statements awaited from: Estados Unidos",
				"Open the meeting: " + link,
			}},
		{lifecycle.EventStatementReminder, paRecipient,
			"Informes de la parte pendientes hasta el lunes, 15 de marzo de 2027: " + dialogueName + ", reunión n.º 3", []string{
				"Para la reunión n.º 3 de «" + dialogueName + "» aún faltan los informes de Estados Unidos.",
				"antes del lunes, 15 de marzo de 2027, 4:00 p. m. (America/Panama), cuando vence el plazo. Este es el recordatorio n.º 2.",
			}, []string{
				"Recordatorio: n.º 2",
				"Abrir la reunión: " + link,
			}},
		{lifecycle.EventMeetingMoved, usRecipient,
			"Meeting moved: " + dialogueName + " meeting 3, now on Monday, March 22, 2027", []string{
				"Ana Pérez has moved meeting 3 of “" + dialogueName + "” to Monday, March 22, 2027, 10:00 AM (America/New_York).",
			}, []string{
				"Open the meeting: " + link,
			}},
		{lifecycle.EventMeetingMoved, paRecipient,
			"Reunión trasladada: " + dialogueName + ", reunión n.º 3, ahora el lunes, 22 de marzo de 2027", []string{
				"Ana Pérez ha trasladado la reunión n.º 3 de «" + dialogueName + "» al lunes, 22 de marzo de 2027, 9:00 a. m. (America/Panama).",
			}, []string{
				"Abrir la reunión: " + link,
			}},
		{lifecycle.EventMeetingCancelled, usRecipient,
			"Meeting cancelled: " + dialogueName + " meeting 3", []string{
				"Ana Pérez has cancelled meeting 3 of “" + dialogueName + "”, which was to be held on Monday, March 22, 2027, 10:00 AM (America/New_York).",
			}, []string{
				"Open the meeting: " + link,
			}},
		{lifecycle.EventMeetingCancelled, paRecipient,
			"Reunión cancelada: " + dialogueName + ", reunión n.º 3", []string{
				"Ana Pérez ha cancelado la reunión n.º 3 de «" + dialogueName + "», prevista para el lunes, 22 de marzo de 2027, 9:00 a. m. (America/Panama).",
			}, []string{
				"Abrir la reunión: " + link,
			}},
		{lifecycle.EventReportFrozen, usRecipient,
			"Progress report frozen: " + dialogueName + " meeting 3", []string{
				"The progress report for meeting 3 of “" + dialogueName + "” was frozen at the meeting and will not change.",
				"No statement was received from Estados Unidos.",
				"Its SHA-256 is " + reportSHA,
			}, []string{
				"Meeting: no. 3, Monday, March 22, 2027, 10:00 AM (America/New_York)",
				"Open the meeting: " + link,
			}},
		{lifecycle.EventReportFrozen, paRecipient,
			"Informe de avance cerrado: " + dialogueName + ", reunión n.º 3", []string{
				"El informe de avance de la reunión n.º 3 de «" + dialogueName + "» quedó cerrado en la reunión y ya no cambiará.",
				"No se recibió el informe de la parte de Estados Unidos.",
				"Su SHA-256 es " + reportSHA,
			}, []string{
				"Reunión: n.º 3, lunes, 22 de marzo de 2027, 9:00 a. m. (America/Panama)",
				"Sin informe de: Estados Unidos",
				"Abrir la reunión: " + link,
			}},
		{lifecycle.EventMinutesRecorded, usRecipient,
			"Minutes to sign, version 2: " + dialogueName + " meeting 3", []string{
				"Ana Pérez has recorded version 2 of the minutes of meeting 3 of “" + dialogueName + "”. Every party's approver is asked to sign version 2",
			}, []string{
				"Open the meeting: " + link,
			}},
		{lifecycle.EventMinutesRecorded, paRecipient,
			"Acta para firmar conjuntamente, versión 2: " + dialogueName + ", reunión n.º 3", []string{
				"Ana Pérez ha registrado la versión 2 del acta de la reunión n.º 3 de «" + dialogueName + "». Se solicita a la persona aprobadora de cada parte que la firme (versión 2)",
			}, []string{
				"Abrir la reunión: " + link,
			}},
		{lifecycle.EventMinutesAdopted, usRecipient,
			"Minutes adopted: " + dialogueName + " meeting 3", []string{
				"Every party has signed version 2 of the minutes of meeting 3 of “" + dialogueName + "”. The minutes are adopted and will not change again.",
			}, []string{
				"Open the meeting: " + link,
			}},
		{lifecycle.EventMinutesAdopted, paRecipient,
			"Acta adoptada: " + dialogueName + ", reunión n.º 3", []string{
				"Todas las partes han firmado la versión 2 del acta de la reunión n.º 3 de «" + dialogueName + "». El acta queda adoptada y ya no cambiará.",
			}, []string{
				"Abrir la reunión: " + link,
			}},
	} {
		m, err := Render(meetingSample(c.event), c.r, "https://pacto.example.org")
		if err != nil {
			t.Fatalf("%s %s: %v", c.event, c.r.Language, err)
		}
		if m.Subject != c.subject {
			t.Errorf("%s %s: subject\n%q, want\n%q", c.event, c.r.Language, m.Subject, c.subject)
		}
		for _, want := range append(c.says, c.lines...) {
			if !strings.Contains(m.Text, want) {
				t.Errorf("%s %s: text lacks %q:\n%s", c.event, c.r.Language, want, m.Text)
			}
		}
		for _, want := range c.says {
			if !strings.Contains(html.UnescapeString(m.HTML), want) {
				t.Errorf("%s %s: HTML lacks %q:\n%s", c.event, c.r.Language, want, m.HTML)
			}
		}
		if !strings.Contains(m.HTML, `href="`+link+`"`) {
			t.Errorf("%s %s: HTML does not link the meeting:\n%s", c.event, c.r.Language, m.HTML)
		}
		// A meeting's notice is about no activity: no "Activity" row, no
		// activity page but the agenda's.
		if strings.Contains(m.Text, "Activity:") || strings.Contains(m.Text, "Actividad:") ||
			strings.Contains(strings.ReplaceAll(m.Text, "https://pacto.example.org/activities/act-", ""), "/activities/") {
			t.Errorf("%s %s: reads as an activity's notice:\n%s", c.event, c.r.Language, m.Text)
		}
		other := map[string]string{"es": "America/New_York", "en": "America/Panama"}[c.r.Language]
		if strings.Contains(m.Text, other) || strings.Contains(m.HTML, other) {
			t.Errorf("%s %s: a time in the other party's zone:\n%s", c.event, c.r.Language, m.Text)
		}
	}
}

// The agenda lists each activity once, titled in the reader's language,
// or in the one it has, with accents intact and escaped in HTML.
func TestRenderMeetingAgenda(t *testing.T) {
	n := meetingSample(lifecycle.EventMeetingDrafted)
	n.Agenda = append(n.Agenda, store.AgendaItem{Activity: "act-3", Title: lifecycle.Text{"en": "Port <security> & co", "es": "Seguridad portuaria <y> más"}})
	for _, c := range []struct {
		r         Recipient
		text, not []string
		html      []string
	}{
		{paRecipient,
			[]string{"Capacitación aduanera en Colón (act-1)", "Línea de base de la migración irregular (act-2)", "Seguridad portuaria <y> más (act-3)"},
			[]string{"Customs training", "Port <security>"},
			[]string{`<strong>Orden del día</strong>`, `>Capacitación aduanera en Colón</a>`, `>Seguridad portuaria &lt;y&gt; más</a>`,
				`href="https://pacto.example.org/activities/act-2"`}},
		{usRecipient,
			[]string{"Customs training in Colón (act-1)", "Línea de base de la migración irregular (act-2)", "Port <security> & co (act-3)"},
			[]string{"Capacitación aduanera", "Seguridad portuaria"},
			[]string{`<strong>Agenda</strong>`, `>Customs training in Colón</a>`, `>Port &lt;security&gt; &amp; co</a>`}},
	} {
		m, err := Render(n, c.r, "https://pacto.example.org")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range c.text {
			if strings.Count(m.Text, want) != 1 {
				t.Errorf("%s: the agenda should list %q once:\n%s", c.r.Language, want, m.Text)
			}
		}
		for _, not := range c.not {
			if strings.Contains(m.Text, not) || strings.Contains(m.HTML, not) {
				t.Errorf("%s: the other language's %q:\n%s", c.r.Language, not, m.Text)
			}
		}
		for _, want := range c.html {
			if !strings.Contains(m.HTML, want) {
				t.Errorf("%s: HTML lacks %s:\n%s", c.r.Language, want, m.HTML)
			}
		}
		if strings.Contains(m.HTML, "<security>") || strings.Contains(m.HTML, "<y>") {
			t.Errorf("%s: agenda not escaped:\n%s", c.r.Language, m.HTML)
		}
	}
	// Without a base URL the agenda is still there, without links.
	m, err := Render(n, paRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "- Capacitación aduanera en Colón (act-1)\n") || strings.Contains(m.Text, "https://") || strings.Contains(m.HTML, "href") {
		t.Errorf("agenda without a base URL:\n%s", m.Text)
	}
	// Only the draft lists an agenda.
	if m, err := Render(meetingSample(lifecycle.EventReportFrozen), usRecipient, ""); err != nil || strings.Contains(m.Text, "Agenda") {
		t.Errorf("a frozen report's notice: %v\n%s", err, m.Text)
	}
}

// The meeting's page is linked with the dialogue's id escaped as one path
// segment; a meeting notice without its dialogue or number cannot be
// linked, which is permanent.
func TestRenderMeetingLinks(t *testing.T) {
	n := meetingSample(lifecycle.EventMinutesAdopted)
	n.Dialogue = "pa/us?x=1"
	m, err := Render(n, usRecipient, "https://pacto.example.org/base/")
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://pacto.example.org/base/dialogues/pa%2Fus%3Fx=1/meetings/3"; !strings.Contains(m.Text, want) {
		t.Errorf("text link: want %s in\n%s", want, m.Text)
	}
	n.Dialogue = ".."
	if m, err = Render(n, usRecipient, "https://pacto.example.org"); err != nil || !strings.Contains(m.Text, "/dialogues/%2E%2E/meetings/3") {
		t.Errorf("dot-dot dialogue: %v\n%s", err, m.Text)
	}
	for _, broken := range []func(*store.NotificationContent){
		func(n *store.NotificationContent) { n.Dialogue = "" },
		func(n *store.NotificationContent) { n.Meeting = 0 },
	} {
		n := meetingSample(lifecycle.EventMinutesAdopted)
		broken(&n)
		if _, err := Render(n, usRecipient, "https://pacto.example.org"); !errors.Is(err, ErrInvalidInput) || !Permanent(err) {
			t.Errorf("%+v: got %v, want a permanent ErrInvalidInput", n, err)
		}
		// Without a link to make, it still reads.
		if _, err := Render(n, usRecipient, ""); err != nil {
			t.Errorf("%+v without a base URL: %v", n, err)
		}
	}
	if _, err := Render(meetingSample(lifecycle.EventMinutesAdopted), usRecipient, "javascript:alert(1)"); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("bad base URL: %v", err)
	}
}

// A move recorded with the new time as its Due (and no MeetingAt) names
// that time as the meeting's, not as when statements close; statements
// closing at another time are named as such.
func TestRenderMeetingMovedTimes(t *testing.T) {
	n := meetingSample(lifecycle.EventMeetingMoved)
	moved := meetingAt.Add(48 * time.Hour)
	n.MeetingAt, n.Due = nil, &moved
	m, err := Render(n, usRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "to Wednesday, March 24, 2027, 10:00 AM (America/New_York)."; !strings.Contains(m.Text, want) || !strings.HasSuffix(m.Subject, "now on Wednesday, March 24, 2027") {
		t.Errorf("the new time, %q: %q\n%s", want, m.Subject, m.Text)
	}
	if strings.Contains(m.Text, "Statements") {
		t.Errorf("the meeting's time read as the statements' close:\n%s", m.Text)
	}
	// The same time in both fields is the meeting's too.
	n.MeetingAt = &moved
	if m, err = Render(n, paRecipient, ""); err != nil || strings.Contains(m.Text, "Plazo de los informes") ||
		!strings.Contains(m.Text, "al miércoles, 24 de marzo de 2027, 9:00 a. m. (America/Panama).") {
		t.Errorf("moved with MeetingAt = Due: %v\n%s", err, m.Text)
	}
	// Statements closing at their own time are told.
	closes := moved.Add(-72 * time.Hour)
	n.Due = &closes
	if m, err = Render(n, paRecipient, ""); err != nil ||
		!strings.Contains(m.Text, "El plazo de los informes de las partes vence ahora el domingo, 21 de marzo de 2027, 9:00 a. m. (America/Panama).") {
		t.Errorf("moved with statements closing earlier: %v\n%s", err, m.Text)
	}
}

// The console's page of a notice, which mails link and the inbox names:
// the activity's, or the meeting's for a meeting's notice.
func TestConsolePath(t *testing.T) {
	for _, c := range []struct {
		n    store.NotificationContent
		want string
	}{
		{sample(lifecycle.EventApproved), "/activities/act-01J9Z"},
		{meetingSample(lifecycle.EventReportFrozen), "/dialogues/hld-pa-us/meetings/3"},
		// A meeting's notice of an event no mail tells is still the meeting's.
		{meetingSample(lifecycle.EventStatementMade), "/dialogues/hld-pa-us/meetings/3"},
		{store.NotificationContent{Event: lifecycle.EventMeetingDrafted, Dialogue: "a b/ç", Meeting: 12}, "/dialogues/a%20b%2F%C3%A7/meetings/12"},
		{store.NotificationContent{Event: lifecycle.EventCancelled, Activity: "."}, "/activities/%2E"},
	} {
		if got, err := ConsolePath(c.n); err != nil || got != c.want {
			t.Errorf("%s %q/%q: %q, %v; want %q", c.n.Event, c.n.Activity, c.n.Dialogue, got, err, c.want)
		}
	}
	for _, n := range []store.NotificationContent{
		{Event: lifecycle.EventCancelled},
		{Event: lifecycle.EventMinutesAdopted, Dialogue: "hld"},
		{Event: lifecycle.EventMinutesAdopted, Meeting: 3},
	} {
		if got, err := ConsolePath(n); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%+v: %q, %v; want ErrInvalidInput", n, got, err)
		}
	}
}
