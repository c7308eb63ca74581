package console

import (
	"testing"

	"pacto/internal/app"
)

// A meeting's pages in the browser, checked by axe-core in both
// languages: the draft meeting reached from the overview, a statement
// made through its form; the held meeting reached from it, its minutes
// form refused (the summary taking the focus and leading to the field)
// and then recorded; the United States approver signing them.
func TestBrowserMeetings(t *testing.T) {
	s := newMeetingSite(t)
	c := newChrome(t)
	checks := a11yChecks{}

	pa := c.signIn(t, s.site, checks, "pa-coordinator", "es-PA,es;q=0.9")
	pa.open("/dialogues/" + app.DemoDialogue)
	pa.seesIn(".export", "Exportar CSV", "Exportar Excel")
	pa.axe("overview")
	pa.submit(`section[aria-labelledby=o-meetings] a[href="` + meetingURL(2) + `"]`)
	pa.speaks("es")
	pa.seesIn(".tags", "Informes de las partes abiertos")
	pa.seesIn("section[aria-labelledby=mt-agenda]", "Capacitación aduanera")
	pa.axe("meeting-draft")
	pa.typeInto("#s-0-body", "La primera cohorte avanza según lo previsto.")
	pa.submit(`form[action$="/statements"] button[type=submit]`)
	pa.sees("Se registró el informe de su parte.")
	pa.seesIn("section[aria-labelledby=statements] table", "La primera cohorte avanza según lo previsto.", "Panamá", "pa-coordinator")
	pa.axe("meeting-draft-stated")

	// The meeting before, held: its minutes.
	pa.submit(`.summary a[href="` + meetingURL(1) + `"]`)
	pa.seesIn(".tags", "Informe congelado")
	pa.axe("meeting-frozen")
	send := `form[action$="/minutes"] button[type=submit]`
	pa.typeInto("#f-decisions", "Ampliar el programa a Colón.")
	pa.typeInto("#f-follow_ups_0_text", "Enviar el manual")
	pa.choose("#f-follow_ups_0_owner", "US")
	pa.submit(send)
	pa.seesIn(".error-summary", "Hay un problema", "due must be a date")
	if !eval[bool](pa, `document.activeElement.classList.contains("error-summary")`) {
		t.Fatal("the refused minutes' error summary does not have the focus")
	}
	if got := eval[string](pa, `document.querySelector(".error-summary a").getAttribute("href")`); got != "#f-follow_ups_0_due" {
		t.Fatalf("the summary links to %q, not the follow-up's date", got)
	}
	if got := eval[string](pa, `document.querySelector("#f-follow_ups_0_text").value`); got != "Enviar el manual" {
		t.Fatalf("the refused form lost the follow-up: %q", got)
	}
	pa.axe("meeting-minutes-refused")
	pa.setValue("#f-follow_ups_0_due", "2031-06-30")
	pa.typeInto("#f-new_activities_0_title", "Intercambio de datos")
	pa.typeInto("#f-new_activities_0_summary", "Compartir datos de carga.")
	pa.typeInto("#f-new_activities_0_milestone", "Acuerdo firmado")
	pa.choose("#f-new_activities_0_owner", "US")
	pa.typeInto("#mf-0-in", "6")
	pa.submit(send)
	pa.sees("Se registró el acta.", "Versión 1", "Intercambio de datos", "6 meses después de la activación")
	pa.axe("meeting-minutes")

	us := c.signIn(t, s.site, checks, "us-approver", "en-US,en;q=0.9")
	us.open(meetingURL(1))
	us.speaks("en")
	us.seesIn(".tags", "Report frozen")
	us.axe("meeting-frozen")
	us.submit(`form[action$="/minutes/sign"] button[type=submit]`)
	us.sees("You signed the minutes for your party.", "Signed")
	us.axe("meeting-signed")
	us.open(meetingURL(2))
	us.seesIn("section[aria-labelledby=statements]", "La primera cohorte avanza según lo previsto.", "United States has made no statement on")
	us.axe("meeting-draft")
}
