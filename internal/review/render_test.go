package review

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"pacto/internal/lifecycle"
)

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func num(f float64) *float64 { return &f }

// sample is a report of two parties with an activity whose texts carry
// accents, markup and a would-be formula, and milestones in every state.
func sample() Report {
	return Report{
		Dialogue:     "hld-pa-us",
		DialogueName: "Diálogo Bilateral de Alto Nivel",
		Meeting:      "2027-1",
		MeetingAt:    *at("2027-05-20T15:00:00Z"),
		Since:        *at("2026-11-19T15:00:00Z"),
		AsOf:         *at("2027-05-13T04:30:00Z"),
		Parties: []Party{
			{Code: "PA", Name: "Panamá", Language: "es", TimeZone: "America/Panama"},
			{Code: "US", Name: "United States", Language: "en", TimeZone: "America/New_York"},
		},
		Languages: []string{"es", "en"},
		Activities: []ActivityReport{
			{
				ID:      "act-customs",
				Title:   lifecycle.Text{"es": "Capacitación aduanera en Colón", "en": "Customs training in Colón"},
				Status:  lifecycle.StatusActive,
				Parties: []lifecycle.PartyCode{"PA", "US"},
				Milestones: []MilestoneReport{
					{ID: "m1", Title: lifecycle.Text{"es": "Diagnóstico de necesidades", "en": "Needs assessment"}, Owner: "PA", Term: lifecycle.HorizonShort,
						// 03:00 UTC on the 1st is still the 28th of February in Panama.
						DueAt: at("2027-03-01T03:00:00Z"), CompletedAt: at("2027-02-20T17:00:00Z"), State: StateOnTime},
					{ID: "m2", Title: lifecycle.Text{"es": "=HYPERLINK(\"http://x\")", "en": "=HYPERLINK(\"http://x\")"}, Owner: "US", Term: lifecycle.HorizonMedium,
						DueAt: at("2027-04-01T04:00:00Z"), CompletedAt: at("2027-04-10T16:00:00Z"), State: StateLate},
					{ID: "m3", Title: lifecycle.Text{"es": "Funcionarios capacitados", "en": "Officials trained"}, Owner: "PA", Term: lifecycle.HorizonMedium,
						DueAt: at("2027-05-01T05:00:00Z"), State: StateOverdue,
						Indicator: &Indicator{Baseline: num(0), Target: 1200, Actual: num(845.5), Unit: lifecycle.Text{"es": "funcionarios", "en": "officials"}}},
					{ID: "m4", Title: lifecycle.Text{"es": "Evaluación final", "en": "Final evaluation"}, Owner: "US", Term: lifecycle.HorizonLong,
						DueAt: at("2028-06-01T04:00:00Z"), State: StateUpcoming},
				},
				ExtensionsGranted: 1,
			},
			{
				ID:      "act-<script>",
				Title:   lifecycle.Text{"es": "<script>alert(1)</script> Migración", "en": "<script>alert(1)</script> Migration"},
				Status:  lifecycle.StatusProposed,
				Parties: []lifecycle.PartyCode{"PA", "US"},
				Milestones: []MilestoneReport{
					{ID: "n1", Title: lifecycle.Text{"en": "@SUM(A1)"}, Owner: "US", Term: lifecycle.HorizonShort, State: StatePending},
				},
			},
		},
		ByParty: map[lifecycle.PartyCode]Counts{
			"PA": {OnTime: 1, Overdue: 1},
			"US": {Late: 1, Upcoming: 1, Pending: 1},
		},
		ByTerm: map[lifecycle.Horizon]Counts{
			lifecycle.HorizonShort:  {OnTime: 1, Pending: 1},
			lifecycle.HorizonMedium: {Late: 1, Overdue: 1},
			lifecycle.HorizonLong:   {Upcoming: 1},
		},
		Changes: Changes{Proposed: []string{"act-<script>"}, Activated: []string{"act-customs"}},
	}
}

func TestJSONIsStableAndReadsBack(t *testing.T) {
	r := sample()
	a, err := JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("the same report gave different JSON")
	}
	if !bytes.Contains(a, []byte("\n  \"dialogue\": \"hld-pa-us\"")) {
		t.Errorf("JSON is not indented:\n%s", a)
	}
	var back Report
	if err := json.Unmarshal(a, &back); err != nil {
		t.Fatal(err)
	}
	if back.ByParty["US"].Late != 1 || back.Activities[0].Title["es"] != "Capacitación aduanera en Colón" {
		t.Errorf("read back %+v", back)
	}
}

func TestCSVInBothLanguages(t *testing.T) {
	for _, tc := range []struct {
		lang   string
		header []string
		first  []string
	}{
		{"es", []string{"Actividad", "Título de la actividad", "Estado de la actividad", "Hito", "Título del hito", "Parte responsable", "Plazo", "Fecha límite", "Fecha de cumplimiento", "Situación", "Línea de base", "Meta", "Valor alcanzado", "Unidad", "Informe de la parte responsable"},
			[]string{"act-customs", "Capacitación aduanera en Colón", "Activa", "m1", "Diagnóstico de necesidades", "Panamá", "Corto plazo", "2027-02-28", "2027-02-20", "A tiempo", "", "", "", "", "=El taller se celebró"}},
		{"en", []string{"Activity", "Activity title", "Activity status", "Milestone", "Milestone title", "Owner party", "Term", "Due date", "Completed date", "State", "Baseline", "Target", "Actual", "Unit", "Owner party's statement"},
			[]string{"act-customs", "Customs training in Colón", "Active", "m1", "Needs assessment", "Panamá", "Short term", "2027-02-28", "2027-02-20", "On time", "", "", "", "", "=El taller se celebró"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			// PA made a statement on act-customs (a formula-like one, kept
			// as text); US made none on it.
			rep := sample()
			rep.Statements = []Statement{{Activity: "act-customs", Party: "PA", Author: "pa-coordinator", Body: "=El taller se celebró"}}
			rep.Missing = []MissingStatement{{Activity: "act-customs", Party: "US"}}
			tc.first[len(tc.first)-1] = "'" + tc.first[len(tc.first)-1]
			out, err := CSV(rep, tc.lang)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(out, []byte("\xEF\xBB\xBF")) {
				t.Fatalf("no UTF-8 byte order mark: % x", out[:3])
			}
			rows, err := csv.NewReader(bytes.NewReader(out[3:])).ReadAll()
			if err != nil {
				t.Fatalf("CSV does not parse back: %v", err)
			}
			if len(rows) != 6 {
				t.Fatalf("%d rows, want a header and 5 milestones", len(rows))
			}
			if strings.Join(rows[0], "|") != strings.Join(tc.header, "|") {
				t.Errorf("header %q, want %q", rows[0], tc.header)
			}
			if strings.Join(rows[1], "|") != strings.Join(tc.first, "|") {
				t.Errorf("first row %q, want %q", rows[1], tc.first)
			}
			if got, want := rows[2][14], msg(tc.lang, "statement_missing"); got != want {
				t.Errorf("US's statement on act-customs %q, want %q", got, want)
			}
			if got := rows[2][4]; got != `'=HYPERLINK("http://x")` {
				t.Errorf("formula title written as %q, want it guarded with an apostrophe", got)
			}
			if got := rows[5][4]; got != "'@SUM(A1)" {
				t.Errorf("@ title written as %q, want it guarded (and the English text as the fallback)", got)
			}
			if got := rows[3]; got[10] != "0" || got[11] != "1200" || got[12] != "845.5" || got[7] != "2027-05-01" {
				t.Errorf("indicator row %q", got)
			}
			// The US owner's due date is in New York: 04:00 UTC is midnight there.
			if got := rows[2][7]; got != "2027-04-01" {
				t.Errorf("US due date %q", got)
			}
		})
	}
	if _, err := CSV(sample(), "fr"); err == nil {
		t.Error("a report in French was written")
	}
}

func TestHTMLInBothLanguages(t *testing.T) {
	for _, tc := range []struct {
		lang, zone string
		want       []string
	}{
		{"es", "America/Panama", []string{`<html lang="es">`, "Informe de avance", "Capacitación aduanera en Colón", "Corto plazo", "Fecha límite", "Línea de base",
			"jueves, 20 de mayo de 2027, 10:00 a. m. (America/Panama)", "jueves, 20 de mayo de 2027, 11:00 a. m. (America/New_York)",
			"Vencido: 1", "845.5", "1,200 funcionarios", "2/28/2027"}},
		{"en", "America/New_York", []string{`<html lang="en">`, "Progress report", "Customs training in Colón", "Short term", "Due date", "Baseline",
			"Thursday, May 20, 2027, 11:00 AM (America/New_York)", "Thursday, May 20, 2027, 10:00 AM (America/Panama)",
			"Overdue: 1", "1,200 officials"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			out, err := HTML(sample(), tc.lang, tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			page := string(out)
			for _, w := range tc.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if strings.Contains(page, "<script") {
				t.Error("a title's <script> reached the page unescaped")
			}
			if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Error("the escaped title is missing")
			}
			for _, bad := range []string{"src=", "href=", "<link", "@import", "url(http", "url(//"} {
				if strings.Contains(page, bad) {
					t.Errorf("page refers outside itself: %q", bad)
				}
			}
			if n := strings.Count(page, `<svg role="img"`); n != 3 {
				t.Errorf("%d pictures, want one per party and the timeline", n)
			}
			// The timeline draws each milestone with a due date, by state.
			rep := sample()
			dated := 0
			for _, a := range rep.Activities {
				for _, m := range a.Milestones {
					if m.DueAt != nil {
						dated++
					}
				}
			}
			// Every "<title>" without an id is a mark's tip, but the page's own.
			if n := strings.Count(page, "<title>") - 1; dated == 0 || n != dated {
				t.Errorf("the timeline has %d marks with a tip, want one for each of the %d dated milestones", n, dated)
			}
			if !strings.Contains(page, `<desc id="tl-desc">`) || !strings.Contains(page, msg(tc.lang, "timeline_title")) {
				t.Error("the timeline lacks its title or description")
			}
			if !strings.Contains(page, `<title id="c0-title">`) || !strings.Contains(page, `<desc id="c0-desc">`) || !strings.Contains(page, `fill="url(#c0-late)"`) {
				t.Error("a picture lacks its title, description or pattern")
			}
		})
	}
	if _, err := HTML(sample(), "es", "Mars/Olympus"); err == nil {
		t.Error("an unknown zone was accepted")
	}
}
