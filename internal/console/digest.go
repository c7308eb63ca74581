package console

import (
	"fmt"
	"net/http"
	"strconv"

	"pacto/internal/api"
)

// Ways a principal may be told of notices by email, as the settings form
// names them: a mail per notice, one daily digest, or none.
const (
	mailEach   = "on"
	mailDigest = "digest"
	mailOff    = "off"
)

// defaultDigestHour is the hour the form offers before one is chosen: the
// start of an office day.
const defaultDigestHour = 8

// hourOption is one hour of the day a digest may be sent at.
type hourOption struct {
	Value int
	Label string
}

// digestHours are the day's hours as the reader's locale writes them, on
// the 12-hour clock both locales use ("8:00 a. m.", "8:00 AM").
func digestHours(lang string) []hourOption {
	out := make([]hourOption, 24)
	for h := range out {
		twelve := h % 12
		if twelve == 0 {
			twelve = 12
		}
		half := "AM"
		switch {
		case lang == "es" && h < 12:
			half = "a. m."
		case lang == "es":
			half = "p. m."
		case h >= 12:
			half = "PM"
		}
		out[h] = hourOption{Value: h, Label: fmt.Sprintf("%d:00 %s", twelve, half)}
	}
	return out
}

// mailChoice is how prefs read on the form, and the hour it shows.
func mailChoice(prefs api.NotificationPreferences) (string, int) {
	hour := defaultDigestHour
	if prefs.DigestHour != nil {
		hour = *prefs.DigestHour
	}
	switch {
	case !prefs.Email:
		return mailOff, hour
	case prefs.DigestHour != nil:
		return mailDigest, hour
	}
	return mailEach, hour
}

// chosenPreferences are the preferences the settings form asks for, from
// the current ones: turning email off keeps the digest's hour for when it
// is turned on again. ok is false for a choice the form does not offer.
func chosenPreferences(r *http.Request, cur api.NotificationPreferences) (api.NotificationPreferences, bool) {
	switch r.PostFormValue("email") {
	case mailEach:
		return api.NotificationPreferences{Email: true}, true
	case mailOff:
		cur.Email = false
		return cur, true
	case mailDigest:
		h, err := strconv.Atoi(r.PostFormValue("digest_hour"))
		if err != nil {
			h = -1 // the API refuses it, as any hour out of range
		}
		return api.NotificationPreferences{Email: true, DigestHour: &h}, true
	}
	return cur, false
}
