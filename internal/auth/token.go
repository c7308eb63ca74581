// Package auth issues and checks Pacto's bearer tokens.
//
// A token reads pacto_<id>_<secret>: the id names it in lists and audit
// without revealing it, the secret is 32 random bytes. Only the SHA-256 of
// the whole token is stored, so a leaked database does not leak tokens.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Prefix marks a string as a Pacto token, for humans and secret scanners.
const Prefix = "pacto_"

const (
	idBytes     = 6
	secretBytes = 32
)

// ErrMalformed is returned for a string that cannot be a Pacto token.
var ErrMalformed = errors.New("not a Pacto token")

// Token is a freshly issued token. Secret is shown once and never stored.
type Token struct {
	ID     string
	Secret string // the whole bearer token
	Hash   []byte
}

// NewToken issues a token with a random id and secret.
func NewToken() (Token, error) {
	id := make([]byte, idBytes)
	secret := make([]byte, secretBytes)
	if _, err := rand.Read(id); err != nil {
		return Token{}, fmt.Errorf("read random id: %w", err)
	}
	if _, err := rand.Read(secret); err != nil {
		return Token{}, fmt.Errorf("read random secret: %w", err)
	}
	t := Token{ID: hex.EncodeToString(id)}
	t.Secret = Prefix + t.ID + "_" + base64.RawURLEncoding.EncodeToString(secret)
	t.Hash = Hash(t.Secret)
	return t, nil
}

// Hash is what the store keeps of a token.
func Hash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Parse checks the shape of a presented token and returns its id. It does
// not say whether the token is valid; only the store knows that.
func Parse(token string) (id string, err error) {
	rest, ok := strings.CutPrefix(token, Prefix)
	if !ok {
		return "", ErrMalformed
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 2*idBytes || !isHex(id) {
		return "", ErrMalformed
	}
	b, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(b) != secretBytes {
		return "", ErrMalformed
	}
	return id, nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}
