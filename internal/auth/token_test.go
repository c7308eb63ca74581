package auth

import (
	"bytes"
	"strings"
	"testing"
)

func TestNewTokenParsesAndHashes(t *testing.T) {
	a, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewToken()
	if a.Secret == b.Secret || a.ID == b.ID {
		t.Fatal("two tokens are equal")
	}
	if !strings.HasPrefix(a.Secret, Prefix) || len(a.Secret) < len(Prefix)+43 {
		t.Fatalf("token %q lacks the prefix or 32 bytes of secret", a.Secret)
	}
	id, err := Parse(a.Secret)
	if err != nil || id != a.ID {
		t.Fatalf("Parse = %q, %v; want %q", id, err, a.ID)
	}
	if !bytes.Equal(Hash(a.Secret), a.Hash) || bytes.Equal(a.Hash, b.Hash) {
		t.Fatal("hash is not a function of the token")
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	good, _ := NewToken()
	for _, s := range []string{
		"", "pacto_", "Bearer x", "pacto_zzzzzzzzzzzz_" + strings.Repeat("A", 43),
		strings.TrimSuffix(good.Secret, good.Secret[len(good.Secret)-2:]),
		strings.Replace(good.Secret, "pacto_", "pacta_", 1),
		good.Secret + "!",
	} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted a malformed token", s)
		}
	}
}
