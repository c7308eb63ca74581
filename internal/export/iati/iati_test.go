package iati_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"pacto/internal/export/iati"
	"pacto/internal/lifecycle"
	"pacto/internal/pgtest"
	"pacto/internal/store"
)

func TestMain(m *testing.M) {
	pgtest.SetTemplateSetup(store.Migrate)
	pgtest.Main(m)
}

const day = 24 * time.Hour

var t0 = time.Date(2026, 1, 5, 14, 0, 0, 0, time.UTC)

var dialogueParties = []lifecycle.Party{
	{Code: "PA", TimeZone: "America/Panama", Language: "es"},
	{Code: "US", TimeZone: "America/New_York", Language: "en"},
	{Code: "CR", TimeZone: "America/Costa_Rica", Language: "es"},
}

func coord(p lifecycle.PartyCode) lifecycle.Principal {
	return lifecycle.Principal{ID: strings.ToLower(string(p)) + "-coordinator", Party: p, Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}
}

func approver(p lifecycle.PartyCode) lifecycle.Principal {
	return lifecycle.Principal{ID: strings.ToLower(string(p)) + "-approver", Party: p, Roles: []lifecycle.Role{lifecycle.RoleApprover}}
}

func both(es, en string) lifecycle.Text { return lifecycle.Text{"es": es, "en": en} }

// activity decides commands on one activity with the core and records
// every change in the store, as its workflow would.
type activity struct {
	t  *testing.T
	st *store.Store
	s  lifecycle.State
}

func (a *activity) do(at time.Time, cmd lifecycle.Command, who lifecycle.Principal) {
	a.t.Helper()
	events, err := lifecycle.Decide(a.s, cmd, who, at)
	if err != nil {
		a.t.Fatalf("%s: %s by %s: %v", a.s.ID, cmd.CommandName(), who.ID, err)
	}
	for _, e := range events {
		a.s = lifecycle.Apply(a.s, e)
	}
	if err := a.st.Record(context.Background(), a.s, events); err != nil {
		a.t.Fatal(err)
	}
}

func (a *activity) approveAll(at time.Time) {
	for _, p := range a.s.Parties {
		a.do(at, lifecycle.DecideProposal{Version: a.s.Version, Decision: lifecycle.DecisionApprove}, approver(p.Code))
	}
}

func (a *activity) consentAll(at time.Time) {
	for _, p := range a.s.Parties {
		a.do(at, lifecycle.DecidePublication{Version: a.s.Version, Decision: lifecycle.PublicationConsent}, approver(p.Code))
	}
}

// propose starts activity id in dialogue dlg, proposed by PA's
// coordinator at t0 with the parties given.
func propose(t *testing.T, st *store.Store, dlg, id string, parties []lifecycle.PartyCode, edit func(*lifecycle.Propose)) *activity {
	t.Helper()
	p := lifecycle.Propose{
		ActivityID: id, Dialogue: dlg, DialogueParties: dialogueParties, Parties: parties, Rules: lifecycle.CurrentRules,
		Title:      both("Capacitación <aduanera> & fronteriza — "+id, "Customs <and> border training & more — "+id),
		Summary:    both("Formar a funcionarios de aduanas en perfiles de riesgo: «año» 2026.", "Train customs officials on risk profiles: \"year\" 2026."),
		Objectives: []lifecycle.Text{both("Capacitar a 40 funcionarios", "Train 40 officials"), both("Publicar un manual", "Publish a handbook")},
		Milestones: []lifecycle.MilestoneSpec{{ID: "m1", Title: both("Primera cohorte capacitada", "First cohort trained"), Owner: parties[0], Due: "P3M",
			Indicator: &lifecycle.Indicator{Baseline: ptr(0.0), Target: 40, Unit: both("funcionarios", "officials")}}},
	}
	if edit != nil {
		edit(&p)
	}
	a := &activity{t: t, st: st}
	a.do(t0, p, coord("PA"))
	return a
}

func ptr[T any](v T) *T { return &v }

// seed stores the parties, with their IATI identifiers, and two
// dialogues: hld (PA, US, CR), reported by PA, and other (PA, US).
func seed(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	for _, p := range []store.Party{
		{Code: "PA", Name: "Panamá", TimeZone: "America/Panama", Language: "es", IATIOrgRef: "PA-MIRE-001"},
		{Code: "US", Name: "United States", TimeZone: "America/New_York", Language: "en", IATIOrgRef: "US-GOV-1"},
		{Code: "CR", Name: "Costa Rica", TimeZone: "America/Costa_Rica", Language: "es", IATIOrgType: "15"},
	} {
		if _, err := st.CreateParty(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []store.Dialogue{
		{ID: "hld", Name: "Diálogo de Alto Nivel", Parties: []string{"PA", "US", "CR"},
			DialogueIATI: store.DialogueIATI{ReportingParty: "PA", Sector: "33120", RecipientCountries: []string{"PA"}}},
		{ID: "other", Name: "Other", Parties: []string{"PA", "US"}, DialogueIATI: store.DialogueIATI{ReportingParty: "PA"}},
	} {
		if _, err := st.CreateDialogue(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// realistic fills hld with activities in every status, milestones of
// every term, indicators, evidence and texts in Spanish and English, all
// published; and some that must not be: one party has not consented, an
// amendment cleared the consents, or they are another dialogue's. It
// returns the published activities by id.
func realistic(t *testing.T, st *store.Store) map[string]lifecycle.State {
	pac := []lifecycle.PartyCode{"PA", "US", "CR"}
	pu := []lifecycle.PartyCode{"PA", "US"}
	published := map[string]lifecycle.State{}
	keep := func(a *activity) { published[a.s.ID] = a.s }
	at := t0.Add(day)

	// Proposed: a pipeline activity, with its own classification.
	a := propose(t, st, "hld", "act-proposed", pac, func(p *lifecycle.Propose) {
		p.Sector, p.RecipientCountries = "15190", []string{"PA", "CR", "US"}
		p.Milestones = append(p.Milestones, lifecycle.MilestoneSpec{ID: "m2", Title: both("Manual publicado", "Handbook published"), Owner: "CR", Due: "2026-09-30"})
	})
	a.consentAll(at)
	keep(a)

	// Active, with milestones of every term, readings and evidence.
	a = propose(t, st, "hld", "act-active", pac, func(p *lifecycle.Propose) {
		p.Milestones = append(p.Milestones,
			lifecycle.MilestoneSpec{ID: "m2", Title: both("Tiempo de despacho reducido", "Clearance time cut"), Owner: "US", Due: "P2Y",
				Indicator: &lifecycle.Indicator{Baseline: ptr(30.0), Target: 10, Unit: both("días", "days")}},
			lifecycle.MilestoneSpec{ID: "m3", Title: both("Comercio facilitado <ventanilla única>", "Trade facilitated <single window>"), Owner: "CR", Due: "P5Y",
				Indicator: &lifecycle.Indicator{Target: 75, Unit: lifecycle.Text{"es": "%", "en": "%"}}},
			lifecycle.MilestoneSpec{ID: "m4", Title: both("Acuerdo firmado", "Agreement signed"), Owner: "PA", Due: "P1M", Horizon: lifecycle.HorizonShort})
	})
	a.approveAll(at)
	a.do(at.Add(day), lifecycle.ReportProgress{MilestoneID: "m1", Actual: ptr(12.5), Note: "Avance <parcial> & bueno",
		Evidence: []string{"https://example.org/informes/año-2026.pdf?lang=es&v=1", "https://example.org/fotos/taller"}}, coord("PA"))
	a.do(at.Add(2*day), lifecycle.ReportProgress{MilestoneID: "m2", Actual: ptr(22.0), Evidence: []string{"https://example.gov/clearance.xlsx"}}, coord("US"))
	a.do(at.Add(3*day), lifecycle.CompleteMilestone{MilestoneID: "m4", Evidence: []string{"https://example.org/acuerdo.pdf"}}, coord("PA"))
	a.consentAll(at.Add(4 * day))
	keep(a)

	// Suspended.
	a = propose(t, st, "hld", "act-suspended", pu, nil)
	a.approveAll(at)
	a.do(at.Add(day), lifecycle.Suspend{Reason: "Elecciones"}, approver("US"))
	a.consentAll(at.Add(2 * day))
	keep(a)

	// Completed, with a milestone without an indicator.
	a = propose(t, st, "hld", "act-completed", pu, func(p *lifecycle.Propose) {
		p.Milestones = append(p.Milestones, lifecycle.MilestoneSpec{ID: "m2", Title: both("Informe final", "Final report"), Owner: "US", Due: "P6M"})
	})
	a.approveAll(at)
	a.do(at.Add(10*day), lifecycle.CompleteMilestone{MilestoneID: "m1", Actual: ptr(41.0), Evidence: []string{"https://example.org/lista.csv"}}, coord("PA"))
	a.do(at.Add(20*day), lifecycle.CompleteMilestone{MilestoneID: "m2"}, coord("US"))
	a.consentAll(at.Add(30 * day))
	keep(a)

	// Cancelled, declined and expired: published after they ended.
	a = propose(t, st, "hld", "act-cancelled", pu, nil)
	a.approveAll(at)
	a.do(at.Add(day), lifecycle.Cancel{Reason: "Fusionada con otra"}, approver("PA"))
	a.consentAll(at.Add(2 * day))
	keep(a)
	a = propose(t, st, "hld", "act-declined", pu, nil)
	a.do(at, lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionDecline, Comment: "Sin fondos"}, approver("US"))
	a.consentAll(at.Add(day))
	keep(a)
	a = propose(t, st, "hld", "act-expired", pu, nil)
	a.do(t0.Add(61*day), lifecycle.Tick{}, lifecycle.Principal{ID: lifecycle.ClockActor})
	a.consentAll(t0.Add(62 * day))
	keep(a)

	// Proposed before texts had languages: its plain texts read as its
	// proposer's Spanish.
	a = propose(t, st, "hld", "act-legacy", pu, func(p *lifecycle.Propose) {
		p.Rules = 2
		p.Title, p.Summary, p.Objectives = lifecycle.Plain("Cooperación técnica <legado> & más"), nil, nil
		p.Milestones[0].Title, p.Milestones[0].Indicator = lifecycle.Plain("Visita técnica"), nil
	})
	a.consentAll(at)
	keep(a)

	// Not published: CR has not consented; the consents were cleared by
	// an amendment; another dialogue's.
	a = propose(t, st, "hld", "act-unconsented", pac, nil)
	a.do(at, lifecycle.DecidePublication{Version: 1, Decision: lifecycle.PublicationConsent}, approver("PA"))
	a.do(at, lifecycle.DecidePublication{Version: 1, Decision: lifecycle.PublicationConsent}, approver("US"))
	a = propose(t, st, "hld", "act-amended", pu, nil)
	a.consentAll(at)
	a.do(at.Add(day), lifecycle.Amend{BaseVersion: 1, Title: both("Título nuevo", "New title"), Summary: a.s.Summary, Objectives: a.s.Objectives,
		Milestones: []lifecycle.MilestoneSpec{a.s.Milestones[0].MilestoneSpec}}, coord("US"))
	a = propose(t, st, "other", "act-other", pu, nil)
	a.consentAll(at)
	return published
}

func export(t *testing.T, st *store.Store, dialogue string, pageSize int) []byte {
	t.Helper()
	ctx := context.Background()
	e, err := iati.Prepare(ctx, st, dialogue, t0.Add(100*day), pageSize)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := e.Stream(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The export of a realistic dialogue is valid against the IATI 2.03
// schema (xmllint, offline), uses only active codes of the code lists,
// holds exactly the published activities, and carries their texts in
// both languages as written.
func TestExportIsValidIATI(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint is needed to validate the export against the IATI schema: install libxml2-utils (Debian: apt-get install libxml2-utils)")
	}
	st := seed(t)
	published := realistic(t, st)
	out := export(t, st, "hld", 3) // pages of 3: the paging is exercised
	file := filepath.Join(t.TempDir(), "hld.xml")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(xmllint, "--nonet", "--noout", "--schema", filepath.Join("testdata", "schema", "iati-activities-schema.xsd"), file)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xmllint refuses the export: %v\n%s", err, msg)
	}

	doc := parse(t, out)
	var ids []string
	for _, a := range doc.Activities {
		ids = append(ids, a.Identifier)
	}
	var want []string
	for id := range published {
		want = append(want, "PA-MIRE-001-"+id)
	}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("exported %v\nwant exactly the published %v", ids, want)
	}
	checkCodes(t, out)

	statuses := map[string]bool{}
	for _, a := range doc.Activities {
		statuses[a.Status.Code] = true
		if a.ReportingOrg.Ref != "PA-MIRE-001" || a.ReportingOrg.Type != "10" {
			t.Errorf("%s: reporting org %+v", a.Identifier, a.ReportingOrg)
		}
	}
	for _, code := range []string{"1", "2", "4", "5", "6"} {
		if !statuses[code] {
			t.Errorf("no activity with status %s: the mapping of every Pacto status is not exercised (%v)", code, statuses)
		}
	}

	active := doc.find(t, "PA-MIRE-001-act-active")
	if got := active.Title.in("es"); got != "Capacitación <aduanera> & fronteriza — act-active" {
		t.Errorf("Spanish title %q", got)
	}
	if got := active.Title.in("en"); got != "Customs <and> border training & more — act-active" {
		t.Errorf("English title %q", got)
	}
	if d := active.Descriptions[0].in("es"); !strings.Contains(d, "«año» 2026") || !strings.Contains(d, "- Publicar un manual") {
		t.Errorf("Spanish description %q", d)
	}
	var terms []string
	for _, r := range active.Results {
		terms = append(terms, r.Type)
	}
	if !slices.Equal(terms, []string{"1", "2", "3", "1"}) {
		t.Errorf("result types %v; want output, outcome, impact, output for short, medium, long, short", terms)
	}
	m1 := active.Results[0].Indicator
	if m1.Measure != "1" || m1.Ascending != "1" || m1.Baseline.Value != "0" || m1.Period.Target.Value != "40" || m1.Period.Actual.Value != "12.5" {
		t.Errorf("m1's indicator %+v", m1)
	}
	if m2 := active.Results[1].Indicator; m2.Ascending != "0" || m2.Period.Actual.Value != "22" {
		t.Errorf("m2's indicator %+v; want descending, read 22", m2)
	}
	if m3 := active.Results[2].Indicator; m3.Measure != "2" {
		t.Errorf("m3's measure %s; want percentage", m3.Measure)
	}
	if d := active.Results[0].Indicator.Description.in("es"); d != "Unidad: funcionarios" {
		t.Errorf("m1's unit in Spanish %q", d)
	}
	var links []string
	for _, d := range active.Documents {
		links = append(links, d.URL+" "+d.Format)
	}
	wantLinks := []string{
		"https://example.org/informes/año-2026.pdf?lang=es&v=1 application/pdf",
		"https://example.org/fotos/taller text/html",
		"https://example.gov/clearance.xlsx application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"https://example.org/acuerdo.pdf application/pdf",
	}
	if !slices.Equal(links, wantLinks) {
		t.Errorf("document links %v\nwant %v", links, wantLinks)
	}
	if p := participants(active); p != "PA:2 PA:4 US:2 US:4 CR:2 CR:4" {
		t.Errorf("participating organisations %s", p)
	}

	proposed := doc.find(t, "PA-MIRE-001-act-proposed")
	if c := countries(proposed); c != "PA:33.33 CR:33.33 US:33.34" {
		t.Errorf("the proposal's recipient countries %s", c)
	}
	if len(proposed.Sectors) != 1 || proposed.Sectors[0].Code != "15190" {
		t.Errorf("the proposal's sector %+v, want its own 15190", proposed.Sectors)
	}
	if dates := dateTypes(proposed); dates != "1:2026-01-05 3:2026-09-30" {
		t.Errorf("the proposal's dates %s", dates)
	}
	completed := doc.find(t, "PA-MIRE-001-act-completed")
	if c := countries(completed); c != "PA:" || completed.Sectors[0].Code != "33120" {
		t.Errorf("the dialogue's defaults: countries %s sector %+v", c, completed.Sectors)
	}
	if dates := dateTypes(completed); !strings.HasPrefix(dates, "1:2026-01-05 2:2026-01-06 3:") || !strings.HasSuffix(dates, " 4:2026-01-26") {
		t.Errorf("the completed activity's dates %s", dates)
	}
	if got := completed.Results[1].Indicator.Period.Actual.Comment.in("en"); got != "Milestone completed on 2026-01-26" {
		t.Errorf("the qualitative milestone's actual %q", got)
	}
	legacy := doc.find(t, "PA-MIRE-001-act-legacy")
	if got := legacy.Title.in("es"); got != "Cooperación técnica <legado> & más" || len(legacy.Title.Narratives) != 1 {
		t.Errorf("the legacy title %+v", legacy.Title)
	}
	if last := doc.find(t, "PA-MIRE-001-act-expired").LastUpdated; last != "2026-03-08T14:00:00Z" {
		t.Errorf("the expired activity last updated %s, want its last consent's time", last)
	}
}

// An export streams: the file is the same whatever the page size.
func TestExportIsTheSameInAnyPageSize(t *testing.T) {
	st := seed(t)
	realistic(t, st)
	one, many := export(t, st, "hld", 1), export(t, st, "hld", 500)
	if !bytes.Equal(one, many) {
		t.Fatal("the export read a page at a time differs from the export read at once")
	}
}

func TestPrepareRefusesBeforeWriting(t *testing.T) {
	ctx := context.Background()
	st := seed(t)
	if _, err := iati.Prepare(ctx, st, "nope", t0, 0); !errors.Is(err, iati.ErrNoDialogue) {
		t.Fatalf("unknown dialogue: %v", err)
	}
	if _, err := iati.Prepare(ctx, st, "hld", t0, 0); !errors.Is(err, iati.ErrNothingPublished) {
		t.Fatalf("nothing published: %v", err)
	}
	a := propose(t, st, "hld", "act-1", []lifecycle.PartyCode{"PA", "US"}, nil)
	a.consentAll(t0.Add(day))
	if _, err := st.SetDialogueIATI(ctx, "hld", store.DialogueIATI{ReportingParty: "CR"}); err != nil {
		t.Fatal(err)
	}
	var se *iati.SetupError
	if _, err := iati.Prepare(ctx, st, "hld", t0, 0); !errors.As(err, &se) || !strings.Contains(se.Detail, "CR") {
		t.Fatalf("a reporting party without an identifier: %v", err)
	}
	if _, err := st.SetDialogueIATI(ctx, "hld", store.DialogueIATI{}); err != nil {
		t.Fatal(err)
	}
	if _, err := iati.Prepare(ctx, st, "hld", t0, 0); !errors.As(err, &se) || !strings.Contains(se.Detail, "reporting party") {
		t.Fatalf("no reporting party: %v", err)
	}
}

// The embedded code lists are the standard's, with their active codes.
func TestCodelists(t *testing.T) {
	for name, code := range map[string]string{iati.ListSector: "15190", iati.ListCountry: "PA", iati.ListOrganisationType: "10", iati.ListActivityStatus: "6"} {
		if !iati.Known(name, code) {
			t.Errorf("%s lacks %s", name, code)
		}
	}
	if iati.Known(iati.ListSector, "99999") || iati.Known(iati.ListCountry, "XX") || iati.Known("Nope", "1") {
		t.Error("unknown codes are known")
	}
	// A withdrawn code is not one a new record may use.
	if iati.Known(iati.ListSector, "11321") || iati.Known(iati.ListCountry, "BU") {
		t.Error("withdrawn codes are known")
	}
	if n := readList(t, iati.ListSector).Len(); n < 250 {
		t.Errorf("%d active sectors", n)
	}
}

// The document as the tests read it.
type document struct {
	Activities []activityDoc `xml:"iati-activity"`
}

type narratives struct {
	Narratives []struct {
		Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		Text string `xml:",chardata"`
	} `xml:"narrative"`
}

func (n narratives) in(lang string) string {
	for _, x := range n.Narratives {
		if x.Lang == lang {
			return x.Text
		}
	}
	return ""
}

type activityDoc struct {
	LastUpdated  string `xml:"last-updated-datetime,attr"`
	Identifier   string `xml:"iati-identifier"`
	ReportingOrg struct {
		Ref  string `xml:"ref,attr"`
		Type string `xml:"type,attr"`
	} `xml:"reporting-org"`
	Title         narratives   `xml:"title"`
	Descriptions  []narratives `xml:"description"`
	Participating []struct {
		Ref  string `xml:"ref,attr"`
		Role string `xml:"role,attr"`
		narratives
	} `xml:"participating-org"`
	Status struct {
		Code string `xml:"code,attr"`
	} `xml:"activity-status"`
	Dates []struct {
		Type string `xml:"type,attr"`
		Date string `xml:"iso-date,attr"`
	} `xml:"activity-date"`
	Countries []struct {
		Code       string `xml:"code,attr"`
		Percentage string `xml:"percentage,attr"`
	} `xml:"recipient-country"`
	Sectors []struct {
		Code string `xml:"code,attr"`
	} `xml:"sector"`
	Documents []struct {
		URL    string `xml:"url,attr"`
		Format string `xml:"format,attr"`
	} `xml:"document-link"`
	Results []struct {
		Type      string `xml:"type,attr"`
		Indicator struct {
			Measure     string     `xml:"measure,attr"`
			Ascending   string     `xml:"ascending,attr"`
			Description narratives `xml:"description"`
			Baseline    struct {
				Value string `xml:"value,attr"`
			} `xml:"baseline"`
			Period struct {
				Target struct {
					Value string `xml:"value,attr"`
				} `xml:"target"`
				Actual struct {
					Value   string     `xml:"value,attr"`
					Comment narratives `xml:"comment"`
				} `xml:"actual"`
			} `xml:"period"`
		} `xml:"indicator"`
	} `xml:"result"`
}

func parse(t *testing.T, b []byte) document {
	t.Helper()
	var d document
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d document) find(t *testing.T, id string) activityDoc {
	t.Helper()
	for _, a := range d.Activities {
		if a.Identifier == id {
			return a
		}
	}
	t.Fatalf("no activity %s in the export", id)
	return activityDoc{}
}

func participants(a activityDoc) string {
	var out []string
	for _, p := range a.Participating {
		code := map[string]string{"PA-MIRE-001": "PA", "US-GOV-1": "US", "": "CR"}[p.Ref]
		out = append(out, code+":"+p.Role)
	}
	return strings.Join(out, " ")
}

func countries(a activityDoc) string {
	var out []string
	for _, c := range a.Countries {
		out = append(out, c.Code+":"+c.Percentage)
	}
	return strings.Join(out, " ")
}

func dateTypes(a activityDoc) string {
	var out []string
	for _, d := range a.Dates {
		out = append(out, d.Type+":"+d.Date)
	}
	return strings.Join(out, " ")
}

func readList(t *testing.T, name string) iati.Codelist {
	t.Helper()
	f, err := os.Open(filepath.Join("codelists", name+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := iati.ReadCodelist(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// codedAttributes names, per element, its attributes that hold codes and
// the list each comes from.
var codedAttributes = map[string]map[string]string{
	"activity-status":   {"code": iati.ListActivityStatus},
	"activity-date":     {"type": iati.ListActivityDateType},
	"reporting-org":     {"type": iati.ListOrganisationType},
	"participating-org": {"type": iati.ListOrganisationType, "role": iati.ListOrganisationRole},
	"recipient-country": {"code": iati.ListCountry},
	"sector":            {"vocabulary": iati.ListSectorVocabulary, "code": iati.ListSector},
	"category":          {"code": iati.ListDocumentCategory},
	"result":            {"type": iati.ListResultType},
	"indicator":         {"measure": iati.ListIndicatorMeasure},
}

// checkCodes reads every element of the export and checks each code it
// uses against the code list files, and that no element the test does
// not know holds a code unchecked.
func checkCodes(t *testing.T, b []byte) {
	t.Helper()
	lists := map[string]iati.Codelist{}
	dec := xml.NewDecoder(bytes.NewReader(b))
	seen := map[string]int{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		for _, a := range el.Attr {
			list, coded := codedAttributes[el.Name.Local][a.Name.Local]
			if !coded {
				continue
			}
			if el.Name.Local == "sector" && a.Name.Local == "code" {
				// DAC 5-digit codes: vocabulary 1, the only one exported.
				list = iati.ListSector
			}
			if _, ok := lists[list]; !ok {
				lists[list] = readList(t, list)
			}
			if !lists[list].Has(a.Value) {
				t.Errorf("<%s %s=%q>: not an active code of %s", el.Name.Local, a.Name.Local, a.Value, list)
			}
			seen[fmt.Sprintf("%s@%s", el.Name.Local, a.Name.Local)]++
		}
	}
	for el, attrs := range codedAttributes {
		for attr := range attrs {
			if seen[el+"@"+attr] == 0 {
				t.Errorf("no %s@%s in the export: its codes went unchecked", el, attr)
			}
		}
	}
}
