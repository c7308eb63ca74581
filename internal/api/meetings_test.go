package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/review"
	"pacto/internal/store"
	"pacto/workflows"
)

// decodeInto decodes a 2xx reply's body into v.
func decodeInto[T any](t *testing.T, r reply) T {
	t.Helper()
	var v T
	if r.status >= 300 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %T: %v in %s", v, err, r.body)
	}
	return v
}

// A meeting's own routes before any review of it has begun: its detail,
// the report by suffix with a link to the previous meeting's, moving,
// cancelling and adding meetings, and the refusals of statements and
// minutes, which wait for the meeting's review.
func (s *stack) meetings(t *testing.T) {
	base := "/v1/dialogues/hld-pa-us/meetings/"
	cal := decodeInto[Calendar](t, s.call("us-observer", "GET", "/v1/dialogues/hld-pa-us/calendar", nil))

	m := decodeInto[MeetingDetail](t, s.call("us-observer", "GET", base+"2", nil))
	at := time.Date(2027, 9, 15, 15, 0, 0, 0, time.UTC)
	if m.Number != 2 || m.Dialogue != "hld-pa-us" || m.Phase != "scheduled" || m.Previous != 1 || !m.At.Equal(at) || m.Local != "2027-09-15T10:00" ||
		m.Host != "US" || !m.DraftAt.Equal(at.Add(-30*24*time.Hour)) || !m.StatementsDue.Equal(at.Add(-7*24*time.Hour)) || len(m.Agenda) != 0 || m.ReportSHA256 != "" {
		t.Fatalf("meeting 2 before its review: %+v", m)
	}
	want(t, s.call("us-observer", "GET", base+"999", nil), 404, "not-found")
	want(t, s.call("mx-observer", "GET", base+"2", nil), 404, "not-found")

	// The report in the form its path names, whatever Accept says, with a
	// link to the previous meeting's in the same form.
	for format, ct := range map[string]string{"json": "application/json", "csv": "text/csv", "html": "text/html", "pdf": "application/pdf"} {
		r := s.call("pa-observer", "GET", base+"2/report."+format, nil, opts{headers: []string{"Accept", "text/csv"}})
		want(t, r, 200)
		if !strings.HasPrefix(r.header.Get("Content-Type"), ct) || len(r.body) == 0 {
			t.Fatalf("report.%s: %s", format, r.header.Get("Content-Type"))
		}
		if got := r.header.Get("Link"); got != `</v1/dialogues/hld-pa-us/meetings/1/report.`+format+`>; rel="prev"` {
			t.Fatalf("report.%s links %q", format, got)
		}
	}
	want(t, s.call("pa-observer", "GET", base+"2/report.docx", nil), 404, "not-found")
	for path, allow := range map[string]string{base + "2/report.pdf": "GET, HEAD", base + "2": "GET, HEAD, PATCH, DELETE", base + "2/minutes": "GET, HEAD, PUT"} {
		r := s.call("pa-coordinator", "POST", path, nil)
		want(t, r, 405, "method-not-allowed")
		if got := r.header.Get("Allow"); got != allow {
			t.Fatalf("405 on %s allows %q, want %q", path, got, allow)
		}
	}
	for path, link := range map[string]string{
		base + "2/report?format=csv": `</v1/dialogues/hld-pa-us/meetings/1/report?format=csv>; rel="prev"`,
		base + "2/report":            `</v1/dialogues/hld-pa-us/meetings/1/report>; rel="prev"`,
		base + "1/report.json":       "",
		base + "1/report":            "",
	} {
		r := s.call("pa-observer", "GET", path, nil)
		want(t, r, 200)
		if got := r.header.Get("Link"); got != link {
			t.Fatalf("%s links %q, want %q", path, got, link)
		}
	}
	// Meeting 2's report was frozen (see calendar): an admin reads the
	// very bytes kept.
	kept, err := s.st.MeetingReport(context.Background(), "hld-pa-us", 2, store.ReportFrozen)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.call("admin", "GET", base+"2/report.json", nil); !bytes.Equal(r.body, kept.JSON) {
		t.Fatalf("an admin's frozen report is not the bytes kept:\n%s\nwant\n%s", r.body, kept.JSON)
	}

	// Moving: coordinators, to a time ahead that no other meeting has.
	want(t, s.call("pa-observer", "PATCH", base+"1", MeetingMove{Local: "2027-03-16T10:00"}), 403, "forbidden")
	want(t, s.call("pa-coordinator", "PATCH", base+"1", MeetingMove{Local: "2020-03-16T10:00"}), 422, "invalid-input", "local")
	want(t, s.call("pa-coordinator", "PATCH", base+"1", MeetingMove{Local: "16/03/2027 10:00"}), 422, "invalid-input", "local")
	want(t, s.call("pa-coordinator", "PATCH", base+"1", MeetingMove{Local: "2027-09-15T10:00"}), 409, "conflict")
	want(t, s.call("pa-coordinator", "PATCH", base+"999", MeetingMove{Local: "2027-03-16T10:00"}), 404, "not-found")
	moved := decodeInto[Calendar](t, s.call("us-coordinator", "PATCH", base+"1", MeetingMove{Local: "2027-03-16T09:30"}))
	if moved.Moved["1"] != "2027-03-16T09:30" || moved.First != cal.First {
		t.Fatalf("calendar after the move: %+v", moved)
	}
	if m := decodeInto[MeetingDetail](t, s.call("pa-observer", "GET", base+"1", nil)); m.Local != "2027-03-16T09:30" || !m.At.Equal(time.Date(2027, 3, 16, 14, 30, 0, 0, time.UTC)) {
		t.Fatalf("meeting 1 after the move: %s %s", m.Local, m.At)
	}

	// Cancelling: the others keep their numbers.
	want(t, s.call("us-observer", "DELETE", base+"3", nil), 403, "forbidden")
	if c := decodeInto[Calendar](t, s.call("pa-coordinator", "DELETE", base+"3", nil)); !slices.Contains(c.Cancelled, 3) {
		t.Fatalf("calendar after cancelling meeting 3: %+v", c)
	}
	want(t, s.call("pa-observer", "GET", base+"3", nil), 404, "not-found")
	want(t, s.call("pa-coordinator", "DELETE", base+"3", nil), 404, "not-found")
	if m := decodeInto[MeetingDetail](t, s.call("pa-observer", "GET", base+"4", nil)); m.Previous != 2 {
		t.Fatalf("meeting 4 follows %d, want 2", m.Previous)
	}

	// Statements and minutes wait for the meeting's review.
	l := decodeInto[StatementList](t, s.call("us-observer", "GET", base+"1/statements", nil))
	if len(l.Statements) != 0 || !l.StatementsDue.Equal(time.Date(2027, 3, 9, 14, 30, 0, 0, time.UTC)) {
		t.Fatalf("statements before the draft: %+v", l)
	}
	a := s.propose(proposal())
	st := StatementRequest{Activity: a.ID, Body: "Avanza según lo previsto."}
	want(t, s.call("pa-observer", "POST", base+"1/statements", st), 403, "forbidden")
	want(t, s.call("pa-coordinator", "POST", base+"1/statements", st), 409, "invalid-transition")
	want(t, s.call("pa-coordinator", "POST", base+"1/statements", []byte(`{"activity":"x","text":"y"}`)), 400, "malformed-request", "text")
	want(t, s.call("pa-observer", "GET", base+"1/minutes", nil), 404, "not-found")
	minutes := lifecycle.MinutesContent{Decisions: []lifecycle.Text{lifecycle.Plain("Seguir con la capacitación")}}
	want(t, s.call("pa-observer", "PUT", base+"1/minutes", minutes), 403, "forbidden")
	want(t, s.call("pa-coordinator", "PUT", base+"1/minutes", minutes), 409, "invalid-transition")
	bad := lifecycle.MinutesContent{NewActivities: []lifecycle.AgreedActivity{{Title: lifecycle.Plain("Sin hitos"), Proposal: json.RawMessage(`{"parties":["PA","US"],"title":"Sin hitos"}`)}}}
	want(t, s.call("pa-coordinator", "PUT", base+"1/minutes", bad), 422, "invalid-input", "new_activities[0].proposal.milestones")
	bad.NewActivities[0].Proposal, bad.NewActivities[0].Activity = agreedProposalJSON(t), "act_mine"
	want(t, s.call("pa-coordinator", "PUT", base+"1/minutes", bad), 422, "invalid-input", "new_activities[0].activity")
	want(t, s.call("pa-coordinator", "POST", base+"1/minutes/signatures", SignRequest{Version: 1}), 403, "forbidden")
	want(t, s.call("pa-approver", "POST", base+"1/minutes/signatures", SignRequest{Version: 0}), 422, "invalid-input", "version")
	want(t, s.call("pa-approver", "POST", base+"1/minutes/signatures", SignRequest{Version: 1}), 409, "invalid-transition")

	// Adding: to a calendar of dates, under the next number, whatever
	// its date.
	want(t, s.call("pa-coordinator", "POST", "/v1/dialogues/hld-pa-us/meetings", MeetingMove{Local: "2030-01-10T10:00"}), 409, "invalid-transition")
	mx := "/v1/dialogues/hld-mx-co/"
	want(t, s.call("mx-coordinator", "PUT", mx+"calendar", Calendar{Dates: []string{"2031-01-10T10:00"}, Zone: "America/Bogota", Hosts: []string{"MX", "CO"}}), 200)
	added := s.call("co-coordinator", "POST", mx+"meetings", MeetingMove{Local: "2030-06-01T09:00"})
	want(t, added, 201)
	if c := decodeInto[Calendar](t, added); added.header.Get("Location") != mx+"meetings/2" || !slices.Equal(c.Dates, []string{"2031-01-10T10:00", "2030-06-01T09:00"}) {
		t.Fatalf("added meeting at %q: %+v", added.header.Get("Location"), c)
	}
	list := decodeInto[MeetingList](t, s.call("mx-observer", "GET", mx+"meetings", nil))
	if len(list.Meetings) != 2 || list.Meetings[0].Number != 2 || list.Meetings[0].Local != "2030-06-01T09:00" || list.Meetings[0].Host != "CO" {
		t.Fatalf("meetings after adding one: %+v", list.Meetings)
	}
	if m := decodeInto[MeetingDetail](t, s.call("mx-observer", "GET", mx+"meetings/1", nil)); m.Previous != 2 {
		t.Fatalf("meeting 1 follows %d, want the added meeting 2", m.Previous)
	}
	want(t, s.call("mx-coordinator", "POST", mx+"meetings", MeetingMove{Local: "2030-06-01T09:00"}), 409, "conflict")
	want(t, s.call("mx-coordinator", "POST", mx+"meetings", MeetingMove{Local: "2001-06-01T09:00"}), 422, "invalid-input", "local")
	want(t, s.call("mx-observer", "POST", mx+"meetings", MeetingMove{Local: "2030-07-01T09:00"}), 403, "forbidden")
	want(t, s.call("pa-coordinator", "POST", mx+"meetings", MeetingMove{Local: "2030-07-01T09:00"}), 404, "not-found")

	want(t, s.call("pa-coordinator", "PUT", "/v1/dialogues/hld-pa-us/calendar", cal), 200)
}

// agreedProposalJSON is an activity agreed in principle, as minutes carry
// it: a proposal without its dialogue.
func agreedProposalJSON(t *testing.T) json.RawMessage {
	t.Helper()
	p := proposal()
	p.Title = both("Port officials training", "Capacitación de funcionarios portuarios")
	p.Milestones[0].Owner = "US"
	var m map[string]any
	if err := json.Unmarshal(jsonOf(t, p), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "dialogue")
	return jsonOf(t, m)
}

// One meeting's whole cycle through the API, live on the in-process
// Temporal server and PostgreSQL: the draft and agenda, statements made
// and refused, the report before and after it is frozen, minutes
// recorded, changed, co-signed and adopted, and the activity they agreed
// proposed. Beside it, a meeting whose draft is out is moved and another
// cancelled, and their runs follow.
//
// The calendar takes whole minutes and offsets of a minute at least, so
// the meeting is the first whole minute at least 90 seconds ahead and
// statements close a minute before it: a real-time run of two minutes or
// so, which runs beside the other tests.
func TestMeetingCycle(t *testing.T) {
	t.Parallel()
	s := newStack(t)
	ctx := context.Background()
	a := s.activate() // PA owns its milestone

	loc, err := lifecycle.LoadZone("America/Panama")
	if err != nil {
		t.Fatal(err)
	}
	earliest := time.Now().Add(90 * time.Second)
	at := earliest.Truncate(time.Minute)
	if at.Before(earliest) {
		at = at.Add(time.Minute)
	}
	local := func(t time.Time) string { return t.In(loc).Format(localTimeLayout) }
	at2, at3 := at.Add(2*time.Hour), at.Add(4*time.Hour)
	// Every draft is a day ahead of its meeting, so all three are out at
	// once; reminders every week never come before statements close.
	cal := Calendar{Dates: []string{local(at), local(at2), local(at3)}, Zone: "America/Panama", Hosts: []string{"PA", "US"},
		DraftBefore: "P1D", StatementsBefore: "PT1M"}
	want(t, s.call("pa-coordinator", "PUT", "/v1/dialogues/hld-pa-us/calendar", cal), 200)
	base := "/v1/dialogues/hld-pa-us/meetings/"
	detail := func(who, n string) MeetingDetail {
		t.Helper()
		return decodeInto[MeetingDetail](t, s.call(who, "GET", base+n, nil))
	}
	for _, n := range []string{"1", "2", "3"} {
		eventually(t, 30*time.Second, "the draft of meeting "+n, func() bool { return detail("pa-observer", n).Phase == store.MeetingDraft })
	}

	// The draft: its agenda, and the statement PA owes.
	m := detail("pa-coordinator", "1")
	if !m.At.Equal(at) || !m.StatementsDue.Equal(at.Add(-time.Minute)) || !m.DraftAt.Equal(at.Add(-24*time.Hour)) ||
		!slices.ContainsFunc(m.Agenda, func(i AgendaView) bool { return i.Activity == a.ID && i.TitleText == "Capacitación aduanera conjunta" }) ||
		!slices.Contains(m.Owed, a.ID) || !slices.Contains(m.Missing, review.MissingStatement{Activity: a.ID, Party: "PA"}) || len(m.Statements) != 0 {
		t.Fatalf("meeting 1 drafted: %+v", m)
	}
	if m := detail("us-coordinator", "1"); len(m.Owed) != 0 {
		t.Fatalf("US owes statements on %v, though it owns no milestone", m.Owed)
	}

	// Statements: PA's coordinator makes one; others are refused.
	path := base + "1/statements"
	body := "La primera cohorte se forma en marzo."
	made := s.call("pa-coordinator", "POST", path, StatementRequest{Activity: a.ID, Body: body})
	want(t, made, 201)
	if st := decodeInto[store.MeetingStatement](t, made); st.ID == "" || st.Party != "PA" || st.Author != "pa-coordinator" || st.Body != body {
		t.Fatalf("statement made: %+v", st)
	}
	want(t, s.call("pa-observer", "POST", path, StatementRequest{Activity: a.ID, Body: "x"}), 403, "forbidden")
	want(t, s.call("us-coordinator", "POST", path, StatementRequest{Activity: a.ID, Body: "x"}), 422, "invalid-input", "activity")
	want(t, s.call("pa-coordinator", "POST", path, StatementRequest{Activity: a.ID, Body: "  "}), 422, "invalid-input", "body")
	want(t, s.call("mx-coordinator", "POST", path, StatementRequest{Activity: a.ID, Body: "x"}), 404, "not-found")
	// Read at once, by anyone of the parties.
	l := decodeInto[StatementList](t, s.call("us-observer", "GET", path, nil))
	if len(l.Statements) != 1 || l.Statements[0].Body != body || l.Statements[0].Party != "PA" || len(l.Missing) != 0 {
		t.Fatalf("statements after PA's: %+v", l)
	}
	// The report before the freeze is the draft with the statements so far.
	rep := decodeInto[review.Report](t, s.call("us-observer", "GET", base+"1/report", nil))
	if len(rep.Statements) != 1 || rep.Statements[0].Body != body || !rep.MeetingAt.Equal(at) {
		t.Fatalf("the draft report lacks PA's statement: %+v", rep.Statements)
	}
	want(t, s.call("pa-coordinator", "PUT", base+"1/minutes", lifecycle.MinutesContent{Decisions: []lifecycle.Text{lifecycle.Plain("Antes de tiempo")}}), 409, "invalid-transition")

	// Meeting 2, drafted, moves: the run follows, its statements closing
	// a minute before the new time.
	moved := at2.Add(90 * time.Minute)
	want(t, s.call("us-coordinator", "PATCH", base+"2", MeetingMove{Local: local(moved)}), 200)
	if m := detail("pa-observer", "2"); !m.At.Equal(moved) || m.Local != local(moved) || m.Phase != store.MeetingDraft || !m.StatementsDue.Equal(moved.Add(-time.Minute)) {
		t.Fatalf("meeting 2 after the move: %+v", m)
	}
	run2, err := s.st.Meeting(ctx, "hld-pa-us", 2)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "meeting 2's run to follow the move", func() bool {
		v, err := s.tc.QueryWorkflow(ctx, run2.WorkflowID, "", workflows.QueryReviewState)
		var rs workflows.ReviewState
		if err != nil || v.Get(&rs) != nil {
			return false
		}
		row, err := s.st.Meeting(ctx, "hld-pa-us", 2)
		return err == nil && row.At.Equal(moved) && rs.MeetingAt.Equal(moved) && rs.StatementsDue.Equal(moved.Add(-time.Minute))
	})
	// Meeting 3, drafted, is cancelled: its run ends so.
	run3, err := s.st.Meeting(ctx, "hld-pa-us", 3)
	if err != nil {
		t.Fatal(err)
	}
	want(t, s.call("pa-coordinator", "DELETE", base+"3", nil), 200)
	if m := detail("us-observer", "3"); m.Phase != store.MeetingCancelled || !m.At.Equal(at3) {
		t.Fatalf("meeting 3 after cancelling it: %+v", m)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var ended workflows.ReviewState
	if err := s.tc.GetWorkflow(wctx, run3.WorkflowID, "").Get(wctx, &ended); err != nil || ended.Phase != workflows.PhaseCancelled {
		t.Fatalf("meeting 3's run ended in phase %q: %v", ended.Phase, err)
	}
	if row, err := s.st.Meeting(ctx, "hld-pa-us", 3); err != nil || row.Phase != store.MeetingCancelled {
		t.Fatalf("meeting 3's record after its run ended: %+v %v", row, err)
	}
	want(t, s.call("pa-coordinator", "PATCH", base+"3", MeetingMove{Local: local(at3)}), 409, "invalid-transition")
	want(t, s.call("pa-coordinator", "POST", base+"3/statements", StatementRequest{Activity: a.ID, Body: "x"}), 409, "invalid-transition")

	// Statements close a minute before the meeting.
	time.Sleep(time.Until(at.Add(-time.Minute + time.Second)))
	want(t, s.call("pa-coordinator", "POST", path, StatementRequest{Activity: a.ID, Body: "Tarde."}), 409, "invalid-transition")

	// At the meeting the report is frozen, statement and all, and served
	// as frozen: an admin reads the bytes whose digest the meeting shows.
	time.Sleep(time.Until(at))
	eventually(t, 60*time.Second, "meeting 1's report to be frozen", func() bool { return detail("pa-observer", "1").Phase == store.MeetingFrozen })
	m = detail("pa-observer", "1")
	kept, err := s.st.MeetingReport(ctx, "hld-pa-us", 1, store.ReportFrozen)
	if err != nil {
		t.Fatal(err)
	}
	if m.ReportSHA256 == "" || m.ReportSHA256 != kept.SHA256 || len(m.Statements) != 1 {
		t.Fatalf("meeting 1 frozen: digest %q (kept %q), statements %+v", m.ReportSHA256, kept.SHA256, m.Statements)
	}
	whole := s.call("admin", "GET", base+"1/report.json", nil)
	want(t, whole, 200)
	if sum := sha256.Sum256(whole.body); hex.EncodeToString(sum[:]) != m.ReportSHA256 || !bytes.Equal(whole.body, kept.JSON) {
		t.Fatal("an admin's frozen report is not the bytes whose digest the meeting shows")
	}
	var frozen review.Report
	if err := json.Unmarshal(kept.JSON, &frozen); err != nil {
		t.Fatal(err)
	}
	rep = decodeInto[review.Report](t, s.call("pa-observer", "GET", base+"1/report", nil))
	if !rep.AsOf.Equal(frozen.AsOf) || !rep.MeetingAt.Equal(at) || len(rep.Statements) != 1 || rep.Statements[0].Body != body ||
		!slices.EqualFunc(rep.Activities, frozen.Activities, func(x, y review.ActivityReport) bool { return x.ID == y.ID && x.Status == y.Status }) ||
		rep.ByParty["PA"] != frozen.ByParty["PA"] {
		t.Fatalf("PA's frozen report differs from the one kept:\n%+v\nkept\n%+v", rep, frozen)
	}

	// The minutes: recorded, signed, changed (signatures reset), signed
	// again by both, adopted, and then final.
	minutes := base + "1/minutes"
	content := lifecycle.MinutesContent{
		Decisions: []lifecycle.Text{lifecycle.Plain("Seguir con la capacitación aduanera")},
		FollowUps: []lifecycle.FollowUp{{Text: both("Share the attendance lists", "Compartir las listas de asistencia"), Owner: "US", Due: "2027-06-30"}},
		NewActivities: []lifecycle.AgreedActivity{{Title: both("Port officials training", "Capacitación de funcionarios portuarios"),
			Proposal: agreedProposalJSON(t)}},
	}
	want(t, s.call("us-observer", "PUT", minutes, content), 403, "forbidden")
	v1 := decodeInto[lifecycle.Minutes](t, s.call("pa-coordinator", "PUT", minutes, content))
	if v1.Version != 1 || v1.RecordedBy != "pa-coordinator" || v1.Decisions[0]["es"] != "Seguir con la capacitación aduanera" || len(v1.Signatures) != 0 {
		t.Fatalf("minutes v1: %+v", v1)
	}
	if got := decodeInto[lifecycle.Minutes](t, s.call("us-observer", "GET", minutes, nil)); got.Version != 1 || len(got.FollowUps) != 1 {
		t.Fatalf("minutes read after recording: %+v", got)
	}
	if m := detail("us-observer", "1"); m.Minutes == nil || m.Minutes.Version != 1 || !slices.Equal(m.Unsigned, []string{"PA", "US"}) {
		t.Fatalf("meeting 1 with minutes v1: %+v", m)
	}
	want(t, s.call("pa-coordinator", "POST", minutes+"/signatures", SignRequest{Version: 1}), 403, "forbidden")
	signed := decodeInto[lifecycle.Minutes](t, s.call("pa-approver", "POST", minutes+"/signatures", SignRequest{Version: 1}))
	if len(signed.Signatures) != 1 || signed.Signatures[0].Party != "PA" || signed.Adopted() {
		t.Fatalf("minutes signed by PA: %+v", signed)
	}
	want(t, s.call("pa-approver", "POST", minutes+"/signatures", SignRequest{Version: 1}), 409, "invalid-transition")
	content.Decisions = append(content.Decisions, lifecycle.Plain("Review the customs risk profiles"))
	v2 := decodeInto[lifecycle.Minutes](t, s.call("us-coordinator", "PUT", minutes, content))
	if v2.Version != 2 || len(v2.Signatures) != 0 || v2.Decisions[1]["en"] != "Review the customs risk profiles" || v2.RecordedBy != "us-coordinator" {
		t.Fatalf("minutes v2: %+v", v2)
	}
	want(t, s.call("pa-approver", "POST", minutes+"/signatures", SignRequest{Version: 1}), 409, "stale-version")
	want(t, s.call("pa-approver", "POST", minutes+"/signatures", SignRequest{Version: 2}), 200)
	if m := detail("pa-observer", "1"); !slices.Equal(m.Unsigned, []string{"US"}) {
		t.Fatalf("unsigned after PA signed v2: %v", m.Unsigned)
	}
	adopted := decodeInto[lifecycle.Minutes](t, s.call("us-approver", "POST", minutes+"/signatures", SignRequest{Version: 2}))
	if !adopted.Adopted() || len(adopted.Signatures) != 2 {
		t.Fatalf("minutes signed by both: %+v", adopted)
	}
	want(t, s.call("pa-coordinator", "PUT", minutes, content), 409, "invalid-transition")

	// The activity agreed in principle is proposed, in the name of the
	// coordinator who recorded the adopted version.
	var agreed ActivityView
	eventually(t, 30*time.Second, "the agreed activity's proposal", func() bool {
		l := decodeInto[ActivityList](t, s.call("pa-observer", "GET", "/v1/activities?dialogue=hld-pa-us&status=proposed", nil))
		i := slices.IndexFunc(l.Activities, func(v ActivityView) bool { return v.Title["en"] == "Port officials training" })
		if i >= 0 {
			agreed = l.Activities[i]
		}
		return i >= 0
	})
	if agreed.Status != "proposed" || agreed.Proposer != "us-coordinator" {
		t.Fatalf("the agreed activity: %+v", agreed)
	}
	eventually(t, 30*time.Second, "meeting 1 to close", func() bool { return detail("us-observer", "1").Phase == store.MeetingClosed })
	want(t, s.call("pa-coordinator", "PUT", minutes, content), 409, "invalid-transition")
	want(t, s.call("us-approver", "POST", minutes+"/signatures", SignRequest{Version: 2}), 409, "invalid-transition")
	if got := decodeInto[lifecycle.Minutes](t, s.call("pa-observer", "GET", minutes, nil)); !got.Adopted() || got.Version != 2 {
		t.Fatalf("the adopted minutes: %+v", got)
	}
}
