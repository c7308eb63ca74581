package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"pacto/internal/pgtest"
	"pacto/internal/store"
)

func TestMain(m *testing.M) {
	// The CLI applies the migrations itself; the template stays empty.
	pgtest.Main(m)
}

// pacto runs the command line in-process and returns its exit code and output.
func pacto(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
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
	for _, s := range steps {
		if code, _, stderr := pacto(t, s...); code != 0 {
			t.Fatalf("pacto %v: exit %d: %s", s, code, stderr)
		}
	}
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
