package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"pacto/internal/auth"
	"pacto/internal/lifecycle"
	"pacto/internal/store/db"
)

// Party is a government or organisation taking part in dialogues.
type Party struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	TimeZone string `json:"time_zone"`
	Language string `json:"language"`
	// IATIOrgRef is the party's IATI organisation identifier (such as
	// XM-DAC-12-1), empty until set; IATIOrgType its IATI organisation
	// type, 10 (government) unless set.
	IATIOrgRef  string `json:"iati_org_ref,omitempty"`
	IATIOrgType string `json:"iati_org_type,omitempty"`
}

// DefaultIATIOrgType is the IATI organisation type of a party unless set:
// government.
const DefaultIATIOrgType = "10"

// Dialogue is a standing dialogue between parties.
type Dialogue struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Parties []string `json:"parties"`
	// Languages are the dialogue's authentic languages, in which its
	// activities' texts are written; by default its parties' languages.
	Languages []string `json:"languages,omitempty"`
	DialogueIATI
}

// DialogueIATI is how a dialogue's activities are published as IATI
// open data: the party that reports them, whose organisation identifier
// prefixes their IATI identifiers, and the sector (DAC 5-digit) and
// recipient countries (ISO 3166-1 alpha-2) of the activities that give
// none of their own.
type DialogueIATI struct {
	ReportingParty     string   `json:"iati_reporting_party,omitempty"`
	Sector             string   `json:"iati_sector,omitempty"`
	RecipientCountries []string `json:"iati_recipient_countries,omitempty"`
}

// LanguageError refuses a dialogue whose languages leave out a party's.
type LanguageError struct {
	Party, Language string
}

func (e *LanguageError) Error() string {
	return fmt.Sprintf("the dialogue's languages must include %s, the language of party %s", e.Language, e.Party)
}

// Unwrap makes a LanguageError an ErrInvalid.
func (e *LanguageError) Unwrap() error { return ErrInvalid }

// Principal is a person or system that acts through tokens.
type Principal struct {
	ID       string     `json:"id"`
	Party    string     `json:"party,omitempty"`
	Roles    []string   `json:"roles"`
	Name     string     `json:"name"`
	Email    string     `json:"email,omitempty"`
	Language string     `json:"language"`
	Disabled *time.Time `json:"disabled_at,omitempty"`
}

// Actor returns the principal as the core's actor.
func (p Principal) Actor() lifecycle.Principal {
	roles := make([]lifecycle.Role, len(p.Roles))
	for i, r := range p.Roles {
		roles[i] = lifecycle.Role(r)
	}
	return lifecycle.Principal{ID: p.ID, Party: lifecycle.PartyCode(p.Party), Roles: roles}
}

// TokenInfo describes a token without its secret.
type TokenInfo struct {
	ID         string     `json:"id"`
	Principal  string     `json:"principal"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateParty adds a party.
func (s *Store) CreateParty(ctx context.Context, p Party) (Party, error) {
	if p.IATIOrgType == "" {
		p.IATIOrgType = DefaultIATIOrgType
	}
	row, err := s.q.CreateParty(ctx, db.CreatePartyParams{Code: p.Code, Name: p.Name, TimeZone: p.TimeZone, Language: p.Language,
		IatiOrgRef: p.IATIOrgRef, IatiOrgType: p.IATIOrgType})
	if err != nil {
		return Party{}, created("party "+p.Code, err)
	}
	return partyOf(row), nil
}

// SetPartyIATI sets a party's IATI organisation identifier (empty: none)
// and type (empty: government); ErrNotFound if there is no such party.
func (s *Store) SetPartyIATI(ctx context.Context, code, ref, typ string) (Party, error) {
	if typ == "" {
		typ = DefaultIATIOrgType
	}
	row, err := s.q.SetPartyIATI(ctx, db.SetPartyIATIParams{Code: code, IatiOrgRef: ref, IatiOrgType: typ})
	if err != nil {
		return Party{}, notFound(err)
	}
	return partyOf(row), nil
}

// ErrNotAParty refuses a reporting party that is not one of its
// dialogue's.
var ErrNotAParty = fmt.Errorf("the reporting party must be a party of the dialogue: %w", ErrInvalid)

// SetDialogueIATI sets how a dialogue's activities are published;
// ErrNotFound if there is no such dialogue, ErrNotAParty if the
// reporting party is not one of its parties.
func (s *Store) SetDialogueIATI(ctx context.Context, id string, in DialogueIATI) (Dialogue, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return setDialogueIATI(ctx, s.q.WithTx(tx), id, in)
	})
	if err != nil {
		return Dialogue{}, err
	}
	ds, err := s.Dialogues(ctx)
	if err != nil {
		return Dialogue{}, err
	}
	for _, d := range ds {
		if d.ID == id {
			return d, nil
		}
	}
	return Dialogue{}, ErrNotFound
}

func setDialogueIATI(ctx context.Context, q *db.Queries, id string, in DialogueIATI) error {
	n, err := q.SetDialogueIATI(ctx, db.SetDialogueIATIParams{ID: id, ReportingParty: optional(in.ReportingParty),
		Sector: in.Sector, RecipientCountries: nonNil(in.RecipientCountries)})
	if err != nil {
		return created("the IATI settings of dialogue "+id, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := q.GetDialogue(ctx, id); err != nil {
		return notFound(err)
	}
	return ErrNotAParty
}

// Parties lists every party.
func (s *Store) Parties(ctx context.Context) ([]Party, error) {
	rows, err := s.q.ListParties(ctx)
	if err != nil {
		return nil, fmt.Errorf("list parties: %w", err)
	}
	out := make([]Party, len(rows))
	for i, r := range rows {
		out[i] = partyOf(r)
	}
	return out, nil
}

func partyOf(r db.Party) Party {
	return Party{Code: r.Code, Name: r.Name, TimeZone: r.TimeZone, Language: r.Language, IATIOrgRef: r.IatiOrgRef, IATIOrgType: r.IatiOrgType}
}

// CreateDialogue adds a dialogue between existing parties, atomically.
func (s *Store) CreateDialogue(ctx context.Context, d Dialogue) (Dialogue, error) {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if _, err := q.CreateDialogue(ctx, db.CreateDialogueParams{ID: d.ID, Name: d.Name}); err != nil {
			return created("dialogue "+d.ID, err)
		}
		for _, p := range d.Parties {
			if err := q.AddDialogueParty(ctx, db.AddDialoguePartyParams{DialogueID: d.ID, PartyCode: p}); err != nil {
				return created("party "+p+" of dialogue "+d.ID, err)
			}
		}
		langs, err := q.SetDialogueLanguages(ctx, db.SetDialogueLanguagesParams{ID: d.ID, Languages: nonNil(d.Languages)})
		if err != nil {
			return fmt.Errorf("set the languages of dialogue %s: %w", d.ID, err)
		}
		d.Languages = langs
		// Each party reads and approves in its own language, so it must be
		// one of the dialogue's.
		missing, err := q.PartyLanguagesMissing(ctx, d.ID)
		if err != nil {
			return fmt.Errorf("check the languages of dialogue %s: %w", d.ID, err)
		}
		if len(missing) > 0 {
			return &LanguageError{Party: missing[0].Code, Language: missing[0].Language}
		}
		return setDialogueIATI(ctx, q, d.ID, d.DialogueIATI)
	})
	if err != nil {
		return Dialogue{}, err
	}
	return d, nil
}

// Dialogues lists every dialogue with its parties.
func (s *Store) Dialogues(ctx context.Context) ([]Dialogue, error) {
	rows, err := s.q.ListDialogues(ctx)
	if err != nil {
		return nil, fmt.Errorf("list dialogues: %w", err)
	}
	out := make([]Dialogue, len(rows))
	for i, r := range rows {
		out[i] = Dialogue{ID: r.ID, Name: r.Name, Parties: r.PartyCodes, Languages: r.Languages, DialogueIATI: dialogueIATIOf(r.IatiReportingParty, r.IatiSector, r.IatiRecipientCountries)}
	}
	return out, nil
}

func dialogueIATIOf(party *string, sector string, countries []string) DialogueIATI {
	out := DialogueIATI{Sector: sector}
	if party != nil {
		out.ReportingParty = *party
	}
	if len(countries) > 0 {
		out.RecipientCountries = countries
	}
	return out
}

// DialogueFrame is what the core needs of a dialogue to validate a
// proposal: its parties, with their time zones and languages, and its
// authentic languages.
type DialogueFrame struct {
	Parties   []lifecycle.Party
	Languages []string
}

// PartyLanguages maps each party to the language it reads.
func (f DialogueFrame) PartyLanguages() map[lifecycle.PartyCode]string {
	out := make(map[lifecycle.PartyCode]string, len(f.Parties))
	for _, p := range f.Parties {
		out[p.Code] = p.Language
	}
	return out
}

// DialogueFrame returns a dialogue's parties and languages.
func (s *Store) DialogueFrame(ctx context.Context, dialogue string) (DialogueFrame, error) {
	d, err := s.q.GetDialogue(ctx, dialogue)
	if err != nil {
		return DialogueFrame{}, notFound(err)
	}
	rows, err := s.q.ListDialogueParties(ctx, dialogue)
	if err != nil {
		return DialogueFrame{}, fmt.Errorf("parties of dialogue %s: %w", dialogue, err)
	}
	out := DialogueFrame{Parties: make([]lifecycle.Party, len(rows)), Languages: d.Languages}
	for i, r := range rows {
		out.Parties[i] = lifecycle.Party{Code: lifecycle.PartyCode(r.Code), TimeZone: r.TimeZone, Language: r.Language}
	}
	return out, nil
}

// CreatePrincipal adds a principal.
func (s *Store) CreatePrincipal(ctx context.Context, p Principal) (Principal, error) {
	row, err := s.q.CreatePrincipal(ctx, db.CreatePrincipalParams{
		ID: p.ID, PartyCode: optional(p.Party), Roles: p.Roles, Name: p.Name, Email: p.Email, Language: p.Language,
	})
	if err != nil {
		return Principal{}, created("principal "+p.ID, err)
	}
	return principalOf(row), nil
}

// Principals lists principals, of one party when party is not empty.
func (s *Store) Principals(ctx context.Context, party string) ([]Principal, error) {
	rows, err := s.q.ListPrincipals(ctx, optional(party))
	if err != nil {
		return nil, fmt.Errorf("list principals: %w", err)
	}
	out := make([]Principal, len(rows))
	for i, r := range rows {
		out[i] = principalOf(r)
	}
	return out, nil
}

func principalOf(r db.Principal) Principal {
	p := Principal{ID: r.ID, Roles: r.Roles, Name: r.Name, Email: r.Email, Language: r.Language, Disabled: r.DisabledAt}
	if r.PartyCode != nil {
		p.Party = *r.PartyCode
	}
	return p
}

// CreateToken issues a token for a principal. The returned secret is the
// only copy; the store keeps its hash.
func (s *Store) CreateToken(ctx context.Context, principal, name string) (TokenInfo, string, error) {
	t, err := auth.NewToken()
	if err != nil {
		return TokenInfo{}, "", err
	}
	row, err := s.q.CreateToken(ctx, db.CreateTokenParams{ID: t.ID, PrincipalID: principal, Name: name, SecretHash: t.Hash})
	if err != nil {
		return TokenInfo{}, "", created("token for "+principal, err)
	}
	return TokenInfo{ID: row.ID, Principal: row.PrincipalID, Name: row.Name, CreatedAt: row.CreatedAt}, t.Secret, nil
}

// Tokens lists tokens, of one principal when principal is not empty.
func (s *Store) Tokens(ctx context.Context, principal string) ([]TokenInfo, error) {
	rows, err := s.q.ListTokens(ctx, optional(principal))
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out := make([]TokenInfo, len(rows))
	for i, r := range rows {
		out[i] = TokenInfo{ID: r.ID, Principal: r.PrincipalID, Name: r.Name, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt}
	}
	return out, nil
}

// RevokeToken revokes a token; ErrNotFound if it does not exist or was
// already revoked.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	n, err := s.q.RevokeToken(ctx, id)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// ErrBadToken is returned for a token that is malformed, unknown or revoked.
var ErrBadToken = errors.New("invalid or revoked token")

// lastUsedResolution bounds how often a token's last-used time is written.
const lastUsedResolution = time.Minute

// Authenticate returns the principal behind a bearer token and notes when
// the token was used (at most once a minute, to spare the database).
func (s *Store) Authenticate(ctx context.Context, token string, now time.Time) (Principal, error) {
	if _, err := auth.Parse(token); err != nil {
		return Principal{}, ErrBadToken
	}
	row, err := s.q.Authenticate(ctx, auth.Hash(token))
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return Principal{}, ErrBadToken
		}
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) >= lastUsedResolution {
		if err := s.q.TouchToken(ctx, db.TouchTokenParams{ID: row.TokenID, LastUsedAt: &now}); err != nil {
			return Principal{}, fmt.Errorf("note token use: %w", err)
		}
	}
	return principalOf(db.Principal{ID: row.ID, PartyCode: row.PartyCode, Roles: row.Roles, Name: row.Name,
		Email: row.Email, Language: row.Language, CreatedAt: row.CreatedAt, DisabledAt: row.DisabledAt}), nil
}

// Principal returns one principal, enabled or not; ErrNotFound if none.
func (s *Store) Principal(ctx context.Context, id string) (Principal, error) {
	row, err := s.q.GetPrincipal(ctx, id)
	if err != nil {
		return Principal{}, notFound(err)
	}
	return principalOf(row), nil
}
