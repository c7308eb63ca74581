package app

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pacto/internal/pgtest"
	"pacto/internal/store"
)

// A demo tokens file that cannot be used is refused on restart with what
// to do; doing it (deleting the file) makes new tokens and revokes the old.
// A file that works, or whose only dead token is a disabled principal's,
// is accepted.
func TestSeedDemoRefusesACorruptTokensFile(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	file := filepath.Join(t.TempDir(), "dev-tokens.json")
	if created, err := SeedDemo(ctx, st, file); err != nil || !created {
		t.Fatalf("first seed: %v %v", created, err)
	}
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if created, err := SeedDemo(ctx, st, file); err != nil || created {
		t.Fatalf("a restart with a good file: created %v, %v", created, err)
	}
	var tokens map[string]string
	if err := json.Unmarshal(good, &tokens); err != nil {
		t.Fatal(err)
	}
	edited := func(edit func(map[string]string)) []byte {
		m := map[string]string{}
		for k, v := range tokens {
			m[k] = v
		}
		edit(m)
		b, _ := json.Marshal(m)
		return b
	}
	for _, c := range []struct {
		name    string
		content []byte
		says    string
	}{
		{"truncated", good[:len(good)/2], "is not a JSON object"},
		{"empty", nil, "is not a JSON object"},
		{"a list", []byte(`["pacto_x"]`), "is not a JSON object"},
		{"a principal missing", edited(func(m map[string]string) { delete(m, "us-approver") }), "has no token for principal us-approver"},
		{"a token mangled", edited(func(m map[string]string) { m["pa-coordinator"] = m["pa-coordinator"][:20] }), "token for pa-coordinator that does not authenticate"},
		{"tokens swapped", edited(func(m map[string]string) { m["admin"], m["pa-observer"] = m["pa-observer"], m["admin"] }), "token of principal"},
	} {
		if err := os.WriteFile(file, c.content, 0o600); err != nil {
			t.Fatal(err)
		}
		created, err := SeedDemo(ctx, st, file)
		if created || !errors.Is(err, ErrDemoTokens) || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), "delete it and start again") {
			t.Errorf("%s: created %v, %v; want ErrDemoTokens saying %q and what to do", c.name, created, err, c.says)
		}
	}

	// A token revoked through the admin commands: refused too.
	if err := os.WriteFile(file, good, 0o600); err != nil {
		t.Fatal(err)
	}
	ts, err := st.Tokens(ctx, "us-observer")
	if err != nil || len(ts) != 1 {
		t.Fatalf("tokens of us-observer: %v %v", ts, err)
	}
	if err := st.RevokeToken(ctx, ts[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := SeedDemo(ctx, st, file); !errors.Is(err, ErrDemoTokens) || !strings.Contains(err.Error(), "us-observer") {
		t.Fatalf("a revoked token: %v", err)
	}

	// What the message says to do: delete the file. New tokens, all
	// working; the old ones no longer do.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if created, err := SeedDemo(ctx, st, file); err != nil || !created {
		t.Fatalf("seed after deleting the file: %v %v", created, err)
	}
	b, _ := os.ReadFile(file)
	var fresh map[string]string
	if err := json.Unmarshal(b, &fresh); err != nil || len(fresh) != len(demoPrincipals) {
		t.Fatalf("new tokens file %s: %v", b, err)
	}
	for id, token := range fresh {
		if p, err := st.Authenticate(ctx, token, time.Now()); err != nil || p.ID != id {
			t.Errorf("new token of %s: %v %v", id, p.ID, err)
		}
		if _, err := st.Authenticate(ctx, tokens[id], time.Now()); !errors.Is(err, store.ErrBadToken) {
			t.Errorf("the old token of %s still authenticates: %v", id, err)
		}
	}
	if _, err := os.Stat(file + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a temporary file was left beside the tokens: %v", err)
	}

	// A principal disabled on purpose keeps its dead token without
	// refusing the file.
	if err := st.DisablePrincipal(ctx, "pa-observer"); err != nil {
		t.Fatal(err)
	}
	if created, err := SeedDemo(ctx, st, file); err != nil || created {
		t.Fatalf("a restart with a disabled demo principal: %v %v", created, err)
	}
}
