package console

import (
	"net/http"
	"net/url"
	"strings"

	"pacto/internal/store"
)

// signInView lists who may sign in on `pacto dev`.
type signInView struct {
	Principals []store.Principal
	// Providers are the parties' identity providers to sign in through.
	Providers []providerButton
	Next      string
	Message   string
}

func (c *Console) signInData(r *http.Request, message string) page {
	pg := page{Lang: c.visitorLanguage(r), Now: c.now(), Dev: c.dev, Nav: "signin"}
	v := signInView{Next: validNext(r.URL.Query().Get("next"))}
	if message != "" {
		v.Message = set(c, pg.Lang).t(message)
	}
	v.Providers = c.providerButtons(r.Context())
	if c.dev {
		if ps, err := c.store.Principals(r.Context(), ""); err == nil {
			for _, p := range ps {
				if p.Disabled == nil {
					v.Principals = append(v.Principals, p)
				}
			}
		}
	}
	pg.D = v
	return pg
}

// visitorLanguage is the language for someone not signed in: chosen on
// this browser, else the first the browser asks for that the console
// speaks, else Spanish.
func (c *Console) visitorLanguage(r *http.Request) string {
	if ck, err := r.Cookie(languageCookie); err == nil && contains(languages, ck.Value) {
		return ck.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if l := consoleLanguage(tag); strings.HasPrefix(strings.ToLower(tag), l) {
			return l
		}
	}
	return languages[0]
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "signin", c.signInData(r, ""))
}

// signIn starts a session for the principal chosen on the dev sign-in
// page. Outside `pacto dev` there is no such page: people sign in through
// their party's identity provider.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if !c.dev {
		c.render(w, r, http.StatusNotFound, "signin", c.signInData(r, "signin.unavailable"))
		return
	}
	id := r.PostFormValue("principal")
	p, err := c.store.Principal(r.Context(), id)
	if err != nil || p.Disabled != nil {
		c.render(w, r, http.StatusUnauthorized, "signin", c.signInData(r, "signin.unknown"))
		return
	}
	secret, err := c.store.CreateSession(r.Context(), p.ID, "dev", c.now(), c.sessions)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.setSession(w, secret)
	http.Redirect(w, r, validNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if err := c.store.DeleteSession(r.Context(), ck.Value); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	c.clearSession(w)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// validNext is a path on this site to return to after signing in, or "/".
func validNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return next
}
