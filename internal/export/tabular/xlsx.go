package tabular

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"
)

// xlsxTimeFormat is the number format of time cells in lang (es or en):
// the short date and 12-hour time each locale reads (es-PA MM/dd/y, en-US
// M/d/y); the spreadsheet program says AM/PM in its own language.
func xlsxTimeFormat(lang string) string {
	if lang == "es" {
		return "mm/dd/yyyy h:mm AM/PM"
	}
	return "m/d/yyyy h:mm AM/PM"
}

// WriteXLSX writes the activities of src to w as an Excel workbook of one
// sheet: a bold header row, frozen, with an autofilter over the rows;
// texts as string cells (which a spreadsheet never runs as formulas),
// numbers as numbers and times as dates in the reader's zone. Rows go
// through excelize's stream writer, which keeps them in a temporary file
// rather than memory; nothing is written to w until every page is read.
func WriteXLSX(ctx context.Context, w io.Writer, src *Source, o Options) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("export: close workbook: %w", cerr)
		}
	}()
	sheet := word(o.words(), "sheet")
	if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
		return fmt.Errorf("export: name sheet: %w", err)
	}
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}})
	if err != nil {
		return fmt.Errorf("export: header style: %w", err)
	}
	timeFormat := xlsxTimeFormat(o.words())
	when, err := f.NewStyle(&excelize.Style{CustomNumFmt: &timeFormat})
	if err != nil {
		return fmt.Errorf("export: date style: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("export: stream writer: %w", err)
	}
	for i, c := range columns {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return fmt.Errorf("export: column width: %w", err)
		}
	}
	// The header stays in view while the rows scroll.
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return fmt.Errorf("export: freeze header: %w", err)
	}
	values := make([]any, len(columns))
	for i, h := range header(o) {
		values[i] = excelize.Cell{StyleID: head, Value: h}
	}
	if err := sw.SetRow("A1", values); err != nil {
		return fmt.Errorf("export: header row: %w", err)
	}
	n := 1
	err = eachRow(ctx, src, o, func(row []cell) error {
		n++
		for i, c := range row {
			values[i] = xlsxValue(columns[i].kind, c, o, when)
		}
		ref, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return fmt.Errorf("export: row %d: %w", n, err)
		}
		if err := sw.SetRow(ref, values); err != nil {
			return fmt.Errorf("export: row %d: %w", n, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The filter covers the rows written; the stream writer keeps the
	// sheet's settings until Flush writes them after the rows.
	last, err := excelize.CoordinatesToCellName(len(columns), n)
	if err != nil {
		return fmt.Errorf("export: filter range: %w", err)
	}
	if err := f.AutoFilter(sheet, "A1:"+last, nil); err != nil {
		return fmt.Errorf("export: autofilter: %w", err)
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("export: finish sheet: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("export: write workbook: %w", err)
	}
	return nil
}

// xlsxValue is a cell as the stream writer takes it: a string is always
// written as a string cell (inline text), never as a formula.
func xlsxValue(k kind, c cell, o Options, when int) any {
	if !c.set {
		return nil
	}
	switch k {
	case kindNumber:
		return c.num
	case kindTime:
		// A spreadsheet's dates have no zone: write the wall time in the
		// reader's zone, which the header names.
		local := c.at.In(o.zone())
		wall := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), local.Second(), 0, time.UTC)
		return excelize.Cell{StyleID: when, Value: wall}
	}
	return c.text
}
