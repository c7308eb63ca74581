package console

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"pacto/internal/api"
	"pacto/internal/store"
)

// idp is an OpenID Connect provider on loopback, for one party, that
// notes the PKCE values it was sent.
type testIdP struct {
	*mockoidc.MockOIDC
	mu                          sync.Mutex
	challenge, method, verifier string
}

func newTestIdP(t *testing.T) *testIdP {
	t.Helper()
	// A key of its own, so that one provider's tokens cannot pass for
	// the other's.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mockoidc.NewServer(key)
	if err != nil {
		t.Fatal(err)
	}
	p := &testIdP{MockOIDC: m}
	err = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ParseForm() == nil {
				p.mu.Lock()
				switch r.URL.Path {
				case mockoidc.AuthorizationEndpoint:
					p.challenge, p.method, p.verifier = r.Form.Get("code_challenge"), r.Form.Get("code_challenge_method"), ""
				case mockoidc.TokenEndpoint:
					if v := r.PostForm.Get("code_verifier"); v != "" {
						p.verifier = v
					}
				}
				p.mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return p
}

// person queues who signs in next at the provider.
func (p *testIdP) person(subject, email string, verified bool) {
	p.QueueUser(&mockoidc.MockUser{Subject: subject, Email: email, EmailVerified: verified})
}

// outspoken is a person whose provider puts their address in the ID
// token whatever scope was asked for, as some do.
type outspoken struct{ *mockoidc.MockUser }

func (u outspoken) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return u.MockUser.Claims([]string{"email"}, base)
}

func (p *testIdP) pkce() (challenge, method, verifier string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.challenge, p.method, p.verifier
}

func (p *testIdP) provider(party string, matchEmail bool) Provider {
	return Provider{Party: party, Issuer: p.Issuer(), ClientID: p.ClientID, ClientSecret: p.ClientSecret, MatchEmail: matchEmail}
}

// oidcSite is the console signing people in through a provider per
// party: PA's, which matches only linked identities, and US's, whose
// verified addresses an admin trusts.
type oidcSite struct {
	*site
	pa, us *testIdP
	admin  string // the demo admin's API token
}

func newOIDCSite(t *testing.T) *oidcSite {
	t.Helper()
	pa, us := newTestIdP(t), newTestIdP(t)
	st, tc, tokens := newBackend(t, false)
	// The public URL is the listener's, known before the console is made.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	srv := api.New(st, tc, api.Options{Logger: quietLogger()})
	con, err := New(Options{API: srv, Store: st, Log: quietLogger(), PublicURL: base,
		Providers: []Provider{pa.provider("PA", false), us.provider("US", true)}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Mount(con.Handler())
	hs := httptest.NewUnstartedServer(srv.Handler())
	_ = hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	return &oidcSite{site: &site{t: t, base: base, st: st}, pa: pa, us: us, admin: tokens["admin"]}
}

// visitor is a browser with no session yet, reading lang.
func (s *oidcSite) visitor(t *testing.T, lang string) *browser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(s.base)
	jar.SetCookies(u, []*http.Cookie{{Name: languageCookie, Value: lang, Path: "/"}})
	return &browser{t: t, s: s.site, http: &http.Client{Jar: jar}}
}

// link links an identity through the admin API, as an admin would.
func (s *oidcSite) link(t *testing.T, principal string, idp *testIdP, subject string) {
	t.Helper()
	body, _ := json.Marshal(api.IdentityRequest{Issuer: idp.Issuer(), Subject: subject})
	req, _ := http.NewRequest(http.MethodPost, s.base+"/v1/admin/principals/"+principal+"/identities", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+s.admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("link %s to %s: %d", subject, principal, resp.StatusCode)
	}
}

var providerLink = regexp.MustCompile(`href="(/signin/oidc/[A-Z]+\?next=[^"]*)"`)

// signIn follows the sign-in page's link for party through its provider
// and back, as a browser does.
func (b *browser) signIn(party, next string) reply {
	b.t.Helper()
	page := b.get("/signin?next=" + url.QueryEscape(next))
	for _, m := range providerLink.FindAllStringSubmatch(page.body, -1) {
		if href := html.UnescapeString(m[1]); strings.HasPrefix(href, "/signin/oidc/"+party+"?") {
			return b.get(href)
		}
	}
	b.t.Fatalf("the sign-in page offers no provider for %s:\n%s", party, page.body)
	return reply{}
}

// signedInAs says who the page shows signed in, or "".
var signedInAs = regexp.MustCompile(`<div class="who">\s*<span>([^<·]+)`)

func whoIs(r reply) string {
	m := signedInAs.FindStringSubmatch(r.body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(html.UnescapeString(m[1]))
}

// stopAt is a browser that does not follow a redirect to host, so a test
// can read or alter what it carries.
func (b *browser) stopAt(host string) *browser {
	c := *b.http
	c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == host {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return &browser{t: b.t, s: b.s, http: &c}
}

// location is the redirect a response asked for.
func (b *browser) location(req *http.Request) *url.URL {
	b.t.Helper()
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		b.t.Fatalf("%s: %d, no redirect: %v", req.URL, resp.StatusCode, err)
	}
	return loc
}

// toProvider starts signing in through party's provider and stops at its
// door, returning the authorization request the console sent.
func (s *oidcSite) toProvider(b *browser, idp *testIdP, party, next string) *url.URL {
	b.t.Helper()
	u, _ := url.Parse(idp.Addr())
	req, _ := http.NewRequest(http.MethodGet, s.base+"/signin/oidc/"+party+"?next="+url.QueryEscape(next), nil)
	return b.stopAt(u.Host).location(req)
}

// atProvider has the provider sign the person in and returns where it
// sends the browser back, without going there.
func (s *oidcSite) atProvider(t *testing.T, auth *url.URL) *url.URL {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, auth.String(), nil)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), s.base+CallbackPath+"?") {
		t.Fatalf("the provider answered %d, sending the browser to %v (%v)", resp.StatusCode, loc, err)
	}
	return loc
}

func (s *oidcSite) sessionsVia(t *testing.T, principal string) []string {
	t.Helper()
	rows, err := s.st.Pool().Query(context.Background(), "SELECT via FROM sessions WHERE principal_id = $1 ORDER BY created_at", principal)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var via string
		if err := rows.Scan(&via); err != nil {
			t.Fatal(err)
		}
		out = append(out, via)
	}
	return out
}

func TestOIDCSignIn(t *testing.T) {
	s := newOIDCSite(t)
	s.link(t, "pa-approver", s.pa, "pa-sub-approver")
	s.link(t, "us-coordinator", s.us, "us-sub-coordinator")
	for _, tc := range []struct {
		name string
		run  func(*oidcSite, *testing.T)
	}{
		{"linked-principal-lands-where-asked", (*oidcSite).linkedPrincipal},
		{"who-may-not-sign-in", (*oidcSite).refused},
		{"email-matching", (*oidcSite).emailMatching},
		{"state-nonce-and-pkce", (*oidcSite).stateNonceAndPKCE},
		{"disabling", (*oidcSite).disabling},
		{"provider-unavailable", (*oidcSite).unavailable},
		{"expired-id-token", (*oidcSite).expired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.t = t
			tc.run(s, t)
		})
	}
}

// A person whose identity is linked signs in through their party's
// provider and lands on the page they asked for, with a session that
// says which provider vouched for them; PKCE went with the code.
func (s *oidcSite) linkedPrincipal(t *testing.T) {
	b := s.visitor(t, "es")
	first := b.get("/inbox")
	must(t, first, 200, "Iniciar sesión", "Iniciar sesión con Panamá", "Iniciar sesión con United States")
	if !strings.Contains(first.url, "/signin?next=%2Finbox") {
		t.Fatalf("not sent to sign in: %s", first.url)
	}
	// Without the dev sign-in, nobody is listed to pick from.
	if strings.Contains(first.body, `name="principal"`) {
		t.Fatal("the production sign-in page lists principals")
	}
	s.pa.person("pa-sub-approver", "", false)
	landed := b.signIn("PA", "/inbox")
	must(t, landed, 200, "Bandeja de entrada")
	if u, _ := url.Parse(landed.url); u.Path != "/inbox" || whoIs(landed) != "Aprobador de Panamá" {
		t.Fatalf("landed on %s as %q", landed.url, whoIs(landed))
	}
	if via := s.sessionsVia(t, "pa-approver"); len(via) != 1 || via[0] != s.pa.Issuer() {
		t.Fatalf("sessions of pa-approver by %v, want one by %s", via, s.pa.Issuer())
	}
	challenge, method, verifier := s.pa.pkce()
	sum := sha256.Sum256([]byte(verifier))
	if method != "S256" || verifier == "" || challenge != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Fatalf("PKCE: challenge %q method %q verifier %q", challenge, method, verifier)
	}
	// Signing in again, through the same link, replaces the session.
	s.pa.person("pa-sub-approver", "", false)
	must(t, b.signIn("PA", "/"), 200, "Mi trabajo")
	if via := s.sessionsVia(t, "pa-approver"); len(via) != 1 {
		t.Fatalf("%d sessions after signing in twice in one browser", len(via))
	}
	// Where to go afterwards is a path on this site, never another site.
	us := s.visitor(t, "en")
	s.us.person("us-sub-coordinator", "", false)
	off := us.signIn("US", "//evil.example/x")
	if u, _ := url.Parse(off.url); u.Host != strings.TrimPrefix(s.base, "http://") || u.Path != "/" || whoIs(off) != "US Coordinator" {
		t.Fatalf("next=//evil.example led to %s as %q", off.url, whoIs(off))
	}
}

// Nobody gets in who is not an enabled principal of the provider's party:
// an unlinked subject, an identity linked across parties, a party without
// a provider.
func (s *oidcSite) refused(t *testing.T) {
	b := s.visitor(t, "en")
	before := len(s.sessionsVia(t, "pa-approver"))
	s.pa.person("somebody-else", "pa-approver@pa.example", true)
	r := b.signIn("PA", "/")
	must(t, r, http.StatusForbidden, "you are not an active member of that party")
	if whoIs(r) != "" || len(s.sessionsVia(t, "pa-approver")) != before {
		t.Fatalf("an unlinked subject got in: %q", whoIs(r))
	}
	// The same refusal in Spanish for a Spanish reader.
	s.pa.person("somebody-else", "", false)
	must(t, s.visitor(t, "es").signIn("PA", "/"), http.StatusForbidden, "no es una persona activa de esa parte")

	// An identity at PA's provider linked (by mistake) to a US principal
	// lets nobody in through PA's provider, nor through US's.
	s.link(t, "us-observer", s.pa, "pa-sub-linked-to-us")
	s.pa.person("pa-sub-linked-to-us", "", false)
	must(t, b.signIn("PA", "/"), http.StatusForbidden)
	s.us.person("pa-sub-linked-to-us", "", false)
	must(t, b.signIn("US", "/"), http.StatusForbidden)
	// A US identity does not sign in through PA's provider either: the
	// same subject there is somebody else.
	s.pa.person("us-sub-coordinator", "", false)
	must(t, b.signIn("PA", "/"), http.StatusForbidden)
	if via := s.sessionsVia(t, "us-observer"); len(via) != 0 {
		t.Fatalf("us-observer got sessions %v", via)
	}
	// An admin outside every party has no provider to sign in through.
	s.link(t, "admin", s.us, "us-sub-admin")
	s.us.person("us-sub-admin", "", false)
	must(t, b.signIn("US", "/"), http.StatusForbidden)
	// A party without a provider.
	must(t, b.get("/signin/oidc/CR"), http.StatusNotFound, "There is no identity provider for that party")
}

// A verified address finds the party's principal only where an admin
// allowed it for the provider, and the first match links the identity so
// that later sign-ins match by subject.
func (s *oidcSite) emailMatching(t *testing.T) {
	ctx := context.Background()
	// PA's provider does not match addresses, verified or not, even
	// when it sends one unasked.
	s.pa.QueueUser(outspoken{&mockoidc.MockUser{Subject: "pa-sub-new", Email: "pa-observer@pa.example", EmailVerified: true}})
	must(t, s.visitor(t, "es").signIn("PA", "/"), http.StatusForbidden)
	// US's does, but not an address the provider does not vouch for.
	s.us.person("us-sub-new", "us-observer@us.example", false)
	must(t, s.visitor(t, "en").signIn("US", "/"), http.StatusForbidden)
	if _, err := s.st.IdentityPrincipal(ctx, s.us.Issuer(), "us-sub-new"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unverified address linked an identity: %v", err)
	}
	// Nor another party's principal's address.
	s.us.person("us-sub-pa", "pa-observer@pa.example", true)
	must(t, s.visitor(t, "en").signIn("US", "/"), http.StatusForbidden)
	// A verified address, written in another case.
	b := s.visitor(t, "en")
	s.us.person("us-sub-new", "US-Observer@us.example", true)
	r := b.signIn("US", "/activities")
	must(t, r, 200)
	if whoIs(r) != "US Observer" {
		t.Fatalf("signed in as %q", whoIs(r))
	}
	if p, err := s.st.IdentityPrincipal(ctx, s.us.Issuer(), "us-sub-new"); err != nil || p.ID != "us-observer" {
		t.Fatalf("the first match was not linked: %+v %v", p, err)
	}
	// Later, by subject, whatever the address says now.
	s.us.person("us-sub-new", "changed@us.example", false)
	if r := s.visitor(t, "en").signIn("US", "/"); whoIs(r) != "US Observer" {
		t.Fatalf("by subject after the link: %d %q", r.status, whoIs(r))
	}
}

// The state must be this browser's and used once, the nonce the one sent,
// and the code redeemed with the PKCE verifier; consent refused is said
// so.
func (s *oidcSite) stateNonceAndPKCE(t *testing.T) {
	before := len(s.sessionsVia(t, "pa-approver"))
	noSession := func(what string) {
		t.Helper()
		if n := len(s.sessionsVia(t, "pa-approver")); n != before {
			t.Fatalf("%s: a session was created", what)
		}
	}
	// A tampered state.
	b := s.visitor(t, "en")
	s.pa.person("pa-sub-approver", "", false)
	back := s.atProvider(t, s.toProvider(b, s.pa, "PA", "/"))
	tampered := *back
	q := tampered.Query()
	q.Set("state", q.Get("state")+"x")
	tampered.RawQuery = q.Encode()
	must(t, b.get(strings.TrimPrefix(tampered.String(), s.base)), http.StatusBadRequest, "This sign-in could not be finished")
	noSession("tampered state")

	// The callback taken to another browser (a sign-in forced on someone
	// else), then replayed in the browser that started it.
	b = s.visitor(t, "en")
	s.pa.person("pa-sub-approver", "", false)
	back = s.atProvider(t, s.toProvider(b, s.pa, "PA", "/"))
	must(t, s.visitor(t, "en").get(strings.TrimPrefix(back.String(), s.base)), http.StatusBadRequest, "This sign-in could not be finished")
	noSession("another browser")
	must(t, b.get(strings.TrimPrefix(back.String(), s.base)), 200)
	before++
	// The jar no longer holds the state; a replay with it is refused too.
	replay, _ := http.NewRequest(http.MethodGet, back.String(), nil)
	replay.AddCookie(&http.Cookie{Name: flowCookie, Value: back.Query().Get("state")})
	if r := s.visitor(t, "en").do(replay); r.status != http.StatusBadRequest {
		t.Fatalf("a replayed callback: %d", r.status)
	}
	noSession("replay")

	// A nonce other than the one the console sent.
	b = s.visitor(t, "en")
	s.pa.person("pa-sub-approver", "", false)
	auth := s.toProvider(b, s.pa, "PA", "/")
	q = auth.Query()
	if q.Get("nonce") == "" || q.Get("state") == "" || q.Get("ui_locales") != "en" || q.Get("scope") != "openid" {
		t.Fatalf("authorization request lacks nonce, state, language or scope: %s", auth)
	}
	q.Set("nonce", "not-the-nonce")
	auth.RawQuery = q.Encode()
	back = s.atProvider(t, auth)
	must(t, b.get(strings.TrimPrefix(back.String(), s.base)), http.StatusBadGateway, "could not be checked")
	noSession("nonce")

	// A challenge other than the verifier's: the provider will not
	// redeem the code.
	b = s.visitor(t, "es")
	s.pa.person("pa-sub-approver", "", false)
	auth = s.toProvider(b, s.pa, "PA", "/")
	q = auth.Query()
	q.Set("code_challenge", strings.Repeat("A", 43))
	auth.RawQuery = q.Encode()
	back = s.atProvider(t, auth)
	must(t, b.get(strings.TrimPrefix(back.String(), s.base)), http.StatusBadGateway, "No se pudo comprobar la respuesta")
	noSession("PKCE")

	// Consent refused at the provider.
	b = s.visitor(t, "es")
	auth = s.toProvider(b, s.pa, "PA", "/")
	denied := CallbackPath + "?error=access_denied&state=" + url.QueryEscape(auth.Query().Get("state"))
	must(t, b.get(denied), http.StatusForbidden, "Se canceló el inicio de sesión")
	noSession("consent refused")
}

// Disabling a principal through the admin API ends its open session at
// once, and it cannot sign in again.
func (s *oidcSite) disabling(t *testing.T) {
	b := s.visitor(t, "en")
	s.us.person("us-sub-coordinator", "", false)
	if r := b.signIn("US", "/"); whoIs(r) != "US Coordinator" {
		t.Fatalf("sign in: %d %q", r.status, whoIs(r))
	}
	req, _ := http.NewRequest(http.MethodPost, s.base+"/v1/admin/principals/us-coordinator/disable", nil)
	req.Header.Set("Authorization", "Bearer "+s.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if r := b.get("/"); !strings.Contains(r.url, "/signin") || whoIs(r) != "" {
		t.Fatalf("the disabled principal's session still works: %s", r.url)
	}
	if via := s.sessionsVia(t, "us-coordinator"); len(via) != 0 {
		t.Fatalf("sessions of a disabled principal remain: %v", via)
	}
	s.us.person("us-sub-coordinator", "", false)
	must(t, b.signIn("US", "/"), http.StatusForbidden)
}

// A provider that does not answer is said so, and the next sign-in tries
// it again.
func (s *oidcSite) unavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	st := s.st
	con, err := New(Options{Store: st, Log: quietLogger(), PublicURL: s.base,
		Providers: []Provider{{Party: "PA", Issuer: "http://" + addr + "/oidc", ClientID: "c", ClientSecret: "s"}}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(con.Handler())
	defer hs.Close()
	b := &browser{t: t, s: &site{t: t, base: hs.URL, st: st}, http: &http.Client{}}
	must(t, b.get("/signin/oidc/PA?next=/"), http.StatusBadGateway, "no responde")
}

// An ID token past its expiry, by the console's clock, signs nobody in.
func (s *oidcSite) expired(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	// The provider's tokens last 10 minutes; this console lives an hour on.
	later := func() time.Time { return time.Now().Add(time.Hour) }
	con, err := New(Options{Store: s.st, Log: quietLogger(), PublicURL: base, Now: later,
		Providers: []Provider{s.pa.provider("PA", false)}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(con.Handler())
	_ = hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	defer hs.Close()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, s: &site{t: t, base: base, st: s.st}, http: &http.Client{Jar: jar}}
	before := len(s.sessionsVia(t, "pa-approver"))
	s.pa.person("pa-sub-approver", "", false)
	must(t, b.get("/signin/oidc/PA?next=/"), http.StatusBadGateway, "No se pudo comprobar la respuesta")
	if n := len(s.sessionsVia(t, "pa-approver")); n != before {
		t.Fatal("an expired ID token started a session")
	}
}

// Providers are checked before the console starts.
func TestProvidersAreChecked(t *testing.T) {
	good := Provider{Party: "PA", Issuer: "https://id.pa.example/realms/gob", ClientID: "pacto", ClientSecret: "s"}
	with := func(edit func(*Provider)) []Provider {
		p := good
		edit(&p)
		return []Provider{p}
	}
	for _, c := range []struct {
		name string
		ps   []Provider
		url  string
		says string
	}{
		{"no party", with(func(p *Provider) { p.Party = "" }), "https://pacto.example", "names no party"},
		{"two for a party", []Provider{good, good}, "https://pacto.example", "more than one"},
		{"no client id", with(func(p *Provider) { p.ClientID = "" }), "https://pacto.example", "no client id"},
		{"no secret", with(func(p *Provider) { p.ClientSecret = "" }), "https://pacto.example", "no client secret"},
		{"plain http issuer", with(func(p *Provider) { p.Issuer = "http://id.pa.example" }), "https://pacto.example", "must use https"},
		{"no public URL", []Provider{good}, "", "public URL"},
		{"relative public URL", []Provider{good}, "pacto.example", "public URL"},
	} {
		_, err := New(Options{Providers: c.ps, PublicURL: c.url})
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.says)
		}
	}
	if _, err := New(Options{Providers: []Provider{good}, PublicURL: "https://pacto.example/"}); err != nil {
		t.Fatalf("a good provider: %v", err)
	}
}

// Some providers write email_verified as a string; anything but true is
// not verified, and no reason to refuse the token.
func TestEmailVerifiedAsStringOrBoolean(t *testing.T) {
	for in, want := range map[string]bool{`true`: true, `"true"`: true, `false`: false, `"false"`: false, `null`: false,
		`"yes"`: false, `1`: false, `{}`: false} {
		var c idClaims
		if err := json.Unmarshal([]byte(`{"email_verified":`+in+`}`), &c); err != nil || bool(c.EmailVerified) != want {
			t.Errorf("%s: %v %v", in, c.EmailVerified, err)
		}
	}
}
