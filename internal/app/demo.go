package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"pacto/internal/store"
)

// DemoDialogue is the dialogue the demo data sets up.
const DemoDialogue = "hld-pa-us"

// demoPrincipals are the demo's principals: a coordinator, an approver and
// an observer per party, and an admin.
var demoPrincipals = []store.Principal{
	{ID: "pa-coordinator", Party: "PA", Roles: []string{"coordinator"}, Name: "Coordinadora de Panamá", Email: "pa-coordinator@pa.example", Language: "es"},
	{ID: "pa-approver", Party: "PA", Roles: []string{"approver"}, Name: "Aprobador de Panamá", Email: "pa-approver@pa.example", Language: "es"},
	{ID: "pa-observer", Party: "PA", Roles: []string{"observer"}, Name: "Observadora de Panamá", Email: "pa-observer@pa.example", Language: "es"},
	{ID: "us-coordinator", Party: "US", Roles: []string{"coordinator"}, Name: "US Coordinator", Email: "us-coordinator@us.example", Language: "en"},
	{ID: "us-approver", Party: "US", Roles: []string{"approver"}, Name: "US Approver", Email: "us-approver@us.example", Language: "en"},
	{ID: "us-observer", Party: "US", Roles: []string{"observer"}, Name: "US Observer", Email: "us-observer@us.example", Language: "en"},
	{ID: "admin", Roles: []string{"admin"}, Name: "Administrator", Email: "admin@pacto.example", Language: "en"},
}

// SeedDemo creates the demo parties PA and US, their dialogue, the demo
// principals and a token for each, and writes the tokens to tokensFile
// (mode 0600) as a JSON object of principal to token. It picks up where it
// left off if an earlier attempt stopped half way, and revokes the demo
// tokens made before, which nobody can read any more. It reports whether
// it wrote the tokens.
//
// When tokensFile exists it writes nothing, but checks that the file
// still holds a working token for every enabled demo principal, and
// refuses with what to do when it does not (see ErrDemoTokens).
func SeedDemo(ctx context.Context, st *store.Store, tokensFile string) (bool, error) {
	b, err := os.ReadFile(tokensFile)
	switch {
	case err == nil:
		return false, checkDemoTokens(ctx, st, tokensFile, b)
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("read demo tokens: %w", err)
	}
	for _, p := range []store.Party{
		{Code: "PA", Name: "Panamá", TimeZone: "America/Panama", Language: "es"},
		{Code: "US", Name: "United States", TimeZone: "America/New_York", Language: "en"},
	} {
		if _, err := st.CreateParty(ctx, p); err != nil && !errors.Is(err, store.ErrConflict) {
			return false, fmt.Errorf("create demo party %s: %w", p.Code, err)
		}
	}
	if _, err := st.CreateDialogue(ctx, store.Dialogue{ID: DemoDialogue, Name: "Panamá–United States High-Level Dialogue", Parties: []string{"PA", "US"}}); err != nil && !errors.Is(err, store.ErrConflict) {
		return false, fmt.Errorf("create demo dialogue: %w", err)
	}
	tokens := map[string]string{}
	for _, p := range demoPrincipals {
		if _, err := st.CreatePrincipal(ctx, p); err != nil && !errors.Is(err, store.ErrConflict) {
			return false, fmt.Errorf("create demo principal %s: %w", p.ID, err)
		}
		if err := revokeDemoTokens(ctx, st, p.ID); err != nil {
			return false, err
		}
		_, secret, err := st.CreateToken(ctx, p.ID, demoTokenName)
		if err != nil {
			return false, fmt.Errorf("create demo token for %s: %w", p.ID, err)
		}
		tokens[p.ID] = secret
	}
	b, err = json.MarshalIndent(tokens, "", "  ")
	if err != nil {
		return false, err
	}
	// Write then rename, so that a crash leaves the whole file or none.
	tmp := tokensFile + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return false, fmt.Errorf("write demo tokens: %w", err)
	}
	if err := os.Rename(tmp, tokensFile); err != nil {
		return false, fmt.Errorf("write demo tokens: %w", err)
	}
	return true, nil
}

// demoTokenName names the tokens SeedDemo makes.
const demoTokenName = "dev"

// ErrDemoTokens is returned by SeedDemo for a tokens file that cannot be
// used: not JSON, a demo principal missing, or a token that does not
// authenticate as its principal against this database.
var ErrDemoTokens = errors.New("demo tokens file is not usable")

// checkDemoTokens checks that a tokens file holds, for every demo
// principal that is enabled, a token that authenticates as it. A disabled
// principal's token is left alone: someone disabled it on purpose.
func checkDemoTokens(ctx context.Context, st *store.Store, tokensFile string, b []byte) error {
	refuse := func(why string, a ...any) error {
		return fmt.Errorf("%w: %s %s; delete it and start again to have new demo tokens made (the old ones are revoked)",
			ErrDemoTokens, tokensFile, fmt.Sprintf(why, a...))
	}
	var tokens map[string]string
	if err := json.Unmarshal(b, &tokens); err != nil {
		return refuse("is not a JSON object of principal to token (%v)", err)
	}
	now := time.Now()
	for _, want := range demoPrincipals {
		p, err := st.Principal(ctx, want.ID)
		if errors.Is(err, store.ErrNotFound) {
			return refuse("was made for another database (this one has no principal %s)", want.ID)
		}
		if err != nil {
			return fmt.Errorf("check demo tokens: %w", err)
		}
		if p.Disabled != nil {
			continue
		}
		token, ok := tokens[want.ID]
		if !ok || token == "" {
			return refuse("has no token for principal %s", want.ID)
		}
		got, err := st.Authenticate(ctx, token, now)
		if errors.Is(err, store.ErrBadToken) {
			return refuse("holds a token for %s that does not authenticate (malformed, revoked, or from another database)", want.ID)
		}
		if err != nil {
			return fmt.Errorf("check demo tokens: %w", err)
		}
		if got.ID != want.ID {
			return refuse("holds under %s a token of principal %s", want.ID, got.ID)
		}
	}
	return nil
}

// revokeDemoTokens revokes the live demo tokens of a principal.
func revokeDemoTokens(ctx context.Context, st *store.Store, principal string) error {
	ts, err := st.Tokens(ctx, principal)
	if err != nil {
		return fmt.Errorf("list demo tokens of %s: %w", principal, err)
	}
	for _, t := range ts {
		if t.Name != demoTokenName || t.RevokedAt != nil {
			continue
		}
		if err := st.RevokeToken(ctx, t.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("revoke old demo token of %s: %w", principal, err)
		}
	}
	return nil
}

// EnsureDatabase creates database name on the server at adminURL unless it
// exists.
func EnsureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look for database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
