package console

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-chi/chi/v5"
	"golang.org/x/oauth2"

	"pacto/internal/api"
	"pacto/internal/store"
)

// Provider is a party's OpenID Connect identity provider: that party's
// people, and only they, sign in to the console through it. Each party
// has its own; two governments do not share one.
type Provider struct {
	// Party is the code of the party whose principals sign in through it.
	Party string
	// Issuer is the provider's issuer URL, exactly as its discovery
	// document and ID tokens write it.
	Issuer string
	// ClientID and ClientSecret are the console's registration at the
	// provider.
	ClientID, ClientSecret string
	// MatchEmail lets a person whose identity is not linked to a principal
	// yet sign in as the one enabled principal of the party with the
	// address the provider vouches for (email_verified), and links the
	// identity, so that later sign-ins match by subject. Off unless an
	// admin trusts the provider's addresses.
	MatchEmail bool
}

// CallbackPath is where providers send people back, under the console's
// public URL.
const CallbackPath = "/signin/callback"

// ValidateProviders checks providers before the console starts: each
// names a party, an issuer and a client, and no party has two.
func ValidateProviders(ps []Provider) error {
	seen := map[string]bool{}
	for _, p := range ps {
		switch {
		case p.Party == "":
			return errors.New("an identity provider names no party")
		case seen[p.Party]:
			return fmt.Errorf("party %s has more than one identity provider", p.Party)
		case p.ClientID == "":
			return fmt.Errorf("the identity provider of party %s has no client id", p.Party)
		case p.ClientSecret == "":
			return fmt.Errorf("the identity provider of party %s has no client secret", p.Party)
		}
		if err := api.CheckIssuer(p.Issuer); err != nil {
			return fmt.Errorf("the identity provider of party %s: %w", p.Party, err)
		}
		seen[p.Party] = true
	}
	return nil
}

// configureProviders takes the providers of opts, checked.
func (c *Console) configureProviders(opts Options) error {
	if len(opts.Providers) == 0 {
		return nil
	}
	if err := ValidateProviders(opts.Providers); err != nil {
		return err
	}
	base, err := publicBase(opts.PublicURL)
	if err != nil {
		return fmt.Errorf("identity providers send people back to the public URL: %w", err)
	}
	client := opts.ProviderClient
	if client == nil {
		client = &http.Client{Timeout: providerTimeout}
	}
	c.publicURL, c.idps = base, map[string]*idp{}
	for _, p := range opts.Providers {
		c.idps[p.Party] = &idp{Provider: p, client: client, now: c.now}
		c.idpOrder = append(c.idpOrder, p.Party)
	}
	return nil
}

const (
	// flowCookie holds, for the sign-in under way, its state: a random
	// value the callback compares with the provider's and looks up.
	flowCookie = "pacto_signin"
	// flowTime bounds a sign-in at the provider, consent and all.
	flowTime = 10 * time.Minute
	// providerTimeout bounds each exchange with a provider.
	providerTimeout = 10 * time.Second
)

// idp is a configured provider and, once reached, its discovered
// endpoints and keys.
type idp struct {
	Provider
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	endpoint oauth2.Endpoint
	verifier *oidc.IDTokenVerifier
}

// discover reads the provider's discovery document the first time it is
// needed, not at start: a provider down while Pacto starts must not stop
// the API, and the next sign-in tries again.
func (p *idp) discover(ctx context.Context) (oauth2.Endpoint, *oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	ep, v := p.endpoint, p.verifier
	p.mu.Unlock()
	if v != nil {
		return ep, v, nil
	}
	// Not under the lock: while a provider is down, each sign-in waits
	// for its own attempt only.
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, p.client), providerTimeout)
	defer cancel()
	op, err := oidc.NewProvider(ctx, p.Issuer)
	if err != nil {
		return oauth2.Endpoint{}, nil, fmt.Errorf("discover the identity provider of %s at %s: %w", p.Party, p.Issuer, err)
	}
	// The verifier checks the signature (keys fetched and refreshed from
	// the provider), the issuer, the audience (our client id) and expiry,
	// on the console's clock.
	ep, v = op.Endpoint(), op.Verifier(&oidc.Config{ClientID: p.ClientID, Now: p.now})
	p.mu.Lock()
	p.endpoint, p.verifier = ep, v
	p.mu.Unlock()
	return ep, v, nil
}

func (c *Console) oauthConfig(p *idp, ep oauth2.Endpoint) *oauth2.Config {
	scopes := []string{oidc.ScopeOpenID}
	if p.MatchEmail {
		// The address is asked for only where it may be used.
		scopes = append(scopes, "email")
	}
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, Endpoint: ep,
		RedirectURL: c.publicURL + CallbackPath, Scopes: scopes}
}

// providerButton is a provider as the sign-in page offers it.
type providerButton struct {
	Party, Name string
}

// providerButtons lists the providers by their parties' names.
func (c *Console) providerButtons(ctx context.Context) []providerButton {
	if len(c.idps) == 0 {
		return nil
	}
	names := map[string]string{}
	if ps, err := c.store.Parties(ctx); err == nil {
		for _, p := range ps {
			names[p.Code] = p.Name
		}
	}
	out := make([]providerButton, 0, len(c.idps))
	for _, party := range c.idpOrder {
		out = append(out, providerButton{Party: party, Name: cmp.Or(names[party], party)})
	}
	return out
}

// refuse shows the sign-in page with why signing in failed, keeping where
// the person was going.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request, status int, message, next string) {
	pg := c.signInData(r, message)
	if v, ok := pg.D.(signInView); ok && next != "" {
		v.Next = next
		pg.D = v
	}
	w.Header().Set("Cache-Control", "no-store")
	c.render(w, r, status, "signin", pg)
}

// startOIDC sends the browser to the party's provider, with a fresh
// state, nonce and PKCE challenge; the state, nonce and verifier stay
// here until the provider sends it back.
func (c *Console) startOIDC(w http.ResponseWriter, r *http.Request) {
	next := validNext(r.URL.Query().Get("next"))
	p := c.idps[chi.URLParam(r, "party")]
	if p == nil {
		c.refuse(w, r, http.StatusNotFound, "signin.oidc.noprovider", next)
		return
	}
	ep, _, err := p.discover(r.Context())
	if err != nil {
		c.log.WarnContext(r.Context(), "identity provider unavailable", "party", p.Party, "err", err, "request_id", requestID(r))
		c.refuse(w, r, http.StatusBadGateway, "signin.oidc.unavailable", next)
		return
	}
	state, nonce := randomString(), randomString()
	verifier := oauth2.GenerateVerifier()
	now := c.now()
	err = c.store.StartSignIn(r.Context(), state, store.SignIn{Party: p.Party, Nonce: nonce, Verifier: verifier, Next: next}, now, now.Add(flowTime))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: state, Path: CallbackPath, HttpOnly: true, Secure: c.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(flowTime / time.Second)})
	w.Header().Set("Cache-Control", "no-store")
	to := c.oauthConfig(p, ep).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier),
		// The provider's pages in the language the visitor reads here.
		oauth2.SetAuthURLParam("ui_locales", c.visitorLanguage(r)))
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// idClaims are the ID token's claims the console reads besides sub.
type idClaims struct {
	Email         string       `json:"email"`
	EmailVerified flexibleBool `json:"email_verified"`
}

// flexibleBool is true for a JSON true or the string "true", which some
// providers send instead. Anything else is false: an address nobody
// clearly vouches for is not verified, but it stops no sign-in by subject.
type flexibleBool bool

func (b *flexibleBool) UnmarshalJSON(data []byte) error {
	*b = flexibleBool(string(data) == "true" || string(data) == `"true"`)
	return nil
}

// finishOIDC is where the provider sends the browser back: it checks the
// state against this browser's and the sign-in kept for it, exchanges the
// code with the PKCE verifier, verifies the ID token and its nonce, finds
// the principal and starts a session.
func (c *Console) finishOIDC(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	state := q.Get("state")
	// The state is good for one try, whatever its outcome.
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Value: "", Path: CallbackPath, HttpOnly: true, Secure: c.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	ck, err := r.Cookie(flowCookie)
	if state == "" || err != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(state)) != 1 {
		c.log.InfoContext(ctx, "sign-in refused: the state is not this browser's", "request_id", requestID(r))
		c.refuse(w, r, http.StatusBadRequest, "signin.oidc.state", "")
		return
	}
	flow, err := c.store.TakeSignIn(ctx, state, c.now())
	if errors.Is(err, store.ErrNotFound) {
		c.log.InfoContext(ctx, "sign-in refused: no such sign-in under way, or it expired", "request_id", requestID(r))
		c.refuse(w, r, http.StatusBadRequest, "signin.oidc.state", "")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := c.idps[flow.Party]
	if p == nil {
		// Configured when the sign-in started, no longer now.
		c.refuse(w, r, http.StatusBadRequest, "signin.oidc.state", flow.Next)
		return
	}
	if e := q.Get("error"); e != "" {
		c.log.InfoContext(ctx, "the identity provider did not sign the person in", "party", p.Party, "error", loggable(e), "description", loggable(q.Get("error_description")), "request_id", requestID(r))
		if e == "access_denied" {
			c.refuse(w, r, http.StatusForbidden, "signin.oidc.denied", flow.Next)
		} else {
			c.refuse(w, r, http.StatusBadGateway, "signin.oidc.failed", flow.Next)
		}
		return
	}
	issuer, subject, claims, err := c.verify(ctx, p, q.Get("code"), flow)
	if err != nil {
		c.log.WarnContext(ctx, "sign-in refused: the provider's answer does not check out", "party", p.Party, "err", err, "request_id", requestID(r))
		c.refuse(w, r, http.StatusBadGateway, "signin.oidc.failed", flow.Next)
		return
	}
	pr, err := c.match(ctx, p, issuer, subject, claims)
	var refused refusal
	if errors.As(err, &refused) {
		// The subject is what an admin links; it names nobody by itself.
		c.log.InfoContext(ctx, "sign-in refused", "party", p.Party, "issuer", issuer, "subject", subject, "why", string(refused), "request_id", requestID(r))
		c.refuse(w, r, http.StatusForbidden, "signin.oidc.unknown", flow.Next)
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// A session from before signing in does not live on beside the new one.
	if old, err := r.Cookie(sessionCookie); err == nil {
		if err := c.store.DeleteSession(ctx, old.Value); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	secret, err := c.store.CreateSession(ctx, pr.ID, issuer, c.now(), c.sessions)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.setSession(w, secret)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, validNext(flow.Next), http.StatusSeeOther)
}

// verify exchanges the code, proving the sign-in's PKCE verifier, and
// checks the ID token: signature, issuer, audience, expiry and nonce.
func (c *Console) verify(ctx context.Context, p *idp, code string, flow store.SignIn) (issuer, subject string, claims idClaims, err error) {
	if code == "" {
		return "", "", claims, errors.New("the provider sent no code")
	}
	ep, verifier, err := p.discover(ctx)
	if err != nil {
		return "", "", claims, err
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, p.client), providerTimeout)
	defer cancel()
	tok, err := c.oauthConfig(p, ep).Exchange(ctx, code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		return "", "", claims, fmt.Errorf("exchange the code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return "", "", claims, errors.New("the token response holds no ID token")
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		return "", "", claims, fmt.Errorf("verify the ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		return "", "", claims, errors.New("the ID token's nonce is not the sign-in's")
	}
	if idt.Subject == "" {
		return "", "", claims, errors.New("the ID token names no subject")
	}
	if err := idt.Claims(&claims); err != nil {
		return "", "", claims, fmt.Errorf("read the ID token's claims: %w", err)
	}
	return idt.Issuer, idt.Subject, claims, nil
}

// refusal says why a verified identity may not sign in, for the log.
type refusal string

func (r refusal) Error() string { return string(r) }

// match finds the principal a verified identity signs in as: the one it
// is linked to, or, where the provider's addresses are trusted, the one
// enabled principal of the party with its verified address (linking it
// for next time). Only an enabled principal of the provider's own party
// gets in.
func (c *Console) match(ctx context.Context, p *idp, issuer, subject string, claims idClaims) (store.Principal, error) {
	pr, err := c.store.IdentityPrincipal(ctx, issuer, subject)
	switch {
	case err == nil:
		if pr.Disabled != nil {
			return store.Principal{}, refusal("the principal " + pr.ID + " is disabled")
		}
		if pr.Party != p.Party {
			return store.Principal{}, refusal(fmt.Sprintf("the identity is linked to %s, of party %q, not %s", pr.ID, pr.Party, p.Party))
		}
		return pr, nil
	case !errors.Is(err, store.ErrNotFound):
		return store.Principal{}, err
	case !p.MatchEmail:
		return store.Principal{}, refusal("the identity is linked to no principal")
	case claims.Email == "" || !bool(claims.EmailVerified):
		return store.Principal{}, refusal("the identity is linked to no principal, and the provider vouches for no address")
	}
	ps, err := c.store.PrincipalsByEmail(ctx, p.Party, claims.Email)
	if err != nil {
		return store.Principal{}, err
	}
	if len(ps) != 1 {
		return store.Principal{}, refusal(fmt.Sprintf("the identity is linked to no principal, and %d enabled principals of %s have its address", len(ps), p.Party))
	}
	if _, _, err := c.store.LinkIdentity(ctx, issuer, subject, ps[0].ID); errors.Is(err, store.ErrConflict) {
		return store.Principal{}, refusal("the identity was linked to another principal meanwhile")
	} else if err != nil {
		return store.Principal{}, err
	}
	c.log.InfoContext(ctx, "identity linked by its verified address", "principal", ps[0].ID, "issuer", issuer, "subject", subject)
	return ps[0], nil
}

// randomString is 32 random bytes, URL-safe.
func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// loggable keeps a provider's words to a loggable length, as text.
func loggable(s string) string {
	return clip(strings.ToValidUTF8(s, "?"), 200)
}

// publicBase checks the console's public URL, from which the callback is
// derived.
func publicBase(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("the public URL %q is not an absolute http or https URL", s)
	}
	return strings.TrimRight(s, "/"), nil
}
