package console

import (
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"
)

// exportLinks are the links that download a list's activities; IATI,
// on a dialogue's page only, its published activities as an IATI file.
type exportLinks struct {
	CSV, XLSX, IATI string
}

// exportFilters are the activity list's filters an export carries; the
// page's cursor and size are not among them, since an export holds every
// page.
var exportFilters = []string{"status", "party", "pending_party", "overdue", "horizon", "dialogue", "q", "due_before", "due_after"}

// exportLinksFor links the activities q selects as a CSV and as a
// workbook. The CSV carries a byte-order mark, without which a
// spreadsheet program reads its accents in a legacy code page.
func exportLinksFor(q url.Values) exportLinks {
	f := url.Values{}
	for _, k := range exportFilters {
		if v := q.Get(k); v != "" {
			f.Set(k, v)
		}
	}
	xlsx := "/activities/export.xlsx"
	if len(f) > 0 {
		xlsx += "?" + f.Encode()
	}
	f.Set("bom", "true")
	return exportLinks{CSV: "/activities/export.csv?" + f.Encode(), XLSX: xlsx}
}

// export answers with the activities the signed-in person may see, as
// the API's export does for them: the filters of the query, their
// language and their party's zone.
func (c *Console) export(format string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := c.api.Export(w, r, principalOf(r), format); err != nil {
			c.fail(w, r, err)
		}
	}
}

// exportIATI answers with a dialogue's published activities as an IATI
// file, as the API's export does.
func (c *Console) exportIATI(w http.ResponseWriter, r *http.Request) {
	if err := c.api.ExportIATI(w, r, chi.URLParam(r, "dialogue")); err != nil {
		c.fail(w, r, err)
	}
}
