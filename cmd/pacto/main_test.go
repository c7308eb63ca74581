package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"pacto/internal/app"
	"pacto/internal/console"
	"pacto/internal/pgtest"
	"pacto/internal/store"
)

func TestMain(m *testing.M) {
	// The CLI applies the migrations itself; the template stays empty.
	code := pgtest.Run(m)
	// The builds of pacto the tests ran, some 200 MB each.
	for _, dir := range []string{binDir, nodevDir} {
		if dir != "" {
			_ = os.RemoveAll(dir)
		}
	}
	os.Exit(code)
}

// pacto runs the command line in-process and returns its exit code and output.
func pacto(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// pactoAll runs each command in turn and fails the test at the first that
// does not exit 0.
func pactoAll(t *testing.T, commands ...[]string) {
	t.Helper()
	for _, c := range commands {
		if code, _, stderr := pacto(t, c...); code != 0 {
			t.Fatalf("pacto %v: exit %d: %s", c, code, stderr)
		}
	}
}

func TestAdminCommandsOnARealDatabase(t *testing.T) {
	db := pgtest.NewDatabase(t)
	t.Setenv("PACTO_DATABASE_URL", db)
	steps := [][]string{
		{"migrate"},
		{"migrate"}, // a second run finds nothing to do
		{"party", "create", "--code", "PA", "--name", "Panamá", "--time-zone", "America/Panama", "--language", "es"},
		{"party", "create", "--code", "US", "--name", "United States", "--time-zone", "America/New_York"},
		{"dialogue", "create", "--id", "hld-pa-us", "--name", "High-Level Dialogue", "--parties", "PA,US"},
		{"principal", "create", "--id", "pa-approver", "--party", "PA", "--roles", "approver", "--name", "PA approver", "--language", "es"},
		{"principal", "create", "--id", "admin", "--roles", "admin", "--name", "Admin"},
	}
	pactoAll(t, steps...)
	code, out, _ := pacto(t, "dialogue", "list")
	if code != 0 || !strings.Contains(out, "en,es") {
		t.Fatalf("dialogue list does not show the parties' languages: %d %q", code, out)
	}
	code, out, _ = pacto(t, "principal", "list", "--party", "PA")
	if code != 0 || !strings.Contains(out, "pa-approver") || strings.Contains(out, "admin") {
		t.Fatalf("principal list: %d %q", code, out)
	}
	code, out, _ = pacto(t, "token", "create", "--principal", "pa-approver", "--name", "laptop")
	secret := regexp.MustCompile(`pacto_[0-9a-f]{12}_[A-Za-z0-9_-]{43}`).FindString(out)
	id := regexp.MustCompile(`token ([0-9a-f]{12}) created`).FindStringSubmatch(out)
	if code != 0 || secret == "" || id == nil {
		t.Fatalf("token create: %d %q", code, out)
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if p, err := st.Authenticate(context.Background(), secret, time.Now()); err != nil || p.ID != "pa-approver" {
		t.Fatalf("the printed token does not authenticate: %v", err)
	}
	code, out, _ = pacto(t, "token", "list")
	if code != 0 || !strings.Contains(out, id[1]) || strings.Contains(out, secret) {
		t.Fatalf("token list: %d %q", code, out)
	}
	if code, _, stderr := pacto(t, "token", "revoke", id[1]); code != 0 {
		t.Fatalf("revoke: %s", stderr)
	}
	if _, err := st.Authenticate(context.Background(), secret, time.Now()); err != store.ErrBadToken {
		t.Fatalf("revoked token still works: %v", err)
	}

	// Bad input gets a clear message and a non-zero exit, and changes nothing.
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"party", "create", "--code", "PA", "--name", "Again", "--time-zone", "America/Panama"}, 1, "already exists"},
		{[]string{"party", "create", "--code", "XX", "--name", "X", "--time-zone", "Nowhere/City"}, 2, "IANA time zone"},
		// The machine's zone is no party's zone: due times would differ
		// from worker to worker.
		{[]string{"party", "create", "--code", "XY", "--name", "X", "--time-zone", "Local"}, 2, "IANA time zone"},
		{[]string{"principal", "create", "--id", "x", "--roles", "boss", "--name", "X", "--party", "PA"}, 2, "not a role"},
		{[]string{"dialogue", "create", "--id", "d-es", "--name", "Spanish only", "--parties", "PA,US", "--languages", "es"}, 2, "language of party US"},
		{[]string{"dialogue", "create", "--id", "d-fr", "--name", "French", "--parties", "PA,US", "--languages", "fr"}, 2, "es or en"},
		// Text the database or the exports cannot carry, from a shell.
		{[]string{"principal", "create", "--id", "z", "--roles", "approver", "--name", "bell\a", "--party", "PA"}, 2, "control character"},
		{[]string{"party", "create", "--code", "XZ", "--name", "Esc\x1b[0m", "--time-zone", "America/Panama"}, 2, "control character"},
		{[]string{"principal", "create", "--id", "y", "--roles", "approver", "--name", "Y", "--party", "ZZ"}, 1, "does not exist"},
		{[]string{"token", "create", "--principal", "nobody"}, 1, "does not exist"},
		{[]string{"token", "revoke", id[1]}, 1, "no live token"},
		{[]string{"token", "revoke"}, 2, "give the id"},
		{[]string{"token", "delete"}, 2, "unknown action"},
		{[]string{"party", "list", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"frobnicate"}, 2, "unknown command"},
	} {
		code, _, stderr := pacto(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) {
			t.Errorf("pacto %v: exit %d %q; want exit %d saying %q", c.args, code, stderr, c.code, c.says)
		}
	}
	code, out, _ = pacto(t, "party", "list")
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Fatalf("party list after refused creates: %q", out)
	}
}

func TestHelpNamesEnvironmentVariables(t *testing.T) {
	code, out, _ := pacto(t, "help")
	if code != 0 || !strings.Contains(out, "token") || !strings.Contains(out, "serve") {
		t.Fatalf("help: %d %q", code, out)
	}
	var errOut bytes.Buffer
	f := newFlags("serve", "serve [flags]")
	f.server()
	f.fs.SetOutput(&errOut)
	f.fs.Usage()
	for _, env := range []string{"PACTO_DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "PACTO_LOG_LEVEL"} {
		if !strings.Contains(errOut.String(), env) {
			t.Errorf("serve --help does not name %s", env)
		}
	}
	if code, _, stderr := pacto(t, "serve"); code != 2 || !strings.Contains(stderr, "--database-url is required") {
		t.Fatalf("serve without a database: %d %q", code, stderr)
	}
}

func TestPrincipalIdentityCommands(t *testing.T) {
	t.Setenv("PACTO_DATABASE_URL", pgtest.NewDatabase(t))
	pactoAll(t, [][]string{
		{"migrate"},
		{"party", "create", "--code", "PA", "--name", "Panamá", "--time-zone", "America/Panama", "--language", "es"},
		{"principal", "create", "--id", "pa-approver", "--party", "PA", "--roles", "approver", "--name", "PA approver", "--language", "es"},
		{"principal", "create", "--id", "pa-observer", "--party", "PA", "--roles", "observer", "--name", "PA observer", "--language", "es"},
	}...)
	const issuer = "https://id.pa.example/realms/gob"
	code, out, stderr := pacto(t, "principal", "link", "--issuer", issuer, "--subject", "8-123-456", "pa-approver")
	if code != 0 || !strings.Contains(out, "linked to pa-approver") || !strings.Contains(out, "party PA") {
		t.Fatalf("link: %d %q %q", code, out, stderr)
	}
	if code, out, _ := pacto(t, "principal", "link", "--issuer", issuer, "--subject", "8-123-456", "pa-approver"); code != 0 || !strings.Contains(out, "already linked") {
		t.Fatalf("link again: %d %q", code, out)
	}
	code, out, _ = pacto(t, "principal", "identities", "pa-approver")
	if code != 0 || !strings.Contains(out, issuer) || !strings.Contains(out, "8-123-456") {
		t.Fatalf("identities: %d %q", code, out)
	}
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"principal", "link", "--issuer", issuer, "--subject", "8-123-456", "pa-observer"}, 1, "linked to principal pa-approver"},
		{[]string{"principal", "link", "--issuer", "http://id.pa.example", "--subject", "x", "pa-observer"}, 2, "must use https"},
		{[]string{"principal", "link", "--issuer", issuer, "pa-observer"}, 2, "subject is required"},
		{[]string{"principal", "link", "--issuer", issuer, "--subject", "x"}, 2, "give the id of the principal"},
		{[]string{"principal", "link", "--issuer", issuer, "--subject", "x", "nobody"}, 1, `no principal "nobody"`},
		{[]string{"principal", "disable", "nobody"}, 1, `no principal "nobody"`},
	} {
		code, _, stderr := pacto(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) {
			t.Errorf("pacto %v: exit %d %q; want exit %d saying %q", c.args, code, stderr, c.code, c.says)
		}
	}
	st, err := store.Open(context.Background(), os.Getenv("PACTO_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	secret, err := st.CreateSession(context.Background(), "pa-approver", issuer, time.Now(), store.SessionTimes{Idle: time.Hour, Absolute: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if code, out, _ := pacto(t, "principal", "disable", "pa-approver"); code != 0 || !strings.Contains(out, "disabled") {
		t.Fatalf("disable: %d %q", code, out)
	}
	if _, err := st.SessionPrincipal(context.Background(), secret, time.Now(), store.SessionTimes{Idle: time.Hour, Absolute: time.Hour}); err != store.ErrNoSession {
		t.Fatalf("the disabled principal's session lives on: %v", err)
	}
	if code, out, _ := pacto(t, "principal", "disable", "pa-approver"); code != 0 || !strings.Contains(out, "already disabled") {
		t.Fatalf("disable again: %d %q", code, out)
	}
}

func TestOIDCProvidersFromTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	secretFile := dir + "/us-secret"
	if err := os.WriteFile(secretFile, []byte("us-s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ps, err := oidcProviders([]string{
		"PATH=/bin",
		"PACTO_OIDC_US_ISSUER=https://login.us.example",
		"PACTO_OIDC_US_CLIENT_ID=pacto",
		"PACTO_OIDC_US_CLIENT_SECRET_FILE=" + secretFile,
		"PACTO_OIDC_US_MATCH_EMAIL=true",
		"PACTO_OIDC_PA_ISSUER=https://id.pa.example/realms/gob",
		"PACTO_OIDC_PA_CLIENT_ID=pacto-console",
		"PACTO_OIDC_PA_CLIENT_SECRET=pa-s3cret",
		"PACTO_OIDC_CR_SJ_ISSUER=http://127.0.0.1:5556/dex",
		"PACTO_OIDC_CR_SJ_CLIENT_ID=c",
		"PACTO_OIDC_CR_SJ_CLIENT_SECRET=cr-s3cret",
		"PACTO_OIDC_CR_SJ_PARTY=CR-SJ",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []console.Provider{
		{Party: "CR-SJ", Issuer: "http://127.0.0.1:5556/dex", ClientID: "c", ClientSecret: "cr-s3cret"},
		{Party: "PA", Issuer: "https://id.pa.example/realms/gob", ClientID: "pacto-console", ClientSecret: "pa-s3cret"},
		{Party: "US", Issuer: "https://login.us.example", ClientID: "pacto", ClientSecret: "us-s3cret", MatchEmail: true},
	}
	if !slices.Equal(ps, want) {
		t.Fatalf("providers:\n%+v\nwant\n%+v", ps, want)
	}
	if ps, err := oidcProviders([]string{"PACTO_DATABASE_URL=x"}); err != nil || len(ps) != 0 {
		t.Fatalf("no providers: %v %v", ps, err)
	}
	pa := []string{"PACTO_OIDC_PA_ISSUER=https://id.pa.example", "PACTO_OIDC_PA_CLIENT_ID=pacto", "PACTO_OIDC_PA_CLIENT_SECRET=pa-s3cret"}
	with := func(extra ...string) []string { return append(slices.Clone(pa), extra...) }
	without := func(prefix string, extra ...string) []string {
		var out []string
		for _, kv := range pa {
			if !strings.HasPrefix(kv, prefix) {
				out = append(out, kv)
			}
		}
		return append(out, extra...)
	}
	for _, c := range []struct {
		name    string
		environ []string
		says    string
	}{
		{"a misspelt setting", with("PACTO_OIDC_PA_CLIENTID=x"), "PACTO_OIDC_PA_CLIENTID is not a setting"},
		{"no issuer", without("PACTO_OIDC_PA_ISSUER"), "PACTO_OIDC_PA_ISSUER is required"},
		{"plain http issuer", without("PACTO_OIDC_PA_ISSUER", "PACTO_OIDC_PA_ISSUER=http://id.pa.example"), "must use https"},
		{"no client id", without("PACTO_OIDC_PA_CLIENT_ID"), "PACTO_OIDC_PA_CLIENT_ID is required"},
		{"no secret", without("PACTO_OIDC_PA_CLIENT_SECRET="), "PACTO_OIDC_PA_CLIENT_SECRET or PACTO_OIDC_PA_CLIENT_SECRET_FILE is required"},
		{"two secrets", with("PACTO_OIDC_PA_CLIENT_SECRET_FILE=" + secretFile), "not both"},
		{"a missing secret file", without("PACTO_OIDC_PA_CLIENT_SECRET=", "PACTO_OIDC_PA_CLIENT_SECRET_FILE="+dir+"/none"), "PACTO_OIDC_PA_CLIENT_SECRET_FILE"},
		{"match email not a boolean", with("PACTO_OIDC_PA_MATCH_EMAIL=sometimes"), "use true or false"},
		{"lower-case party", []string{"PACTO_OIDC_pa_ISSUER=https://id.pa.example"}, `"pa" is not a party code`},
		{"a party twice", with("PACTO_OIDC_PANAMA_ISSUER=https://id2.pa.example", "PACTO_OIDC_PANAMA_CLIENT_ID=c", "PACTO_OIDC_PANAMA_CLIENT_SECRET=s", "PACTO_OIDC_PANAMA_PARTY=PA"), "more than one identity provider"},
	} {
		_, err := oidcProviders(c.environ)
		if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v; want a usage error saying %q", c.name, err, c.says)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows a secret: %v", c.name, err)
		}
	}

	// The server commands refuse a provider they could not send people
	// back from, before they touch anything.
	for _, kv := range pa {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
	t.Setenv("PACTO_PUBLIC_URL", "")
	if code, _, stderr := pacto(t, "api", "--database-url", "postgres://127.0.0.1:1/none"); code != 2 || !strings.Contains(stderr, "PACTO_PUBLIC_URL) is required with identity providers") {
		t.Fatalf("api without a public URL: %d %q", code, stderr)
	}
	if code, _, stderr := pacto(t, "serve", "--database-url", "postgres://127.0.0.1:1/none", "--public-url", "pacto.example"); code != 2 || !strings.Contains(stderr, "not an absolute http or https URL") {
		t.Fatalf("serve with a relative public URL: %d %q", code, stderr)
	}
	t.Setenv("PACTO_OIDC_PA_CLIENT_ID", "")
	if code, _, stderr := pacto(t, "api", "--database-url", "postgres://127.0.0.1:1/none", "--public-url", "https://pacto.example"); code != 2 || !strings.Contains(stderr, "PACTO_OIDC_PA_CLIENT_ID is required") {
		t.Fatalf("api with a provider lacking its client id: %d %q", code, stderr)
	}
	var help bytes.Buffer
	f := newFlags("api", "api [flags]")
	f.note(oidcHelp)
	f.fs.SetOutput(&help)
	f.fs.Usage()
	if !strings.Contains(help.String(), "PACTO_OIDC_<PARTY>_CLIENT_SECRET_FILE") {
		t.Errorf("api --help does not tell of the providers:\n%s", help.String())
	}
}

// migrateAndSeed runs `pacto migrate` with env, seeds the demo dialogue
// and principals into db, and returns their tokens by principal.
func migrateAndSeed(t *testing.T, env []string, db string) map[string]string {
	t.Helper()
	if err := start(t, env, "migrate").wait(t, time.Minute); err != nil {
		t.Fatalf("pacto migrate: %v", err)
	}
	return seedDemo(t, db)
}

// seedDemo seeds the demo dialogue and principals into db, migrated, and
// returns their tokens by principal.
func seedDemo(t *testing.T, db string) map[string]string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tokensFile := filepath.Join(t.TempDir(), "tokens.json")
	if _, err := app.SeedDemo(ctx, st, tokensFile); err != nil {
		t.Fatal(err)
	}
	var tokens map[string]string
	b, err := os.ReadFile(tokensFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &tokens); err != nil {
		t.Fatal(err)
	}
	return tokens
}

// waitApprovedOnce waits until activity id's audit log, read by c, holds
// exactly one approval from each demo approver, and fails the test if one
// approved twice or deadline passes first.
func waitApprovedOnce(t *testing.T, c apiClient, id string, deadline time.Time) {
	t.Helper()
	for {
		approvedBy := map[string]int{}
		for _, e := range c.must("GET", "/v1/activities/"+id+"/audit", nil, 200)["events"].([]any) {
			if e := e.(map[string]any); e["type"] == "approved" {
				approvedBy[fmt.Sprint(e["actor"])]++
			}
		}
		if approvedBy["pa-approver"] == 1 && approvedBy["us-approver"] == 1 && len(approvedBy) == 2 {
			return
		}
		if approvedBy["pa-approver"] > 1 || approvedBy["us-approver"] > 1 || time.Now().After(deadline) {
			t.Fatalf("%s has approvals %v in its audit log, want exactly one from each approver", id, approvedBy)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// A bad --workflow-cache is a usage error, before anything starts.
func TestWorkflowCacheFlag(t *testing.T) {
	for _, args := range [][]string{
		{"worker", "--database-url", "postgres://127.0.0.1:1/none", "--workflow-cache", "-1"},
		{"serve", "--database-url", "postgres://127.0.0.1:1/none", "--workflow-cache", "lots"},
		{"dev", "--data-dir", filepath.Join(t.TempDir(), "never"), "--workflow-cache", "-5"},
		{"bench", "--workflow-cache", "x"},
	} {
		if code, _, stderr := pacto(t, args...); code != 2 || !strings.Contains(stderr, "--workflow-cache") || !strings.Contains(stderr, "0 or more") {
			t.Errorf("%v: %d %q", args, code, stderr)
		}
	}
	if err := setWorkflowCache(" 2000 "); err != nil {
		t.Fatal(err)
	}
}
