package review

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ledongthuc/pdf"

	"pacto/internal/lifecycle"
)

// pdfText is the text a PDF reader extracts from doc, page by page, with
// runs of white space made one space.
func pdfText(t *testing.T, doc []byte) (string, int) {
	t.Helper()
	rd, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatalf("the PDF does not read back: %v", err)
	}
	plain, err := rd.GetPlainText()
	if err != nil {
		t.Fatalf("the PDF's text does not read back: %v", err)
	}
	b, err := io.ReadAll(plain)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(b)), " "), rd.NumPage()
}

func TestPDFInBothLanguages(t *testing.T) {
	r := sample()
	// The figures expected are those the JSON report hands on.
	js, err := JSON(r)
	if err != nil {
		t.Fatal(err)
	}
	var handed Report
	if err := json.Unmarshal(js, &handed); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang, zone string
		want       []string
	}{
		{"es", "America/Panama", []string{"Informe de avance: Diálogo Bilateral de Alto Nivel", "Capacitación aduanera en Colón",
			"Diagnóstico de necesidades", "Corto plazo", "Fecha límite", "Línea de base", "Valor alcanzado", "Prórrogas concedidas",
			"jueves, 20 de mayo de 2027, 10:00 a. m. (America/Panama)", "Página 1", "2/28/2027", "845.5", "1,200 funcionarios"}},
		{"en", "America/New_York", []string{"Progress report: Diálogo Bilateral de Alto Nivel", "Customs training in Colón",
			"Needs assessment", "Short term", "Due date", "Baseline", "Extensions granted",
			"Thursday, May 20, 2027, 11:00 AM (America/New_York)", "Page 1", "1,200 officials"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			doc, err := PDF(r, tc.lang, tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(doc, []byte("%PDF-")) {
				t.Fatalf("not a PDF: %q", doc[:min(len(doc), 16)])
			}
			got, _ := pdfText(t, doc)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("PDF text lacks %q:\n%s", w, got)
				}
			}
			// The summary's figures are the JSON report's: each party's
			// row of counts by state, then its total.
			for _, code := range r.partyCodes() {
				c := handed.ByParty[code]
				row := fmt.Sprintf("%s %d %d %d %d %d %d", r.partyName(code), c.OnTime, c.Late, c.Overdue, c.Upcoming, c.Pending, c.total())
				if !strings.Contains(got, row) {
					t.Errorf("PDF text lacks the counts %q", row)
				}
			}
			for _, term := range terms {
				c := handed.ByTerm[term]
				row := fmt.Sprintf("%s %d %d %d %d %d %d", termLabel(term, tc.lang), c.OnTime, c.Late, c.Overdue, c.Upcoming, c.Pending, c.total())
				if !strings.Contains(got, row) {
					t.Errorf("PDF text lacks the counts %q", row)
				}
			}
		})
	}
}

// TestPDFBreaksPages lays out an activity with more milestones than a page
// holds: the table runs onto further pages, numbered, with its header
// repeated, and no milestone is lost.
func TestPDFBreaksPages(t *testing.T) {
	r := sample()
	a := &r.Activities[0]
	for i := range 80 {
		a.Milestones = append(a.Milestones, MilestoneReport{
			ID:    fmt.Sprintf("x%02d", i),
			Title: lifecycle.Text{"es": fmt.Sprintf("Taller regional número %d de formación de formadores en gestión de riesgos aduaneros", i)},
			Owner: "PA", Term: lifecycle.HorizonLong, DueAt: at("2028-01-15T05:00:00Z"), State: StateUpcoming,
		})
	}
	// A word wider than its column is broken inside the word.
	long := strings.Repeat("Interinstitucional", 20)
	a.Milestones = append(a.Milestones, MilestoneReport{ID: "long", Title: lifecycle.Text{"es": long}, Owner: "US", State: StatePending})
	doc, err := PDF(r, "es", "America/Panama")
	if err != nil {
		t.Fatal(err)
	}
	got, pages := pdfText(t, doc)
	if !strings.Contains(got, "(long)") || strings.Count(got, "Interinstitucional") < 19 {
		t.Error("the long word is missing")
	}
	if pages < 3 {
		t.Fatalf("%d pages for 86 milestones, want the table to run onto several", pages)
	}
	for i := range 80 {
		if id := fmt.Sprintf("(x%02d)", i); !strings.Contains(got, id) {
			t.Errorf("milestone %s is missing", id)
		}
	}
	if n := strings.Count(got, "Hito Parte responsable Plazo Fecha límite"); n < pages-1 {
		t.Errorf("the milestones' header shows %d times over %d pages, want it on each page the table runs onto", n, pages)
	}
	if !strings.Contains(got, fmt.Sprintf("Página %d", pages)) {
		t.Errorf("the last page is not numbered %d", pages)
	}
}

// TestPDFTextIsBlack: the table headers' grey fill must not become the
// colour of the text drawn after it.
func TestPDFTextIsBlack(t *testing.T) {
	doc, err := PDF(sample(), "es", "America/Panama")
	if err != nil {
		t.Fatal(err)
	}
	rd, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	// The content stream is compressed; the reader inflates it.
	b, err := io.ReadAll(rd.Page(1).V.Key("Contents").Reader())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("0.000 0.000 0.000 rg")) && !bytes.Contains(b, []byte("0 0 0 rg")) {
		t.Errorf("no black text colour on page 1:\n%.600s", b)
	}
}
