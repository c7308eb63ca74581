package tabular

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"pacto/internal/lifecycle"
	"pacto/internal/pgtest"
	"pacto/internal/store"
)

func TestMain(m *testing.M) {
	pgtest.SetTemplateSetup(store.Migrate)
	pgtest.Main(m)
}

// t0 is when the test's activities are proposed.
var t0 = time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)

var (
	parties = []lifecycle.Party{{Code: "PA", TimeZone: "America/Panama", Language: "es"}, {Code: "US", TimeZone: "America/New_York", Language: "en"}}
	paCoord = lifecycle.Principal{ID: "pa-coordinator", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}
)

// seeded is a fresh database with Panama, the United States and their
// dialogue.
func seeded(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	for _, p := range []store.Party{{Code: "PA", Name: "Panamá", TimeZone: "America/Panama", Language: "es"},
		{Code: "US", Name: "United States", TimeZone: "America/New_York", Language: "en"}} {
		if _, err := st.CreateParty(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateDialogue(ctx, store.Dialogue{ID: "hld-pa-us", Name: "High-Level Dialogue", Parties: []string{"PA", "US"}}); err != nil {
		t.Fatal(err)
	}
	return st
}

// record runs an activity through the core, each command a minute after
// the one before from at, and records it as the workflow would.
func record(t testing.TB, st *store.Store, at time.Time, cmds ...lifecycle.Command) lifecycle.State {
	t.Helper()
	var s lifecycle.State
	var all []lifecycle.Event
	for i, c := range cmds {
		by := paCoord
		if d, ok := c.(lifecycle.DecideProposal); ok {
			by = lifecycle.Principal{ID: strings.ToLower(string(d.Party)) + "-approver", Party: d.Party, Roles: []lifecycle.Role{lifecycle.RoleApprover}}
		}
		evs, err := lifecycle.Decide(s, c, by, at.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatalf("%T: %v", c, err)
		}
		for _, e := range evs {
			s = lifecycle.Apply(s, e)
		}
		all = append(all, evs...)
	}
	if err := st.Record(context.Background(), s, all); err != nil {
		t.Fatal(err)
	}
	return s
}

func both(en, es string) lifecycle.Text { return lifecycle.Text{"en": en, "es": es} }

func proposal(id string, ms ...lifecycle.MilestoneSpec) lifecycle.Propose {
	return lifecycle.Propose{ActivityID: id, Dialogue: "hld-pa-us", DialogueParties: parties, Languages: []string{"es", "en"},
		Parties: []lifecycle.PartyCode{"PA", "US"}, Rules: lifecycle.CurrentRules,
		Title: both("Activity "+id, "Actividad "+id), Milestones: ms}
}

func approvals() []lifecycle.Command {
	return []lifecycle.Command{lifecycle.DecideProposal{Version: 1, Party: "PA", Decision: lifecycle.DecisionApprove},
		lifecycle.DecideProposal{Version: 1, Party: "US", Decision: lifecycle.DecisionApprove}}
}

// An export reads page after page, newest proposal first, and says where
// each milestone stands at the time it is made: not started, open, due
// soon, overdue, completed.
func TestExportReadsEveryPage(t *testing.T) {
	defer func(n int) { pageSize = n }(pageSize)
	pageSize = 2
	st := seeded(t)
	ms := []lifecycle.MilestoneSpec{
		{ID: "late", Title: both("Late", "Atrasado"), Owner: "PA", Due: "P1D"},
		{ID: "soon", Title: both("Soon", "Pronto"), Owner: "US", Due: "P10D"},
		{ID: "open", Title: both("Open", "Abierto"), Owner: "PA", Due: "P60D"},
		{ID: "done", Title: both("Done", "Hecho"), Owner: "PA", Due: "P90D"},
	}
	record(t, st, t0, append(append([]lifecycle.Command{proposal("act-1", ms...)}, approvals()...),
		lifecycle.CompleteMilestone{MilestoneID: "done"})...)
	for i := 2; i <= 5; i++ {
		record(t, st, t0.Add(time.Duration(i)*time.Hour), proposal(fmt.Sprintf("act-%d", i), lifecycle.MilestoneSpec{ID: "m", Title: both("M", "H"), Owner: "US", Due: "P6M"}))
	}
	panama, _ := time.LoadLocation("America/Panama")
	o := Options{Lang: "es", Zone: panama, Now: t0.Add(5 * 24 * time.Hour)}
	var buf bytes.Buffer
	if err := WriteCSV(context.Background(), &buf, NewSource(st, store.Filter{Now: o.Now}), o); err != nil {
		t.Fatal(err)
	}
	all, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range all[1:] {
		got = append(got, r[0]+"/"+r[11]+"/"+r[16])
	}
	want := []string{"act-5/m/Sin iniciar", "act-4/m/Sin iniciar", "act-3/m/Sin iniciar", "act-2/m/Sin iniciar",
		"act-1/late/Vencido", "act-1/soon/Por vencer", "act-1/open/Abierto", "act-1/done/Completado"}
	if !slices.Equal(got, want) {
		t.Fatalf("rows %q\nwant %q", got, want)
	}
	// The activation was at 14:32 UTC, 9:32 in Panama.
	if r := all[5]; r[9] != "2026-03-02 09:32" || r[15] != "2026-03-03 09:32" {
		t.Errorf("activated %q, due %q, want Panama's time", r[9], r[15])
	}

	buf.Reset()
	o.Lang = "en"
	if err := WriteXLSX(context.Background(), &buf, NewSource(st, store.Filter{Now: o.Now}), o); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Activities")
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, r := range rows[1:] {
		got = append(got, r[0]+"/"+r[11]+"/"+r[16])
	}
	want = []string{"act-5/m/Not started", "act-4/m/Not started", "act-3/m/Not started", "act-2/m/Not started",
		"act-1/late/Overdue", "act-1/soon/Due soon", "act-1/open/Open", "act-1/done/Completed"}
	if !slices.Equal(got, want) {
		t.Fatalf("workbook rows %q\nwant %q", got, want)
	}
	// The date cell shown as an American reads it, in Panama's time.
	if got := rows[5][9]; got != "3/2/2026 9:32 AM" {
		t.Errorf("activated shows as %q", got)
	}
}

// A failure to read the first page leaves the writer untouched, so the
// caller can still answer with an error.
func TestExportFailingFirstPageWritesNothing(t *testing.T) {
	st := seeded(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	if err := WriteCSV(ctx, &buf, NewSource(st, store.Filter{Now: t0}), Options{BOM: true}); err == nil || buf.Len() > 0 {
		t.Errorf("CSV: error %v, %d bytes written", err, buf.Len())
	}
	if err := WriteXLSX(ctx, &buf, NewSource(st, store.Filter{Now: t0}), Options{}); err == nil || buf.Len() > 0 {
		t.Errorf("workbook: error %v, %d bytes written", err, buf.Len())
	}
	if err := WriteCSV(context.Background(), &buf, Nothing(), Options{Comma: '|'}); err == nil || buf.Len() > 0 {
		t.Errorf("a '|' separator: error %v, %d bytes written", err, buf.Len())
	}
}

// An export with nothing in it is its header alone.
func TestExportOfNothing(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(context.Background(), &buf, Nothing(), Options{Lang: "es-PA", BOM: true, Comma: ';'}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\r\n"), "\r\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "\ufeffID de la actividad;Diálogo;") || !strings.Contains(lines[0], ";Fecha límite (UTC);") {
		t.Errorf("the CSV of nothing: %q", buf.String())
	}
}

// A text a spreadsheet would run as a formula is kept as text.
func TestGuard(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+34 600": "'+34 600", "-5": "'-5", "@SUM(A1)": "'@SUM(A1)", "\t=1": "'\t=1", "\r=1": "'\r=1",
		"": "", "a=b": "a=b", "Capacitación": "Capacitación", " =1": " =1", "'=1": "'=1",
	} {
		if got := guard(in); got != want {
			t.Errorf("guard(%q) = %q, want %q", in, got, want)
		}
	}
}

// Both languages have every word, and every column a header.
func TestWordsComplete(t *testing.T) {
	for key := range words["es"] {
		if _, ok := words["en"][key]; !ok {
			t.Errorf("%q has no English", key)
		}
	}
	for key := range words["en"] {
		if _, ok := words["es"][key]; !ok {
			t.Errorf("%q has no Spanish", key)
		}
	}
	var keys []string
	for _, c := range columns {
		keys = append(keys, "col."+c.key)
	}
	for _, s := range []lifecycle.Status{lifecycle.StatusProposed, lifecycle.StatusActive, lifecycle.StatusSuspended, lifecycle.StatusDeclined,
		lifecycle.StatusExpired, lifecycle.StatusCancelled, lifecycle.StatusCompleted} {
		keys = append(keys, "status."+string(s))
	}
	for _, h := range []lifecycle.Horizon{lifecycle.HorizonShort, lifecycle.HorizonMedium, lifecycle.HorizonLong} {
		keys = append(keys, "term."+string(h))
	}
	keys = append(keys, "state.not_started", "state.open", "state.due_soon", "state.overdue", "state.completed", "sheet", "file")
	for _, k := range keys {
		if _, ok := words["es"][k]; !ok {
			t.Errorf("no words for %q", k)
		}
	}
}

func TestFileName(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	at := time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		o              Options
		dialogue, want string
	}{
		{Options{Lang: "es", Now: at}, "", "actividades-2026-11-30.csv"},
		{Options{Lang: "en", Now: at, Zone: tokyo}, "hld-pa-us", "activities-hld-pa-us-2026-12-01.csv"},
		{Options{Lang: "es", Now: at}, `a b/"ñ"`, "actividades-a-b-----2026-11-30.csv"},
	} {
		if got := FileName(c.o, c.dialogue, "csv"); got != c.want {
			t.Errorf("FileName(%q) = %q, want %q", c.dialogue, got, c.want)
		}
	}
}
