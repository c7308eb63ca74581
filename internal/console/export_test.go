package console

import (
	"bytes"
	"encoding/csv"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"pacto/internal/app"
)

// The activities list and a dialogue's overview link their activities as
// a CSV and a workbook, with the list's filters; the links download, for
// the signed-in person, in their language.
func TestExportLinks(t *testing.T) {
	s := newSite(t)
	pa := s.as("pa-coordinator")
	for _, title := range []string{"Capacitación aduanera", "Intercambio académico"} {
		must(t, pa.post("/activities/new", url.Values{"dialogue": {app.DemoDialogue}, "parties": {"PA", "US"},
			"title_es": {title}, "title_en": {"In English: " + title}, "m0_id": {""}, "m0_title_es": {"Taller"}, "m0_title_en": {"Workshop"},
			"m0_owner": {"PA"}, "m0_due_in": {"3"}, "m0_due_unit": {"months"}}), 200)
	}
	obs := s.as("pa-observer")
	list := obs.get("/activities?q=aduanera&status=proposed&cursor=&limit=3")
	must(t, list, 200, "Exportar CSV", "Exportar Excel")
	csvLink, xlsxLink := exportLink(t, list.body, "csv"), exportLink(t, list.body, "xlsx")
	if csvLink != "/activities/export.csv?bom=true&q=aduanera&status=proposed" || xlsxLink != "/activities/export.xlsx?q=aduanera&status=proposed" {
		t.Fatalf("the list's export links: %s, %s", csvLink, xlsxLink)
	}

	resp, body := download(t, obs, csvLink)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment; filename=actividades-") || !bytes.HasPrefix(body, []byte("\ufeff")) {
		t.Fatalf("the CSV: %d %v %.40q", resp.StatusCode, resp.Header, body)
	}
	records, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 2 || records[0][5] != "Título" || records[1][5] != "Capacitación aduanera" || records[1][12] != "Taller" {
		t.Fatalf("the CSV's rows: %q", records)
	}

	resp, body = download(t, obs, xlsxLink)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("the workbook: %d %v", resp.StatusCode, resp.Header)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Actividades")
	if err != nil || len(rows) != 2 || rows[1][5] != "Capacitación aduanera" {
		t.Fatalf("the workbook's rows: %q (%v)", rows, err)
	}

	// The overview links its dialogue's activities; in English for the
	// United States.
	us := s.as("us-observer")
	overview := us.get("/dialogues/" + app.DemoDialogue)
	must(t, overview, 200, "Export CSV", "Export Excel")
	if got := exportLink(t, overview.body, "csv"); got != "/activities/export.csv?bom=true&dialogue="+app.DemoDialogue {
		t.Fatalf("the overview's CSV link: %s", got)
	}
	resp, body = download(t, us, exportLink(t, overview.body, "csv"))
	if records, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll(); resp.StatusCode != 200 || err != nil ||
		len(records) != 3 || records[0][5] != "Title" || !strings.HasPrefix(records[1][5], "In English: ") {
		t.Fatalf("the dialogue's CSV: %d %q (%v)", resp.StatusCode, records, err)
	}

	// The overview also links the dialogue's IATI file; before an admin
	// names the dialogue's reporting party, that is an error page saying
	// so, not a file.
	must(t, overview, 200, "Export IATI", "consented to publish")
	iatiLink := "/dialogues/" + app.DemoDialogue + "/export/iati"
	if !strings.Contains(overview.body, `href="`+iatiLink+`"`) {
		t.Fatalf("the overview does not link %s", iatiLink)
	}
	resp, body = download(t, us, iatiLink)
	if resp.StatusCode != 409 || resp.Header.Get("Content-Disposition") != "" || !strings.Contains(string(body), "has no IATI reporting party") {
		t.Fatalf("the IATI file before its settings: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	if list := obs.get("/activities"); strings.Contains(list.body, "/export/iati") {
		t.Fatal("the activities list links an IATI file, which is a dialogue's")
	}

	// A filter the list refuses is an error page, not a download.
	resp, body = download(t, obs, "/activities/export.csv?status=bogus")
	if resp.StatusCode != 422 || resp.Header.Get("Content-Disposition") != "" || !strings.Contains(string(body), "Hay un problema") {
		t.Fatalf("a bad filter: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
}

// exportLink is the href of a page's export link to format.
func exportLink(t *testing.T, page, format string) string {
	t.Helper()
	m := regexp.MustCompile(`href="(/activities/export\.` + format + `[^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no link to export %s", format)
	}
	return html.UnescapeString(m[1])
}

func download(t *testing.T, b *browser, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := b.http.Get(b.s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}
