package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"pacto/internal/delivery"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

var (
	roleNames = []string{"coordinator", "approver", "observer", "admin"}
	languages = []string{"es", "en"}
)

// checkName validates a required name of at most maxName characters.
func checkName(field, v string) error {
	if v == "" {
		return failField(probInvalid, field, field+" is required")
	}
	if n := utf8.RuneCountInString(v); n > maxName {
		return failField(probInvalid, field, fmt.Sprintf("%s is %d characters long; the limit is %d", field, n, maxName))
	}
	// The CLI's writes come here without passing the API's body check.
	if err := lifecycle.CheckText(v); err != nil {
		return failField(probInvalid, field, fmt.Sprintf("%s %v", field, err))
	}
	return nil
}

// storeWriteError turns a store conflict or dangling reference into a
// problem that names the field at fault.
func storeWriteError(err error, conflictDetail, missingField, missingDetail string) error {
	var langErr *store.LanguageError
	switch {
	case errors.Is(err, store.ErrConflict):
		return fail(probConflict, conflictDetail)
	case errors.As(err, &langErr):
		return failField(probInvalid, "languages", langErr.Error())
	case errors.Is(err, store.ErrInvalid):
		return fail(probInvalid, "a value is outside what the database accepts: "+err.Error())
	case errors.Is(err, store.ErrNotFound):
		return failField(probInvalid, missingField, missingDetail)
	}
	return err
}

// errAdminOnly refuses what only an admin may do.
var errAdminOnly = fail(probForbidden, "only an admin may use /v1/admin")

// adminOnly refuses a principal without the admin role. The /v1/admin
// routes refuse them before any handler runs; the console comes through
// the methods below, so each checks again.
func adminOnly(p store.Principal) error {
	if !hasRole(p, "admin") {
		return errAdminOnly
	}
	return nil
}

func (s *Server) listParties(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.Parties(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"parties": ps})
}

// Parties is GET /v1/admin/parties: every party, for admin p.
func (s *Server) Parties(ctx context.Context, p store.Principal) ([]store.Party, error) {
	if err := adminOnly(p); err != nil {
		return nil, err
	}
	return s.store.Parties(ctx)
}

func (s *Server) createParty(w http.ResponseWriter, r *http.Request) error {
	var p store.Party
	if err := decode(w, r, &p); err != nil {
		return err
	}
	created, err := s.CreateParty(r.Context(), principalOf(r), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, created)
}

// CreateParty is POST /v1/admin/parties, by admin p.
func (s *Server) CreateParty(ctx context.Context, p store.Principal, party store.Party) (store.Party, error) {
	if err := adminOnly(p); err != nil {
		return store.Party{}, err
	}
	if err := ValidateParty(party); err != nil {
		return store.Party{}, err
	}
	created, err := s.store.CreateParty(ctx, party)
	if err != nil {
		return store.Party{}, storeWriteError(err, "party "+party.Code+" already exists", "code", "")
	}
	return created, nil
}

// ValidateParty checks a party before it is stored; the CLI uses it too.
func ValidateParty(p store.Party) error {
	if !partyCodePattern.MatchString(p.Code) {
		return failField(probInvalid, "code", "code must be 1 to 16 capital letters, digits, '_' or '-', starting with a letter")
	}
	if err := checkName("name", p.Name); err != nil {
		return err
	}
	if !slices.Contains(languages, p.Language) {
		return failField(probInvalid, "language", "language must be es or en")
	}
	// "Local" would make due dates depend on the server's machine.
	if p.TimeZone == "" || utf8.RuneCountInString(p.TimeZone) > maxTimeZone || p.TimeZone == "Local" {
		return failField(probInvalid, "time_zone", fmt.Sprintf("%q is not an IANA time zone such as America/Panama", p.TimeZone))
	}
	// Valid exactly when the core can resolve due times in it, from its
	// own zone database.
	if _, err := lifecycle.LoadZone(p.TimeZone); err != nil {
		return failField(probInvalid, "time_zone", fmt.Sprintf("%q is not an IANA time zone such as America/Panama", p.TimeZone))
	}
	return ValidatePartyIATI(p.IATIOrgRef, p.IATIOrgType, "iati_")
}

func (s *Server) listDialogues(w http.ResponseWriter, r *http.Request) error {
	ds, err := s.Dialogues(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"dialogues": ds})
}

// Dialogues is GET /v1/admin/dialogues: every dialogue, for admin p.
func (s *Server) Dialogues(ctx context.Context, p store.Principal) ([]store.Dialogue, error) {
	if err := adminOnly(p); err != nil {
		return nil, err
	}
	return s.store.Dialogues(ctx)
}

func (s *Server) createDialogue(w http.ResponseWriter, r *http.Request) error {
	var d store.Dialogue
	if err := decode(w, r, &d); err != nil {
		return err
	}
	created, err := s.CreateDialogue(r.Context(), principalOf(r), d)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, created)
}

// CreateDialogue is POST /v1/admin/dialogues, by admin p.
func (s *Server) CreateDialogue(ctx context.Context, p store.Principal, d store.Dialogue) (store.Dialogue, error) {
	if err := adminOnly(p); err != nil {
		return store.Dialogue{}, err
	}
	if err := ValidateDialogue(d); err != nil {
		return store.Dialogue{}, err
	}
	created, err := s.store.CreateDialogue(ctx, d)
	if errors.Is(err, store.ErrNotAParty) {
		return store.Dialogue{}, failField(probInvalid, "iati_reporting_party", "the reporting party must be one of the dialogue's parties")
	}
	if err != nil {
		return store.Dialogue{}, storeWriteError(err, "dialogue "+d.ID+" already exists or lists a party twice", "parties", "every party must exist; create it first")
	}
	return created, nil
}

// ValidateDialogue checks a dialogue before it is stored; the CLI uses it
// too. Whether its parties exist is the database's to say.
func ValidateDialogue(d store.Dialogue) error {
	if !dialogueIDPattern.MatchString(d.ID) {
		return failField(probInvalid, "id", "id must be 1 to 100 letters, digits, '_', '.', ':' or '-', starting with a letter or digit")
	}
	if err := checkName("name", d.Name); err != nil {
		return err
	}
	if len(d.Parties) < 2 {
		return failField(probInvalid, "parties", "a dialogue needs at least two parties")
	}
	for i, l := range d.Languages {
		if !slices.Contains(languages, l) || slices.Contains(d.Languages[:i], l) {
			return failField(probInvalid, "languages", fmt.Sprintf("languages must be distinct, each es or en; %q is not", l))
		}
	}
	return ValidateDialogueIATI(d.DialogueIATI, d.Parties, "iati_")
}

func (s *Server) listPrincipals(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.Principals(r.Context(), principalOf(r), r.URL.Query().Get("party"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"principals": ps})
}

// Principals is GET /v1/admin/principals: every principal, disabled ones
// too, of one party when party is not empty; for admin p.
func (s *Server) Principals(ctx context.Context, p store.Principal, party string) ([]store.Principal, error) {
	if err := adminOnly(p); err != nil {
		return nil, err
	}
	return s.store.Principals(ctx, party)
}

// ValidatePrincipal checks a principal before it is stored; the CLI uses
// it too.
func ValidatePrincipal(p *store.Principal) error {
	if p.Language == "" {
		p.Language = "en"
	}
	if !principalIDPattern.MatchString(p.ID) {
		return failField(probInvalid, "id", "id must be 1 to 100 letters, digits, '_', '.', '@' or '-', starting with a letter or digit")
	}
	if p.ID == lifecycle.ClockActor || p.ID == lifecycle.SystemActor || p.ID == lifecycle.TemporalActor {
		// The audit log names the clock, Pacto itself and operators
		// acting in Temporal by these.
		return failField(probInvalid, "id", fmt.Sprintf("id %q is reserved for Pacto's own changes", p.ID))
	}
	if err := checkName("name", p.Name); err != nil {
		return err
	}
	switch {
	case utf8.RuneCountInString(p.Email) > maxEmail:
		return failField(probInvalid, "email", fmt.Sprintf("email is longer than %d characters", maxEmail))
	case p.Email != "" && !emailPattern.MatchString(p.Email):
		return failField(probInvalid, "email", fmt.Sprintf("%q is not an email address", p.Email))
	case len(p.Roles) == 0:
		return failField(probInvalid, "roles", "at least one role is required: coordinator, approver, observer or admin")
	case !slices.Contains(languages, p.Language):
		return failField(probInvalid, "language", "language must be es or en")
	}
	onlyAdmin := true
	for _, role := range p.Roles {
		if !slices.Contains(roleNames, role) {
			return failField(probInvalid, "roles", fmt.Sprintf("%q is not a role; use coordinator, approver, observer or admin", role))
		}
		onlyAdmin = onlyAdmin && role == "admin"
	}
	if p.Party == "" && !onlyAdmin {
		return failField(probInvalid, "party", "a principal with a role other than admin must belong to a party")
	}
	return nil
}

func (s *Server) createPrincipal(w http.ResponseWriter, r *http.Request) error {
	var p store.Principal
	if err := decode(w, r, &p); err != nil {
		return err
	}
	created, err := s.CreatePrincipal(r.Context(), principalOf(r), p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, created)
}

// CreatePrincipal is POST /v1/admin/principals, by admin p.
func (s *Server) CreatePrincipal(ctx context.Context, p store.Principal, np store.Principal) (store.Principal, error) {
	if err := adminOnly(p); err != nil {
		return store.Principal{}, err
	}
	if np.Disabled != nil {
		return store.Principal{}, failField(probInvalid, "disabled_at", "disabled_at cannot be set on creation")
	}
	if err := ValidatePrincipal(&np); err != nil {
		return store.Principal{}, err
	}
	created, err := s.store.CreatePrincipal(ctx, np)
	if err != nil {
		return store.Principal{}, storeWriteError(err, "principal "+np.ID+" already exists", "party", "party "+np.Party+" does not exist")
	}
	return created, nil
}

// DisablePrincipal stops principal id, by admin p: its tokens stop
// working and its sessions end at once. An admin does not disable
// themselves, so that a slip cannot lock the last one out.
func (s *Server) DisablePrincipal(ctx context.Context, p store.Principal, id string) error {
	if err := adminOnly(p); err != nil {
		return err
	}
	if !principalIDPattern.MatchString(id) {
		return fail(probNotFound, "no such principal")
	}
	if id == p.ID {
		return fail(probConflict, "you cannot disable yourself; another admin can")
	}
	err := s.store.DisablePrincipal(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fail(probNotFound, "no enabled principal with that id")
	}
	return err
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.Tokens(r.Context(), principalOf(r), r.URL.Query().Get("principal"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

// Tokens is GET /v1/admin/tokens: every token without its secret, of one
// principal when principal is not empty; for admin p.
func (s *Server) Tokens(ctx context.Context, p store.Principal, principal string) ([]store.TokenInfo, error) {
	if err := adminOnly(p); err != nil {
		return nil, err
	}
	return s.store.Tokens(ctx, principal)
}

// TokenRequest asks for a new token for a principal.
type TokenRequest struct {
	Principal string `json:"principal"`
	Name      string `json:"name,omitempty"`
}

// NewToken is a freshly issued token: Secret is shown this once.
type NewToken struct {
	Token  store.TokenInfo `json:"token"`
	Secret string          `json:"secret"`
}

// validateTokenRequest checks a request for a token; whether the principal
// exists is the database's to say.
func validateTokenRequest(req TokenRequest) error {
	if req.Principal == "" {
		return failField(probInvalid, "principal", "principal is required")
	}
	if n := utf8.RuneCountInString(req.Name); n > maxTokenName {
		return failField(probInvalid, "name", fmt.Sprintf("name is %d characters long; the limit is %d", n, maxTokenName))
	}
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var req TokenRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	created, err := s.CreateToken(r.Context(), principalOf(r), req)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, created)
}

// CreateToken is POST /v1/admin/tokens, by admin p. The secret it returns
// is the only copy: the store keeps its hash.
func (s *Server) CreateToken(ctx context.Context, p store.Principal, req TokenRequest) (NewToken, error) {
	if err := adminOnly(p); err != nil {
		return NewToken{}, err
	}
	if err := validateTokenRequest(req); err != nil {
		return NewToken{}, err
	}
	info, secret, err := s.store.CreateToken(ctx, req.Principal, req.Name)
	if err != nil {
		return NewToken{}, storeWriteError(err, "token id collision; try again", "principal", "principal "+req.Principal+" does not exist")
	}
	return NewToken{Token: info, Secret: secret}, nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.RevokeToken(r.Context(), principalOf(r), chi.URLParam(r, "tid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// RevokeToken is DELETE /v1/admin/tokens/{tid}, by admin p.
func (s *Server) RevokeToken(ctx context.Context, p store.Principal, id string) error {
	if err := adminOnly(p); err != nil {
		return err
	}
	if ae := badID("tid", id); ae != nil {
		return ae
	}
	err := s.store.RevokeToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fail(probNotFound, "no live token with that id")
	}
	return err
}

// InboxPage is a page of the caller's notifications.
type InboxPage struct {
	Notifications []InboxNotification `json:"notifications"`
	NextCursor    string              `json:"next_cursor,omitempty"`
}

// InboxNotification is a notification as the inbox serves it, with the
// console's page of what it is about.
type InboxNotification struct {
	store.Notification
	// Link is the path of that page: /activities/<id>, or for a dialogue
	// meeting's notice (whose activity is the meeting's audit chain id)
	// /dialogues/<dialogue>/meetings/<n>. Empty for a notice too old to
	// say.
	Link string `json:"link,omitempty"`
}

func (s *Server) inbox(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	unread := false
	switch q.Get("unread") {
	case "", "false":
	case "true":
		unread = true
	default:
		return failField(probInvalid, "unread", "unread must be true or false")
	}
	limit, err := limitParam(q.Get("limit"))
	if err != nil {
		return err
	}
	var after *store.InboxCursor
	if c := q.Get("cursor"); c != "" {
		after = &store.InboxCursor{}
		if err := decodeCursor(c, after); err != nil {
			return err
		}
	}
	ns, next, err := s.Inbox(r.Context(), principalOf(r), unread, after, limit)
	if err != nil {
		return err
	}
	page := InboxPage{Notifications: ns}
	if next != nil {
		page.NextCursor = encodeCursor(next)
	}
	return writeJSON(w, http.StatusOK, page)
}

// MarkReadRequest marks notifications read: the listed ones, or all.
type MarkReadRequest struct {
	IDs []int64 `json:"ids,omitempty"`
	All bool    `json:"all,omitempty"`
}

func (s *Server) markRead(w http.ResponseWriter, r *http.Request) error {
	var req MarkReadRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if len(req.IDs) == 0 && !req.All {
		return failField(probInvalid, "ids", "list the ids to mark read, or send all: true")
	}
	if len(req.IDs) > 0 && req.All {
		return failField(probInvalid, "all", "send either ids or all, not both")
	}
	n, err := s.MarkRead(r.Context(), principalOf(r), req.IDs)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]int64{"marked": n})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	_ = writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when PostgreSQL and Temporal both answer.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status := map[string]string{"postgres": "ok", "temporal": "ok"}
	ready := true
	if err := s.store.Ping(ctx); err != nil {
		status["postgres"], ready = "unreachable", false
	}
	if _, err := s.temporal.CheckHealth(ctx, nil); err != nil {
		status["temporal"], ready = "unreachable", false
	}
	if !ready {
		writeProblem(w, r, fail(probUnavailable, fmt.Sprintf("postgres: %s, temporal: %s", status["postgres"], status["temporal"])))
		return
	}
	_ = writeJSON(w, http.StatusOK, status)
}

// inboxNotification is notification n as reader p reads it in the inbox:
// with its titles in p's language and the page it links to.
func inboxNotification(n store.Notification, p store.Principal) (InboxNotification, error) {
	var c store.NotificationContent
	if err := json.Unmarshal(n.Content, &c); err != nil {
		return InboxNotification{}, fmt.Errorf("notification %d: decode content: %w", n.ID, err)
	}
	var err error
	if n.Content, err = withReaderTexts(n.Content, readerLanguage(p)); err != nil {
		return InboxNotification{}, fmt.Errorf("notification %d: %w", n.ID, err)
	}
	out := InboxNotification{Notification: n}
	// A notice without the ids of its page is still listed, unlinked.
	out.Link, _ = delivery.ConsolePath(c)
	return out, nil
}

// withReaderTexts adds to a notification's content its titles in the
// reader's language (title_text, milestone_title_text, and each agenda
// item's title_text), beside the titles in every language.
func withReaderTexts(content json.RawMessage, lang string) (json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(content, &fields); err != nil {
		return nil, fmt.Errorf("decode content: %w", err)
	}
	if err := addReaderTexts(fields, lang, "title", "milestone_title"); err != nil {
		return nil, err
	}
	if raw, ok := fields["agenda"]; ok {
		var agenda []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &agenda); err != nil {
			return nil, fmt.Errorf("decode agenda: %w", err)
		}
		for i := range agenda {
			if err := addReaderTexts(agenda[i], lang, "title"); err != nil {
				return nil, fmt.Errorf("agenda item %d: %w", i, err)
			}
		}
		b, err := json.Marshal(agenda)
		if err != nil {
			return nil, fmt.Errorf("encode agenda: %w", err)
		}
		fields["agenda"] = b
	}
	return json.Marshal(fields)
}

// addReaderTexts sets, for each of texts the fields hold, <text>_text to
// its reading in lang.
func addReaderTexts(fields map[string]json.RawMessage, lang string, texts ...string) error {
	for _, from := range texts {
		raw, ok := fields[from]
		if !ok {
			continue
		}
		var t lifecycle.Text
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("decode %s: %w", from, err)
		}
		text, _ := json.Marshal(t.In(lang))
		fields[from+"_text"] = text
	}
	return nil
}

// IdentityRequest links a person's identity at an OpenID Connect provider
// (the provider's issuer and the subject it gives them) to a principal.
type IdentityRequest struct {
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
}

// ValidateIdentity checks an identity before it is linked; the CLI uses it
// too. The issuer is compared with the ID token's iss as it is written, so
// it must be the provider's issuer URL exactly: https, or http only on
// this machine, without query or fragment (OpenID Connect Discovery §3).
func ValidateIdentity(req IdentityRequest) error {
	if req.Issuer == "" {
		return failField(probInvalid, "issuer", "issuer is required")
	}
	if n := utf8.RuneCountInString(req.Issuer); n > maxIssuer {
		return failField(probInvalid, "issuer", fmt.Sprintf("issuer is %d characters long; the limit is %d", n, maxIssuer))
	}
	if err := CheckIssuer(req.Issuer); err != nil {
		return failField(probInvalid, "issuer", err.Error())
	}
	if req.Subject == "" {
		return failField(probInvalid, "subject", "subject is required")
	}
	if n := utf8.RuneCountInString(req.Subject); n > maxSubject {
		return failField(probInvalid, "subject", fmt.Sprintf("subject is %d characters long; the limit is %d", n, maxSubject))
	}
	if err := lifecycle.CheckText(req.Subject); err != nil {
		return failField(probInvalid, "subject", "subject "+err.Error())
	}
	return nil
}

// CheckIssuer says whether s can be an OpenID Connect issuer: an absolute
// https URL without query or fragment, or http on a loopback host (a
// provider on this machine, for development and tests).
func CheckIssuer(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.User != nil:
		return fmt.Errorf("issuer %q is not an absolute URL such as https://id.example.gov", s)
	case u.RawQuery != "" || u.Fragment != "" || strings.Contains(s, "#") || strings.HasSuffix(s, "?"):
		return fmt.Errorf("issuer %q has a query or fragment, which an issuer never has", s)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("issuer %q must use https (http only on a loopback host)", s)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) linkIdentity(w http.ResponseWriter, r *http.Request) error {
	var req IdentityRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := ValidateIdentity(req); err != nil {
		return err
	}
	pid := chi.URLParam(r, "pid")
	id, created, err := s.store.LinkIdentity(r.Context(), req.Issuer, req.Subject, pid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail(probNotFound, "no principal "+pid)
	case errors.Is(err, store.ErrConflict):
		return fail(probConflict, fmt.Sprintf("that identity is linked to principal %s; a person is one principal", id.Principal))
	case err != nil:
		return storeWriteError(err, "", "", "")
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(w, status, id)
}

func (s *Server) listIdentities(w http.ResponseWriter, r *http.Request) error {
	pid := chi.URLParam(r, "pid")
	if _, err := s.store.Principal(r.Context(), pid); errors.Is(err, store.ErrNotFound) {
		return fail(probNotFound, "no principal "+pid)
	} else if err != nil {
		return err
	}
	ids, err := s.store.Identities(r.Context(), pid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"identities": ids})
}

// disablePrincipal stops a principal at once: its tokens and console
// sessions stop working. Disabling one already disabled changes nothing.
func (s *Server) disablePrincipal(w http.ResponseWriter, r *http.Request) error {
	pid := chi.URLParam(r, "pid")
	if pid == principalOf(r).ID {
		// Nothing could undo it from here: the admin's own token would stop.
		return fail(probConflict, "an admin cannot disable their own principal; ask another admin")
	}
	if err := s.store.DisablePrincipal(r.Context(), pid); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// ErrNotFound also means "already disabled"; the principal says which.
	p, err := s.store.Principal(r.Context(), pid)
	if errors.Is(err, store.ErrNotFound) {
		return fail(probNotFound, "no principal "+pid)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}
