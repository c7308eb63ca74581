package review

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
)

// bom marks the CSV as UTF-8 for spreadsheet programs, which otherwise
// read its accents in a legacy code page.
const bom = "\ufeff"

// CSV is the report's milestones as a spreadsheet for a reader of lang (es
// or en): a header row in lang, then one row per milestone of every
// activity, with dates as ISO dates in the owner party's zone, numbers
// as spreadsheets read them, and the owner party's statement on the
// activity for the meeting (or that it is missing).
func CSV(r Report, lang string) ([]byte, error) {
	lang, err := language(lang)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(bom)
	w := csv.NewWriter(&b)
	header := []string{"activity", "activity_title", "activity_status", "milestone", "milestone_title", "owner", "term", "due", "completed", "state", "baseline", "target", "actual", "unit", "owner_statement"}
	for i, key := range header {
		header[i] = msg(lang, key)
	}
	if err := w.Write(header); err != nil {
		return nil, fmt.Errorf("review: CSV header: %w", err)
	}
	for _, a := range r.Activities {
		for _, m := range a.Milestones {
			row := r.milestoneRow(m, lang)
			rec := []string{
				cell(a.ID), cell(text(a.Title, lang)), cell(msg(lang, "status."+string(a.Status))),
				cell(row.ID), cell(row.Title), cell(row.Owner), row.Term, row.Due, row.Completed, row.State,
				plainNumber(row.Baseline), plainNumber(row.Target), plainNumber(row.Actual), cell(row.UnitText),
				cell(r.ownerStatement(a.ID, m.Owner, lang)),
			}
			if err := w.Write(rec); err != nil {
				return nil, fmt.Errorf("review: CSV row for milestone %s of %s: %w", m.ID, a.ID, err)
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("review: write CSV: %w", err)
	}
	return b.Bytes(), nil
}

// cell guards a text written by people against formula injection: a
// spreadsheet runs a cell that starts with = + - @ (or a tab or carriage
// return before one) as a formula, so such a cell gets a leading
// apostrophe and is read as text. Numbers and dates are written by the
// report itself and are left as they are, so they stay numbers.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
