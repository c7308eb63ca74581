package delivery

import (
	"strings"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// digestSample is a day's notices for a coordinator: an approval by a
// named person, an overdue milestone (from the clock) and the activation,
// of an activity with texts in both languages.
func digestSample() store.DigestContent {
	title := lifecycle.Text{"es": "Capacitación aduanera", "en": "Customs training"}
	milestone := lifecycle.Text{"es": "Taller en Colón", "en": "Workshop in Colón"}
	d := due
	return store.DigestContent{
		Through: time.Date(2027, 3, 16, 13, 0, 0, 0, time.UTC), // Tuesday 8 AM in Panama, 9 AM in New York
		Notices: []store.NotificationContent{
			{Activity: "act-1", Title: title, Event: lifecycle.EventApproved, Seq: 2, At: due.Add(-5 * time.Hour),
				Actor: "pa-approver", ActorName: "Ana Pérez", Party: "PA", PartyName: "Panamá", Version: 1},
			{Activity: "act-1", Title: title, Event: lifecycle.EventMilestoneOverdue, Seq: 5, At: due.Add(time.Hour),
				Actor: lifecycle.ClockActor, Milestone: "m1", MilestoneTitle: milestone, Due: &d, Notice: 1},
			{Activity: "act-2", Title: lifecycle.Text{"es": "Manual <conjunto>", "en": "Joint <handbook>"}, Event: lifecycle.EventActivated, Seq: 3,
				At: due.Add(2 * time.Hour), Actor: "us-approver", ActorName: "Jane Roe", Party: "US", PartyName: "United States", Version: 1},
		},
	}
}

// A digest lists each notice as its own mail would say it, in the reader's
// language, with people's names and every time in the reader's zone,
// named, on the 12-hour clock.
func TestRenderDigestInBothLanguages(t *testing.T) {
	d := digestSample()
	for _, c := range []struct {
		r       Recipient
		subject string
		says    []string
		not     []string
	}{
		{paRecipient, "Resumen diario de Pacto: 3 avisos", []string{
			"Hola, Ana Pérez:",
			"Estos son los 3 avisos de Pacto para usted desde su último resumen, hasta el martes, 16 de marzo de 2027, 8:00 a. m. (America/Panama).",
			"1. Aprobada por Panamá: Capacitación aduanera",
			"Ana Pérez (Panamá) ha aprobado la versión 1 de la actividad «Capacitación aduanera»",
			"Fecha: lunes, 15 de marzo de 2027, 11:00 a. m. (America/Panama)",
			"2. Hito vencido: Capacitación aduanera",
			"el hito «Taller en Colón» venció el lunes, 15 de marzo de 2027, 4:00 p. m. (America/Panama)",
			"3. Actividad iniciada: Manual <conjunto>",
			"Abrir la actividad: https://pacto.example.org/activities/act-2",
			"a la hora que eligió en sus preferencias",
		}, []string{"Customs training", "Workshop", "America/New_York", " PM", "Joint"}},
		{usRecipient, "Pacto daily digest: 3 notices", []string{
			"Hello Jane Doe,",
			"Here are the 3 notices for you since your last digest, up to Tuesday, March 16, 2027, 9:00 AM (America/New_York).",
			"1. Approved by Panamá: Customs training",
			"Ana Pérez (Panamá) has approved version 1 of the activity “Customs training”",
			"When: Monday, March 15, 2027, 12:00 PM (America/New_York)",
			"2. Milestone overdue: Customs training",
			"the milestone “Workshop in Colón” was due on Monday, March 15, 2027, 5:00 PM (America/New_York)",
			"3. Activity started: Joint <handbook>",
			"Open the activity: https://pacto.example.org/activities/act-1",
			"at the hour you chose in your settings",
		}, []string{"Capacitación", "Taller", "America/Panama", "p. m.", "conjunto"}},
	} {
		m, err := RenderDigest(d, c.r, "https://pacto.example.org")
		if err != nil {
			t.Fatalf("%s: %v", c.r.Language, err)
		}
		if m.Subject != c.subject {
			t.Errorf("%s: subject %q, want %q", c.r.Language, m.Subject, c.subject)
		}
		for _, want := range c.says {
			if !strings.Contains(m.Text, want) {
				t.Errorf("%s: text lacks %q:\n%s", c.r.Language, want, m.Text)
			}
			// The HTML says the same, escaped, but lists without numbers
			// and links without printing them.
			plain := want[0] < '0' || want[0] > '9'
			if plain && !strings.Contains(want, "https://") && !strings.Contains(m.HTML, htmlEscape(want)) {
				t.Errorf("%s: HTML lacks %q:\n%s", c.r.Language, htmlEscape(want), m.HTML)
			}
		}
		for _, other := range c.not {
			if strings.Contains(m.Subject, other) || strings.Contains(m.Text, other) || strings.Contains(m.HTML, other) {
				t.Errorf("%s: the digest has %q, which is not the reader's:\n%s", c.r.Language, other, m.Text)
			}
		}
		if !strings.Contains(m.HTML, `<html lang="`+c.r.Language+`">`) || strings.Count(m.HTML, "<li") != 3 {
			t.Errorf("%s: HTML is not marked with its language or does not list 3 notices:\n%s", c.r.Language, m.HTML)
		}
		if strings.Contains(m.HTML, "<conjunto>") || strings.Contains(m.HTML, "<handbook>") {
			t.Errorf("%s: a title reached the HTML unescaped", c.r.Language)
		}
		if strings.Contains(m.Text, "<no value>") || strings.Contains(m.HTML, "<no value>") {
			t.Errorf("%s: a template printed a missing value", c.r.Language)
		}
	}
}

// htmlEscape writes s as html/template does in text.
func htmlEscape(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// One notice is said in the singular; notices beyond the list are counted
// and left to the inbox.
func TestRenderDigestCountsAndOverflow(t *testing.T) {
	d := digestSample()
	one := d
	one.Notices = d.Notices[:1]
	for _, c := range []struct {
		d          store.DigestContent
		r          Recipient
		subject    string
		says, html string
	}{
		{one, usRecipient, "Pacto daily digest: 1 notice", "Here is the notice for you since your last digest", "Here is the notice"},
		{one, paRecipient, "Resumen diario de Pacto: 1 aviso", "Este es el aviso de Pacto para usted", "Este es el aviso"},
		{store.DigestContent{Through: d.Through, Notices: d.Notices, More: 2}, usRecipient, "Pacto daily digest: 5 notices",
			"2 more notices are in your inbox.", "2 more notices are in your inbox."},
		{store.DigestContent{Through: d.Through, Notices: d.Notices, More: 1}, paRecipient, "Resumen diario de Pacto: 4 avisos",
			"Hay un aviso más en su bandeja de entrada.", "Hay un aviso más en su bandeja de entrada."},
	} {
		m, err := RenderDigest(c.d, c.r, "")
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != c.subject || !strings.Contains(m.Text, c.says) || !strings.Contains(m.HTML, c.html) {
			t.Errorf("%s, %d listed + %d more: subject %q, want %q, saying %q:\n%s", c.r.Language, len(c.d.Notices), c.d.More, m.Subject, c.subject, c.says, m.Text)
		}
		if strings.Contains(m.Text, "https://") {
			t.Errorf("a digest without a base URL has links:\n%s", m.Text)
		}
	}
}

// A notice of an event without a template makes the digest fail for good,
// as a single mail of it would.
func TestRenderDigestRefusesAnUnknownEvent(t *testing.T) {
	d := digestSample()
	d.Notices[1].Event = "no_such_event"
	if _, err := RenderDigest(d, paRecipient, ""); !Permanent(err) {
		t.Fatalf("got %v, want a permanent error", err)
	}
}

// A meeting's notices sit in the digest beside an activity's, each named
// by its dialogue and meeting number and linked to the meeting's page,
// with the meeting's times in the reader's zone.
func TestRenderDigestListsMeetingNotices(t *testing.T) {
	d := digestSample()
	d.Notices = append(d.Notices[:1], meetingSample(lifecycle.EventMeetingDrafted), meetingSample(lifecycle.EventMinutesRecorded))
	for _, c := range []struct {
		r    Recipient
		says []string
		html []string
	}{
		{paRecipient, []string{
			"1. Aprobada por Panamá: Capacitación aduanera",
			"   Abrir la actividad: https://pacto.example.org/activities/act-1",
			"2. Borrador del informe de avance y orden del día: " + dialogueName + ", reunión n.º 3, el lunes, 22 de marzo de 2027",
			"que se celebrará el lunes, 22 de marzo de 2027, 9:00 a. m. (America/Panama)",
			"   Abrir la reunión: https://pacto.example.org/dialogues/hld-pa-us/meetings/3",
			"3. Acta para firmar conjuntamente, versión 2: " + dialogueName + ", reunión n.º 3",
		}, []string{
			`<a href="https://pacto.example.org/activities/act-1" style="color:#0b69a3;">Abrir la actividad</a>`,
			`<a href="https://pacto.example.org/dialogues/hld-pa-us/meetings/3" style="color:#0b69a3;">Abrir la reunión</a>`,
		}},
		{usRecipient, []string{
			"1. Approved by Panamá: Customs training",
			"   Open the activity: https://pacto.example.org/activities/act-1",
			"2. Draft report and agenda: " + dialogueName + " meeting 3 on Monday, March 22, 2027",
			"to be held on Monday, March 22, 2027, 10:00 AM (America/New_York)",
			"   Open the meeting: https://pacto.example.org/dialogues/hld-pa-us/meetings/3",
			"3. Minutes to sign, version 2: " + dialogueName + " meeting 3",
		}, []string{
			`<a href="https://pacto.example.org/dialogues/hld-pa-us/meetings/3" style="color:#0b69a3;">Open the meeting</a>`,
		}},
	} {
		m, err := RenderDigest(d, c.r, "https://pacto.example.org")
		if err != nil {
			t.Fatalf("%s: %v", c.r.Language, err)
		}
		for _, want := range c.says {
			if !strings.Contains(m.Text, want) {
				t.Errorf("%s: text lacks %q:\n%s", c.r.Language, want, m.Text)
			}
		}
		for _, want := range c.html {
			if !strings.Contains(m.HTML, want) {
				t.Errorf("%s: HTML lacks %s:\n%s", c.r.Language, want, m.HTML)
			}
		}
		if n := strings.Count(m.Text, "/dialogues/hld-pa-us/meetings/3"); n != 2 {
			t.Errorf("%s: %d links to the meeting, want one per meeting notice:\n%s", c.r.Language, n, m.Text)
		}
	}
}
