package review

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"pacto/internal/lifecycle"
)

// The PDF's page: A4 landscape, so a milestone's row fits on one line of
// cells; sizes in points.
const (
	pdfW      = 842.0
	pdfH      = 595.0
	pdfMargin = 36.0
	pdfBottom = pdfH - pdfMargin - 18 // above the page number
	pdfLead   = 1.3                   // line height as a multiple of the font size
	pdfPad    = 3.0
)

// PDF is the report as a PDF document for a reader of lang (es or en)
// whose time zone is readerZone: title, summary counts, and a table of
// milestones per activity, a table's header repeated on each page it
// runs onto. The Go fonts are embedded (subset) so that Spanish accents
// show on any reader's machine.
func PDF(r Report, lang, readerZone string) ([]byte, error) {
	lang, err := language(lang)
	if err != nil {
		return nil, err
	}
	if _, err := lifecycle.LoadZone(readerZone); err != nil {
		return nil, fmt.Errorf("review: reader's time zone %q: %w", readerZone, err)
	}
	d := &pdfDoc{gp: &gopdf.GoPdf{}, lang: lang}
	d.gp.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4Landscape, Unit: gopdf.UnitPT})
	d.gp.SetInfo(gopdf.PdfInfo{
		Title:        msg(lang, "title") + ": " + r.DialogueName + " — " + r.Meeting,
		Subject:      r.Dialogue,
		Creator:      "Pacto",
		CreationDate: r.AsOf,
	})
	if err := d.gp.AddTTFFontData("regular", goregular.TTF); err != nil {
		return nil, fmt.Errorf("review: embed the regular font: %w", err)
	}
	if err := d.gp.AddTTFFontData("bold", gobold.TTF); err != nil {
		return nil, fmt.Errorf("review: embed the bold font: %w", err)
	}
	// Text is drawn in its own colour; without one it would take the
	// grey that fills a table's header.
	d.gp.SetTextColor(0, 0, 0)
	d.newPage()
	d.write(r, readerZone)
	if d.err != nil {
		return nil, fmt.Errorf("review: lay out the PDF: %w", d.err)
	}
	b, err := d.gp.GetBytesPdfReturnErr()
	if err != nil {
		return nil, fmt.Errorf("review: write the PDF: %w", err)
	}
	return b, nil
}

// pdfDoc lays a report out page after page. The first error stops the
// layout and is kept, so the drawing code reads straight.
type pdfDoc struct {
	gp   *gopdf.GoPdf
	lang string
	page int
	y    float64
	err  error
}

func (d *pdfDoc) write(r Report, readerZone string) {
	lang := d.lang
	d.para(msg(lang, "title")+": "+r.DialogueName, true, 18)
	d.gap(4)
	d.field(msg(lang, "meeting"), r.Meeting)
	d.field(msg(lang, "meeting_at"), strings.Join(r.times(r.MeetingAt, lang, readerZone), " · "))
	if since := r.times(r.Since, lang, readerZone); since != nil {
		d.field(msg(lang, "since"), strings.Join(since, " · "))
	} else {
		d.field(msg(lang, "since"), msg(lang, "since_none"))
	}
	d.field(msg(lang, "as_of"), strings.Join(r.times(r.AsOf, lang, readerZone), " · "))

	d.heading(msg(lang, "summary"))
	header := []string{msg(lang, "party")}
	for _, s := range states {
		header = append(header, msg(lang, "state."+s))
	}
	header = append(header, msg(lang, "total"))
	widths := []float64{220, 90, 90, 90, 90, 90, 100}
	var rows [][]string
	for _, code := range r.partyCodes() {
		rows = append(rows, countCells(r.partyName(code), r.ByParty[code]))
	}
	rows = append(rows, countCells(msg(lang, "total"), r.sum()))
	d.para(msg(lang, "by_party"), true, 11)
	d.table(header, widths, rows)
	d.charts(r)

	header[0] = msg(lang, "term")
	rows = nil
	for _, t := range terms {
		rows = append(rows, countCells(termLabel(t, lang), r.ByTerm[t]))
	}
	d.para(msg(lang, "by_term"), true, 11)
	d.table(header, widths, rows)

	d.timeline(r)

	d.para(msg(lang, "changes"), true, 11)
	rows = nil
	for _, c := range []struct {
		key string
		ids []string
	}{
		{"proposed", r.Changes.Proposed}, {"activated", r.Changes.Activated}, {"declined", r.Changes.Declined},
		{"cancelled", r.Changes.Cancelled}, {"completed", r.Changes.Completed},
	} {
		rows = append(rows, []string{msg(lang, "change."+c.key), strconv.Itoa(len(c.ids)), strings.Join(c.ids, ", ")})
	}
	rows = append(rows, []string{msg(lang, "extensions"), strconv.Itoa(r.extensions()), ""})
	d.table([]string{"", msg(lang, "total"), msg(lang, "activity")}, []float64{220, 90, 460}, rows)

	if len(r.Activities) == 0 {
		d.para(msg(lang, "no_activities"), false, 10)
	}
	mHeader := []string{msg(lang, "milestone"), msg(lang, "owner"), msg(lang, "term"), msg(lang, "due"), msg(lang, "completed"),
		msg(lang, "state"), msg(lang, "baseline"), msg(lang, "target"), msg(lang, "actual")}
	mWidths := []float64{210, 90, 75, 70, 80, 70, 55, 60, 60}
	for _, a := range r.Activities {
		d.heading(text(a.Title, lang))
		d.para(fmt.Sprintf("%s: %s · %s: %s · %s: %d", msg(lang, "activity"), a.ID,
			msg(lang, "activity_status"), msg(lang, "status."+string(a.Status)),
			msg(lang, "extensions"), a.ExtensionsGranted), false, 10)
		if len(a.Milestones) == 0 {
			d.para(msg(lang, "no_milestones"), false, 10)
			continue
		}
		rows = nil
		for _, m := range a.Milestones {
			row := r.milestoneRow(m, lang)
			cells := []string{row.Title + " (" + row.ID + ")", row.Owner, row.Term, row.DueShort, row.CompletedShort, row.State, "—", "—", "—"}
			if row.HasIndicator {
				cells[6], cells[7], cells[8] = number(row.Baseline), strings.TrimSpace(number(row.Target)+" "+row.UnitText), number(row.Actual)
			}
			rows = append(rows, cells)
		}
		d.table(mHeader, mWidths, rows)
		if sts := r.statementsOf(a.ID, lang, readerZone); len(sts) > 0 {
			d.para(msg(lang, "statements"), true, 11)
			for _, st := range sts {
				if st.Missing {
					d.para(st.Party+": "+msg(lang, "statement_missing"), false, 10)
				} else {
					d.para(fmt.Sprintf("%s (%s, %s): %s", st.Party, st.Author, st.At, st.Body), false, 10)
				}
			}
		}
	}
	d.gap(6)
	d.para(msg(lang, "dates_note"), false, 9)
}

func countCells(label string, c Counts) []string {
	cells := []string{label}
	for _, s := range states {
		cells = append(cells, strconv.Itoa(c.count(s)))
	}
	return append(cells, strconv.Itoa(c.total()))
}

// newPage starts a page with its number at the foot.
func (d *pdfDoc) newPage() {
	d.gp.AddPage()
	d.page++
	d.font(false, 8)
	d.gp.SetXY(pdfMargin, pdfH-pdfMargin)
	d.cell(msg(d.lang, "page", d.page))
	d.y = pdfMargin
}

// room starts a new page unless h more points fit on this one.
func (d *pdfDoc) room(h float64) bool {
	if d.y+h <= pdfBottom {
		return false
	}
	d.newPage()
	return true
}

func (d *pdfDoc) gap(h float64) { d.y += h }

func (d *pdfDoc) font(bold bool, size float64) {
	name := "regular"
	if bold {
		name = "bold"
	}
	if err := d.gp.SetFont(name, "", size); err != nil && d.err == nil {
		d.err = fmt.Errorf("font %s: %w", name, err)
	}
}

func (d *pdfDoc) cell(s string) {
	if err := d.gp.Cell(nil, s); err != nil && d.err == nil {
		d.err = fmt.Errorf("text %q: %w", s, err)
	}
}

// lines is s broken into lines no wider than w in the current font,
// between words where it can.
func (d *pdfDoc) lines(s string, w float64) []string {
	if strings.TrimSpace(s) == "" {
		return []string{""}
	}
	ls, err := d.gp.SplitTextWithWordWrap(s, w)
	if err != nil {
		// A word wider than the column is broken inside the word.
		ls, err = d.gp.SplitText(s, w)
	}
	if err != nil {
		if d.err == nil {
			d.err = fmt.Errorf("break %q into lines: %w", s, err)
		}
		return []string{s}
	}
	return ls
}

// para writes s across the page, wrapped.
func (d *pdfDoc) para(s string, bold bool, size float64) {
	d.font(bold, size)
	for _, l := range d.lines(s, pdfW-2*pdfMargin) {
		d.room(size * pdfLead)
		d.gp.SetXY(pdfMargin, d.y)
		d.cell(l)
		d.y += size * pdfLead
	}
	d.y += 2
}

// heading starts a section, on a new page if its first lines would not
// fit below it.
func (d *pdfDoc) heading(s string) {
	d.gap(10)
	d.room(14*pdfLead + 60)
	d.para(s, true, 14)
}

// field writes "label: value".
func (d *pdfDoc) field(label, value string) { d.para(label+": "+value, false, 10) }

// table draws rows under header in columns of widths, starting a new page
// (with the header again) when a row does not fit.
func (d *pdfDoc) table(header []string, widths []float64, rows [][]string) {
	const size = 9
	lead := size * pdfLead
	d.row(header, widths, true, lead)
	for _, cells := range rows {
		d.font(false, size)
		if d.room(d.rowHeight(cells, widths, lead)) {
			d.row(header, widths, true, lead)
		}
		d.row(cells, widths, false, lead)
	}
	d.y += 8
}

func (d *pdfDoc) rowHeight(cells []string, widths []float64, lead float64) float64 {
	n := 1
	for i, c := range cells {
		n = max(n, len(d.lines(c, widths[i]-2*pdfPad)))
	}
	return float64(n)*lead + 2*pdfPad
}

func (d *pdfDoc) row(cells []string, widths []float64, header bool, lead float64) {
	d.font(header, 9)
	h := d.rowHeight(cells, widths, lead)
	if !header {
		d.room(h)
	}
	x := pdfMargin
	for i, c := range cells {
		if header {
			d.gp.SetFillColor(230, 230, 230)
			d.gp.RectFromUpperLeftWithStyle(x, d.y, widths[i], h, "FD")
		} else {
			d.gp.RectFromUpperLeftWithStyle(x, d.y, widths[i], h, "D")
		}
		for j, l := range d.lines(c, widths[i]-2*pdfPad) {
			d.gp.SetXY(x+pdfPad, d.y+pdfPad+float64(j)*lead)
			d.cell(l)
		}
		x += widths[i]
	}
	d.y += h
}
