package console

import (
	"context"
	"net/url"
	"regexp"
	"testing"

	"pacto/internal/store"
)

// A coordinator chooses, on the settings page, one daily digest at 8 AM
// instead of a mail per notice: it is saved, the page shows it chosen
// (hours on the reader's 12-hour clock, their party's zone named), and
// the preferences the API keeps say so. Turning email off keeps the hour;
// an hour the form does not offer is refused and changes nothing.
func TestSettingsChooseADailyDigestAt8(t *testing.T) {
	s := newSite(t)
	pa := s.as("pa-coordinator")
	stored := func(who string) store.NotificationPreferences {
		t.Helper()
		p, err := s.st.NotificationPreferences(context.Background(), who)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	checked := func(page reply, id string) bool {
		return regexp.MustCompile(`id="` + id + `"[^>]*checked`).MatchString(page.body)
	}

	page := pa.get("/settings")
	must(t, page, 200, "Un resumen diario por correo", `<label for="digest-hour">Hora del resumen</label>`,
		"Hora de Panamá (America/Panama)", `<option value="8" selected>8:00 a. m.</option>`, `<option value="13" >1:00 p. m.</option>`)
	if !checked(page, "email-on") || checked(page, "email-digest") {
		t.Fatalf("a new principal's settings should have a mail per notice chosen:\n%s", page.body)
	}

	saved := pa.post("/settings", url.Values{"email": {"digest"}, "digest_hour": {"8"}})
	must(t, saved, 200, "Se guardaron sus preferencias.", `<option value="8" selected>8:00 a. m.</option>`)
	if !checked(saved, "email-digest") || checked(saved, "email-on") {
		t.Fatalf("the saved page does not show the digest chosen:\n%s", saved.body)
	}
	if p := stored("pa-coordinator"); !p.Email || p.DigestHour == nil || *p.DigestHour != 8 {
		t.Fatalf("stored %+v; want email as a digest at 8", p)
	}

	// Email off keeps the hour for later; the page shows both.
	off := pa.post("/settings", url.Values{"email": {"off"}, "digest_hour": {"8"}})
	must(t, off, 200, `<option value="8" selected>8:00 a. m.</option>`)
	if !checked(off, "email-off") {
		t.Fatalf("email off is not shown chosen:\n%s", off.body)
	}
	if p := stored("pa-coordinator"); p.Email || p.DigestHour == nil || *p.DigestHour != 8 {
		t.Fatalf("stored %+v; want email off, the hour kept", p)
	}

	// A forged hour gets the API's refusal.
	must(t, pa.post("/settings", url.Values{"email": {"digest"}, "digest_hour": {"25"}}), 422, "Hay un problema", "digest_hour")
	must(t, pa.post("/settings", url.Values{"email": {"digest"}, "digest_hour": {"eight"}}), 422, "Hay un problema")
	if p := stored("pa-coordinator"); p.Email || p.DigestHour == nil || *p.DigestHour != 8 {
		t.Fatalf("a refused form changed the preferences to %+v", p)
	}

	// An English reader reads the hours and the zone their way, and goes
	// back to a mail per notice.
	us := s.as("us-coordinator")
	must(t, us.post("/settings", url.Values{"email": {"digest"}, "digest_hour": {"17"}}), 200,
		"Your settings are saved.", "One daily digest email", "United States time (America/New_York)", `<option value="17" selected>5:00 PM</option>`)
	each := us.post("/settings", url.Values{"email": {"on"}, "digest_hour": {"17"}})
	must(t, each, 200)
	if !checked(each, "email-on") {
		t.Fatalf("a mail per notice is not shown chosen:\n%s", each.body)
	}
	if p := stored("us-coordinator"); !p.Email || p.DigestHour != nil {
		t.Fatalf("stored %+v; want a mail per notice", p)
	}
}
