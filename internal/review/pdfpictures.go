package review

import (
	"fmt"
	"math"

	"github.com/signintech/gopdf"
)

// stateColours are the states' colours, the HTML pictures' own.
var stateColours = map[string][3]uint8{
	StateOnTime:   {0x00, 0x70, 0x3c},
	StateLate:     {0xb3, 0x59, 0x00},
	StateOverdue:  {0xd4, 0x35, 0x1c},
	StateUpcoming: {0x1d, 0x70, 0xb8},
	StatePending:  {0x6f, 0x77, 0x7b},
}

// mark draws a state's mark centred on x, y: each state has its own shape
// as well as its colour, so the picture reads printed in grey.
func (d *pdfDoc) mark(state string, x, y, r float64) {
	c := stateColours[state]
	d.gp.SetFillColor(c[0], c[1], c[2])
	d.gp.SetStrokeColor(0, 0, 0)
	switch state {
	case StateOnTime: // a filled circle
		d.disc(x, y, r)
	case StateLate: // a square
		d.gp.RectFromUpperLeftWithStyle(x-r, y-r, 2*r, 2*r, "FD")
	case StateOverdue: // a triangle
		d.gp.Polygon([]gopdf.Point{{X: x, Y: y - r - 1}, {X: x + r + 1, Y: y + r}, {X: x - r - 1, Y: y + r}}, "DF")
	case StateUpcoming: // a ring
		d.gp.SetLineWidth(1.5)
		d.gp.SetStrokeColor(c[0], c[1], c[2])
		d.gp.Oval(x-r, y-r, x+r, y+r)
		d.gp.SetLineWidth(0.5)
		d.gp.SetStrokeColor(0, 0, 0)
	default: // a diamond
		d.gp.Polygon([]gopdf.Point{{X: x, Y: y - r}, {X: x + r, Y: y}, {X: x, Y: y + r}, {X: x - r, Y: y}}, "DF")
	}
}

// disc is a filled circle, drawn as a many-sided polygon (the library's
// ovals are outlines only).
func (d *pdfDoc) disc(x, y, r float64) {
	const n = 16
	pts := make([]gopdf.Point, n)
	for i := range pts {
		a := float64(i) / n * 2 * math.Pi
		pts[i] = gopdf.Point{X: x + r*math.Cos(a), Y: y + r*math.Sin(a)}
	}
	d.gp.Polygon(pts, "DF")
}

// charts draws, per party, a bar of its milestones by state with the
// counts written beside each state's mark.
func (d *pdfDoc) charts(r Report) {
	const barW, barH = 500.0, 14.0
	for _, ch := range r.charts(d.lang) {
		d.room(barH + 40)
		d.para(ch.Title, true, 10)
		x := pdfMargin
		total := 0
		for _, s := range ch.Segments {
			total += s.Count
		}
		d.gp.SetLineWidth(0.5)
		d.gp.SetStrokeColor(0, 0, 0)
		d.gp.RectFromUpperLeftWithStyle(pdfMargin, d.y, barW, barH, "D")
		for _, s := range ch.Segments {
			if s.Count == 0 || total == 0 {
				continue
			}
			w := barW * float64(s.Count) / float64(total)
			c := stateColours[s.State]
			d.gp.SetFillColor(c[0], c[1], c[2])
			d.gp.RectFromUpperLeftWithStyle(x, d.y, w, barH, "FD")
			x += w
		}
		d.y += barH + 4
		d.legend(ch.Segments)
	}
	d.gp.SetFillColor(255, 255, 255)
}

// legend writes each state's mark and count on one line.
func (d *pdfDoc) legend(segs []segment) {
	d.font(false, 9)
	x := pdfMargin
	for _, s := range segs {
		d.mark(s.State, x+5, d.y+6, 4)
		d.gp.SetXY(x+13, d.y+1)
		d.cell(fmt.Sprintf("%s: %d", s.Label, s.Count))
		x += 150
	}
	d.y += 18
}

// timeline draws the milestones on their due dates, a row per owner
// party, with the meeting marked.
func (d *pdfDoc) timeline(r Report) {
	tl, ok := r.timeline(d.lang)
	if !ok {
		return
	}
	scale := (pdfW - 2*pdfMargin) / float64(tl.Width)
	h := float64(tl.Height) * scale
	// The title goes with its picture, on a new page if need be.
	d.gap(10)
	d.room(14*pdfLead + h + 20)
	d.para(tl.Title, true, 14)
	top := d.y
	X := func(x float64) float64 { return pdfMargin + x*scale }
	Y := func(y float64) float64 { return top + y*scale }
	d.gp.SetLineWidth(0.5)
	d.font(false, 9)
	for _, row := range tl.Rows {
		d.gp.SetStrokeColor(0xb1, 0xb4, 0xb6)
		d.gp.Line(X(tl.PlotX0), Y(row.Y), X(float64(tl.Width)), Y(row.Y))
		d.gp.SetXY(pdfMargin, Y(row.Y)-5)
		d.cell(row.Label)
	}
	d.gp.SetStrokeColor(0, 0, 0)
	d.gp.Line(X(tl.PlotX0), Y(tl.AxisY), X(float64(tl.Width)), Y(tl.AxisY))
	d.font(false, 7)
	for _, t := range tl.Ticks {
		d.gp.Line(X(t.X), Y(tl.AxisY), X(t.X), Y(tl.AxisY)+4)
		d.gp.SetXY(X(t.X)-14, Y(tl.AxisY)+6)
		d.cell(t.Label)
	}
	d.gp.SetLineWidth(1.2)
	d.gp.SetLineType("dashed")
	d.gp.Line(X(tl.MeetingX), Y(10), X(tl.MeetingX), Y(tl.AxisY))
	d.gp.SetLineType("solid")
	d.gp.SetLineWidth(0.5)
	d.font(false, 8)
	d.gp.SetXY(X(tl.MeetingX)-15, Y(0))
	d.cell(tl.MeetingLabel)
	for _, m := range tl.Marks {
		d.mark(m.State, X(m.X), Y(m.Y), 4)
	}
	d.y = Y(tl.AxisY) + 20
	d.legend(tl.Legend)
	d.para(tl.Desc, false, 9)
	d.gp.SetFillColor(255, 255, 255)
}
