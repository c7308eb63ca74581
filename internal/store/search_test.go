package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/pgtest"
	"pacto/internal/store"
)

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Capacitación":       "capacitacion",
		"CAPACITACIÓN":       "capacitacion",
		"Capacitacio\u0301n": "capacitacion", // decomposed, as some keyboards send it
		"ÑANDÚ pingüino":     "nandu pinguino",
		"Ærøskøbing Straße":  "ærøskøbing straße",
		"50% off_now":        "50% off_now",
		"한국어":                "한국어", // decomposes without marks; must come back whole
	} {
		if got := store.Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// The free-text filter ignores case and accents on both sides and takes
// LIKE's wildcards literally.
func TestSearchFoldsAccentsCaseAndWildcards(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	changes := history(t)
	base := snapshotAfter(changes, 1)
	for i, ts := range [][2]string{
		{"Capacitación aduanera", "Formación técnica"},
		{"CAPACITACIÓN DE PUERTOS", ""},
		{"Customs 50% off", "Plain summary"},
		{"Port_security", `A back\slash`},
		{"Trade fair", "Nothing special"},
	} {
		s := base
		s.ID = "act-" + string(rune('a'+i))
		s.ProposedAt = t0.Add(time.Duration(i) * time.Minute)
		s.Title, s.Summary = lifecycle.Plain(ts[0]), lifecycle.Plain(ts[1])
		if err := st.Record(ctx, s, changes[0]); err != nil {
			t.Fatal(err)
		}
	}
	for q, want := range map[string][]string{
		"capacitacion":       {"act-a", "act-b"},
		"CAPACITACIÓN":       {"act-a", "act-b"},
		"Capacitacio\u0301n": {"act-a", "act-b"},
		"formacion tecnica":  {"act-a"}, // the summary too
		"%":                  {"act-c"},
		"50%":                {"act-c"},
		"_":                  {"act-d"},
		"t_ade":              nil,
		`\`:                  {"act-d"},
		"puertos":            {"act-b"},
		"training":           nil,
	} {
		got, _, err := st.ListActivities(ctx, store.Filter{Text: q, Now: t0, Limit: 50})
		if err != nil {
			t.Fatalf("q=%q: %v", q, err)
		}
		gotIDs := ids(got)
		slices.Sort(gotIDs)
		if !slices.Equal(gotIDs, want) {
			t.Errorf("q=%q found %v, want %v", q, gotIDs, want)
		}
	}
	// An amendment's new title is searchable at once, the old one no more.
	s := snapshotAfter(changes, 1)
	s.ID, s.Seq, s.Title, s.ProposedAt = "act-a", s.Seq+1, lifecycle.Plain("Inspección sanitaria"), t0
	if err := st.Record(ctx, s, nil); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"inspeccion": 1, "aduanera": 0} {
		if got, _, _ := st.ListActivities(ctx, store.Filter{Text: q, Now: t0, Limit: 50}); len(got) != want {
			t.Errorf("after the amendment q=%q found %v, want %d", q, ids(got), want)
		}
	}
}

// Migration 005 fills the search column of the activities already stored
// with what Record writes for them, for every Latin letter.
func TestSearchMigrationBackfillsLikeRecord(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	if err := store.MigrateTo(ctx, url, 4); err != nil {
		t.Fatal(err)
	}
	var latin strings.Builder
	for _, rg := range [][2]rune{{'A', 'Z'}, {'a', 'z'}, {0xC0, 0x24F}, {0x1E00, 0x1EFF}} {
		for r := rg[0]; r <= rg[1]; r++ {
			latin.WriteRune(r)
		}
	}
	rows := map[string][2]string{
		"act-latin":   {latin.String(), "x\u0301y\u0308z\u0327"},
		"act-spanish": {"Capacitación ADUANERA en Panamá", "Año de formación; pingüinos"},
		"act-plain":   {"Customs training", ""},
	}
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for id, ts := range rows {
		snap, err := json.Marshal(map[string]string{"id": id, "title": ts[0], "summary": ts[1]})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Pool().Exec(ctx, `
			INSERT INTO activities (id, dialogue_id, title, summary, status, version, seq, proposer, proposer_party, parties, snapshot, proposed_at)
			VALUES ($1, 'hld', $2, $3, 'proposed', 1, 1, 'pa-coordinator', 'PA', '{PA,US}', $4, now())`, id, ts[0], ts[1], snap); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	for id, ts := range rows {
		var got string
		if err := st.Pool().QueryRow(ctx, "SELECT search FROM activities WHERE id = $1", id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := store.SearchText(lifecycle.Plain(ts[0]), lifecycle.Plain(ts[1])); got != want {
			for i, r := range []rune(want) {
				if i >= len([]rune(got)) || []rune(got)[i] != r {
					t.Errorf("%s: backfilled search differs from Fold at rune %d (%q): got %q, want %q", id, i, string(r), got, want)
					break
				}
			}
			if len([]rune(got)) != len([]rune(want)) {
				t.Errorf("%s: backfilled search has %d runes, Fold %d", id, len([]rune(got)), len([]rune(want)))
			}
		}
	}
	// The migrated rows are found like recorded ones.
	found, _, err := st.ListActivities(ctx, store.Filter{Text: "capacitacion aduanera", Now: t0, Limit: 50})
	if err != nil || len(found) != 1 || found[0].ID != "act-spanish" {
		t.Fatalf("search after the backfill: %v %v", ids(found), err)
	}
}

// The search column holds the title and summary in every language they
// are written in; an activity recorded before languages reads as it
// always did.
func TestSearchTextHoldsEveryLanguage(t *testing.T) {
	for _, c := range []struct {
		title, summary lifecycle.Text
		want           string
	}{
		{lifecycle.Plain("Capacitación Aduanera"), lifecycle.Plain("Formación técnica"), "capacitacion aduanera formacion tecnica"},
		// As migration 005 wrote it: a space before the empty summary.
		{lifecycle.Plain("Customs training"), nil, "customs training "},
		// Language by language, each title beside its summary.
		{lifecycle.Text{"es": "Capacitación aduanera", "en": "Customs training"}, lifecycle.Text{"es": "Formar al personal", "en": "Train staff"},
			"customs training train staff capacitacion aduanera formar al personal"},
		{lifecycle.Text{"es": "Capacitación aduanera", "en": "Customs training"}, lifecycle.Text{"es": "Formar al personal"},
			"customs training  capacitacion aduanera formar al personal"},
	} {
		if got := store.SearchText(c.title, c.summary); got != c.want {
			t.Errorf("SearchText(%v, %v) = %q, want %q", c.title, c.summary, got, c.want)
		}
	}
}
