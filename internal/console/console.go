// Package console is Pacto's web console for the people it serves:
// coordinators, approvers, observers and the secretariat, in Spanish or
// English. Pages are rendered on the server from html/template, forms work
// without JavaScript, and every asset is embedded. Every page and action
// goes through the API's own operations (api.Server), so the core decides
// and the console never re-implements a rule.
package console

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"pacto/internal/api"
	"pacto/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Options configure a Console.
type Options struct {
	API   *api.Server
	Store *store.Store
	Log   *slog.Logger
	// Now is the clock for relative times and session expiry.
	Now func() time.Time
	// DevSignIn offers a sign-in page listing every principal, with no
	// password: for `pacto dev` only.
	DevSignIn bool
	// Sessions bound a session's life (idle 8 hours, at most 7 days).
	Sessions store.SessionTimes
	// SecureCookies marks the session cookie Secure, for HTTPS.
	SecureCookies bool
	// Providers are the parties' identity providers, at most one per
	// party; the sign-in page offers each.
	Providers []Provider
	// PublicURL is the console's base URL as browsers reach it; providers
	// send people back to PublicURL + CallbackPath. Required with
	// Providers.
	PublicURL string
	// ProviderClient makes the requests to the providers (a client with a
	// timeout by default).
	ProviderClient *http.Client
}

// Console serves the web console. Create it with New.
type Console struct {
	api      *api.Server
	store    *store.Store
	log      *slog.Logger
	now      func() time.Time
	dev      bool
	sessions store.SessionTimes
	secure   bool
	pages    map[string]*pageSet // by language
	// idps are the identity providers by party, offered in idpOrder.
	idps      map[string]*idp
	idpOrder  []string
	publicURL string
}

// New returns a console over the API's operations and the store.
func New(opts Options) (*Console, error) {
	c := &Console{api: opts.API, store: opts.Store, log: opts.Log, now: opts.Now, dev: opts.DevSignIn,
		sessions: opts.Sessions, secure: opts.SecureCookies}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sessions.Idle == 0 {
		c.sessions.Idle = 8 * time.Hour
	}
	if c.sessions.Absolute == 0 {
		c.sessions.Absolute = 7 * 24 * time.Hour
	}
	var err error
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if err := c.configureProviders(opts); err != nil {
		return nil, err
	}
	return c, nil
}

// Handler returns the console's routes. It is meant to be mounted at the
// root of the API's server, beside /v1.
func (c *Console) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(contentSecurity)
	assets, _ := fs.Sub(assetFS, "assets")
	r.Handle("/assets/*", http.StripPrefix("/assets/", cacheAssets(http.FileServerFS(assets))))
	r.Get("/signin", c.signInPage)
	r.Post("/signin", c.signIn)
	r.Post("/signout", c.signOut)
	r.Get("/signin/oidc/{party}", c.startOIDC)
	r.Get(CallbackPath, c.finishOIDC)
	r.Group(func(r chi.Router) {
		r.Use(c.authenticate)
		r.Get("/", c.myWork)
		r.Get("/activities", c.activities)
		r.Get("/activities/new", c.proposeForm)
		r.Get("/activities/export.csv", c.export("csv"))
		r.Get("/activities/export.xlsx", c.export("xlsx"))
		r.Post("/activities/new", c.propose)
		r.Get("/activities/{id}", c.activity)
		r.Get("/activities/{id}/edit", c.amendForm)
		r.Post("/activities/{id}/edit", c.amend)
		r.Post("/activities/{id}/decide", c.decide)
		r.Post("/activities/{id}/milestones/{mid}/progress", c.progress)
		r.Post("/activities/{id}/milestones/{mid}/complete", c.complete)
		r.Post("/activities/{id}/milestones/{mid}/extensions", c.requestExtension)
		r.Post("/activities/{id}/milestones/{mid}/extensions/{eid}/decide", c.decideExtension)
		r.Post("/activities/{id}/control/{what}", c.control)
		r.Post("/activities/{id}/publication", c.publication)
		r.Get("/inbox", c.inbox)
		r.Post("/inbox/read", c.markRead)
		r.Get("/settings", c.settings)
		r.Post("/settings", c.saveSettings)
		r.Get("/overview", c.overview)
		r.Get("/dialogues/{dialogue}", c.dialogueOverview)
		r.Get("/dialogues/{dialogue}/export/iati", c.exportIATI)
		r.Get("/dialogues/{dialogue}/meetings/{number}", c.meeting)
		r.Post("/dialogues/{dialogue}/meetings/{number}/statements", c.makeStatement)
		r.Post("/dialogues/{dialogue}/meetings/{number}/minutes", c.recordMinutes)
		r.Post("/dialogues/{dialogue}/meetings/{number}/minutes/sign", c.signMinutes)
		r.Get("/dialogues/{dialogue}/meetings/{number}/report", c.meetingReport)
		r.Route("/admin", c.adminRoutes)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, errNotFound)
	})
	// A form posted from another site is refused before any handler runs:
	// Go's protection reads the browser's Sec-Fetch-Site and Origin.
	return http.NewCrossOriginProtection().Handler(r)
}

var errNotFound = errors.New("not found")

// contentSecurity lets pages load only the console's own assets, and be
// framed by nobody.
func contentSecurity(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// cacheAssets lets browsers keep the embedded assets for a day; they
// change only with the binary.
func cacheAssets(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		next.ServeHTTP(w, r)
	})
}

// sessionCookie names the browser's session secret.
const sessionCookie = "pacto_session"

type principalKey struct{}

// authenticate finds the session's principal, or sends the browser to
// sign in (back to where it was going afterwards).
func (c *Console) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(sessionCookie)
		if err == nil {
			p, err := c.store.SessionPrincipal(r.Context(), ck.Value, c.now(), c.sessions)
			if err == nil {
				p.Language = c.languageOf(r, p)
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
				return
			}
			if !errors.Is(err, store.ErrNoSession) {
				c.fail(w, r, err)
				return
			}
			c.clearSession(w)
		}
		if r.Method != http.MethodGet {
			// A form sent after the session ended: say so rather than
			// lose the input silently on a redirect.
			c.render(w, r, http.StatusUnauthorized, "signin", c.signInData(r, "signin.expired"))
			return
		}
		http.Redirect(w, r, "/signin?next="+safeNext(r.URL.RequestURI()), http.StatusSeeOther)
	})
}

func principalOf(r *http.Request) store.Principal {
	p, _ := r.Context().Value(principalKey{}).(store.Principal)
	return p
}

func (c *Console) setSession(w http.ResponseWriter, secret string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: c.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(c.sessions.Absolute / time.Second)})
}

func (c *Console) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: c.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// requestID is the id the API's middleware gave the request, for errors.
func requestID(r *http.Request) string { return middleware.GetReqID(r.Context()) }
