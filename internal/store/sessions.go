package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"pacto/internal/auth"
	"pacto/internal/store/db"
)

// ErrNoSession is returned for a session secret that names no live
// session: unknown, signed out, expired, idle too long, or its principal
// disabled.
var ErrNoSession = errors.New("no live session")

// sessionPrefix marks a console session secret, for humans and scanners.
const sessionPrefix = "pacto_session_"

// SessionTimes bound a console session: it ends after Idle without a
// request, and at the latest Absolute after sign-in.
type SessionTimes struct {
	Idle, Absolute time.Duration
}

// CreateSession signs principal in for the console, by via (the OpenID
// issuer, or "dev"), and returns the session's secret, which only the
// browser keeps.
func (s *Store) CreateSession(ctx context.Context, principal, via string, now time.Time, t SessionTimes) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random session secret: %w", err)
	}
	secret := sessionPrefix + base64.RawURLEncoding.EncodeToString(b)
	err := s.q.CreateSession(ctx, db.CreateSessionParams{SecretHash: auth.Hash(secret), PrincipalID: principal, Now: now, ExpiresAt: now.Add(t.Absolute), Via: via})
	if err != nil {
		return "", fmt.Errorf("create session of %s: %w", principal, err)
	}
	return secret, nil
}

// SessionPrincipal returns the principal of a live session and notes its
// use, or ErrNoSession.
func (s *Store) SessionPrincipal(ctx context.Context, secret string, now time.Time, t SessionTimes) (Principal, error) {
	hash := auth.Hash(secret)
	row, err := s.q.SessionPrincipal(ctx, db.SessionPrincipalParams{SecretHash: hash, Now: now, IdleSince: now.Add(-t.Idle)})
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, ErrNoSession
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up session: %w", err)
	}
	// Writing on every page view would be wasted: a minute is fine grain
	// for an idle limit counted in hours.
	if now.Sub(row.LastSeenAt) >= time.Minute {
		if err := s.q.TouchSession(ctx, db.TouchSessionParams{SecretHash: hash, LastSeenAt: now}); err != nil {
			return Principal{}, fmt.Errorf("note session use: %w", err)
		}
	}
	return principalOf(db.Principal{ID: row.ID, PartyCode: row.PartyCode, Roles: row.Roles, Name: row.Name,
		Email: row.Email, Language: row.Language, CreatedAt: row.CreatedAt, DisabledAt: row.DisabledAt}), nil
}

// DeleteSession signs a session out; an unknown one is no error.
func (s *Store) DeleteSession(ctx context.Context, secret string) error {
	if err := s.q.DeleteSession(ctx, auth.Hash(secret)); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions no lookup would accept any
// more, and returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time, t SessionTimes) (int64, error) {
	n, err := s.q.DeleteExpiredSessions(ctx, db.DeleteExpiredSessionsParams{Now: now, IdleSince: now.Add(-t.Idle)})
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// DisablePrincipal stops a principal: its tokens and sessions stop working
// at once (every lookup checks), and its sessions are deleted. ErrNotFound
// if there is no such principal enabled.
func (s *Store) DisablePrincipal(ctx context.Context, id string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		n, err := q.DisablePrincipal(ctx, id)
		if err != nil {
			return fmt.Errorf("disable principal %s: %w", id, err)
		}
		if n == 0 {
			return ErrNotFound
		}
		if err := q.DeletePrincipalSessions(ctx, id); err != nil {
			return fmt.Errorf("end the sessions of %s: %w", id, err)
		}
		return nil
	})
}
