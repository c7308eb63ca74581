package api

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"pacto/internal/lifecycle"
)

// exportMark is in the title of every activity the export test makes, so
// its exports (filtered by q) hold those and no other subtest's.
const exportMark = "zqx"

// The export's columns as the test knows them: what each holds.
const (
	colText = iota
	colNumber
	colTime
)

var exportKinds = []int{
	colText, colText, colText, colText, colText, colText, colNumber, colText, colTime, colTime, colTime, // the activity's
	colText, colText, colText, colText, colTime, colText, colTime, colText, colNumber, colNumber, colNumber, // the milestone's
}

// The spreadsheet exports, read back with encoding/csv and with excelize
// (and the workbook's XML with encoding/xml): every value of every row
// against the activity as the API shows it, in the caller's language and
// zone; texts that look like formulas kept as text; BOM and delimiter;
// the list's filters and visibility; typed cells, a frozen header and an
// autofilter in the workbook.
func (s *stack) export(t *testing.T) {
	ctx := context.Background()
	// An active activity whose texts look like formulas and hold what
	// CSV and XML must escape.
	a := s.propose(ProposeRequest{
		Dialogue: "hld-pa-us", Parties: []string{"PA", "US"},
		Title: both("=1+1 Customs training <&> "+exportMark, "=1+1 Capacitación aduanera <&> "+exportMark),
		Milestones: []MilestoneInput{
			{ID: "m1", Title: both("+34 Helpline", "+34 Línea de atención"), Owner: "PA", Due: "P30D",
				Indicator: &IndicatorInput{Baseline: ptr(2.5), Target: 40, Unit: both("officials & <staff>", "funcionarios/as, año, ñandú")}},
			{ID: "m2", Title: both("@SUM(A1) Review", "@SUM(A1) Evaluación del año"), Owner: "US", Due: "P3D"},
			{ID: "m3", Title: both("-Children", "-Niños y niñas"), Owner: "PA", Due: "P2Y", Horizon: "long"},
		},
	})
	path := "/v1/activities/" + a.ID
	want(t, s.call("pa-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 200)
	want(t, s.call("us-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 200)
	want(t, s.call("pa-coordinator", "POST", path+"/milestones/m1/progress", ProgressRequest{Actual: ptr(12.5)}), 200)
	want(t, s.call("pa-coordinator", "POST", path+"/milestones/m3/complete", ProgressRequest{}), 200)
	// A proposal waiting for both parties.
	c := s.propose(ProposeRequest{Dialogue: "hld-pa-us", Parties: []string{"PA", "US"},
		Title:      both("Pending proposal "+exportMark, "Propuesta pendiente ñandú "+exportMark),
		Milestones: []MilestoneInput{{ID: "p1", Title: both("Workshop", "Taller \"regional\""), Owner: "US", Due: "P6M"}}})
	// An activity of another dialogue, which Panama's people must not see.
	other := s.call("mx-coordinator", "POST", "/v1/activities", ProposeRequest{Dialogue: "hld-mx-co", Parties: []string{"MX", "CO"},
		Title: lifecycle.Plain("Actividad de México " + exportMark), Milestones: []MilestoneInput{{ID: "x1", Title: lifecycle.Plain("Hito"), Owner: "MX", Due: "P1M"}}})
	want(t, other, http.StatusCreated)
	d := other.activity(t)
	// An activity without milestones, as the read model may hold one.
	bare := s.recordBare(t, ctx)

	// What Panama's observer sees, newest proposal first.
	order := s.listIDs(t, "pa-observer", "?q="+exportMark)
	if !slices.Equal(order, []string{bare, c.ID, a.ID}) {
		t.Fatalf("the list as PA sees it: %v, want %v", order, []string{bare, c.ID, a.ID})
	}
	views := func(who string, ids ...string) []ActivityView {
		var out []ActivityView
		for _, id := range ids {
			r := s.call(who, "GET", "/v1/activities/"+id, nil)
			want(t, r, 200)
			out = append(out, r.activity(t))
		}
		return out
	}
	panama, _ := time.LoadLocation("America/Panama")
	newYork, _ := time.LoadLocation("America/New_York")
	paRows := expectedExport(views("pa-observer", order...), "es")

	// CSV as Panama's observer: Spanish, Panama's time, no BOM, commas.
	r := s.call("pa-observer", "GET", "/v1/activities/export.csv?q="+exportMark, nil)
	want(t, r, 200)
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8; header=present" {
		t.Errorf("Content-Type %q", ct)
	}
	today := time.Now().In(panama).Format("2006-01-02")
	if cd := r.header.Get("Content-Disposition"); cd != "attachment; filename=actividades-"+today+".csv" {
		t.Errorf("Content-Disposition %q", cd)
	}
	if bytes.HasPrefix(r.body, []byte("\xef\xbb\xbf")) {
		t.Error("a BOM though none was asked for")
	}
	if !bytes.Contains(r.body, []byte("\r\n")) || bytes.Count(r.body, []byte("\r\n")) != bytes.Count(r.body, []byte("\n")) {
		t.Error("the CSV's lines do not all end in CRLF")
	}
	header, records := readCSV(t, r.body, ',')
	wantHeader(t, header, map[int]string{0: "ID de la actividad", 5: "Título", 8: "Fecha de la propuesta (America/Panama)",
		12: "Título del hito", 15: "Fecha límite (America/Panama)", 16: "Situación del hito", 19: "Línea de base", 20: "Meta", 21: "Valor alcanzado"})
	checkCSV(t, records, paRows, panama)
	// The texts that look like formulas, literally: each behind an apostrophe.
	for _, cell := range []struct{ row, col int }{{2, 5}, {2, 12}, {3, 12}, {4, 12}} {
		if got := records[cell.row][cell.col]; !strings.HasPrefix(got, "'") || !strings.ContainsAny(got[1:2], "=+-@") {
			t.Errorf("row %d column %d is %q, not a guarded formula-like text", cell.row, cell.col, got)
		}
	}
	if got := records[2][5]; got != "'=1+1 Capacitación aduanera <&> "+exportMark {
		t.Errorf("A's title in the CSV: %q", got)
	}
	if got := records[2][18]; got != "funcionarios/as, año, ñandú" {
		t.Errorf("the unit in the CSV: %q", got)
	}
	if got := records[0]; got[0] != bare || got[11] != "" || got[12] != "" || got[16] != "" {
		t.Errorf("the activity without milestones: %q", got)
	}

	// The same with a BOM and semicolons; a ';' sent unescaped is refused
	// rather than dropped.
	r = s.call("pa-observer", "GET", "/v1/activities/export.csv?bom=true&delimiter=%3B&q="+exportMark, nil)
	want(t, r, 200)
	if !bytes.HasPrefix(r.body, []byte("\xef\xbb\xbf")) {
		t.Fatalf("no BOM: %.20q", r.body)
	}
	header2, records2 := readCSV(t, r.body[3:], ';')
	if !slices.Equal(header2, header) || len(records2) != len(records) {
		t.Fatalf("with ';' the header or row count differs: %q", header2)
	}
	for i := range records {
		if !slices.Equal(records[i], records2[i]) {
			t.Errorf("row %d with ';': %q, with ',': %q", i, records2[i], records[i])
		}
	}
	if !bytes.Contains(r.body, []byte(";")) || bytes.Contains(bytes.SplitN(r.body, []byte("\r\n"), 2)[0], []byte(",")) {
		t.Errorf("the header line is not separated by ';': %.200q", r.body)
	}
	r = s.call("pa-observer", "GET", "/v1/activities/export.csv?delimiter=semicolon&q="+exportMark, nil)
	want(t, r, 200)
	if _, got := readCSV(t, r.body, ';'); len(got) != len(records) {
		t.Errorf("delimiter=semicolon gave %d rows", len(got))
	}
	want(t, s.call("pa-observer", "GET", "/v1/activities/export.csv?delimiter=;", nil), 400, "malformed-request", "delimiter")
	want(t, s.call("pa-observer", "GET", "/v1/activities/export.csv?delimiter=%7C", nil), 400, "malformed-request", "delimiter")
	want(t, s.call("pa-observer", "GET", "/v1/activities/export.csv?bom=yes", nil), 400, "malformed-request", "bom")
	want(t, s.call("pa-observer", "GET", "/v1/activities/export.csv?status=bogus", nil), 422, "invalid-input", "status")
	want(t, s.call("pa-observer", "GET", "/v1/activities/export.xlsx?overdue=maybe", nil), 422, "invalid-input", "overdue")
	want(t, s.call("", "GET", "/v1/activities/export.csv", nil), 401, "unauthenticated")

	// The list's filters: proposals only; one dialogue (in the file name);
	// another party's dialogue is empty for Panama, whole for its own.
	r = s.call("pa-observer", "GET", "/v1/activities/export.csv?status=proposed&q="+exportMark, nil)
	want(t, r, 200)
	if _, got := readCSV(t, r.body, ','); activityIDs(got) != bare+","+c.ID {
		t.Errorf("status=proposed exported %s", activityIDs(got))
	}
	r = s.call("pa-observer", "GET", "/v1/activities/export.csv?dialogue=hld-pa-us&q="+exportMark, nil)
	want(t, r, 200)
	if cd := r.header.Get("Content-Disposition"); cd != "attachment; filename=actividades-hld-pa-us-"+today+".csv" {
		t.Errorf("Content-Disposition of one dialogue %q", cd)
	}
	r = s.call("pa-observer", "GET", "/v1/activities/export.csv?dialogue=hld-mx-co", nil)
	want(t, r, 200)
	if _, got := readCSV(t, r.body, ','); len(got) != 0 {
		t.Errorf("Panama exported %d rows of México's and Colombia's dialogue", len(got))
	}
	r = s.call("co-observer", "GET", "/v1/activities/export.csv?q="+exportMark, nil)
	want(t, r, 200)
	if _, got := readCSV(t, r.body, ','); activityIDs(got) != d.ID {
		t.Errorf("Colombia's observer exported %s, want only %s", activityIDs(got), d.ID)
	}

	// The United States' observer reads English, in New York's time; an
	// admin sees every dialogue, in UTC.
	r = s.call("us-observer", "GET", "/v1/activities/export.csv?q="+exportMark, nil)
	want(t, r, 200)
	header, records = readCSV(t, r.body, ',')
	wantHeader(t, header, map[int]string{0: "Activity ID", 12: "Milestone title", 15: "Due date (America/New_York)", 16: "Milestone state"})
	checkCSV(t, records, expectedExport(views("us-observer", order...), "en"), newYork)
	if got := records[2][5]; got != "'=1+1 Customs training <&> "+exportMark {
		t.Errorf("A's title in English: %q", got)
	}
	r = s.call("admin", "GET", "/v1/activities/export.csv?q="+exportMark, nil)
	want(t, r, 200)
	header, records = readCSV(t, r.body, ',')
	wantHeader(t, header, map[int]string{8: "Proposed (UTC)"})
	all := s.listIDs(t, "admin", "?q="+exportMark)
	if !slices.Contains(all, d.ID) || len(all) != 4 {
		t.Fatalf("the admin's list: %v", all)
	}
	checkCSV(t, records, expectedExport(views("admin", all...), "en"), time.UTC)

	// The workbook as Panama's observer.
	r = s.call("pa-observer", "GET", "/v1/activities/export.xlsx?q="+exportMark, nil)
	want(t, r, 200)
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); cd != "attachment; filename=actividades-"+today+".xlsx" {
		t.Errorf("Content-Disposition %q", cd)
	}
	checkXLSX(t, r.body, "Actividades", paRows, panama, "mm/dd/yyyy h:mm AM/PM")
	r = s.call("us-observer", "GET", "/v1/activities/export.xlsx?q="+exportMark, nil)
	want(t, r, 200)
	checkXLSX(t, r.body, "Activities", expectedExport(views("us-observer", order...), "en"), newYork, "m/d/yyyy h:mm AM/PM")
	r = s.call("pa-observer", "GET", "/v1/activities/export.xlsx?dialogue=hld-mx-co", nil)
	want(t, r, 200)
	checkXLSX(t, r.body, "Actividades", nil, panama, "mm/dd/yyyy h:mm AM/PM")
}

// recordBare writes an activity without milestones straight into the read
// model (the API refuses to propose one) and returns its id.
func (s *stack) recordBare(t *testing.T, ctx context.Context) string {
	t.Helper()
	frame, err := s.st.DialogueFrame(ctx, "hld-pa-us")
	if err != nil {
		t.Fatal(err)
	}
	cmd := lifecycle.Propose{ActivityID: "act-export-bare", Dialogue: "hld-pa-us", DialogueParties: frame.Parties, Languages: frame.Languages,
		Parties: []lifecycle.PartyCode{"PA", "US"}, Rules: lifecycle.CurrentRules,
		Title:      both("No milestones "+exportMark, "Sin hitos "+exportMark),
		Milestones: []lifecycle.MilestoneSpec{{ID: "b1", Title: both("Dropped", "Quitado"), Owner: "PA", Due: "P1M"}}}
	events, err := lifecycle.Decide(lifecycle.State{}, cmd, lifecycle.Principal{ID: "pa-coordinator", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var st lifecycle.State
	for _, e := range events {
		st = lifecycle.Apply(st, e)
	}
	st.Milestones = nil
	if err := s.st.Record(ctx, st, events); err != nil {
		t.Fatal(err)
	}
	return st.ID
}

// expectedExport is the rows an export should hold for views (as their
// reader sees them, in order), in lang: strings for texts, float64 for
// numbers, time.Time for times, nil for empty cells.
func expectedExport(views []ActivityView, lang string) [][]any {
	words := map[string]map[string]string{
		"es": {"proposed": "Propuesta", "active": "Activa", "short": "Corto plazo", "medium": "Mediano plazo", "long": "Largo plazo",
			"pending": "Sin iniciar", "open": "Abierto", "amber": "Por vencer", "red": "Vencido", "completed": "Completado"},
		"en": {"proposed": "Proposed", "active": "Active", "short": "Short term", "medium": "Medium term", "long": "Long term",
			"pending": "Not started", "open": "Open", "amber": "Due soon", "red": "Overdue", "completed": "Completed"},
	}[lang]
	orNil := func(v any) any {
		switch x := v.(type) {
		case string:
			if x == "" {
				return nil
			}
		case *time.Time:
			if x == nil {
				return nil
			}
			return *x
		case *float64:
			if x == nil {
				return nil
			}
			return *x
		}
		return v
	}
	var out [][]any
	for _, v := range views {
		var parties []string
		for _, p := range v.Parties {
			parties = append(parties, string(p.Code))
		}
		activity := []any{v.ID, v.Dialogue, strings.Join(parties, ", "), v.ProposerParty, words[v.Status], v.TitleText,
			float64(v.Version), orNil(strings.Join(v.PendingParties, ", ")), v.ProposedAt, orNil(v.ActivatedAt), orNil(v.ClosedAt)}
		if len(v.Milestones) == 0 {
			out = append(out, append(activity, make([]any, 11)...))
		}
		for _, m := range v.Milestones {
			state := m.Status
			if m.Status == "open" && (m.Colour == "amber" || m.Colour == "red") {
				state = m.Colour
			}
			row := append(slices.Clone(activity), m.ID, m.TitleText, m.Owner, orNil(words[m.Horizon]), orNil(m.DueAt), words[state], orNil(m.CompletedAt))
			if in := m.Indicator; in != nil {
				row = append(row, orNil(in.UnitText), orNil(in.Baseline), in.Target, orNil(in.Actual))
			} else {
				row = append(row, nil, nil, nil, nil)
			}
			out = append(out, row)
		}
	}
	return out
}

func readCSV(t *testing.T, body []byte, comma rune) ([]string, [][]string) {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(body))
	cr.Comma = comma
	all, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, body)
	}
	if len(all) == 0 || len(all[0]) != len(exportKinds) {
		t.Fatalf("the CSV's header: %q", all)
	}
	return all[0], all[1:]
}

func wantHeader(t *testing.T, header []string, want map[int]string) {
	t.Helper()
	for i, w := range want {
		if header[i] != w {
			t.Errorf("header %d is %q, want %q", i, header[i], w)
		}
	}
}

// activityIDs are the activities of an export's rows, in order, once each.
func activityIDs(records [][]string) string {
	var ids []string
	for _, r := range records {
		if len(ids) == 0 || ids[len(ids)-1] != r[0] {
			ids = append(ids, r[0])
		}
	}
	return strings.Join(ids, ",")
}

// checkCSV compares every field of records with want, texts guarded
// against formulas, times in loc.
func checkCSV(t *testing.T, records [][]string, want [][]any, loc *time.Location) {
	t.Helper()
	if len(records) != len(want) {
		t.Fatalf("%d rows, want %d: %q", len(records), len(want), records)
	}
	for i, w := range want {
		for j, v := range w {
			var field string
			switch x := v.(type) {
			case nil:
			case string:
				field = x
				if strings.ContainsAny(x[:1], "=+-@\t\r") {
					field = "'" + x
				}
			case float64:
				field = strconv.FormatFloat(x, 'f', -1, 64)
			case time.Time:
				field = x.In(loc).Format("2006-01-02 15:04")
			}
			if records[i][j] != field {
				t.Errorf("row %d column %d is %q, want %q", i+1, j, records[i][j], field)
			}
		}
	}
}

// checkXLSX reads a workbook with excelize for its values, and its XML
// with encoding/xml for how each cell is stored: texts as inline strings
// (never formulas), numbers as numbers, times as numbers with a date
// format; a frozen header and an autofilter over every row.
func checkXLSX(t *testing.T, body []byte, sheet string, want [][]any, loc *time.Location, dateFormat string) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{sheet}) {
		t.Fatalf("sheets %v, want %s", got, sheet)
	}
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want)+1 || len(rows[0]) != len(exportKinds) {
		t.Fatalf("%d rows (header %q), want %d", len(rows), rows[0], len(want)+1)
	}
	for i, w := range want {
		row := append(rows[i+1], make([]string, len(exportKinds)-len(rows[i+1]))...)
		for j, v := range w {
			got := row[j]
			switch x := v.(type) {
			case nil:
				if got != "" {
					t.Errorf("row %d column %d is %q, want it empty", i+2, j, got)
				}
			case string:
				if got != x {
					t.Errorf("row %d column %d is %q, want %q", i+2, j, got, x)
				}
			case float64:
				if n, err := strconv.ParseFloat(got, 64); err != nil || n != x {
					t.Errorf("row %d column %d is %q, want %v", i+2, j, got, x)
				}
			case time.Time:
				serial, err := strconv.ParseFloat(got, 64)
				if err != nil {
					t.Errorf("row %d column %d is %q, not a date serial", i+2, j, got)
					continue
				}
				at, err := excelize.ExcelDateToTime(serial, false)
				local := x.In(loc)
				wall := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), local.Second(), 0, time.UTC)
				if err != nil || at.Sub(wall).Abs() > time.Second {
					t.Errorf("row %d column %d is %v, want %v (%v)", i+2, j, at, wall, err)
				}
			}
		}
	}

	// How the cells are stored, read from the package itself.
	sheetXML, stylesXML := zipFile(t, body, "xl/worksheets/sheet1.xml"), zipFile(t, body, "xl/styles.xml")
	if bytes.Contains(sheetXML, []byte("<f>")) || bytes.Contains(sheetXML, []byte("<f ")) {
		t.Error("the sheet holds a formula")
	}
	var ws struct {
		Pane struct {
			State       string `xml:"state,attr"`
			YSplit      string `xml:"ySplit,attr"`
			TopLeftCell string `xml:"topLeftCell,attr"`
		} `xml:"sheetViews>sheetView>pane"`
		Rows []struct {
			Cells []struct {
				R string `xml:"r,attr"`
				T string `xml:"t,attr"`
				S int    `xml:"s,attr"`
				V string `xml:"v"`
			} `xml:"c"`
		} `xml:"sheetData>row"`
		AutoFilter struct {
			Ref string `xml:"ref,attr"`
		} `xml:"autoFilter"`
	}
	if err := xml.Unmarshal(sheetXML, &ws); err != nil {
		t.Fatal(err)
	}
	if ws.Pane.State != "frozen" || ws.Pane.YSplit != "1" || ws.Pane.TopLeftCell != "A2" {
		t.Errorf("the header is not frozen: %+v", ws.Pane)
	}
	// excelize writes the range absolute ($A$1:$V$6), as Excel reads it.
	if wantRef := fmt.Sprintf("A1:V%d", len(want)+1); strings.ReplaceAll(ws.AutoFilter.Ref, "$", "") != wantRef {
		t.Errorf("autofilter over %q, want %q", ws.AutoFilter.Ref, wantRef)
	}
	var styles struct {
		NumFmts []struct {
			ID   int    `xml:"numFmtId,attr"`
			Code string `xml:"formatCode,attr"`
		} `xml:"numFmts>numFmt"`
		Xfs []struct {
			NumFmtID int `xml:"numFmtId,attr"`
		} `xml:"cellXfs>xf"`
	}
	if err := xml.Unmarshal(stylesXML, &styles); err != nil {
		t.Fatal(err)
	}
	formatOf := func(s int) string {
		if s >= len(styles.Xfs) {
			return ""
		}
		for _, nf := range styles.NumFmts {
			if nf.ID == styles.Xfs[s].NumFmtID {
				return nf.Code
			}
		}
		return ""
	}
	for i, row := range ws.Rows {
		for _, c := range row.Cells {
			col, _, err := excelize.CellNameToCoordinates(c.R)
			if err != nil {
				t.Fatal(err)
			}
			kind := exportKinds[col-1]
			switch {
			case i == 0 || kind == colText:
				if c.T != "inlineStr" {
					t.Errorf("cell %s is stored as %q, not as a string", c.R, c.T)
				}
			case c.T != "" && c.T != "n":
				t.Errorf("cell %s is stored as %q, not as a number", c.R, c.T)
			case kind == colTime && formatOf(c.S) != dateFormat:
				t.Errorf("the date in %s has the format %q, want %q", c.R, formatOf(c.S), dateFormat)
			case kind == colNumber && formatOf(c.S) != "":
				t.Errorf("the number in %s has the format %q", c.R, formatOf(c.S))
			}
		}
	}
	// A text that looks like a formula is a string, as excelize reads it
	// too (rows 4 to 6 are the active activity's milestones).
	if len(want) == 5 {
		for _, ref := range []string{"F4", "M4", "M5", "M6"} {
			typ, err := f.GetCellType(sheet, ref)
			formula, ferr := f.GetCellFormula(sheet, ref)
			if err != nil || ferr != nil || typ != excelize.CellTypeInlineString || formula != "" {
				t.Errorf("%s is of type %v with formula %q (%v, %v)", ref, typ, formula, err, ferr)
			}
		}
	}
}

func zipFile(t *testing.T, body []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatalf("the workbook has no %s: %v", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
