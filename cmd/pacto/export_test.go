package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"pacto/internal/pgtest"
	"pacto/internal/store"
)

// Activities exported from the command line, on a real database: every
// activity by default, in English and UTC; what a principal may see, in
// their language and zone, with --as; the list's filters; a file written
// whole or not at all; bad flags refused as usage errors.
func TestExportCommand(t *testing.T) {
	db := pgtest.NewDatabase(t)
	t.Setenv("PACTO_DATABASE_URL", db)
	pactoAll(t, [][]string{
		{"migrate"},
		{"party", "create", "--code", "PA", "--name", "Panamá", "--time-zone", "America/Panama", "--language", "es"},
		{"party", "create", "--code", "US", "--name", "United States", "--time-zone", "America/New_York"},
		{"party", "create", "--code", "MX", "--name", "México", "--time-zone", "America/Mexico_City", "--language", "es"},
		{"dialogue", "create", "--id", "hld-pa-us", "--name", "High-Level Dialogue", "--parties", "PA,US"},
		{"principal", "create", "--id", "pa-observer", "--party", "PA", "--roles", "observer", "--name", "Observadora", "--language", "es"},
		{"principal", "create", "--id", "mx-observer", "--party", "MX", "--roles", "observer", "--name", "Observador"},
	}...)
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id := activeActivity(t, st)
	act, err := st.Activity(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	panama, _ := time.LoadLocation("America/Panama")

	read := func(out string, comma rune) [][]string {
		t.Helper()
		r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff")))
		r.Comma = comma
		all, err := r.ReadAll()
		if err != nil {
			t.Fatalf("not CSV: %v\n%s", err, out)
		}
		return all
	}
	// Everything, in English and UTC, to standard output.
	code, out, stderr := pacto(t, "export", "csv")
	if code != 0 {
		t.Fatalf("export csv: exit %d: %s", code, stderr)
	}
	all := read(out, ',')
	if len(all) != 2 || all[0][5] != "Title" || all[0][9] != "Activated (UTC)" || all[1][0] != id || all[1][5] != "Joint customs training" ||
		all[1][9] != act.ActivatedAt.UTC().Format("2006-01-02 15:04") {
		t.Fatalf("export csv: %q", all)
	}
	// As Panama's observer: Spanish, Panama's time, a BOM and semicolons.
	code, out, stderr = pacto(t, "export", "csv", "--as", "pa-observer", "--bom", "--delimiter", ";", "--status", "active")
	if code != 0 || !strings.HasPrefix(out, "\ufeff") {
		t.Fatalf("export csv --as pa-observer: exit %d: %s %.20q", code, stderr, out)
	}
	all = read(out, ';')
	if len(all) != 2 || all[0][9] != "Fecha de activación (America/Panama)" || all[1][5] != "Capacitación aduanera conjunta" ||
		all[1][9] != act.ActivatedAt.In(panama).Format("2006-01-02 15:04") || all[1][16] != "Abierto" {
		t.Fatalf("as pa-observer: %q", all)
	}
	// México's observer sees none of Panama's and the United States'.
	if code, out, _ = pacto(t, "export", "csv", "--as", "mx-observer"); code != 0 || len(read(out, ',')) != 1 {
		t.Fatalf("as mx-observer: exit %d: %q", code, out)
	}
	if code, out, _ = pacto(t, "export", "csv", "--status", "proposed"); code != 0 || len(read(out, ',')) != 1 {
		t.Fatalf("--status proposed: exit %d: %q", code, out)
	}

	// A workbook, to a file.
	file := filepath.Join(t.TempDir(), "actividades.xlsx")
	code, out, stderr = pacto(t, "export", "xlsx", "--as", "pa-observer", "--dialogue", "hld-pa-us", "--out", file)
	if code != 0 || !strings.Contains(out, file) {
		t.Fatalf("export xlsx: exit %d: %s %s", code, out, stderr)
	}
	f, err := excelize.OpenFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows("Actividades")
	f.Close()
	if err != nil || len(rows) != 2 || rows[1][0] != id || rows[1][12] != "Primera cohorte formada" {
		t.Fatalf("the workbook: %q (%v)", rows, err)
	}
	// A refused export leaves the file there was, and nothing beside it.
	before, _ := os.ReadFile(file)
	if code, _, stderr = pacto(t, "export", "xlsx", "--status", "bogus", "--out", file); code != 2 || !strings.Contains(stderr, "--status") {
		t.Fatalf("--status bogus: exit %d: %s", code, stderr)
	}
	after, _ := os.ReadFile(file)
	entries, _ := os.ReadDir(filepath.Dir(file))
	if string(before) != string(after) || len(entries) != 1 {
		t.Fatalf("a refused export touched the file or left %d files", len(entries))
	}

	for _, bad := range [][]string{
		{"export"}, {"export", "pdf"}, {"export", "csv", "--delimiter", "|"}, {"export", "csv", "--lang", "fr"},
		{"export", "csv", "--time-zone", "Mars/Olympus"}, {"export", "csv", "--as", "nobody"}, {"export", "xlsx", "--bom"},
		{"export", "csv", "--due-before", "soon"}, {"export", "csv", "stray"},
	} {
		if code, _, stderr := pacto(t, bad...); code != 2 || stderr == "" {
			t.Errorf("pacto %v: exit %d, want 2: %s", bad, code, stderr)
		}
	}
}
