package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
	"pacto/workflows"
)

// spanishOnly is Panama's proposal with its texts in Spanish only, given
// as plain strings: the proposer's language.
func spanishOnly() ProposeRequest {
	return ProposeRequest{
		Dialogue: "hld-pa-us", Parties: []string{"PA", "US"},
		Title:      lifecycle.Plain("Capacitación aduanera en Colón"),
		Summary:    lifecycle.Plain("Formar al personal de aduanas"),
		Objectives: []lifecycle.Text{lifecycle.Plain("Formar a 40 funcionarios")},
		Milestones: []MilestoneInput{{ID: "m1", Title: lifecycle.Plain("Taller realizado"), Owner: "PA", Due: "P30D",
			Indicator: &IndicatorInput{Target: 40, Unit: lifecycle.Plain("personas")}}},
	}
}

// englishAdded is the US coordinator's amendment adding the English
// texts, as plain strings in their own language.
func englishAdded() AmendRequest {
	objectives := []lifecycle.Text{lifecycle.Plain("Train 40 officers")}
	milestones := []MilestoneInput{{ID: "m1", Title: lifecycle.Plain("Workshop held"), Owner: "PA", Due: "P30D",
		Indicator: &IndicatorInput{Target: 40, Unit: lifecycle.Plain("people")}}}
	return AmendRequest{Title: lifecycle.Plain("Customs training in Colón"), Summary: lifecycle.Plain("Train customs staff"),
		Objectives: &objectives, Milestones: &milestones}
}

// languages walks the case through the API: Panama proposes in
// Spanish only, the US approver is refused for the missing English, the
// US coordinator adds it, both approve, and each side reads its own.
func (s *stack) languages(t *testing.T) {
	a := s.propose(spanishOnly())
	path := "/v1/activities/" + a.ID
	if !slices.Equal(a.Languages, []string{"en", "es"}) || a.Title["es"] != "Capacitación aduanera en Colón" || a.Title["en"] != "" ||
		a.TitleText != "Capacitación aduanera en Colón" || !slices.Contains(a.MissingTexts["en"], "milestones[0].indicator.unit") {
		t.Fatalf("the Spanish proposal: languages %v title %v (%q) missing %v", a.Languages, a.Title, a.TitleText, a.MissingTexts)
	}

	r := s.call("us-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "approve"})
	want(t, r, 409, "invalid-transition")
	if p := r.problem(t); p.Language != "en" || !slices.Contains(p.Missing, "title") || !strings.Contains(p.Detail, "en") {
		t.Fatalf("the US approval was refused with %+v; want it to name en and the texts without it", p)
	}
	// Panama reads Spanish, which is all there.
	want(t, s.call("pa-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 200)

	// A language the dialogue does not have, or a text given both ways.
	fr := AmendRequest{Version: ptr(1), Title: lifecycle.Text{"fr": "Formation douanière"}}
	want(t, s.call("us-coordinator", "PATCH", path, fr), 422, "invalid-input", "title.fr")
	want(t, s.call("us-coordinator", "PATCH", path, []byte(`{"version":1,"title":{"":"x"}}`)), 400, "malformed-request")

	amend := englishAdded()
	amend.Version = ptr(1)
	r = s.call("us-coordinator", "PATCH", path, amend)
	want(t, r, 200)
	v := r.activity(t)
	if v.Version != 2 || v.Title["es"] != "Capacitación aduanera en Colón" || v.TitleText != "Customs training in Colón" || len(v.MissingTexts) != 0 ||
		v.Milestones[0].Indicator.UnitText != "people" || v.Milestones[0].Indicator.Unit["es"] != "personas" || v.ObjectivesText[0] != "Train 40 officers" {
		t.Fatalf("after the English amendment: %+v", v)
	}
	if strings.Join(v.PendingParties, ",") != "PA,US" {
		t.Fatalf("the new version needs both approvals again, pending %v", v.PendingParties)
	}
	for _, who := range []string{"pa-approver", "us-approver"} {
		want(t, s.call(who, "POST", path+"/decisions", DecisionRequest{Version: 2, Decision: "approve"}), 200)
	}

	// Each side reads its own language; both find it by either.
	pa := s.call("pa-observer", "GET", path, nil).activity(t)
	us := s.call("us-observer", "GET", path, nil).activity(t)
	if pa.Status != "active" || pa.TitleText != "Capacitación aduanera en Colón" || us.TitleText != "Customs training in Colón" ||
		pa.Milestones[0].TitleText != "Taller realizado" || us.Milestones[0].TitleText != "Workshop held" || pa.Language != "es" {
		t.Fatalf("read by Panama: %s %q %q; by the US: %q %q", pa.Status, pa.TitleText, pa.Milestones[0].TitleText, us.TitleText, us.Milestones[0].TitleText)
	}
	for _, q := range []string{"customs+training+in+colon", "CAPACITACION+aduanera+en"} {
		var list ActivityList
		if err := json.Unmarshal(s.call("us-observer", "GET", "/v1/activities?q="+q, nil).body, &list); err != nil || len(list.Activities) != 1 || list.Activities[0].ID != a.ID {
			t.Fatalf("search for %s: %+v, %v", q, list, err)
		}
	}
	// The inbox gives the title in every language and in the reader's.
	for who, title := range map[string]string{"pa-coordinator": "Capacitación aduanera en Colón", "us-coordinator": "Customs training in Colón"} {
		var page struct {
			Notifications []struct {
				Activity string `json:"activity"`
				Kind     string `json:"kind"`
				Content  struct {
					Title     map[string]string `json:"title"`
					TitleText string            `json:"title_text"`
				} `json:"content"`
			} `json:"notifications"`
		}
		if err := json.Unmarshal(s.call(who, "GET", "/v1/inbox?limit=200", nil).body, &page); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, n := range page.Notifications {
			if n.Activity == a.ID && n.Kind == "activated" {
				found = n.Content.TitleText == title && len(n.Content.Title) == 2
			}
		}
		if !found {
			t.Fatalf("%s's inbox has no activation titled %q: %+v", who, title, page.Notifications)
		}
	}
}

// An activity proposed before texts had languages reads with its texts
// keyed by its proposer's language, and the first command to reach it
// moves it to languages, which the audit log records.
func (s *stack) legacyLanguages(t *testing.T) {
	ctx := context.Background()
	frame, err := s.st.DialogueFrame(ctx, "hld-pa-us")
	if err != nil {
		t.Fatal(err)
	}
	req := spanishOnly()
	cmd, err := proposeCommand(req, frame)
	if err != nil {
		t.Fatal(err)
	}
	cmd.ActivityID, cmd.Rules = "act_legacy_texts", 2
	actor := lifecycle.Principal{ID: "pa-coordinator", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}
	in := workflows.Input{Actor: actor, Propose: &cmd, Version: 2}
	if _, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: cmd.ActivityID, TaskQueue: workflows.TaskQueue}, workflows.WorkflowName, in); err != nil {
		t.Fatal(err)
	}
	path := "/v1/activities/" + cmd.ActivityID
	var v ActivityView
	eventually(t, 30*time.Second, "the activity proposed under rules 2 to be recorded", func() bool {
		r := s.call("us-observer", "GET", path, nil)
		if r.status != http.StatusOK {
			return false
		}
		v = r.activity(t)
		return true
	})
	if v.Title["es"] != "Capacitación aduanera en Colón" || !slices.Equal(v.Languages, []string{"en", "es"}) {
		t.Fatalf("an activity without languages reads as %v (%v)", v.Title, v.Languages)
	}
	stored, err := s.st.Activity(ctx, cmd.ActivityID)
	if err != nil || len(stored.Languages) != 0 || !stored.Title.Equal(lifecycle.Plain("Capacitación aduanera en Colón")) {
		t.Fatalf("stored before any command: %v %v, %v", stored.Title, stored.Languages, err)
	}

	amend := englishAdded()
	amend.Version = ptr(1)
	r := s.call("us-coordinator", "PATCH", path, amend)
	want(t, r, 200)
	if v := r.activity(t); v.Version != 2 || v.Title["es"] != "Capacitación aduanera en Colón" || v.Title["en"] != "Customs training in Colón" {
		t.Fatalf("after the English amendment: v%d %v", v.Version, v.Title)
	}
	var audit AuditPage
	if err := json.Unmarshal(s.call("us-observer", "GET", path+"/audit", nil).body, &audit); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range audit.Events {
		types = append(types, e.Type+"/"+e.Actor)
	}
	if !slices.Equal(types, []string{"proposed/pa-coordinator", "languages_assigned/system", "amended/us-coordinator"}) {
		t.Fatalf("audit log: %v", types)
	}
}

// The audit log names the clock and Pacto itself as actors: no principal
// may take those names.
func TestReservedPrincipalIDs(t *testing.T) {
	for _, id := range []string{lifecycle.ClockActor, lifecycle.SystemActor} {
		p := store.Principal{ID: id, Party: "PA", Roles: []string{"observer"}, Name: "Someone", Language: "es"}
		var ae *apiError
		if err := ValidatePrincipal(&p); !errors.As(err, &ae) || ae.field != "id" {
			t.Errorf("a principal named %q: %v; want refused, naming id", id, err)
		}
	}
	ok := store.Principal{ID: "systems-officer", Party: "PA", Roles: []string{"observer"}, Name: "Someone", Language: "es"}
	if err := ValidatePrincipal(&ok); err != nil {
		t.Errorf("an ordinary id: %v", err)
	}
}

// A dialogue's meeting calendar: kept by its coordinators, read by anyone
// of its parties, and the meetings it makes.
func (s *stack) calendar(t *testing.T) {
	path := "/v1/dialogues/hld-pa-us/calendar"
	want(t, s.call("us-observer", "GET", path, nil), 404, "not-found")
	cal := Calendar{First: "2027-03-15T10:00", Every: 6, Zone: "America/Panama", Hosts: []string{"PA", "US"}}
	want(t, s.call("pa-observer", "PUT", path, cal), 403, "forbidden")
	bad := cal
	bad.Zone = "Mars/Olympus"
	want(t, s.call("pa-coordinator", "PUT", path, bad), 422, "invalid-input", "zone")
	bad = cal
	bad.Hosts = []string{"PA", "MX"}
	want(t, s.call("pa-coordinator", "PUT", path, bad), 422, "invalid-input", "hosts[1]")
	bad = cal
	bad.First = "15/03/2027 10:00"
	want(t, s.call("pa-coordinator", "PUT", path, bad), 422, "invalid-input", "first")
	want(t, s.call("pa-coordinator", "PUT", path, cal), 200)
	var got Calendar
	if err := json.Unmarshal(s.call("us-observer", "GET", path, nil).body, &got); err != nil || got.First != cal.First || got.Every != 6 {
		t.Fatalf("calendar read back: %+v, %v", got, err)
	}
	var list MeetingList
	r := s.call("us-observer", "GET", "/v1/dialogues/hld-pa-us/meetings?limit=3", nil)
	want(t, r, 200)
	if err := json.Unmarshal(r.body, &list); err != nil || len(list.Meetings) != 3 {
		t.Fatalf("meetings: %s, %v", r.body, err)
	}
	first := list.Meetings[0]
	if first.Number != 1 || !first.At.Equal(time.Date(2027, 3, 15, 15, 0, 0, 0, time.UTC)) || first.Local != "2027-03-15T10:00" || first.Host != "PA" || list.Meetings[1].Host != "US" {
		t.Fatalf("first meetings: %+v", list.Meetings)
	}
	want(t, s.call("us-observer", "GET", "/v1/dialogues/hld-pa-us/meetings?limit=0", nil), 422, "invalid-input", "limit")

	// The first meeting's report, as of now, in each form.
	report := "/v1/dialogues/hld-pa-us/meetings/1/report"
	r = s.call("pa-observer", "GET", report, nil)
	want(t, r, 200)
	var rep struct {
		Dialogue   string `json:"dialogue"`
		Activities []struct {
			ID string `json:"id"`
		} `json:"activities"`
		ByParty map[string]map[string]int `json:"by_party"`
	}
	if err := json.Unmarshal(r.body, &rep); err != nil || rep.Dialogue != "hld-pa-us" || len(rep.Activities) == 0 {
		t.Fatalf("the report: %v %+v", err, rep)
	}
	for format, want := range map[string]string{"csv": "text/csv", "html": "text/html", "pdf": "application/pdf"} {
		r := s.call("pa-observer", "GET", report+"?format="+format, nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), want) || len(r.body) == 0 {
			t.Fatalf("the report as %s: %d %s", format, r.status, r.header.Get("Content-Type"))
		}
	}
	csv := s.call("pa-observer", "GET", report, nil, opts{headers: []string{"Accept", "text/csv"}})
	if !strings.HasPrefix(string(csv.body), "\ufeff") || !strings.Contains(string(csv.body), "Hito") {
		t.Fatalf("the report by Accept, in Spanish: %q", csv.body[:min(len(csv.body), 200)])
	}
	want(t, s.call("pa-observer", "GET", report+"?format=docx", nil), 422, "invalid-input", "format")
	// Once a meeting's report is frozen, that is the report it serves.
	frozen := []byte(`{"dialogue":"hld-pa-us","dialogue_name":"As frozen","meeting":"2","meeting_at":"2027-09-15T15:00:00Z","as_of":"2027-09-15T15:00:00Z","parties":[],"languages":["en","es"],"activities":[],"by_party":{},"by_term":{},"changes":{"proposed":[],"activated":[],"declined":[],"cancelled":[],"completed":[]}}`)
	sum := sha256.Sum256(frozen)
	if err := s.st.PutMeetingReport(context.Background(), store.MeetingReport{Dialogue: "hld-pa-us", Meeting: 2, Kind: store.ReportFrozen,
		JSON: frozen, SHA256: hex.EncodeToString(sum[:])}); err != nil {
		t.Fatal(err)
	}
	r = s.call("pa-observer", "GET", "/v1/dialogues/hld-pa-us/meetings/2/report", nil)
	want(t, r, 200)
	if !strings.Contains(string(r.body), `"dialogue_name": "As frozen"`) {
		t.Fatalf("meeting 2's report is not the frozen one: %s", r.body[:min(len(r.body), 300)])
	}
	want(t, s.call("pa-observer", "GET", "/v1/dialogues/hld-pa-us/meetings/999/report", nil), 404, "not-found")
	// Another dialogue's people do not see it.
	want(t, s.call("mx-observer", "GET", path, nil), 404, "not-found")

	// The meetings' reviews follow the calendar: a schedule starts each
	// meeting's Review run 30 days ahead of it, and moving a meeting moves
	// its run.
	nextDraft := func() (time.Time, workflows.ReviewInput) {
		t.Helper()
		ctx := context.Background()
		d, err := s.tc.ScheduleClient().GetHandle(ctx, workflows.ReviewScheduleID("hld-pa-us")).Describe(ctx)
		if err != nil {
			t.Fatalf("the meetings schedule: %v", err)
		}
		var in workflows.ReviewInput
		a, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
		if !ok || a.Workflow != workflows.ReviewWorkflowName || len(a.Args) != 1 || len(d.Info.NextActionTimes) == 0 {
			t.Fatalf("the meetings schedule's action: %+v, next %v", d.Schedule.Action, d.Info.NextActionTimes)
		}
		if err := converter.GetDefaultDataConverter().FromPayload(a.Args[0].(*commonpb.Payload), &in); err != nil {
			t.Fatal(err)
		}
		return d.Info.NextActionTimes[0], in
	}
	at, in := nextDraft()
	if !at.Equal(time.Date(2027, 2, 13, 15, 0, 0, 0, time.UTC)) || in.Dialogue != "hld-pa-us" || in.Version != workflows.ReviewVersion ||
		len(in.Meetings) == 0 || !in.Meetings[0].At.Equal(time.Date(2027, 3, 15, 15, 0, 0, 0, time.UTC)) {
		t.Fatalf("the first review starts at %s with %+v; want 2027-02-13 15:00 UTC for meeting 1", at, in)
	}
	moved := cal
	moved.Moved = map[string]string{"1": "2027-03-20T10:00"}
	want(t, s.call("pa-coordinator", "PUT", path, moved), 200)
	if at, _ := nextDraft(); !at.Equal(time.Date(2027, 2, 18, 15, 0, 0, 0, time.UTC)) {
		t.Fatalf("after moving meeting 1 its review starts at %s; want 2027-02-18 15:00 UTC", at)
	}
	// A paused calendar pauses the schedule, with who paused it; setting it
	// again without pausing resumes it.
	paused := func() (bool, string) {
		t.Helper()
		ctx := context.Background()
		d, err := s.tc.ScheduleClient().GetHandle(ctx, workflows.ReviewScheduleID("hld-pa-us")).Describe(ctx)
		if err != nil {
			t.Fatalf("the meetings schedule: %v", err)
		}
		return d.Schedule.State.Paused, d.Schedule.State.Note
	}
	pause := cal
	pause.Paused = true
	want(t, s.call("pa-coordinator", "PUT", path, pause), 200)
	if on, note := paused(); !on || note != "paused by pa-coordinator" {
		t.Fatalf("after pausing the calendar the schedule is paused %v (%q)", on, note)
	}
	want(t, s.call("pa-coordinator", "PUT", path, cal), 200)
	if on, _ := paused(); on {
		t.Fatal("the schedule stayed paused after the calendar was set without pausing")
	}
}
