package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"pacto/internal/store"
)

func (r reply) publication(t *testing.T) PublicationView {
	t.Helper()
	var v PublicationView
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode publication: %v in %s", err, r.body)
	}
	return v
}

func consents(v PublicationView) string {
	var out []string
	for _, p := range v.Parties {
		if p.Consent {
			out = append(out, p.Party)
		}
	}
	return strings.Join(out, ",")
}

// iati runs publication by consent and the IATI export through the API,
// in a dialogue of its own: the admin settings, the export's refusals,
// consent bound to the version and cleared by an amendment, withdrawal,
// consent after the activity ended, and an export that holds exactly the
// published activities.
func (s *stack) iati(t *testing.T) {
	export := "/v1/dialogues/iati-pa-us/export/iati"
	want(t, s.call("admin", "POST", "/v1/admin/dialogues", store.Dialogue{ID: "iati-pa-us", Name: "Publicación PA–US", Parties: []string{"PA", "US"}}), 201)
	want(t, s.call("pa-observer", "GET", "/v1/dialogues/nope/export/iati", nil), 404, "not-found")
	want(t, s.call("pa-observer", "GET", export, nil), 409, "conflict")

	// Admin settings.
	want(t, s.call("pa-approver", "PUT", "/v1/admin/parties/PA/iati", PartyIATIRequest{OrgRef: "XM-DAC-12-1"}), 403, "forbidden")
	want(t, s.call("admin", "PUT", "/v1/admin/parties/PA/iati", PartyIATIRequest{OrgRef: "XM DAC 12"}), 422, "invalid-input", "org_ref")
	want(t, s.call("admin", "PUT", "/v1/admin/parties/PA/iati", PartyIATIRequest{OrgRef: "XM-DAC-12-1", OrgType: "99"}), 422, "invalid-input", "org_type")
	want(t, s.call("admin", "PUT", "/v1/admin/parties/ZZ/iati", PartyIATIRequest{OrgRef: "XM-DAC-12-1"}), 404, "not-found")
	r := s.call("admin", "PUT", "/v1/admin/parties/PA/iati", PartyIATIRequest{OrgRef: "XM-DAC-12-1"})
	want(t, r, 200)
	if !strings.Contains(string(r.body), `"iati_org_ref":"XM-DAC-12-1","iati_org_type":"10"`) {
		t.Fatalf("party after the update: %s", r.body)
	}
	dlg := "/v1/admin/dialogues/iati-pa-us/iati"
	want(t, s.call("admin", "PUT", dlg, DialogueIATIRequest{ReportingParty: "MX"}), 422, "invalid-input", "reporting_party")
	want(t, s.call("admin", "PUT", dlg, DialogueIATIRequest{ReportingParty: "PA", Sector: "99999"}), 422, "invalid-input", "sector")
	want(t, s.call("admin", "PUT", dlg, DialogueIATIRequest{ReportingParty: "PA", RecipientCountries: []string{"PA", "XX"}}), 422, "invalid-input", "recipient_countries[1]")
	want(t, s.call("admin", "PUT", "/v1/admin/dialogues/nope/iati", DialogueIATIRequest{ReportingParty: "PA"}), 404, "not-found")
	r = s.call("admin", "PUT", dlg, DialogueIATIRequest{ReportingParty: "PA", Sector: "33120", RecipientCountries: []string{"PA"}})
	want(t, r, 200)
	if !strings.Contains(string(r.body), `"iati_reporting_party":"PA","iati_sector":"33120","iati_recipient_countries":["PA"]`) {
		t.Fatalf("dialogue after the update: %s", r.body)
	}
	want(t, s.call("pa-observer", "GET", export, nil), 404, "not-found") // set up, nothing published

	// A proposal's classification is checked against the code lists.
	p := proposal()
	p.Dialogue, p.Sector = "iati-pa-us", "99999"
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", p), 422, "invalid-input", "sector")
	p.Sector, p.RecipientCountries = "15190", []string{"XX"}
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", p), 422, "invalid-input", "recipient_countries[0]")
	p.RecipientCountries = []string{"PA", "CR"}
	a := s.propose(p)
	if a.Sector != "15190" || !slices.Equal(a.RecipientCountries, []string{"PA", "CR"}) || a.Published || len(a.Publication) != 2 {
		t.Fatalf("proposed: sector %q countries %v published %v publication %+v", a.Sector, a.RecipientCountries, a.Published, a.Publication)
	}
	path := "/v1/activities/" + a.ID + "/publication"

	// Consent is an approver's, for their own party, on the current version.
	want(t, s.call("pa-coordinator", "POST", path, PublicationRequest{Version: 1, Decision: "consent"}), 403, "forbidden")
	want(t, s.call("pa-approver", "POST", path, PublicationRequest{Version: 1, Decision: "consent", Party: "US"}), 403, "forbidden")
	want(t, s.call("pa-approver", "POST", path, PublicationRequest{Decision: "consent"}), 422, "invalid-input", "version")
	want(t, s.call("pa-approver", "POST", path, PublicationRequest{Version: 1, Decision: "publish"}), 422, "invalid-input", "decision")
	want(t, s.call("mx-approver", "POST", path, PublicationRequest{Version: 1, Decision: "consent"}), 404, "not-found")
	if v := s.call("pa-approver", "POST", path, PublicationRequest{Version: 1, Decision: "consent"}).publication(t); consents(v) != "PA" || v.Published {
		t.Fatalf("after PA consented: %+v", v)
	}
	// An amendment clears it.
	amended := s.call("us-coordinator", "PATCH", "/v1/activities/"+a.ID, AmendRequest{Title: both("Joint customs training 2027", "Capacitación aduanera conjunta 2027")},
		opts{headers: []string{"If-Match", `"1"`}}).activity(t)
	if amended.Version != 2 || amended.Published || amended.Publication[0].Consent {
		t.Fatalf("after the amendment: version %d publication %+v", amended.Version, amended.Publication)
	}
	want(t, s.call("us-approver", "POST", path, PublicationRequest{Version: 1, Decision: "consent"}), 409, "stale-version")
	for _, who := range []string{"pa-approver", "us-approver"} {
		want(t, s.call(who, "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 2, Decision: "approve"}), 200)
		want(t, s.call(who, "POST", path, PublicationRequest{Version: 2, Decision: "consent"}), 200)
	}
	v := s.call("us-observer", "GET", path, nil).publication(t)
	if !v.Published || v.Version != 2 || v.Status != "active" || consents(v) != "PA,US" || v.Parties[1].By != "us-approver" || v.Parties[1].At == nil {
		t.Fatalf("after both consented to version 2: %+v", v)
	}
	if got := s.call("pa-observer", "GET", "/v1/activities/"+a.ID, nil).activity(t); !got.Published {
		t.Fatal("the activity does not show itself published")
	}

	// Another activity, published, then withdrawn; a third never consented.
	b := s.propose(proposalIn("iati-pa-us"))
	c := s.propose(proposalIn("iati-pa-us"))
	for _, who := range []string{"pa-approver", "us-approver"} {
		want(t, s.call(who, "POST", "/v1/activities/"+b.ID+"/publication", PublicationRequest{Version: 1, Decision: "consent"}), 200)
	}
	want(t, s.call("pa-approver", "POST", "/v1/activities/"+c.ID+"/publication", PublicationRequest{Version: 1, Decision: "consent"}), 200)
	if ids := exported(t, s.call("mx-observer", "GET", export, nil)); !slices.Equal(ids, sorted("XM-DAC-12-1-"+a.ID, "XM-DAC-12-1-"+b.ID)) {
		t.Fatalf("exported %v; want %s and %s only", ids, a.ID, b.ID)
	}
	want(t, s.call("us-approver", "POST", "/v1/activities/"+b.ID+"/publication", PublicationRequest{Version: 1, Decision: "withdraw"}), 200)
	if ids := exported(t, s.call("pa-observer", "GET", export, nil)); !slices.Equal(ids, []string{"XM-DAC-12-1-" + a.ID}) {
		t.Fatalf("exported %v after b's consent was withdrawn; want %s only", ids, a.ID)
	}

	// After the activity ends its run records nothing more: consent is
	// recorded in the read model, chained in the audit log.
	want(t, s.call("us-approver", "POST", "/v1/activities/"+b.ID+"/cancel", ReasonRequest{Reason: "Fusionada"}), 200)
	ended := s.call("us-approver", "POST", "/v1/activities/"+b.ID+"/publication", PublicationRequest{Version: 1, Decision: "consent"}).publication(t)
	if !ended.Published || ended.Status != "cancelled" {
		t.Fatalf("consent after the end: %+v", ended)
	}
	want(t, s.call("us-approver", "POST", "/v1/activities/"+b.ID+"/publication", PublicationRequest{Version: 1, Decision: "consent"}), 409, "invalid-transition")
	var audit AuditPage
	if err := json.Unmarshal(s.call("pa-observer", "GET", "/v1/activities/"+b.ID+"/audit", nil).body, &audit); err != nil {
		t.Fatal(err)
	}
	if n := len(audit.Events); n < 2 || audit.Events[n-1].Type != "publication_consented" || audit.Events[n-2].Type != "cancelled" {
		t.Fatalf("audit ends %+v", audit.Events[max(0, n-2):])
	}
	var verified store.AuditVerification
	if err := json.Unmarshal(s.call("pa-observer", "GET", "/v1/activities/"+b.ID+"/audit/verify", nil).body, &verified); err != nil || !verified.Valid {
		t.Fatalf("audit chain after the consent on an ended activity: %+v %v", verified, err)
	}
	if got := s.call("pa-observer", "GET", "/v1/activities/"+b.ID+"?consistent=true", nil).activity(t); !got.Published {
		t.Fatal("a consistent read of the ended activity loses the consent recorded after its run")
	}
	r = s.call("pa-observer", "GET", export, nil)
	if ids := exported(t, r); !slices.Equal(ids, sorted("XM-DAC-12-1-"+a.ID, "XM-DAC-12-1-"+b.ID)) {
		t.Fatalf("exported %v; want %s and the ended %s", ids, a.ID, b.ID)
	}
	if ct, cd := r.header.Get("Content-Type"), r.header.Get("Content-Disposition"); ct != "application/xml; charset=utf-8" || cd != `attachment; filename="iati-pa-us-iati.xml"` {
		t.Fatalf("Content-Type %q Content-Disposition %q", ct, cd)
	}
	for _, wanted := range []string{`<sector vocabulary="1" code="15190" percentage="100"></sector>`, `<recipient-country code="CR" percentage="50.00">`,
		`<activity-status code="5"></activity-status>`, `<narrative xml:lang="es">Capacitación aduanera conjunta 2027</narrative>`} {
		if !strings.Contains(string(r.body), wanted) {
			t.Errorf("the export lacks %s", wanted)
		}
	}
}

// proposalIn is the usual proposal in another dialogue of PA and the US.
func proposalIn(dialogue string) ProposeRequest {
	p := proposal()
	p.Dialogue = dialogue
	return p
}

func sorted(ss ...string) []string {
	slices.Sort(ss)
	return ss
}

// exported lists the iati-identifiers of an export, in order.
func exported(t *testing.T, r reply) []string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	body := string(r.body)
	if !strings.HasPrefix(body, `<?xml version="1.0" encoding="UTF-8"?>`) || !strings.HasSuffix(strings.TrimSpace(body), "</iati-activities>") {
		t.Fatalf("the export is not a whole XML document: %.200s", body)
	}
	var ids []string
	for _, part := range strings.Split(body, "<iati-identifier>")[1:] {
		id, _, _ := strings.Cut(part, "</iati-identifier>")
		ids = append(ids, id)
	}
	return ids
}
