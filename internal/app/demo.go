package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

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
// (mode 0600) as a JSON object of principal to token. It does nothing when
// tokensFile exists, and picks up where it left off if an earlier attempt
// stopped half way. It reports whether it wrote the tokens.
func SeedDemo(ctx context.Context, st *store.Store, tokensFile string) (bool, error) {
	if _, err := os.Stat(tokensFile); err == nil {
		return false, nil
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
		_, secret, err := st.CreateToken(ctx, p.ID, "dev")
		if err != nil {
			return false, fmt.Errorf("create demo token for %s: %w", p.ID, err)
		}
		tokens[p.ID] = secret
	}
	b, err := json.MarshalIndent(tokens, "", "  ")
	if err != nil {
		return false, err
	}
	if err := os.WriteFile(tokensFile, append(b, '\n'), 0o600); err != nil {
		return false, fmt.Errorf("write demo tokens: %w", err)
	}
	return true, nil
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
