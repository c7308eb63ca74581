package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/pgtest"
	"pacto/internal/review"
	"pacto/internal/store"
)

// A meeting's report from the command line, on a real database: compiled
// now before any draft, the stored draft with the statements made on it
// once there is one, and the frozen report's very bytes once frozen, in
// every format and both languages.
func TestReportCommand(t *testing.T) {
	db := pgtest.NewDatabase(t)
	t.Setenv("PACTO_DATABASE_URL", db)
	pactoAll(t, [][]string{
		{"migrate"},
		{"party", "create", "--code", "PA", "--name", "Panamá", "--time-zone", "America/Panama", "--language", "es"},
		{"party", "create", "--code", "US", "--name", "United States", "--time-zone", "America/New_York"},
		{"dialogue", "create", "--id", "hld-pa-us", "--name", "High-Level Dialogue", "--parties", "PA,US"},
		{"dialogue", "create", "--id", "hld-empty", "--name", "No calendar", "--parties", "PA,US"},
	}...)
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id := activeActivity(t, st)
	cal := []byte(`{"dates":["2030-03-15T10:00","2030-09-15T10:00"],"zone":"America/Panama","hosts":["PA","US"]}`)
	if err := st.SetDialogueCalendar(ctx, "hld-pa-us", cal, "admin"); err != nil {
		t.Fatal(err)
	}
	// report runs pacto report on hld-pa-us and returns what it wrote and,
	// when that is JSON, the report it reads as.
	report := func(args ...string) (review.Report, string) {
		t.Helper()
		code, out, stderr := pacto(t, append([]string{"report", "--dialogue", "hld-pa-us"}, args...)...)
		if code != 0 {
			t.Fatalf("pacto report %v: exit %d: %s", args, code, stderr)
		}
		var rep review.Report
		if strings.HasPrefix(out, "{") {
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("pacto report %v is not a report: %v\n%s", args, err, out)
			}
		}
		return rep, out
	}

	// No draft yet: compiled from the read model now.
	rep, _ := report("--meeting", "1")
	if rep.Dialogue != "hld-pa-us" || rep.Meeting != "1" || len(rep.Activities) != 1 || rep.Activities[0].ID != id || rep.Statements != nil {
		t.Fatalf("the report compiled now: %+v", rep)
	}
	if _, out := report("--meeting", "1", "--format", "csv", "--lang", "es"); !strings.HasPrefix(out, "\ufeff") || !strings.Contains(out, "Hito") {
		t.Fatalf("the CSV in Spanish: %.200q", out)
	}

	// The draft as kept, with the statements made so far.
	at := time.Date(2030, 3, 15, 15, 0, 0, 0, time.UTC)
	draft, err := review.Compile(ctx, st, "hld-pa-us", "1", at, time.Time{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	draft.DialogueName = "As drafted"
	keep(t, st, 1, store.ReportDraft, draft)
	statement := store.MeetingStatement{ID: "s1", Activity: id, Party: "PA", Author: "pa-coordinator", Body: "La primera cohorte se forma en marzo.", MadeAt: time.Now().UTC()}
	if err := st.PutMeetingStatement(ctx, "hld-pa-us", 1, statement); err != nil {
		t.Fatal(err)
	}
	rep, _ = report("--meeting", "1")
	if rep.DialogueName != "As drafted" || len(rep.Statements) != 1 || rep.Statements[0].Body != statement.Body || len(rep.Missing) != 0 {
		t.Fatalf("the draft with its statement: %+v", rep)
	}
	if _, out := report("--meeting", "1", "--format", "html", "--lang", "en"); !strings.Contains(out, `<html lang="en"`) || !strings.Contains(out, "As drafted") {
		t.Fatalf("the draft as HTML: %.300s", out)
	}

	// The frozen report: the bytes kept, written to a file.
	frozen := draft.WithStatements(nil)
	frozen.DialogueName, frozen.Meeting = "As frozen", "2"
	kept := keep(t, st, 2, store.ReportFrozen, frozen)
	dir := t.TempDir()
	file := filepath.Join(dir, "meeting-2.json")
	code, out, stderr := pacto(t, "report", "--dialogue", "hld-pa-us", "--meeting", "2", "--out", file)
	sum := sha256.Sum256(kept)
	if code != 0 || !strings.Contains(out, "frozen report (SHA-256 "+hex.EncodeToString(sum[:])+")") || !strings.Contains(out, file) {
		t.Fatalf("report --out: exit %d %q %q", code, out, stderr)
	}
	if got, err := os.ReadFile(file); err != nil || !bytes.Equal(got, kept) {
		t.Fatalf("the file is not the frozen bytes: %v", err)
	}
	pdf := filepath.Join(dir, "meeting-2.pdf")
	if code, _, stderr := pacto(t, "report", "--dialogue", "hld-pa-us", "--meeting", "2", "--format", "pdf", "--lang", "es", "--out", pdf); code != 0 {
		t.Fatalf("report as PDF: %s", stderr)
	}
	if got, err := os.ReadFile(pdf); err != nil || !bytes.HasPrefix(got, []byte("%PDF-")) {
		t.Fatalf("the PDF: %v %.20q", err, got)
	}
	if _, out := report("--meeting", "2", "--format", "csv", "--lang", "en"); !strings.Contains(out, "Milestone") || !strings.Contains(out, "Joint customs training") {
		t.Fatalf("the frozen report as CSV in English: %.300q", out)
	}

	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"report", "--meeting", "1"}, 2, "--dialogue is required"},
		{[]string{"report", "--dialogue", "hld-pa-us"}, 2, "--meeting is required"},
		{[]string{"report", "--dialogue", "hld-pa-us", "--meeting", "1", "--format", "docx"}, 2, "--format must be"},
		{[]string{"report", "--dialogue", "hld-pa-us", "--meeting", "1", "--lang", "fr"}, 2, "--lang must be es or en"},
		{[]string{"report", "--dialogue", "hld-nowhere", "--meeting", "1"}, 1, "no such dialogue"},
		{[]string{"report", "--dialogue", "hld-empty", "--meeting", "1"}, 1, "no meeting calendar"},
		{[]string{"report", "--dialogue", "hld-pa-us", "--meeting", "9"}, 1, "has no meeting 9"},
		{[]string{"report", "--dialogue", "hld-pa-us", "--meeting", "1", "--out", filepath.Join(dir, "no-such-dir", "r.json")}, 1, "write the report"},
	} {
		code, _, stderr := pacto(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) {
			t.Errorf("pacto %v: exit %d %q; want exit %d saying %q", c.args, code, stderr, c.code, c.says)
		}
	}
}

// keep stores rep as meeting's report of kind, as the Review run does,
// and returns its bytes.
func keep(t *testing.T, st *store.Store, meeting int, kind string, rep review.Report) []byte {
	t.Helper()
	b, err := review.JSON(rep)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if err := st.PutMeetingReport(context.Background(), store.MeetingReport{Dialogue: "hld-pa-us", Meeting: meeting, Kind: kind,
		JSON: b, SHA256: hex.EncodeToString(sum[:])}); err != nil {
		t.Fatal(err)
	}
	return b
}

// activeActivity records an activity of hld-pa-us, proposed and approved
// by both parties, whose milestone PA owns, and returns its id.
func activeActivity(t *testing.T, st *store.Store) string {
	t.Helper()
	ctx := context.Background()
	parties := []lifecycle.Party{{Code: "PA", TimeZone: "America/Panama", Language: "es"}, {Code: "US", TimeZone: "America/New_York", Language: "en"}}
	who := func(id string, party lifecycle.PartyCode, role lifecycle.Role) lifecycle.Principal {
		return lifecycle.Principal{ID: id, Party: party, Roles: []lifecycle.Role{role}}
	}
	both := func(en, es string) lifecycle.Text { return lifecycle.Text{"en": en, "es": es} }
	var s lifecycle.State
	now := time.Now().Add(-time.Hour)
	for _, step := range []struct {
		cmd lifecycle.Command
		by  lifecycle.Principal
	}{
		{lifecycle.Propose{ActivityID: "act-report-1", Dialogue: "hld-pa-us", DialogueParties: parties, Parties: []lifecycle.PartyCode{"PA", "US"},
			Rules: lifecycle.CurrentRules, Title: both("Joint customs training", "Capacitación aduanera conjunta"),
			Milestones: []lifecycle.MilestoneSpec{{ID: "m1", Title: both("First cohort trained", "Primera cohorte formada"), Owner: "PA", Due: "P30D"}}},
			who("pa-coordinator", "PA", lifecycle.RoleCoordinator)},
		{lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove}, who("pa-approver", "PA", lifecycle.RoleApprover)},
		{lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove}, who("us-approver", "US", lifecycle.RoleApprover)},
	} {
		now = now.Add(time.Minute)
		events, err := lifecycle.Decide(s, step.cmd, step.by, now)
		if err != nil {
			t.Fatalf("%s: %v", step.cmd.CommandName(), err)
		}
		for _, e := range events {
			s = lifecycle.Apply(s, e)
		}
		if err := st.Record(ctx, s, events); err != nil {
			t.Fatal(err)
		}
	}
	if s.Status != lifecycle.StatusActive {
		t.Fatalf("the activity is %s, not active", s.Status)
	}
	return s.ID
}
