// Package iati writes a dialogue's published activities as an IATI 2.03
// activity file (an iati-activities document), the open-data standard of
// the International Aid Transparency Initiative.
//
// Only activities every party consents to publishing appear (see
// lifecycle.Published); the store pages through them, so an export of
// any size holds one page in memory at a time.
package iati

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// Version is the version of the IATI Standard the files follow.
const Version = "2.03"

// DefaultPageSize is how many activities an export reads at a time.
const DefaultPageSize = 200

var (
	// ErrNoDialogue: there is no such dialogue.
	ErrNoDialogue = errors.New("no such dialogue")
	// ErrNothingPublished: no activity of the dialogue is published, and
	// an IATI activity file must hold at least one.
	ErrNothingPublished = errors.New("no activity of the dialogue is published")
)

// SetupError says what a dialogue lacks before its activities can be
// published: a reporting party, or that party's organisation identifier.
type SetupError struct {
	Detail string
}

func (e *SetupError) Error() string { return e.Detail }

// Export is one dialogue's activity file, checked and ready to stream.
type Export struct {
	st        *store.Store
	dialogue  store.IATIDialogue
	reporting store.IATIParty
	now       time.Time
	pageSize  int
	first     []store.PublishedActivity
	next      string
}

// Prepare checks that dialogue can be exported at now and reads its first
// page of published activities, so that every refusal comes before a
// byte is written: ErrNoDialogue, a *SetupError, or ErrNothingPublished.
// pageSize is the number of activities read at a time (0: the default).
func Prepare(ctx context.Context, st *store.Store, dialogue string, now time.Time, pageSize int) (*Export, error) {
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	d, err := st.IATIDialogue(ctx, dialogue)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoDialogue
	}
	if err != nil {
		return nil, err
	}
	if d.ReportingParty == "" {
		return nil, &SetupError{Detail: fmt.Sprintf("dialogue %s has no IATI reporting party; an admin sets it (PUT /v1/admin/dialogues/%s/iati, or pacto dialogue iati)", d.ID, d.ID)}
	}
	rep, ok := d.Party(lifecycle.PartyCode(d.ReportingParty))
	if !ok || rep.OrgRef == "" {
		return nil, &SetupError{Detail: fmt.Sprintf("party %s, which reports dialogue %s, has no IATI organisation identifier; an admin sets it (PUT /v1/admin/parties/%s/iati, or pacto party iati)", d.ReportingParty, d.ID, d.ReportingParty)}
	}
	e := &Export{st: st, dialogue: d, reporting: rep, now: now, pageSize: pageSize}
	if e.first, e.next, err = st.PublishedPage(ctx, d.ID, "", pageSize); err != nil {
		return nil, err
	}
	for len(e.first) == 0 && e.next != "" {
		// A whole page the snapshots do not publish: read on.
		if e.first, e.next, err = st.PublishedPage(ctx, d.ID, e.next, pageSize); err != nil {
			return nil, err
		}
	}
	if len(e.first) == 0 {
		return nil, ErrNothingPublished
	}
	return e, nil
}

// Stream writes the activity file to w, a page of activities at a time,
// and returns how many activities it wrote. An error part-way leaves w
// with an unfinished document, which no XML reader accepts.
func (e *Export) Stream(ctx context.Context, w io.Writer) (int, error) {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return 0, fmt.Errorf("write the IATI file: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", " ")
	root := xml.StartElement{Name: xml.Name{Local: "iati-activities"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "version"}, Value: Version},
		{Name: xml.Name{Local: "generated-datetime"}, Value: e.now.UTC().Format(time.RFC3339)},
	}}
	if err := enc.EncodeToken(root); err != nil {
		return 0, fmt.Errorf("write the IATI file: %w", err)
	}
	n := 0
	page, next := e.first, e.next
	for {
		for _, a := range page {
			if err := enc.Encode(e.activity(a)); err != nil {
				return n, fmt.Errorf("write activity %s: %w", a.ID, err)
			}
			n++
		}
		if next == "" {
			break
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		var err error
		if page, next, err = e.st.PublishedPage(ctx, e.dialogue.ID, next, e.pageSize); err != nil {
			return n, err
		}
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return n, fmt.Errorf("write the IATI file: %w", err)
	}
	if err := enc.Flush(); err != nil {
		return n, fmt.Errorf("write the IATI file: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return n, err
}

// The elements of an iati-activity, in the order the schema wants them.
type (
	activityXML struct {
		XMLName       xml.Name      `xml:"iati-activity"`
		LastUpdated   string        `xml:"last-updated-datetime,attr"`
		Lang          string        `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
		Identifier    string        `xml:"iati-identifier"`
		ReportingOrg  orgXML        `xml:"reporting-org"`
		Title         textXML       `xml:"title"`
		Descriptions  []textXML     `xml:"description"`
		Participating []orgXML      `xml:"participating-org"`
		Status        codeXML       `xml:"activity-status"`
		Dates         []dateXML     `xml:"activity-date"`
		Countries     []countryXML  `xml:"recipient-country"`
		Sectors       []sectorXML   `xml:"sector"`
		Documents     []documentXML `xml:"document-link"`
		Results       []resultXML   `xml:"result"`
	}
	narrativeXML struct {
		Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
		Text string `xml:",chardata"`
	}
	textXML struct {
		Narratives []narrativeXML `xml:"narrative"`
	}
	orgXML struct {
		Ref        string         `xml:"ref,attr,omitempty"`
		Type       string         `xml:"type,attr,omitempty"`
		Role       string         `xml:"role,attr,omitempty"`
		Narratives []narrativeXML `xml:"narrative"`
	}
	codeXML struct {
		Code string `xml:"code,attr"`
	}
	dateXML struct {
		Type    string `xml:"type,attr"`
		ISODate string `xml:"iso-date,attr"`
	}
	countryXML struct {
		Code       string `xml:"code,attr"`
		Percentage string `xml:"percentage,attr,omitempty"`
	}
	sectorXML struct {
		Vocabulary string `xml:"vocabulary,attr"`
		Code       string `xml:"code,attr"`
		Percentage string `xml:"percentage,attr"`
	}
	documentXML struct {
		URL        string    `xml:"url,attr"`
		Format     string    `xml:"format,attr"`
		Title      textXML   `xml:"title"`
		Categories []codeXML `xml:"category"`
	}
	resultXML struct {
		Type       string         `xml:"type,attr"`
		Title      textXML        `xml:"title"`
		Indicators []indicatorXML `xml:"indicator"`
	}
	indicatorXML struct {
		Measure     string        `xml:"measure,attr"`
		Ascending   string        `xml:"ascending,attr,omitempty"`
		Title       textXML       `xml:"title"`
		Description *textXML      `xml:"description"`
		Baselines   []baselineXML `xml:"baseline"`
		Periods     []periodXML   `xml:"period"`
	}
	baselineXML struct {
		Year    int    `xml:"year,attr"`
		ISODate string `xml:"iso-date,attr,omitempty"`
		Value   string `xml:"value,attr,omitempty"`
	}
	periodXML struct {
		Start   dateAttrXML `xml:"period-start"`
		End     dateAttrXML `xml:"period-end"`
		Targets []valueXML  `xml:"target"`
		Actuals []valueXML  `xml:"actual"`
	}
	dateAttrXML struct {
		ISODate string `xml:"iso-date,attr"`
	}
	valueXML struct {
		Value   string   `xml:"value,attr,omitempty"`
		Comment *textXML `xml:"comment"`
	}
)

// Codes Pacto uses from the IATI code lists.
const (
	// ActivityDateType
	datePlannedStart = "1"
	dateActualStart  = "2"
	datePlannedEnd   = "3"
	dateActualEnd    = "4"
	// OrganisationRole
	roleAccountable  = "2"
	roleImplementing = "4"
	// SectorVocabulary: OECD DAC 5-digit purpose codes.
	vocabularyDAC5 = "1"
	// DocumentCategory: results, outcomes and outputs.
	categoryResults = "A08"
	// IndicatorMeasure
	measureUnit        = "1"
	measurePercentage  = "2"
	measureQualitative = "5"
)

// ActivityStatus maps Pacto's statuses to the IATI ActivityStatus code
// list: a proposal is in the pipeline, an active activity in
// implementation, a completed one closed; a declined or expired proposal
// never went ahead and, like a cancelled activity, is cancelled.
var ActivityStatus = map[lifecycle.Status]string{
	lifecycle.StatusProposed:  "1",
	lifecycle.StatusActive:    "2",
	lifecycle.StatusSuspended: "6",
	lifecycle.StatusCompleted: "4",
	lifecycle.StatusCancelled: "5",
	lifecycle.StatusDeclined:  "5",
	lifecycle.StatusExpired:   "5",
}

// ResultType maps a milestone's term to the IATI ResultType code list,
// along the results chain: short-term milestones are outputs, medium-term
// outcomes, long-term impacts.
var ResultType = map[lifecycle.Horizon]string{
	lifecycle.HorizonShort:  "1",
	lifecycle.HorizonMedium: "2",
	lifecycle.HorizonLong:   "3",
}

// activity is one published activity as an iati-activity element.
func (e *Export) activity(a store.PublishedActivity) activityXML {
	st := a.State
	if len(st.Languages) == 0 {
		// Proposed before texts had languages: read as its proposer's.
		parties := make([]lifecycle.Party, len(e.dialogue.Parties))
		for i, p := range e.dialogue.Parties {
			parties[i] = lifecycle.Party{Code: p.Code, Language: p.Language}
		}
		st = st.WithLanguages(parties, e.dialogue.Languages)
	}
	lang := e.reporting.Language
	out := activityXML{
		LastUpdated:  a.LastEventAt.UTC().Format(time.RFC3339),
		Lang:         lang,
		Identifier:   e.reporting.OrgRef + "-" + a.ID,
		ReportingOrg: orgXML{Ref: e.reporting.OrgRef, Type: e.reporting.OrgType, Narratives: []narrativeXML{{Lang: e.reporting.Language, Text: e.reporting.Name}}},
		Title:        textXML{narratives(st.Title, lang)},
		Descriptions: []textXML{{description(st, lang)}},
		Status:       codeXML{ActivityStatus[st.Status]},
		Dates:        dates(st),
	}
	for _, p := range st.Parties {
		info, ok := e.dialogue.Party(p.Code)
		if !ok {
			info = store.IATIParty{Code: p.Code, Name: string(p.Code), Language: lang}
		}
		org := orgXML{Ref: info.OrgRef, Type: info.OrgType, Role: roleAccountable, Narratives: []narrativeXML{{Lang: info.Language, Text: info.Name}}}
		out.Participating = append(out.Participating, org)
		if slices.ContainsFunc(st.Milestones, func(m lifecycle.Milestone) bool { return m.Owner == p.Code }) {
			org.Role = roleImplementing
			out.Participating = append(out.Participating, org)
		}
	}
	countries := st.RecipientCountries
	if len(countries) == 0 {
		countries = e.dialogue.RecipientCountries
	}
	for i, c := range countries {
		rc := countryXML{Code: c}
		if len(countries) > 1 {
			rc.Percentage = share(i, len(countries))
		}
		out.Countries = append(out.Countries, rc)
	}
	if sector := cmpOr(st.Sector, e.dialogue.Sector); sector != "" {
		out.Sectors = []sectorXML{{Vocabulary: vocabularyDAC5, Code: sector, Percentage: "100"}}
	}
	out.Documents = documents(st, a.Evidence, lang)
	for _, m := range st.Milestones {
		out.Results = append(out.Results, result(st, m, lang))
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// narratives is a text in every language it is written in; a text
// without languages is in fallback.
func narratives(t lifecycle.Text, fallback string) []narrativeXML {
	var out []narrativeXML
	for _, l := range t.Languages() {
		if t.Has(l) {
			out = append(out, narrativeXML{Lang: l, Text: t[l]})
		}
	}
	if len(out) == 0 && !t.Empty() {
		out = append(out, narrativeXML{Lang: fallback, Text: t.In("")})
	}
	return out
}

// description is the summary followed by the objectives, one a line, in
// each language either is written in; the title when there are none.
func description(st lifecycle.State, fallback string) []narrativeXML {
	langs := map[string]bool{}
	for _, t := range append([]lifecycle.Text{st.Summary}, st.Objectives...) {
		for l := range t {
			langs[l] = true
		}
	}
	keys := make([]string, 0, len(langs))
	for l := range langs {
		keys = append(keys, l)
	}
	slices.Sort(keys)
	var out []narrativeXML
	for _, l := range keys {
		var lines []string
		if v := st.Summary[l]; strings.TrimSpace(v) != "" {
			lines = append(lines, v, "")
		}
		for _, o := range st.Objectives {
			if v := o[l]; strings.TrimSpace(v) != "" {
				lines = append(lines, "- "+v)
			}
		}
		text := strings.TrimSpace(strings.Join(lines, "\n"))
		if text == "" {
			continue
		}
		if l == "" {
			l = fallback
		}
		out = append(out, narrativeXML{Lang: l, Text: text})
	}
	if len(out) == 0 {
		return narratives(st.Title, fallback)
	}
	return out
}

// zone is party p's time zone, in which its dates are told.
func zone(st lifecycle.State, p lifecycle.PartyCode) *time.Location {
	if party, ok := st.Party(p); ok {
		if loc, err := lifecycle.LoadZone(party.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

func isoDate(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.DateOnly) }

// dates are the activity's: planned start when proposed, actual start at
// activation, planned end at its last milestone's due time, actual end
// when it closed after it had started.
func dates(st lifecycle.State) []dateXML {
	loc := zone(st, st.ProposerParty)
	out := []dateXML{{Type: datePlannedStart, ISODate: isoDate(st.ProposedAt, loc)}}
	if !st.ActivatedAt.IsZero() {
		out = append(out, dateXML{Type: dateActualStart, ISODate: isoDate(st.ActivatedAt, loc)})
	}
	var last lifecycle.Milestone
	for _, m := range st.Milestones {
		if !m.DueAt.IsZero() && m.DueAt.After(last.DueAt) {
			last = m
		}
	}
	if !last.DueAt.IsZero() {
		out = append(out, dateXML{Type: datePlannedEnd, ISODate: isoDate(last.DueAt, zone(st, last.Owner))})
	}
	if !st.ActivatedAt.IsZero() && !st.ClosedAt.IsZero() {
		out = append(out, dateXML{Type: dateActualEnd, ISODate: isoDate(st.ClosedAt, loc)})
	}
	return out
}

// share is the i-th of n equal percentages, in hundredths, the last
// taking the remainder so that they add up to 100.
func share(i, n int) string {
	each := 10000 / n
	if i == n-1 {
		each = 10000 - each*(n-1)
	}
	return fmt.Sprintf("%d.%02d", each/100, each%100)
}

func number(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// words are the few phrases the export writes itself, in the languages
// Pacto's parties read; others read the English.
var words = map[string]map[string]string{
	"es": {"unit": "Unidad: %s", "completed": "Hito completado el %s"},
	"en": {"unit": "Unit: %s", "completed": "Milestone completed on %s"},
}

func phrase(lang, key string, arg string) string {
	w, ok := words[lang]
	if !ok {
		w = words["en"]
	}
	return fmt.Sprintf(w[key], arg)
}

// result is a milestone as a result with one indicator: its target and
// reading when it has an indicator, else a qualitative one whose actual
// says when it was completed; its period runs from activation (the
// proposal, before it) to the due time.
func result(st lifecycle.State, m lifecycle.Milestone, fallback string) resultXML {
	title := narratives(m.Title, fallback)
	loc := zone(st, m.Owner)
	start := st.ActivatedAt
	if start.IsZero() {
		start = st.ProposedAt
	}
	ind := indicatorXML{Measure: measureQualitative, Title: textXML{title}}
	in := m.Indicator
	if in != nil {
		ind.Measure = measureUnit
		if allPercent(in.Unit) {
			ind.Measure = measurePercentage
		}
		var unit []narrativeXML
		for _, n := range narratives(in.Unit, fallback) {
			unit = append(unit, narrativeXML{Lang: n.Lang, Text: phrase(n.Lang, "unit", n.Text)})
		}
		if len(unit) > 0 {
			ind.Description = &textXML{unit}
		}
		if in.Baseline != nil {
			ind.Ascending = "0"
			if in.Target >= *in.Baseline {
				ind.Ascending = "1"
			}
			at := start.In(loc)
			ind.Baselines = []baselineXML{{Year: at.Year(), ISODate: isoDate(at, loc), Value: number(*in.Baseline)}}
		}
	}
	if !m.DueAt.IsZero() {
		p := periodXML{Start: dateAttrXML{isoDate(start, loc)}, End: dateAttrXML{isoDate(m.DueAt, loc)}}
		if p.Start.ISODate > p.End.ISODate {
			p.Start = p.End
		}
		switch {
		case in != nil:
			p.Targets = []valueXML{{Value: number(in.Target)}}
			if in.Actual != nil {
				p.Actuals = []valueXML{{Value: number(*in.Actual)}}
			}
		case m.Status == lifecycle.MilestoneCompleted:
			var said []narrativeXML
			for _, n := range title {
				said = append(said, narrativeXML{Lang: n.Lang, Text: phrase(n.Lang, "completed", isoDate(m.CompletedAt, loc))})
			}
			p.Actuals = []valueXML{{Comment: &textXML{said}}}
		}
		ind.Periods = []periodXML{p}
	}
	return resultXML{Type: cmpOr(ResultType[m.Term], ResultType[lifecycle.HorizonShort]), Title: textXML{title}, Indicators: []indicatorXML{ind}}
}

// allPercent reports whether every language's unit is a percentage sign.
func allPercent(unit lifecycle.Text) bool {
	if len(unit) == 0 {
		return false
	}
	for _, v := range unit {
		if strings.TrimSpace(v) != "%" {
			return false
		}
	}
	return true
}

// documents are the evidence links reported on the milestones, each once,
// as documents on the activity's results titled with their milestone:
// every one the audit log holds, then any the snapshot holds besides.
func documents(st lifecycle.State, evidence []store.Evidence, fallback string) []documentXML {
	titles := map[string][]narrativeXML{}
	for _, m := range st.Milestones {
		titles[m.ID] = narratives(m.Title, fallback)
		for _, link := range m.Evidence {
			evidence = append(evidence, store.Evidence{Milestone: m.ID, URL: link})
		}
	}
	var out []documentXML
	seen := map[string]bool{}
	for _, ev := range evidence {
		if seen[ev.URL] {
			continue
		}
		seen[ev.URL] = true
		title := titles[ev.Milestone]
		if len(title) == 0 {
			title = narratives(st.Title, fallback)
		}
		out = append(out, documentXML{URL: ev.URL, Format: mediaType(ev.URL), Title: textXML{title}, Categories: []codeXML{{categoryResults}}})
	}
	return out
}

// mediaTypes are the IANA media types of the documents evidence links
// usually name; a link to anything else is taken for a web page.
var mediaTypes = map[string]string{
	".pdf":  "application/pdf",
	".doc":  "application/msword",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xls":  "application/vnd.ms-excel",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".ppt":  "application/vnd.ms-powerpoint",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".odt":  "application/vnd.oasis.opendocument.text",
	".ods":  "application/vnd.oasis.opendocument.spreadsheet",
	".csv":  "text/csv",
	".txt":  "text/plain",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".zip":  "application/zip",
}

func mediaType(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return "text/html"
	}
	if t, ok := mediaTypes[strings.ToLower(path.Ext(u.Path))]; ok {
		return t
	}
	return "text/html"
}
