package api

import (
	"context"
	"encoding/json"
	"net/http"
	"pacto/internal/lifecycle"
	"strings"
	"testing"
	"time"

	"pacto/internal/store"
)

// unstorableText covers text PostgreSQL or the exports cannot carry: the
// API refuses it with 422 naming the field, in commands and admin writes,
// so nothing is accepted that cannot be recorded.
func (s *stack) unstorableText(t *testing.T) {
	p := proposal()
	p.Title = lifecycle.Plain("Capacitación\u0000aduanera")
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", p), 422, "invalid-input", "title")
	p = proposal()
	p.Milestones[0].Title = lifecycle.Plain("bell\u0007")
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", p), 422, "invalid-input", "milestones[0].title")
	// JSON can only carry invalid UTF-8 as raw bytes, which the decoder
	// replaces; a raw NUL escape in any field is caught at the edge.
	raw := []byte(`{"dialogue":"hld-pa-us","parties":["PA","US"],"title":"ok","summary":"a\u0000b","milestones":[{"title":"m","owner":"PA","due":"P1M"}]}`)
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", raw), 422, "invalid-input", "summary")

	a := s.propose(proposal())
	want(t, s.call("us-approver", "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 1, Decision: "approve", Comment: "fine\u0000"}), 422, "invalid-input", "comment")
	title := "new\u001btitle"
	want(t, s.call("pa-coordinator", "PATCH", "/v1/activities/"+a.ID, AmendRequest{Title: lifecycle.Plain(title)}, opts{headers: []string{"If-Match", `"1"`}}), 422, "invalid-input", "title")
	want(t, s.call("us-approver", "POST", "/v1/activities/"+a.ID+"/cancel", ReasonRequest{Reason: "\u0000"}), 422, "invalid-input", "reason")
	// A meeting's statements and minutes are checked at the same edge.
	meeting := "/v1/dialogues/hld-pa-us/meetings/1"
	want(t, s.call("pa-coordinator", "POST", meeting+"/statements", StatementRequest{Activity: a.ID, Body: "avance\u0000"}), 422, "invalid-input", "body")
	minutes := []byte(`{"decisions":[{"es":"Acordado\u0000"}],"follow_ups":[],"new_activities":[]}`)
	want(t, s.call("pa-coordinator", "PUT", meeting+"/minutes", minutes), 422, "invalid-input")

	want(t, s.call("admin", "POST", "/v1/admin/parties", store.Party{Code: "NU", Name: "Nul\u0000land", TimeZone: "America/Panama", Language: "es"}), 422, "invalid-input", "name")
	want(t, s.call("admin", "POST", "/v1/admin/principals", store.Principal{ID: "nul-user", Party: "PA", Roles: []string{"observer"}, Name: "N\u0000", Language: "es"}), 422, "invalid-input", "name")
	want(t, s.call("admin", "POST", "/v1/admin/tokens", TokenRequest{Principal: "pa-observer", Name: "laptop\u0000"}), 422, "invalid-input", "name")

	// Nothing of the refused requests reached the read model.
	v := s.call("us-observer", "GET", "/v1/activities/"+a.ID, nil).activity(t)
	if v.Version != 1 || v.Status != "proposed" || v.ReadModel != nil {
		t.Fatalf("after refused commands: version %d status %s read model %+v", v.Version, v.Status, v.ReadModel)
	}
}

// refusedRecord makes PostgreSQL refuse one change for good (a check
// constraint stands in for any data the database will not take): the
// activity says its read model is behind, admins see it listed and
// counted, further commands are refused with 503 and Retry-After, and once
// the cause is gone an admin's retry records it and the activity goes on.
func (s *stack) refusedRecord(t *testing.T) {
	ctx := context.Background()
	const poisoned = "A title the database refuses"
	if _, err := s.st.Pool().Exec(ctx, `ALTER TABLE activities ADD CONSTRAINT refuse_for_test CHECK (title <> '`+poisoned+`') NOT VALID`); err != nil {
		t.Fatal(err)
	}
	dropped := false
	drop := func() {
		if !dropped {
			dropped = true
			if _, err := s.st.Pool().Exec(ctx, `ALTER TABLE activities DROP CONSTRAINT refuse_for_test`); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer drop()

	a := s.propose(proposal())
	want(t, s.call("pa-approver", "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 200)
	title := poisoned
	r := s.call("pa-coordinator", "PATCH", "/v1/activities/"+a.ID, AmendRequest{Title: lifecycle.Plain(title)}, opts{headers: []string{"If-Match", `"1"`}})
	want(t, r, 200)
	amended := r.activity(t)
	if amended.Version != 2 || amended.TitleText != poisoned || amended.ReadModel == nil || !amended.ReadModel.Behind || amended.ReadModel.RecordedSeq != 2 {
		t.Fatalf("the refused amendment answered version %d title %q read model %+v; want the workflow's version 2, behind at seq 2", amended.Version, amended.TitleText, amended.ReadModel)
	}
	got := s.call("us-observer", "GET", "/v1/activities/"+a.ID, nil).activity(t)
	if got.ReadModel == nil || !got.ReadModel.Behind || got.ReadModel.RecordedSeq != 2 || got.ReadModel.Since.IsZero() || !strings.Contains(got.ReadModel.Detail, "change 3") {
		t.Fatalf("GET does not say the read model is behind at seq 2 since the refusal of change 3: %+v", got.ReadModel)
	}

	list := s.call("admin", "GET", "/v1/admin/record-failures", nil)
	want(t, list, 200)
	var fl RecordFailureList
	if err := json.Unmarshal(list.body, &fl); err != nil {
		t.Fatal(err)
	}
	if len(fl.RecordFailures) != 1 || fl.RecordFailures[0].ActivityID != a.ID || fl.RecordFailures[0].Seq != 3 ||
		fl.RecordFailures[0].RecordedSeq != 2 || fl.RecordFailures[0].SQLState != "23514" {
		t.Fatalf("record failures %+v; want %s refused at seq 3 (check violation), read model at 2", fl.RecordFailures, a.ID)
	}
	want(t, s.call("us-approver", "GET", "/v1/admin/record-failures", nil), 403, "forbidden")
	if m := s.call("", "GET", "/metrics", nil); !strings.Contains(string(m.body), "pacto_read_model_behind_activities 1\n") {
		t.Fatal("the metrics do not count the activity behind")
	}

	blocked := s.call("us-approver", "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 2, Decision: "approve"})
	want(t, blocked, 503, "unavailable")
	if blocked.header.Get("Retry-After") == "" || !strings.Contains(blocked.problem(t).Detail, "could not be recorded") {
		t.Fatalf("blocked command: Retry-After %q detail %q", blocked.header.Get("Retry-After"), blocked.problem(t).Detail)
	}

	drop()
	want(t, s.call("admin", "POST", "/v1/admin/record-failures/"+a.ID+"/retry", nil), 202)
	deadline := time.Now().Add(20 * time.Second)
	for {
		v := s.call("us-observer", "GET", "/v1/activities/"+a.ID, nil).activity(t)
		if v.Version == 2 && v.ReadModel == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the retry the read model holds version %d, behind %+v", v.Version, v.ReadModel)
		}
		time.Sleep(100 * time.Millisecond)
	}
	want(t, s.call("admin", "POST", "/v1/admin/record-failures/"+a.ID+"/retry", nil), 404, "not-found")
	if m := s.call("", "GET", "/metrics", nil); !strings.Contains(string(m.body), "pacto_read_model_behind_activities 0\n") {
		t.Fatal("the metrics still count the activity behind")
	}
	for _, who := range []string{"pa-approver", "us-approver"} {
		want(t, s.call(who, "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 2, Decision: "approve"}), http.StatusOK)
	}
	if v := s.call("us-observer", "GET", "/v1/activities/"+a.ID, nil).activity(t); v.Status != "active" {
		t.Fatalf("after the retry and both approvals: %s", v.Status)
	}
}

// oversized sends an amendment whose body is within the 1 MiB limit but
// whose encoding as a Temporal payload (JSON writes '<' as six bytes)
// would be far over Temporal's 2 MB limit: it is refused with 422 before
// it reaches Temporal, not answered 500.
func (s *stack) oversized(t *testing.T) {
	a := s.propose(proposal())
	body := []byte(`{"summary":"` + strings.Repeat("<", 900_000) + `"}`)
	r := s.call("pa-coordinator", "PATCH", "/v1/activities/"+a.ID, body, opts{headers: []string{"If-Match", `"1"`}})
	want(t, r, 422, "invalid-input")
	if !strings.Contains(r.problem(t).Detail, "KiB") {
		t.Fatalf("detail %q does not say how large", r.problem(t).Detail)
	}
}
