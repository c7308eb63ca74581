package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"pacto/internal/auth"
	"pacto/internal/store/db"
)

// Identity is who a person is at an OpenID Connect provider (its issuer
// and the subject it gives them), linked to the principal they act as.
type Identity struct {
	Issuer    string    `json:"issuer"`
	Subject   string    `json:"subject"`
	Principal string    `json:"principal"`
	CreatedAt time.Time `json:"created_at"`
}

// LinkIdentity links an identity to a principal. It reports whether the
// link is new; linking again to the same principal changes nothing. An
// identity linked to another principal is ErrConflict (a person is one
// principal), an unknown principal ErrNotFound, and values the database
// refuses (an empty or overlong issuer or subject) ErrInvalid.
func (s *Store) LinkIdentity(ctx context.Context, issuer, subject, principal string) (Identity, bool, error) {
	p := db.LinkIdentityParams{Issuer: issuer, Subject: subject, PrincipalID: principal}
	row, err := s.q.LinkIdentity(ctx, p)
	if errors.Is(err, pgx.ErrNoRows) {
		// A link made at the same moment by someone else, committed after
		// this statement's snapshot: it is there now.
		row, err = s.q.LinkIdentity(ctx, p)
	}
	if err != nil {
		return Identity{}, false, created("identity of "+principal, err)
	}
	id := Identity{Issuer: row.Issuer, Subject: row.Subject, Principal: row.PrincipalID, CreatedAt: row.CreatedAt}
	if id.Principal != principal {
		return id, false, fmt.Errorf("identity %s at %s is linked to principal %s: %w", subject, issuer, id.Principal, ErrConflict)
	}
	return id, row.Created, nil
}

// Identities lists the identities linked to a principal, oldest first.
func (s *Store) Identities(ctx context.Context, principal string) ([]Identity, error) {
	rows, err := s.q.ListIdentities(ctx, principal)
	if err != nil {
		return nil, fmt.Errorf("list identities of %s: %w", principal, err)
	}
	out := make([]Identity, len(rows))
	for i, r := range rows {
		out[i] = Identity{Issuer: r.Issuer, Subject: r.Subject, Principal: r.PrincipalID, CreatedAt: r.CreatedAt}
	}
	return out, nil
}

// IdentityPrincipal returns the principal an identity is linked to,
// disabled or not, or ErrNotFound.
func (s *Store) IdentityPrincipal(ctx context.Context, issuer, subject string) (Principal, error) {
	row, err := s.q.IdentityPrincipal(ctx, db.IdentityPrincipalParams{Issuer: issuer, Subject: subject})
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return Principal{}, ErrNotFound
		}
		return Principal{}, fmt.Errorf("look up identity: %w", err)
	}
	return principalOf(row), nil
}

// PrincipalsByEmail lists the enabled principals of a party with the
// address email, without regard to case.
func (s *Store) PrincipalsByEmail(ctx context.Context, party, email string) ([]Principal, error) {
	rows, err := s.q.PrincipalsByEmail(ctx, db.PrincipalsByEmailParams{PartyCode: &party, Email: email})
	if err != nil {
		return nil, fmt.Errorf("look up principals by email: %w", err)
	}
	out := make([]Principal, len(rows))
	for i, r := range rows {
		out[i] = principalOf(r)
	}
	return out, nil
}

// SignIn is a sign-in under way at a party's identity provider: what its
// callback needs besides the browser's state.
type SignIn struct {
	Party    string
	Nonce    string
	Verifier string
	Next     string
}

// StartSignIn keeps a sign-in until expires, found by its state, and
// forgets the sign-ins that have expired.
func (s *Store) StartSignIn(ctx context.Context, state string, in SignIn, now, expires time.Time) error {
	if err := s.q.DeleteExpiredSignIns(ctx, now); err != nil {
		return fmt.Errorf("forget expired sign-ins: %w", err)
	}
	err := s.q.StartSignIn(ctx, db.StartSignInParams{StateHash: auth.Hash(state), PartyCode: in.Party, Nonce: in.Nonce,
		Verifier: in.Verifier, Next: in.Next, ExpiresAt: expires})
	if err != nil {
		return fmt.Errorf("keep sign-in: %w", err)
	}
	return nil
}

// TakeSignIn returns the sign-in started with state and forgets it, so
// that it finishes at most once; ErrNotFound if there is none or it has
// expired.
func (s *Store) TakeSignIn(ctx context.Context, state string, now time.Time) (SignIn, error) {
	row, err := s.q.TakeSignIn(ctx, db.TakeSignInParams{StateHash: auth.Hash(state), Now: now})
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return SignIn{}, ErrNotFound
		}
		return SignIn{}, fmt.Errorf("take sign-in: %w", err)
	}
	return SignIn{Party: row.PartyCode, Nonce: row.Nonce, Verifier: row.Verifier, Next: row.Next}, nil
}
