package api

import (
	"bytes"
	"context"
	"encoding/json"
	enumspb "go.temporal.io/api/enums/v1"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"pacto/internal/lifecycle"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"

	"pacto/internal/app"
	"pacto/internal/pgtest"
	"pacto/internal/store"
	"pacto/workflows"
)

func TestMain(m *testing.M) {
	pgtest.SetTemplateSetup(store.Migrate)
	pgtest.Main(m)
}

// stack is the whole of Pacto on real parts: PostgreSQL, the in-process
// Temporal server, a worker with the real Record activity, and the API
// over HTTP.
type stack struct {
	t       *testing.T
	base    string
	st      *store.Store
	tc      client.Client
	srv     *Server
	worker  *app.Worker
	tokens  map[string]string
	checker *responseChecker
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// parties, and the principals seeded for each: <party>-<role>.
var seedParties = []store.Party{
	{Code: "PA", Name: "Panamá", TimeZone: "America/Panama", Language: "es"},
	{Code: "US", Name: "United States", TimeZone: "America/New_York", Language: "en"},
	{Code: "MX", Name: "México", TimeZone: "America/Mexico_City", Language: "es"},
	{Code: "CO", Name: "Colombia", TimeZone: "America/Bogota", Language: "es"},
}

var seedRoles = []string{"coordinator", "approver", "observer"}

func newStack(t *testing.T) *stack { return newStackWith(t, app.Delivery{}) }

// newStackWith starts the stack with the worker's delivery configured.
func newStackWith(t *testing.T, d app.Delivery) *stack {
	t.Helper()
	return newStackOn(t, d, stackOptions{})
}

// stackOptions change how the stack is put together.
type stackOptions struct {
	// dial makes the stack's Temporal client; nil takes the server's
	// default client.
	dial func(ts *temporaltest.TestServer) client.Client
	// registry is the process's registry, given to the API; the worker's
	// metrics are registered on it too.
	registry *prometheus.Registry
	// wrap wraps the API's handler.
	wrap func(http.Handler) http.Handler
	// noAttributes leaves Pacto's search attributes unregistered, as
	// before `pacto setup`.
	noAttributes bool
}

// newStackOn starts the stack with the worker's delivery configured (its
// TaskQueue is the API's too) and put together as o says.
func newStackOn(t *testing.T, d app.Delivery, o stackOptions) *stack {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	ts := temporaltest.NewServer(temporaltest.WithT(t),
		temporaltest.WithBaseClientOptions(client.Options{Logger: sdklog.NewStructuredLogger(quietLogger())}))
	tc := ts.GetDefaultClient()
	if o.dial != nil {
		tc = o.dial(ts)
	}
	if !o.noAttributes {
		if _, err := workflows.RegisterSearchAttributes(ctx, tc, ts.GetDefaultNamespace()); err != nil {
			t.Fatal(err)
		}
	}
	srv := New(st, tc, Options{Logger: quietLogger(), TaskQueue: d.TaskQueue, Registry: o.registry,
		Deliveries: app.Starter{Client: tc, Policy: d.Policy, TaskQueue: d.TaskQueue}})
	// The worker makes the proposals adopted minutes agree through the
	// API's own checks, as a deployment's does.
	if d.Proposer == nil {
		d.Proposer = srv
	}
	if o.registry != nil {
		if d.Metrics, err = app.NewWorkerMetrics(o.registry, st); err != nil {
			t.Fatal(err)
		}
	}
	w := app.NewWorker(tc, st, d)
	// Tests reconcile with explicit passes, not on the worker's clock.
	w.Reconciler.Every = -1
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	var h http.Handler = srv.Handler()
	if o.wrap != nil {
		h = o.wrap(h)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	s := &stack{t: t, base: hs.URL, st: st, tc: tc, srv: srv, worker: w, tokens: map[string]string{}, checker: newResponseChecker(t)}

	for _, p := range seedParties {
		if _, err := st.CreateParty(ctx, p); err != nil {
			t.Fatal(err)
		}
		for _, role := range seedRoles {
			s.principal(store.Principal{ID: strings.ToLower(p.Code) + "-" + role, Party: p.Code, Roles: []string{role}, Name: p.Code + " " + role, Language: p.Language})
		}
	}
	s.principal(store.Principal{ID: "admin", Roles: []string{"admin"}, Name: "Administrator", Language: "en"})
	for _, d := range []store.Dialogue{
		{ID: "hld-pa-us", Name: "Panamá–United States High-Level Dialogue", Parties: []string{"PA", "US"}},
		{ID: "hld-mx-co", Name: "México–Colombia Dialogue", Parties: []string{"MX", "CO"}},
	} {
		if _, err := st.CreateDialogue(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (s *stack) principal(p store.Principal) {
	s.t.Helper()
	ctx := context.Background()
	if _, err := s.st.CreatePrincipal(ctx, p); err != nil {
		s.t.Fatal(err)
	}
	_, secret, err := s.st.CreateToken(ctx, p.ID, "test")
	if err != nil {
		s.t.Fatal(err)
	}
	s.tokens[p.ID] = secret
}

// reply is one HTTP exchange's outcome.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) problem(t *testing.T) Problem {
	t.Helper()
	var p Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("status %d body %q is not problem JSON: %v", r.status, r.body, err)
	}
	return p
}

func (r reply) activity(t *testing.T) ActivityView {
	t.Helper()
	var v ActivityView
	if r.status >= 300 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode activity: %v in %s", err, r.body)
	}
	return v
}

// request options: headers as name, value pairs; a body of []byte is sent
// as it is (and only the response is checked against the document).
type opts struct {
	headers []string
	raw     bool
}

// call sends one request as principal who ("" for none) and checks the
// exchange against the OpenAPI document.
func (s *stack) call(who, method, path string, body any, o ...opts) reply {
	s.t.Helper()
	var payload []byte
	raw := false
	switch b := body.(type) {
	case nil:
	case []byte:
		payload, raw = b, true
	default:
		var err error
		if payload, err = json.Marshal(b); err != nil {
			s.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(payload))
	if err != nil {
		s.t.Fatal(err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+s.tokens[who])
	}
	for _, op := range o {
		for i := 0; i+1 < len(op.headers); i += 2 {
			req.Header.Set(op.headers[i], op.headers[i+1])
		}
		raw = raw || op.raw
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if raw {
		s.checker.CheckResponseOnly(s.t, req, resp, out)
	} else {
		s.checker.Check(s.t, req, payload, resp, out)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: out}
}

// want fails unless the reply has the status and, for errors, the problem
// type slug (and field, when given).
func want(t *testing.T, r reply, status int, slugAndField ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if len(slugAndField) == 0 {
		return
	}
	p := r.problem(t)
	if p.Type != problemTypeBase+slugAndField[0] || p.Status != status || p.Title == "" {
		t.Fatalf("problem %+v, want type %s", p, slugAndField[0])
	}
	if len(slugAndField) > 1 && p.Field != slugAndField[1] {
		t.Fatalf("problem names field %q, want %q (%s)", p.Field, slugAndField[1], p.Detail)
	}
}

func proposal() ProposeRequest {
	return ProposeRequest{
		Dialogue: "hld-pa-us", Parties: []string{"PA", "US"},
		Title:      both("Joint customs training", "Capacitación aduanera conjunta"),
		Summary:    both("Train border officials on shared risk profiles.", "Formar a los funcionarios de frontera en perfiles de riesgo compartidos."),
		Objectives: []lifecycle.Text{both("Train 40 officials", "Formar a 40 funcionarios")},
		Milestones: []MilestoneInput{{ID: "m1", Title: both("First cohort trained", "Primera cohorte formada"), Owner: "PA", Due: "P30D",
			Indicator: &IndicatorInput{Target: 40, Unit: both("officials", "funcionarios")}}},
	}
}

// both is a text in English and Spanish, the languages of hld-pa-us.
func both(en, es string) lifecycle.Text { return lifecycle.Text{"en": en, "es": es} }

// propose creates an activity and returns it.
func (s *stack) propose(req ProposeRequest) ActivityView {
	s.t.Helper()
	r := s.call("pa-coordinator", "POST", "/v1/activities", req)
	want(s.t, r, http.StatusCreated)
	return r.activity(s.t)
}

// activate proposes and has both approvers approve.
func (s *stack) activate() ActivityView {
	s.t.Helper()
	a := s.propose(proposal())
	want(s.t, s.call("pa-approver", "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 200)
	r := s.call("us-approver", "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 1, Decision: "approve"})
	want(s.t, r, 200)
	return r.activity(s.t)
}

func TestAPI(t *testing.T) {
	s := newStack(t)
	for _, tc := range []struct {
		name string
		run  func(*stack, *testing.T)
	}{
		{"walkthrough", (*stack).walkthrough},
		{"amendment", (*stack).amendment},
		{"control", (*stack).control},
		{"admin", (*stack).admin},
		{"inbox", (*stack).inbox},
		{"meeting-inbox", (*stack).meetingInbox},
		{"errors", (*stack).errorClasses},
		{"idempotency", (*stack).idempotency},
		{"authorization", (*stack).authorizationMatrix},
		{"races", (*stack).races},
		{"delivery-admin", (*stack).deliveryAdmin},
		{"operations", (*stack).operations},
		{"unstorable-text", (*stack).unstorableText},
		{"refused-record", (*stack).refusedRecord},
		{"oversized", (*stack).oversized},
		{"languages", (*stack).languages},
		{"legacy-languages", (*stack).legacyLanguages},
		{"calendar", (*stack).calendar},
		{"meetings", (*stack).meetings},
		{"cancelled-in-temporal", (*stack).cancelledInTemporal},
		{"diverged", (*stack).diverged},
		{"export", (*stack).export},
		{"iati", (*stack).iati},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.t = t
			tc.run(s, t)
		})
	}
	s.t = t
	t.Logf("responses checked against openapi.yaml: %v", s.checker.Seen())
	if unseen := s.checker.Unseen(); len(unseen) > 0 {
		t.Errorf("operations never exercised: %v", unseen)
	}
}

func (s *stack) walkthrough(t *testing.T) {
	created := s.call("pa-coordinator", "POST", "/v1/activities", proposal())
	want(t, created, http.StatusCreated)
	a := created.activity(t)
	if created.header.Get("Location") != "/v1/activities/"+a.ID || !strings.HasPrefix(created.header.Get("ETag"), `"1.1.`) {
		t.Fatalf("Location %q ETag %q", created.header.Get("Location"), created.header.Get("ETag"))
	}
	if a.Status != "proposed" || a.Version != 1 || strings.Join(a.PendingParties, ",") != "PA,US" || a.Colour != "none" {
		t.Fatalf("proposed activity: %+v", a)
	}
	// Read from the read model by another party's observer.
	got := s.call("us-observer", "GET", "/v1/activities/"+a.ID, nil)
	want(t, got, 200)
	if v := got.activity(t); v.Seq != a.Seq || v.TitleText != a.Title["en"] {
		t.Fatalf("read model has seq %d, the write returned %d", v.Seq, a.Seq)
	}
	list := s.listIDs(t, "us-approver", "?pending_party=US&dialogue=hld-pa-us")
	if !slices.Contains(list, a.ID) {
		t.Fatalf("pending list %v lacks %s", list, a.ID)
	}
	s.startedWithSearchAttributes(t, a.ID)

	pa := s.call("pa-approver", "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 1, Decision: "approve", Comment: "Bien"})
	want(t, pa, 200)
	if v := pa.activity(t); v.Status != "proposed" || strings.Join(v.PendingParties, ",") != "US" {
		t.Fatalf("after PA approved: %s pending %v", v.Status, v.PendingParties)
	}
	us := s.call("us-approver", "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 1, Decision: "approve"})
	want(t, us, 200)
	active := us.activity(t)
	if active.Status != "active" || active.Colour != "green" || active.Milestones[0].DueAt == nil || active.Milestones[0].Horizon != "short" {
		t.Fatalf("after both approved: %+v", active)
	}
	if !slices.Contains(s.listIDs(t, "pa-observer", "?status=active&horizon=short"), a.ID) {
		t.Fatal("active list lacks the activity")
	}
	consistent := s.call("us-observer", "GET", "/v1/activities/"+a.ID+"?consistent=true", nil)
	want(t, consistent, 200)
	if v := consistent.activity(t); v.Status != "active" {
		t.Fatalf("consistent read: %s", v.Status)
	}

	prog := s.call("pa-coordinator", "POST", "/v1/activities/"+a.ID+"/milestones/m1/progress",
		ProgressRequest{Evidence: []string{"https://example.org/attendance.pdf"}, Actual: ptr(12.0), Note: "12 trained so far"})
	want(t, prog, 200)
	if m := prog.activity(t).Milestones[0]; len(m.Evidence) != 1 || m.Indicator == nil || *m.Indicator.Actual != 12 || len(m.Notes) != 1 {
		t.Fatalf("progress not kept: %+v", m)
	}
	newDue := time.Now().UTC().AddDate(0, 3, 0).Format("2006-01-02")
	ext := s.call("pa-coordinator", "POST", "/v1/activities/"+a.ID+"/milestones/m1/extensions", ExtensionRequest{NewDue: newDue, Reason: "Venue unavailable"})
	want(t, ext, 200)
	if x := ext.activity(t).Extensions; len(x) != 1 || x[0].Status != "pending" {
		t.Fatalf("extension: %+v", x)
	}
	want(t, s.call("pa-approver", "POST", "/v1/activities/"+a.ID+"/milestones/m1/extensions/x1/decisions", ExtensionDecisionRequest{Decision: "approve"}), 200)
	moved := s.call("us-approver", "POST", "/v1/activities/"+a.ID+"/milestones/m1/extensions/x1/decisions", ExtensionDecisionRequest{Decision: "approve"})
	want(t, moved, 200)
	if m := moved.activity(t).Milestones[0]; m.DueAt == nil || m.DueAt.Format("2006-01-02") < newDue {
		t.Fatalf("due not moved to %s: %v", newDue, m.DueAt)
	}
	done := s.call("pa-coordinator", "POST", "/v1/activities/"+a.ID+"/milestones/m1/complete", ProgressRequest{Actual: ptr(40.0)})
	want(t, done, 200)
	final := done.activity(t)
	if final.Status != "completed" || final.Colour != "green" {
		t.Fatalf("after completing the only milestone: %s %s", final.Status, final.Colour)
	}

	audit := s.call("us-observer", "GET", "/v1/activities/"+a.ID+"/audit", nil)
	want(t, audit, 200)
	var page AuditPage
	if err := json.Unmarshal(audit.body, &page); err != nil || int64(len(page.Events)) != final.Seq {
		t.Fatalf("audit has %d events, activity seq %d (%v)", len(page.Events), final.Seq, err)
	}
	verify := s.call("pa-observer", "GET", "/v1/activities/"+a.ID+"/audit/verify", nil)
	want(t, verify, 200)
	var v store.AuditVerification
	if err := json.Unmarshal(verify.body, &v); err != nil || !v.Valid || int64(v.Events) != final.Seq {
		t.Fatalf("verification %+v %v", v, err)
	}
	// A command on a finished activity is an invalid transition, not a 500.
	want(t, s.call("pa-approver", "POST", "/v1/activities/"+a.ID+"/suspend", ReasonRequest{Reason: "late"}), 409, "invalid-transition")
}

func (s *stack) listIDs(t *testing.T, who, query string) []string {
	t.Helper()
	r := s.call(who, "GET", "/v1/activities"+query, nil)
	want(t, r, 200)
	var l ActivityList
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(l.Activities))
	for i, a := range l.Activities {
		out[i] = a.ID
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func (s *stack) amendment(t *testing.T) {
	a := s.propose(proposal())
	path := "/v1/activities/" + a.ID
	want(t, s.call("pa-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 200)
	want(t, s.call("us-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "request_changes", Comment: "Add port officials"}), 200)
	title := "Joint customs and port training"
	want(t, s.call("us-coordinator", "PATCH", path, AmendRequest{Title: lifecycle.Plain(title)}), 428, "precondition-required")
	r := s.call("us-coordinator", "PATCH", path, AmendRequest{Title: lifecycle.Plain(title)}, opts{headers: []string{"If-Match", `"1"`}})
	want(t, r, 200)
	v := r.activity(t)
	if v.Version != 2 || v.TitleText != title || v.Title["es"] != "Capacitación aduanera conjunta" || strings.Join(v.PendingParties, ",") != "PA,US" || !strings.HasPrefix(r.header.Get("ETag"), `"2.`) {
		t.Fatalf("after amendment: version %d title %v pending %v etag %s", v.Version, v.Title, v.PendingParties, r.header.Get("ETag"))
	}
	// The fields left out kept their values.
	if v.Summary["en"] != proposal().Summary["en"] || len(v.Milestones) != 1 {
		t.Fatalf("amendment lost content: %+v", v)
	}
	want(t, s.call("pa-coordinator", "PATCH", path, AmendRequest{Title: lifecycle.Plain(title)}, opts{headers: []string{"If-Match", `"1"`}}), 409, "stale-version", "version")
	want(t, s.call("pa-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 409, "stale-version")
	// Resubmitting identical content changes nothing.
	// (A plain string is the caller's language: Panama resubmits the
	// English title keyed as English.)
	same := s.call("pa-coordinator", "PATCH", path, AmendRequest{Version: ptr(2), Title: lifecycle.Text{"en": title}})
	want(t, same, 200)
	if sv := same.activity(t); sv.Version != 2 || sv.Seq != v.Seq {
		t.Fatalf("identical resubmission made version %d seq %d", sv.Version, sv.Seq)
	}
}

func (s *stack) control(t *testing.T) {
	a := s.activate()
	path := "/v1/activities/" + a.ID
	r := s.call("us-approver", "POST", path+"/suspend", ReasonRequest{Reason: "Elections"})
	want(t, r, 200)
	if v := r.activity(t); v.Status != "suspended" || v.SuspendedAt == nil {
		t.Fatalf("suspend: %+v", v)
	}
	want(t, s.call("us-approver", "POST", path+"/resume", ReasonRequest{}), 422, "invalid-input", "reason")
	want(t, s.call("pa-approver", "POST", path+"/resume", ReasonRequest{Reason: "Confirmed"}), 200)
	r = s.call("pa-approver", "POST", path+"/cancel", ReasonRequest{Reason: "Superseded"})
	want(t, r, 200)
	if v := r.activity(t); v.Status != "cancelled" || v.Reason != "Superseded" {
		t.Fatalf("cancel: %+v", v)
	}
	if !slices.Contains(s.listIDs(t, "us-observer", "?status=cancelled"), a.ID) {
		t.Fatal("cancelled list lacks the activity")
	}
}

func (s *stack) admin(t *testing.T) {
	want(t, s.call("admin", "POST", "/v1/admin/parties", store.Party{Code: "CR", Name: "Costa Rica", TimeZone: "America/Costa_Rica", Language: "es"}), 201)
	want(t, s.call("admin", "POST", "/v1/admin/parties", store.Party{Code: "CR", Name: "Costa Rica", TimeZone: "America/Costa_Rica", Language: "es"}), 409, "conflict")
	want(t, s.call("admin", "POST", "/v1/admin/parties", store.Party{Code: "XX", Name: "X", TimeZone: "Mars/Olympus", Language: "es"}), 422, "invalid-input", "time_zone")
	want(t, s.call("admin", "POST", "/v1/admin/dialogues", store.Dialogue{ID: "hld-pa-cr", Name: "PA–CR", Parties: []string{"PA", "CR"}}), 201)
	want(t, s.call("admin", "POST", "/v1/admin/dialogues", store.Dialogue{ID: "bad", Name: "bad", Parties: []string{"PA", "ZZ"}}), 422, "invalid-input", "parties")
	// A dialogue's authentic languages include every party's.
	want(t, s.call("admin", "POST", "/v1/admin/dialogues", store.Dialogue{ID: "hld-pa-us-es", Name: "Spanish only", Parties: []string{"PA", "US"}, Languages: []string{"es"}}), 422, "invalid-input", "languages")
	want(t, s.call("admin", "POST", "/v1/admin/dialogues", store.Dialogue{ID: "hld-pa-us-fr", Name: "French", Parties: []string{"PA", "US"}, Languages: []string{"es", "en", "fr"}}), 422, "invalid-input", "languages")
	if r := s.call("admin", "GET", "/v1/admin/dialogues", nil); !strings.Contains(string(r.body), `"id":"hld-pa-cr","name":"PA–CR","parties":["CR","PA"],"languages":["es"]`) {
		t.Fatalf("dialogues do not show their languages: %s", r.body)
	}
	want(t, s.call("admin", "POST", "/v1/admin/principals", store.Principal{ID: "cr-approver", Party: "CR", Roles: []string{"approver"}, Name: "CR approver", Language: "es"}), 201)
	want(t, s.call("admin", "POST", "/v1/admin/principals", store.Principal{ID: "nobody", Roles: []string{"observer"}, Name: "No party"}), 422, "invalid-input", "party")
	tok := s.call("admin", "POST", "/v1/admin/tokens", TokenRequest{Principal: "cr-approver", Name: "laptop"})
	want(t, tok, 201)
	var nt NewToken
	if err := json.Unmarshal(tok.body, &nt); err != nil || !strings.HasPrefix(nt.Secret, "pacto_") {
		t.Fatalf("new token %s: %v", tok.body, err)
	}
	s.tokens["cr-approver"] = nt.Secret
	want(t, s.call("cr-approver", "GET", "/v1/inbox", nil), 200)
	for _, path := range []string{"/v1/admin/parties", "/v1/admin/dialogues", "/v1/admin/principals?party=CR", "/v1/admin/tokens?principal=cr-approver"} {
		r := s.call("admin", "GET", path, nil)
		want(t, r, 200)
		if !strings.Contains(string(r.body), "CR") && !strings.Contains(string(r.body), "cr-approver") {
			t.Fatalf("%s lacks what was just created: %s", path, r.body)
		}
		if strings.Contains(string(r.body), nt.Secret) {
			t.Fatalf("%s shows a token secret", path)
		}
	}
	want(t, s.call("admin", "DELETE", "/v1/admin/tokens/"+nt.Token.ID, nil), 204)
	want(t, s.call("cr-approver", "GET", "/v1/inbox", nil), 401, "unauthenticated")
	want(t, s.call("admin", "DELETE", "/v1/admin/tokens/"+nt.Token.ID, nil), 404, "not-found")
	s.identities(t)
}

// Identities at OpenID Connect providers are linked to principals, one
// principal each; disabling a principal stops its tokens at once.
func (s *stack) identities(t *testing.T) {
	const crIssuer = "https://id.cr.example/realms/gob"
	want(t, s.call("admin", "POST", "/v1/admin/principals", store.Principal{ID: "cr-observer", Party: "CR", Roles: []string{"observer"}, Name: "CR observer", Language: "es"}), 201)
	link := func(pid string, req IdentityRequest) reply {
		return s.call("admin", "POST", "/v1/admin/principals/"+pid+"/identities", req)
	}
	r := link("cr-observer", IdentityRequest{Issuer: crIssuer, Subject: "248289761001"})
	want(t, r, 201)
	var id store.Identity
	if err := json.Unmarshal(r.body, &id); err != nil || id.Principal != "cr-observer" || id.Issuer != crIssuer || id.Subject != "248289761001" {
		t.Fatalf("linked identity %s: %v", r.body, err)
	}
	want(t, link("cr-observer", IdentityRequest{Issuer: crIssuer, Subject: "248289761001"}), 200)
	want(t, link("cr-approver", IdentityRequest{Issuer: crIssuer, Subject: "248289761001"}), 409, "conflict")
	want(t, link("nobody-here", IdentityRequest{Issuer: crIssuer, Subject: "x"}), 404, "not-found")
	want(t, link("cr-observer", IdentityRequest{Issuer: "http://id.cr.example", Subject: "x"}), 422, "invalid-input", "issuer")
	want(t, link("cr-observer", IdentityRequest{Issuer: "https://id.cr.example?x=1", Subject: "x"}), 422, "invalid-input", "issuer")
	want(t, link("cr-observer", IdentityRequest{Issuer: crIssuer}), 422, "invalid-input", "subject")
	want(t, link("cr-observer", IdentityRequest{Issuer: crIssuer, Subject: strings.Repeat("s", maxSubject+1)}), 422, "invalid-input", "subject")
	// A provider on this machine may speak plain http.
	want(t, link("cr-observer", IdentityRequest{Issuer: "http://127.0.0.1:5556/dex", Subject: "Cg0wLTM4NS0yODA4OS0wEgRtb2Nr"}), 201)
	list := s.call("admin", "GET", "/v1/admin/principals/cr-observer/identities", nil)
	want(t, list, 200)
	var ids struct{ Identities []store.Identity }
	if err := json.Unmarshal(list.body, &ids); err != nil || len(ids.Identities) != 2 || ids.Identities[0].Subject != "248289761001" {
		t.Fatalf("identities %s: %v", list.body, err)
	}
	want(t, s.call("admin", "GET", "/v1/admin/principals/nobody-here/identities", nil), 404, "not-found")
	want(t, s.call("pa-coordinator", "POST", "/v1/admin/principals/cr-observer/identities", IdentityRequest{Issuer: crIssuer, Subject: "y"}), 403, "forbidden")

	// Disabling: at once, idempotent, never one's own.
	tok := s.call("admin", "POST", "/v1/admin/tokens", TokenRequest{Principal: "cr-observer"})
	want(t, tok, 201)
	var nt NewToken
	if err := json.Unmarshal(tok.body, &nt); err != nil {
		t.Fatal(err)
	}
	s.tokens["cr-observer"] = nt.Secret
	want(t, s.call("cr-observer", "GET", "/v1/inbox", nil), 200)
	d := s.call("admin", "POST", "/v1/admin/principals/cr-observer/disable", nil)
	want(t, d, 200)
	var p store.Principal
	if err := json.Unmarshal(d.body, &p); err != nil || p.ID != "cr-observer" || p.Disabled == nil {
		t.Fatalf("disabled principal %s: %v", d.body, err)
	}
	want(t, s.call("cr-observer", "GET", "/v1/inbox", nil), 401, "unauthenticated")
	again := s.call("admin", "POST", "/v1/admin/principals/cr-observer/disable", nil)
	want(t, again, 200)
	var p2 store.Principal
	if err := json.Unmarshal(again.body, &p2); err != nil || p2.Disabled == nil || !p2.Disabled.Equal(*p.Disabled) {
		t.Fatalf("disabled again %s: %v", again.body, err)
	}
	want(t, s.call("admin", "POST", "/v1/admin/principals/nobody-here/disable", nil), 404, "not-found")
	want(t, s.call("admin", "POST", "/v1/admin/principals/admin/disable", nil), 409, "conflict")
	want(t, s.call("admin", "GET", "/v1/inbox", nil), 200)
}

func (s *stack) inbox(t *testing.T) {
	a := s.propose(proposal())
	r := s.call("us-approver", "GET", "/v1/inbox?unread=true", nil)
	want(t, r, 200)
	var page InboxPage
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	var id int64
	for _, n := range page.Notifications {
		if n.Activity == a.ID && n.Kind == "proposed" {
			id = n.ID
		}
	}
	if id == 0 {
		t.Fatalf("no approval request for %s in %s", a.ID, r.body)
	}
	// The proposer is not told of their own proposal.
	mine := s.call("pa-coordinator", "GET", "/v1/inbox", nil)
	if strings.Contains(string(mine.body), `"activity":"`+a.ID+`","seq":1,`) {
		t.Fatal("the proposer got their own proposal in the inbox")
	}
	marked := s.call("us-approver", "POST", "/v1/inbox/read", MarkReadRequest{IDs: []int64{id}})
	want(t, marked, 200)
	if string(bytes.TrimSpace(marked.body)) != `{"marked":1}` {
		t.Fatalf("mark read: %s", marked.body)
	}
	unread := s.call("us-approver", "GET", "/v1/inbox?unread=true&limit=200", nil)
	if strings.Contains(string(unread.body), `"id":`+itoa(id)+`,`) {
		t.Fatal("a read notification is still listed as unread")
	}
	want(t, s.call("us-approver", "POST", "/v1/inbox/read", MarkReadRequest{}), 422, "invalid-input", "ids")
	want(t, s.call("us-approver", "POST", "/v1/inbox/read", MarkReadRequest{All: true}), 200)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func (s *stack) errorClasses(t *testing.T) {
	a := s.propose(proposal())
	path := "/v1/activities/" + a.ID
	// 400
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", []byte(`{"title": `)), 400, "malformed-request")
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", []byte(`{"title":"x","colour":"red"}`)), 400, "malformed-request", "colour")
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", []byte(`{} {}`)), 400, "malformed-request")
	// 401
	want(t, s.call("", "GET", path, nil), 401, "unauthenticated")
	r := s.call("", "GET", path, nil, opts{headers: []string{"Authorization", "Bearer pacto_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}})
	want(t, r, 401, "unauthenticated")
	if r.header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
	// 403
	want(t, s.call("pa-observer", "POST", "/v1/activities", proposal()), 403, "forbidden")
	want(t, s.call("pa-coordinator", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 403, "forbidden")
	want(t, s.call("us-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "approve", Party: "PA"}), 403, "forbidden")
	want(t, s.call("pa-coordinator", "GET", "/v1/admin/parties", nil), 403, "forbidden")
	// 404, the same for what does not exist and what the caller may not see
	want(t, s.call("pa-observer", "GET", "/v1/activities/act_nosuchactivity", nil), 404, "not-found")
	want(t, s.call("mx-observer", "GET", path, nil), 404, "not-found")
	want(t, s.call("mx-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 404, "not-found")
	want(t, s.call("pa-observer", "GET", "/v1/nothing-here", nil), 404, "not-found")
	// 409
	want(t, s.call("pa-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 200)
	want(t, s.call("pa-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 409, "invalid-transition")
	want(t, s.call("us-approver", "POST", path+"/decisions", DecisionRequest{Version: 7, Decision: "approve"}), 409, "stale-version")
	// 413
	big := append([]byte(`{"title":"`), bytes.Repeat([]byte("x"), MaxBodyBytes+10)...)
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", append(big, `"}`...)), 413, "payload-too-large")
	// 415
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", []byte(`title=x`), opts{headers: []string{"Content-Type", "text/plain"}}), 415, "unsupported-media-type")
	// 422, naming the field
	noTitle := proposal()
	noTitle.Title = lifecycle.Plain(" ")
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", noTitle), 422, "invalid-input", "title")
	badDue := proposal()
	badDue.Milestones[0].Due = "next spring"
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", badDue), 422, "invalid-input", "milestones[0].due")
	badPolicy := proposal()
	badPolicy.Policy = &PolicyInput{ApprovalWindow: "P1M"}
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", badPolicy), 422, "invalid-input", "policy.approval_window")
	otherDialogue := proposal()
	otherDialogue.Dialogue = "hld-mx-co"
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", otherDialogue), 422, "invalid-input", "dialogue")
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", []byte(`{"dialogue":"hld-pa-us","parties":"PA"}`)), 422, "invalid-input", "parties")
	want(t, s.call("us-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "maybe"}), 422, "invalid-input", "decision")
	want(t, s.call("us-approver", "POST", path+"/decisions", []byte(`{"version":-1,"decision":"approve"}`)), 422, "invalid-input", "version")
	want(t, s.call("pa-observer", "GET", "/v1/activities?status=sleeping", nil), 422, "invalid-input", "status")
	want(t, s.call("pa-observer", "GET", "/v1/activities?limit=1000", nil), 422, "invalid-input", "limit")
	want(t, s.call("pa-observer", "GET", "/v1/activities?cursor=%21%21", nil), 422, "invalid-input", "cursor")
	want(t, s.call("pa-observer", "GET", "/v1/activities?due_before=soon", nil), 422, "invalid-input", "due_before")
	// 405
	notAllowed := s.call("pa-observer", "PUT", path, nil)
	want(t, notAllowed, 405, "method-not-allowed")
	if got := notAllowed.header.Get("Allow"); got != "GET, HEAD, PATCH" {
		t.Fatalf("405 on %s says Allow %q, want \"GET, HEAD, PATCH\"", path, got)
	}
}

func (s *stack) idempotency(t *testing.T) {
	key := opts{headers: []string{"Idempotency-Key", "proposal-2027-customs"}}
	first := s.call("pa-coordinator", "POST", "/v1/activities", proposal(), key)
	want(t, first, 201)
	again := s.call("pa-coordinator", "POST", "/v1/activities", proposal(), key)
	want(t, again, 201)
	if a, b := first.activity(t), again.activity(t); a.ID != b.ID || b.Seq != a.Seq {
		t.Fatalf("replay created %s, first was %s", b.ID, a.ID)
	}
	other := proposal()
	other.Title = lifecycle.Plain("Something else")
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", other, key), 409, "conflict")
	// The same key from another principal is another request.
	want(t, s.call("us-coordinator", "POST", "/v1/activities", proposal(), key), 201)

	// A retried decision with the same key is answered once, not applied twice.
	a := first.activity(t)
	dkey := opts{headers: []string{"Idempotency-Key", "decision-1"}}
	d1 := s.call("pa-approver", "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}, dkey)
	d2 := s.call("pa-approver", "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}, dkey)
	want(t, d1, 200)
	want(t, d2, 200)
	if d1.activity(t).Seq != d2.activity(t).Seq {
		t.Fatal("a retried decision was applied twice")
	}
}

// operations exercises the service endpoints and the 503 path.
func (s *stack) operations(t *testing.T) {
	want(t, s.call("", "GET", "/healthz", nil), 200)
	want(t, s.call("", "GET", "/readyz", nil), 200)
	m := s.call("", "GET", "/metrics", nil)
	want(t, m, 200)
	if !strings.Contains(string(m.body), "pacto_http_requests_total") {
		t.Fatal("metrics lack the request counter")
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes"} {
		if !strings.Contains(string(m.body), "\n"+name+" ") {
			t.Errorf("metrics lack the runtime's %s", name)
		}
	}
	doc := s.call("", "GET", "/openapi.json", nil)
	want(t, doc, 200)
	if !strings.Contains(string(doc.body), `"openapi": "3.1`) {
		t.Fatalf("openapi.json: %.100s", doc.body)
	}
	docs := s.call("", "GET", "/docs", nil)
	want(t, docs, 200)
	if !strings.Contains(string(docs.body), "problem-invalid-input") || !strings.Contains(string(docs.body), "/v1/activities/{id}/decisions") {
		t.Fatal("docs page lacks the operations or the problem types")
	}

	// With Temporal and PostgreSQL out of reach, answers are 503 problems.
	ctx := context.Background()
	deadTemporal, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Logger: sdklog.NewStructuredLogger(quietLogger())})
	if err != nil {
		t.Fatal(err)
	}
	defer deadTemporal.Close()
	a := s.propose(proposal())
	noTemporal := httptest.NewServer(New(s.st, deadTemporal, Options{Logger: quietLogger(), RequestTimeout: 5 * time.Second}).Handler())
	defer noTemporal.Close()
	deadStore, err := store.OpenLazy(ctx, "postgres://pacto:x@127.0.0.1:1/pacto?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer deadStore.Close()
	noStore := httptest.NewServer(New(deadStore, s.tc, Options{Logger: quietLogger()}).Handler())
	defer noStore.Close()
	for _, c := range []struct {
		base, method, path string
		body               any
	}{
		{noTemporal.URL, "POST", "/v1/activities/" + a.ID + "/decisions", DecisionRequest{Version: 1, Decision: "approve"}},
		{noTemporal.URL, "GET", "/v1/activities/act_notrecordedyet", nil},
		{noTemporal.URL, "GET", "/readyz", nil},
		{noStore.URL, "GET", "/v1/activities/" + a.ID, nil},
		{noStore.URL, "GET", "/readyz", nil},
	} {
		saved := s.base
		s.base = c.base
		r := s.call("us-approver", c.method, c.path, c.body)
		s.base = saved
		want(t, r, 503, "unavailable")
	}
}

// startedWithSearchAttributes checks that a new activity's workflow started
// with its search attributes set, so its first task upserted none.
func (s *stack) startedWithSearchAttributes(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	desc, err := s.tc.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	sa := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
	for name, want := range map[string]string{"PactoStatus": `"proposed"`, "PactoPendingParties": `["PA","US"]`, "PactoDialogue": `"hld-pa-us"`} {
		if got := string(sa[name].GetData()); got != want {
			t.Errorf("search attribute %s = %s, want %s", name, got, want)
		}
	}
	iter := s.tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.GetEventType() == enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES {
			t.Fatalf("the proposal's workflow upserted search attributes it started with (event %d)", e.GetEventId())
		}
	}
}
