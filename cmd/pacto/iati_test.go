package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/pgtest"
	"pacto/internal/store"
)

// The IATI settings and the export from the command line, on a real
// database: refusals before anything is written, then a file holding the
// one published activity, written whole.
func TestExportIATICommand(t *testing.T) {
	db := pgtest.NewDatabase(t)
	t.Setenv("PACTO_DATABASE_URL", db)
	pactoAll(t, [][]string{
		{"migrate"},
		{"party", "create", "--code", "PA", "--name", "Panamá", "--time-zone", "America/Panama", "--language", "es", "--iati-org-ref", "PA-RUC-8-123"},
		{"party", "create", "--code", "US", "--name", "United States", "--time-zone", "America/New_York"},
		{"dialogue", "create", "--id", "hld-pa-us", "--name", "High-Level Dialogue", "--parties", "PA,US"},
	}...)
	exportIATI := func(args ...string) (int, string, string) {
		t.Helper()
		return pacto(t, append([]string{"export", "iati"}, args...)...)
	}
	for _, c := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, 2, "--dialogue is required"},
		{[]string{"--dialogue", "nope"}, 1, "no dialogue nope"},
		{[]string{"--dialogue", "hld-pa-us"}, 1, "has no IATI reporting party"},
	} {
		if code, _, stderr := exportIATI(c.args...); code != c.code || !strings.Contains(stderr, c.stderr) {
			t.Fatalf("export iati %v: exit %d, %q; want %d and %q", c.args, code, stderr, c.code, c.stderr)
		}
	}
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"party", "iati", "--code", "US", "--org-ref", "US GOV"}, "--org-ref"},
		{[]string{"party", "iati", "--code", "US", "--org-ref", "US-GOV-1", "--org-type", "99"}, "--org-type"},
		{[]string{"dialogue", "iati", "--id", "hld-pa-us", "--reporting-party", "MX"}, "not a party of dialogue"},
		{[]string{"dialogue", "iati", "--id", "hld-pa-us", "--sector", "99999"}, "--sector"},
		{[]string{"dialogue", "iati", "--id", "hld-pa-us", "--recipient-countries", "PA,XX"}, "--recipient-countries [1]"},
	} {
		if code, _, stderr := pacto(t, c.args...); code != 2 || !strings.Contains(stderr, c.stderr) {
			t.Fatalf("pacto %v: exit %d, %q; want a usage error naming %s", c.args, code, stderr, c.stderr)
		}
	}
	if code, out, stderr := pacto(t, "dialogue", "iati", "--id", "hld-pa-us", "--reporting-party", "PA", "--sector", "15190", "--recipient-countries", "PA"); code != 0 ||
		!strings.Contains(out, "reported in IATI by PA, sector 15190, recipient countries PA") {
		t.Fatalf("dialogue iati: exit %d %q %s", code, out, stderr)
	}
	if code, out, _ := pacto(t, "party", "list"); code != 0 || !strings.Contains(out, "PA-RUC-8-123") {
		t.Fatalf("party list: %s", out)
	}
	if code, _, stderr := exportIATI("--dialogue", "hld-pa-us"); code != 1 || !strings.Contains(stderr, "no activity of dialogue hld-pa-us is published") {
		t.Fatalf("nothing published: exit %d %q", code, stderr)
	}

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	published := activeActivity(t, st)
	consentAll(t, st, published)
	file := filepath.Join(t.TempDir(), "hld.xml")
	code, out, stderr := exportIATI("--dialogue", "hld-pa-us", "--out", file)
	if code != 0 || !strings.Contains(out, "1 published activities written to "+file) {
		t.Fatalf("export iati --out: exit %d %q %s", code, out, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "<iati-identifier>PA-RUC-8-"+"123-"+published+"</iati-identifier>") || !strings.HasSuffix(string(b), "</iati-activities>\n") {
		t.Fatalf("the file: %.300s", b)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*")); len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
	// Without --out, to standard output.
	if code, out, stderr := pacto(t, "export", "iati", "--dialogue", "hld-pa-us"); code != 0 || out != string(b) {
		t.Fatalf("pacto export iati: exit %d %s; want the same file on standard output", code, stderr)
	}
}

// consentAll has both parties' approvers consent to publishing activity id.
func consentAll(t *testing.T, st *store.Store, id string) {
	t.Helper()
	ctx := context.Background()
	s, err := st.Activity(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []lifecycle.Principal{
		{ID: "pa-approver", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleApprover}},
		{ID: "us-approver", Party: "US", Roles: []lifecycle.Role{lifecycle.RoleApprover}},
	} {
		events, err := lifecycle.Decide(s, lifecycle.DecidePublication{Version: s.Version, Decision: lifecycle.PublicationConsent}, who, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			s = lifecycle.Apply(s, e)
		}
		if err := st.Record(ctx, s, events); err != nil {
			t.Fatal(err)
		}
	}
}
