package tabular

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// bom marks a CSV as UTF-8 for spreadsheet programs, which otherwise read
// its accents in a legacy code page.
const bom = "\ufeff"

// csvTime is how a CSV writes a time, in the reader's zone (the header
// names it): ISO 8601 date and 24-hour time, which every spreadsheet
// program reads as a date whatever its locale.
const csvTime = "2006-01-02 15:04"

// WriteCSV writes the activities of src to w as CSV (RFC 4180: CRLF line
// ends, fields quoted where they need to be), UTF-8, a header row first.
// It reads the first page before it writes anything, so a failure to read
// it leaves w untouched; rows are written as each page is read.
func WriteCSV(ctx context.Context, w io.Writer, src *Source, o Options) error {
	comma := o.Comma
	if comma == 0 {
		comma = ','
	}
	if comma != ',' && comma != ';' {
		return fmt.Errorf("export: a CSV is separated by ',' or ';', not %q", comma)
	}
	first, err := src.next(ctx)
	if err != nil {
		return err
	}
	if o.BOM {
		if _, err := io.WriteString(w, bom); err != nil {
			return fmt.Errorf("export: write CSV: %w", err)
		}
	}
	cw := csv.NewWriter(w)
	cw.Comma, cw.UseCRLF = comma, true
	if err := cw.Write(header(o)); err != nil {
		return fmt.Errorf("export: write CSV header: %w", err)
	}
	record := make([]string, len(columns))
	write := func(row []cell) error {
		for i, c := range row {
			record[i] = csvField(columns[i].kind, c, o)
		}
		return cw.Write(record)
	}
	for _, st := range first {
		for _, row := range rows(st, o) {
			if err := write(row); err != nil {
				return fmt.Errorf("export: write CSV: %w", err)
			}
		}
	}
	if err := eachRow(ctx, src, o, write); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export: write CSV: %w", err)
	}
	return nil
}

// csvField is a cell as CSV text.
func csvField(k kind, c cell, o Options) string {
	if !c.set {
		return ""
	}
	switch k {
	case kindNumber:
		return strconv.FormatFloat(c.num, 'f', -1, 64)
	case kindTime:
		return c.at.In(o.zone()).Format(csvTime)
	}
	return guard(c.text)
}

// guard keeps a text from being run as a formula: a spreadsheet program
// reads a field that starts with = + - @, a tab or a carriage return as
// one, so such a field gets a leading apostrophe, which makes it text.
// Numbers and times are the export's own and stay as they are.
func guard(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
