package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	liberrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	"gopkg.in/yaml.v3"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// responseChecker validates real HTTP exchanges against openapi.yaml.
//
// Use one per test (or share one across parallel subtests): it is safe for
// concurrent use. Check validates the response always and the request only
// when the response is 2xx, because tests deliberately send requests the
// document forbids and the server must still answer them as documented.
type responseChecker struct {
	mu   sync.Mutex
	seen map[string]int
}

// unroutedKey counts, in Seen, exchanges whose method and path no operation
// documents (the server must answer those with a 404 or 405 problem, or the
// 401 or 403 of /v1's guards).
const unroutedKey = "(unrouted)"

// The parsed document is shared: building the validator compiles every
// schema, which is too slow to repeat per test.
var oapi struct {
	once sync.Once
	err  error
	// mu serialises use of v; the library keeps caches whose concurrent
	// use it does not promise to be safe.
	mu      sync.Mutex
	v       validator.Validator
	problem *base.Schema
	routes  []oapiRoute
}

// oapiRoute is one documented path and its methods.
type oapiRoute struct {
	template string
	segments []string
	methods  []string
}

func loadOpenAPIValidator() {
	doc, err := libopenapi.NewDocument(openapiYAML)
	if err != nil {
		oapi.err = fmt.Errorf("parse openapi.yaml: %w", err)
		return
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		oapi.err = fmt.Errorf("build openapi.yaml: %w", err)
		return
	}
	// Format assertions make date-time, date and uri-reference checked
	// rather than mere annotations.
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		oapi.err = fmt.Errorf("openapi validator: %v", errs)
		return
	}
	oapi.v = v
	if p := model.Model.Components.Schemas.GetOrZero("Problem"); p != nil {
		oapi.problem = p.Schema()
	}
	if oapi.problem == nil {
		oapi.err = fmt.Errorf("openapi.yaml has no Problem schema")
		return
	}
	// The route table comes from the raw YAML so it is independent of the
	// library's own matching.
	var raw struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openapiYAML, &raw); err != nil {
		oapi.err = err
		return
	}
	for path, item := range raw.Paths {
		r := oapiRoute{template: path, segments: strings.Split(path, "/")}
		for m := range item {
			r.methods = append(r.methods, strings.ToUpper(m))
		}
		oapi.routes = append(oapi.routes, r)
	}
}

func newResponseChecker(t testing.TB) *responseChecker {
	t.Helper()
	oapi.once.Do(loadOpenAPIValidator)
	if oapi.err != nil {
		t.Fatalf("responseChecker: %v", oapi.err)
	}
	return &responseChecker{seen: map[string]int{}}
}

// Check fails t unless the response (status, content type, headers, body)
// is one the document allows for this request's operation. When the
// response is 2xx it also validates the request — parameters, security and
// reqBody, the body bytes that were sent (nil for none) — since the server
// accepted it. req's own Body is not read.
func (c *responseChecker) Check(t testing.TB, req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	t.Helper()
	c.check(t, req, reqBody, resp, respBody, resp.StatusCode >= 200 && resp.StatusCode < 300)
}

// CheckResponseOnly is Check without any validation of the request, for
// exchanges whose request was deliberately outside the document yet drew a
// 2xx (for example a bad filter from a principal without a party, whose
// activity list is empty before any filter is read).
func (c *responseChecker) CheckResponseOnly(t testing.TB, req *http.Request, resp *http.Response, respBody []byte) {
	t.Helper()
	c.check(t, req, nil, resp, respBody, false)
}

// Seen returns how many exchanges per operation ("METHOD /path") were
// checked, for a coverage report; exchanges no operation documents count
// under "(unrouted)".
func (c *responseChecker) Seen() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.seen))
	for k, v := range c.seen {
		out[k] = v
	}
	return out
}

// Unseen lists the documented operations no exchange has exercised yet.
func (c *responseChecker) Unseen() []string {
	seen := c.Seen()
	var out []string
	for _, r := range oapi.routes {
		for _, m := range r.methods {
			if op := m + " " + r.template; seen[op] == 0 {
				out = append(out, op)
			}
		}
	}
	slices.Sort(out)
	return out
}

// route finds the documented path template for a request path, preferring
// literal segments over parameters as routers do. chi serves
// /v1/activities/{id}/ like /v1/activities/{id}, so a trailing slash is
// ignored.
func (c *responseChecker) route(path string) (oapiRoute, string, bool) {
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	segs := strings.Split(path, "/")
	best, bestLiterals := -1, -1
	for i, r := range oapi.routes {
		if len(r.segments) != len(segs) {
			continue
		}
		literals := 0
		for j, s := range r.segments {
			// A parameter is a whole segment or follows literal text in
			// it (report.{format}).
			open := strings.IndexByte(s, '{')
			isParam := open >= 0 && strings.HasSuffix(s, "}")
			if (isParam && (len(segs[j]) <= open || segs[j][:open] != s[:open])) || (!isParam && s != segs[j]) {
				literals = -1
				break
			}
			if !isParam {
				literals++
			}
		}
		if literals > bestLiterals {
			best, bestLiterals = i, literals
		}
	}
	if best < 0 {
		return oapiRoute{}, path, false
	}
	return oapi.routes[best], path, true
}

func (c *responseChecker) check(t testing.TB, req *http.Request, reqBody []byte, resp *http.Response, respBody []byte, validateRequest bool) {
	t.Helper()
	where := fmt.Sprintf("%s %s → %d", req.Method, req.URL.RequestURI(), resp.StatusCode)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("openapi: %s: %s\n  response body: %s", where, fmt.Sprintf(format, args...), snippet(respBody))
	}

	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" && req.Method != http.MethodHead {
		for _, msg := range problemMismatches(resp.StatusCode, respBody) {
			fail("%s", msg)
		}
	}

	r, path, ok := c.route(req.URL.Path)
	if req.Method == http.MethodHead {
		// HEAD is the GET of the same resource without its body (RFC
		// 9110); the document describes only the GETs, whose exchanges are
		// checked in full.
		if len(respBody) > 0 {
			fail("a HEAD response must have no body")
		}
		if ok && slices.Contains(r.methods, http.MethodGet) {
			c.count(req.Method + " " + r.template)
			return
		}
		c.count(unroutedKey)
		switch resp.StatusCode {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusUnauthorized, http.StatusForbidden:
		default:
			fail("HEAD on a resource without GET; the server should have answered 404 or 405, not %d", resp.StatusCode)
		}
		if mt != "application/problem+json" {
			fail("the refusal of a HEAD must be application/problem+json, not %q", resp.Header.Get("Content-Type"))
		}
		return
	}
	if !ok || !slices.Contains(r.methods, req.Method) {
		c.count(unroutedKey)
		// No operation to check against: the router answers 404 or 405,
		// unless /v1's authentication (401) or /v1/admin's role check (403)
		// refused the request first.
		switch resp.StatusCode {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusUnauthorized, http.StatusForbidden:
		default:
			fail("no documented operation; the server should have answered 404 or 405, not %d", resp.StatusCode)
			return
		}
		if mt != "application/problem+json" {
			fail("an undocumented route must answer application/problem+json, not %q", resp.Header.Get("Content-Type"))
			return
		}
		oapi.mu.Lock()
		_, errs := schema_validation.NewSchemaValidator(config.WithFormatAssertions()).ValidateSchemaBytes(oapi.problem, respBody)
		oapi.mu.Unlock()
		for _, e := range errs {
			fail("%s", describe(e))
		}
		return
	}
	c.count(req.Method + " " + r.template)

	if resp.StatusCode == http.StatusNoContent && len(respBody) > 0 {
		fail("a 204 response must have no body")
	}

	vresp := &http.Response{
		StatusCode: resp.StatusCode,
		Header:     resp.Header.Clone(),
		Body:       io.NopCloser(bytes.NewReader(respBody)),
	}
	if vresp.Header == nil {
		vresp.Header = http.Header{}
	}
	oapi.mu.Lock()
	defer oapi.mu.Unlock()
	if _, errs := oapi.v.ValidateHttpResponse(validationRequest(req, path, reqBody, false), vresp); len(errs) > 0 {
		for _, e := range errs {
			fail("response: %s", describe(e))
		}
	}
	if validateRequest {
		if _, errs := oapi.v.ValidateHttpRequestSync(validationRequest(req, path, reqBody, true)); len(errs) > 0 {
			for _, e := range errs {
				msg := fmt.Sprintf("request (accepted with %d): %s", resp.StatusCode, describe(e))
				if len(reqBody) > 0 {
					msg += "\n  request body: " + snippet(reqBody)
				}
				fail("%s", msg)
			}
		}
	}
}

func (c *responseChecker) count(key string) {
	c.mu.Lock()
	c.seen[key]++
	c.mu.Unlock()
}

// validationRequest copies req for the validator with path as its path and
// body as its body. For request validation it spells the content type as
// the server reads it: absent or any +json type means application/json.
func validationRequest(req *http.Request, path string, body []byte, forRequest bool) *http.Request {
	u := *req.URL
	u.Path, u.RawPath = path, ""
	r, err := http.NewRequestWithContext(context.Background(), req.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		panic(err) // the URL came from a request that was already sent
	}
	r.Header = req.Header.Clone()
	if r.Header == nil {
		r.Header = http.Header{}
	}
	if forRequest && len(body) > 0 {
		ct := r.Header.Get("Content-Type")
		mt, _, _ := mime.ParseMediaType(ct)
		if ct == "" || strings.HasSuffix(mt, "+json") {
			r.Header.Set("Content-Type", "application/json")
		}
	}
	return r
}

// problemMismatches checks what a schema cannot: that a problem's status
// is the HTTP status and its type is a class with that status.
func problemMismatches(status int, body []byte) []string {
	var p struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return []string{"the problem is not a JSON object: " + err.Error()}
	}
	var msgs []string
	if p.Status != status {
		msgs = append(msgs, fmt.Sprintf("the problem says status %d", p.Status))
	}
	for _, c := range allProblemClasses {
		if problemTypeBase+c.slug == p.Type {
			if c.status != status {
				msgs = append(msgs, fmt.Sprintf("problem type %s belongs with %d", p.Type, c.status))
			}
			return msgs
		}
	}
	return append(msgs, fmt.Sprintf("problem type %q is not a known class", p.Type))
}

func describe(e *liberrors.ValidationError) string {
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	for _, f := range e.SchemaValidationErrors {
		loc := f.FieldPath
		if loc == "" {
			loc = f.KeywordLocation
		}
		fmt.Fprintf(&b, "\n    %s: %s", loc, f.Reason)
	}
	return b.String()
}

func snippet(b []byte) string {
	const max = 600
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// ---- Tests of the checker itself ----

// recordingTB stands in for t so a test can assert that Check fails.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *recordingTB) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func (r *recordingTB) Fatal(args ...any) { r.Error(args...) }

func (r *recordingTB) failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errors)
}

// exchange is a hand-made request and response for the checker.
type exchange struct {
	method, target string
	reqHeader      http.Header
	reqBody        []byte
	status         int
	respHeader     http.Header
	respBody       []byte
}

func (x exchange) run(c *responseChecker, tb testing.TB, responseOnly bool) {
	req := httptest.NewRequest(x.method, "http://pacto.test"+x.target, bytes.NewReader(x.reqBody))
	req.Header.Set("Authorization", "Bearer pacto_0123456789abcdef_secret")
	for k, v := range x.reqHeader {
		req.Header[k] = v
	}
	resp := &http.Response{StatusCode: x.status, Header: x.respHeader}
	if responseOnly {
		c.CheckResponseOnly(tb, req, resp, x.respBody)
		return
	}
	c.Check(tb, req, x.reqBody, resp, x.respBody)
}

var checkerNow = time.Date(2027, 1, 15, 10, 0, 0, 0, time.UTC)

// richActivity is an active activity with every optional part filled in.
func richActivity() lifecycle.State {
	baseline, actual := 10.0, 12.5
	at := checkerNow.Add(-48 * time.Hour)
	due := checkerNow.Add(30 * 24 * time.Hour)
	return lifecycle.State{
		ID: "act_abc", Dialogue: "pa-us", Title: lifecycle.Text{"en": "Port security", "es": "Seguridad portuaria"}, Summary: lifecycle.Text{"en": "Joint inspections"},
		Objectives: []lifecycle.Text{{"en": "Train inspectors", "es": "Formar inspectores"}},
		Parties:    []lifecycle.Party{{Code: "PA", TimeZone: "America/Panama", Language: "es"}, {Code: "US", TimeZone: "America/New_York", Language: "en"}},
		Languages:  []string{"en", "es"},
		Proposer:   "ana", ProposerParty: "PA", Version: 2, Seq: 7, Status: lifecycle.StatusActive,
		Approvals: []lifecycle.Approval{
			{Party: "PA", Decision: lifecycle.DecisionApprove, Version: 2, By: "ana2", At: at, Comment: "ok"},
			{Party: "US", Decision: lifecycle.DecisionApprove, Version: 2, By: "bob", At: at},
		},
		Milestones: []lifecycle.Milestone{{
			MilestoneSpec: lifecycle.MilestoneSpec{ID: "m1", Title: lifecycle.Text{"en": "Workshop", "es": "Taller"}, Owner: "PA", Due: "P1M",
				Indicator: &lifecycle.Indicator{Baseline: &baseline, Target: 20, Actual: &actual, Unit: lifecycle.Text{"en": "people", "es": "personas"}}},
			DueAt: due, Term: lifecycle.HorizonShort, Status: lifecycle.MilestoneOpen,
			Evidence: []string{"https://example.org/report"},
			Notes:    []lifecycle.Note{{By: "ana", At: at, Text: "half done"}},
		}, {
			MilestoneSpec: lifecycle.MilestoneSpec{ID: "m2", Title: lifecycle.Plain("Audit"), Owner: "US", Due: "2027-01-01"},
			DueAt:         at, Term: lifecycle.HorizonLong, Status: lifecycle.MilestoneCompleted, CompletedAt: at,
		}},
		Extensions: []lifecycle.Extension{{
			ID: "x1", MilestoneID: "m1", NewDue: "2027-06-30", NewDueAt: due, Reason: "rain",
			RequestedBy: "ana", RequestedAt: at, Status: lifecycle.ExtensionPending,
			Decisions: []lifecycle.Approval{{Party: "PA", Decision: lifecycle.DecisionApprove, By: "ana2", At: at}, {Party: "US", Decision: lifecycle.DecisionPending}},
		}},
		Policy:     lifecycle.DefaultPolicy(),
		ProposedAt: at, ExpiresAt: due, ActivatedAt: at, Reason: "resumed after the storm",
	}
}

func jsonOf(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mutate decodes a JSON object, lets f change it, and encodes it again.
func mutate(t testing.TB, b []byte, f func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	return jsonOf(t, m)
}

func jsonHeader(kv ...string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// problemExchange answers target with the server's own problem writer.
func problemExchange(method, target string, e *apiError) exchange {
	rec := httptest.NewRecorder()
	writeProblem(rec, httptest.NewRequest(method, target, nil), e)
	return exchange{method: method, target: target, status: rec.Code, respHeader: rec.Header(), respBody: rec.Body.Bytes()}
}

func TestResponseCheckerAcceptsConformingExchanges(t *testing.T) {
	c := newResponseChecker(t)
	activity := jsonOf(t, viewOf(richActivity(), checkerNow, "es"))
	// A freshly proposed activity leaves most optional fields out.
	fresh := jsonOf(t, viewOf(lifecycle.State{ID: "act_new", Status: lifecycle.StatusProposed, ProposedAt: checkerNow,
		Parties: []lifecycle.Party{{Code: "PA", TimeZone: "America/Panama"}}}, checkerNow, ""))
	// The Go types can encode some lists as null; the document allows it.
	nullParties := jsonOf(t, viewOf(lifecycle.State{ID: "act_odd", Status: lifecycle.StatusProposed,
		Extensions: []lifecycle.Extension{{ID: "x1", Status: lifecycle.ExtensionWithdrawn}}}, checkerNow, "en"))
	hash := bytes.Repeat([]byte{0xab}, 32)
	next := int64(1)
	notice := jsonOf(t, store.NotificationContent{Activity: "act_abc", Title: lifecycle.Text{"en": "Port security", "es": "Seguridad portuaria"}, Event: lifecycle.EventMilestoneOverdue,
		Seq: 9, At: checkerNow, Actor: "clock", Party: "PA", Milestone: "m1", Notice: 1, Due: &checkerNow})
	meetingNotice, err := withReaderTexts(jsonOf(t, store.NotificationContent{Title: lifecycle.Plain("PA–US"), Event: lifecycle.EventMeetingDrafted,
		Seq: 2, At: checkerNow, Actor: "clock", Dialogue: "pa-us", Meeting: 3, MeetingAt: &checkerNow, Due: &checkerNow, Digest: "ab12",
		Agenda: []store.AgendaItem{{Activity: "act_abc", Title: lifecycle.Text{"en": "Port security", "es": "Seguridad portuaria"}}}}), "es")
	if err != nil {
		t.Fatal(err)
	}
	readAt := checkerNow

	for name, x := range map[string]exchange{
		"get activity": {method: "GET", target: "/v1/activities/act_abc", status: 200,
			respHeader: jsonHeader("ETag", `"2.9.0a1b2c3d"`), respBody: activity},
		"get activity, trailing slash": {method: "GET", target: "/v1/activities/act_abc/?consistent=true", status: 200,
			respHeader: jsonHeader("ETag", `"2.9.0a1b2c3d"`), respBody: activity},
		"get fresh activity": {method: "GET", target: "/v1/activities/act_new", status: 200,
			respHeader: jsonHeader("ETag", `"1.1.0a1b2c3d"`), respBody: fresh},
		"get activity with null lists": {method: "GET", target: "/v1/activities/act_odd", status: 200,
			respHeader: jsonHeader("ETag", `"0.0.0a1b2c3d"`), respBody: nullParties},
		"propose": {method: "POST", target: "/v1/activities", status: 201,
			reqHeader: jsonHeader("Idempotency-Key", "k1"),
			reqBody: []byte(`{"dialogue":"pa-us","parties":["PA","US"],"title":"Port security",
				"milestones":[{"title":"Workshop","owner":"PA","due":"P1M","indicator":{"target":20,"baseline":10}}],
				"policy":{"approval_window":"P30D","overdue_reminders":2}}`),
			respHeader: jsonHeader("ETag", `"1.1.0a1b2c3d"`, "Location", "/v1/activities/act_new"), respBody: fresh},
		"amend": {method: "PATCH", target: "/v1/activities/act_abc", status: 200,
			reqHeader: jsonHeader("If-Match", `"1"`), reqBody: []byte(`{"title":"Port security II"}`),
			respHeader: jsonHeader("ETag", `"2.9.0a1b2c3d"`), respBody: activity},
		"complete without a body": {method: "POST", target: "/v1/activities/act_abc/milestones/m1/complete", status: 200,
			respHeader: jsonHeader("ETag", `"2.9.0a1b2c3d"`), respBody: activity},
		"cancel": {method: "POST", target: "/v1/activities/act_abc/cancel", status: 200,
			reqHeader: http.Header{"Content-Type": {"application/merge-patch+json"}}, reqBody: []byte(`{"reason":"no funds"}`),
			respHeader: jsonHeader("ETag", `"2.9.0a1b2c3d"`), respBody: activity},
		"list activities": {method: "GET", target: "/v1/activities?status=active&overdue=true&due_before=2027-03-31&limit=10", status: 200,
			respHeader: jsonHeader(), respBody: jsonOf(t, ActivityList{Activities: []ActivityView{viewOf(richActivity(), checkerNow, "en")}, NextCursor: "abc"})},
		"audit": {method: "GET", target: "/v1/activities/act_abc/audit?after=0&limit=1", status: 200, respHeader: jsonHeader(),
			respBody: jsonOf(t, AuditPage{NextAfter: &next, Events: []store.AuditEvent{{Seq: 1, Type: "proposed", Actor: "ana", Party: "PA", At: checkerNow,
				Content:  json.RawMessage(`{"activity":"act_abc","event":{"seq":1,"type":"proposed","at":"2027-01-15T10:00:00Z","actor":"ana"}}`),
				PrevHash: make([]byte, 32), Hash: hash}}})},
		"verify, valid": {method: "GET", target: "/v1/activities/act_abc/audit/verify", status: 200, respHeader: jsonHeader(),
			respBody: jsonOf(t, store.AuditVerification{Valid: true, Events: 3, Head: hash})},
		"verify, broken": {method: "GET", target: "/v1/activities/act_abc/audit/verify", status: 200, respHeader: jsonHeader(),
			respBody: jsonOf(t, store.AuditVerification{Events: 1, BrokenAt: 2, Problem: "hash does not match the content"})},
		"inbox": {method: "GET", target: "/v1/inbox?unread=false", status: 200, respHeader: jsonHeader(),
			respBody: jsonOf(t, InboxPage{NextCursor: "c", Notifications: []InboxNotification{{Notification: store.Notification{ID: 4, Activity: "act_abc", Seq: 9,
				Kind: "milestone_overdue", Content: notice, CreatedAt: checkerNow, ReadAt: &readAt}, Link: "/activities/act_abc"}}})},
		"inbox, a meeting's notice": {method: "GET", target: "/v1/inbox", status: 200, respHeader: jsonHeader(),
			respBody: jsonOf(t, InboxPage{Notifications: []InboxNotification{{Notification: store.Notification{ID: 5, Activity: "dialogue/pa-us/meeting/3", Seq: 2,
				Kind: "meeting_drafted", Content: meetingNotice, CreatedAt: checkerNow}, Link: "/dialogues/pa-us/meetings/3"}}})},
		"mark read": {method: "POST", target: "/v1/inbox/read", status: 200, reqHeader: jsonHeader(), reqBody: []byte(`{"all":true}`),
			respHeader: jsonHeader(), respBody: jsonOf(t, map[string]int64{"marked": 3})},
		"create party": {method: "POST", target: "/v1/admin/parties", status: 201, reqHeader: jsonHeader(),
			reqBody:    []byte(`{"code":"PA","name":"Panamá","time_zone":"America/Panama","language":"es"}`),
			respHeader: jsonHeader(), respBody: jsonOf(t, store.Party{Code: "PA", Name: "Panamá", TimeZone: "America/Panama", Language: "es"})},
		"list dialogues": {method: "GET", target: "/v1/admin/dialogues", status: 200, respHeader: jsonHeader(),
			respBody: jsonOf(t, map[string]any{"dialogues": []store.Dialogue{{ID: "pa-us", Name: "PA–US", Parties: []string{"PA", "US"}}}})},
		"list principals": {method: "GET", target: "/v1/admin/principals?party=PA", status: 200, respHeader: jsonHeader(),
			respBody: jsonOf(t, map[string]any{"principals": []store.Principal{{ID: "root", Roles: []string{"admin"}, Name: "Root", Language: "en", Disabled: &readAt}}})},
		"create token": {method: "POST", target: "/v1/admin/tokens", status: 201, reqHeader: jsonHeader(), reqBody: []byte(`{"principal":"ana"}`),
			respHeader: jsonHeader("Cache-Control", "no-store"),
			respBody:   jsonOf(t, NewToken{Token: store.TokenInfo{ID: "t1", Principal: "ana", CreatedAt: checkerNow}, Secret: "pacto_t1_x"})},
		"list tokens": {method: "GET", target: "/v1/admin/tokens", status: 200, respHeader: jsonHeader(),
			respBody: jsonOf(t, map[string]any{"tokens": []store.TokenInfo{{ID: "t1", Principal: "ana", CreatedAt: checkerNow, LastUsedAt: &readAt, RevokedAt: &readAt}}})},
		"revoke token": {method: "DELETE", target: "/v1/admin/tokens/t1", status: 204, respHeader: http.Header{}},
		"healthz":      {method: "GET", target: "/healthz", status: 200, respHeader: jsonHeader(), respBody: []byte(`{"status":"ok"}` + "\n")},
		"metrics": {method: "GET", target: "/metrics", status: 200, respHeader: http.Header{"Content-Type": {"text/plain; version=0.0.4; charset=utf-8"}},
			respBody: []byte("# HELP up 1\n")},
		"docs":         {method: "GET", target: "/docs", status: 200, respHeader: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, respBody: []byte("<!doctype html>")},
		"404 problem":  problemExchange("GET", "/v1/activities/act_nope", errNoActivity),
		"409 problem":  problemExchange("POST", "/v1/activities/act_abc/decisions", fail(probStale, "old")),
		"428 problem":  problemExchange("PATCH", "/v1/activities/act_abc", fail(probPrecondition, "send If-Match")),
		"401 problem":  withHeader(problemExchange("GET", "/v1/inbox", fail(probUnauthorized, "no token")), "WWW-Authenticate", `Bearer realm="pacto"`),
		"503 readyz":   problemExchange("GET", "/readyz", fail(probUnavailable, "postgres: unreachable")),
		"unknown path": problemExchange("GET", "/v2/nothing", fail(probNotFound, "no route")),
		"wrong method": problemExchange("PUT", "/v1/activities", fail(probMethod, "PUT is not allowed")),
		// A 4xx answer to a request the document forbids is still checked,
		// but the request is not.
		"400 for an unknown field": func() exchange {
			x := problemExchange("POST", "/v1/activities", &apiError{class: probMalformed, field: "colour", detail: "unknown field colour"})
			x.reqHeader, x.reqBody = jsonHeader(), []byte(`{"colour":"red"}`)
			return x
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			tb := &recordingTB{TB: t}
			x.run(c, tb, false)
			for _, f := range tb.failures() {
				t.Error(f)
			}
		})
	}

	seen := c.Seen()
	if seen["GET /v1/activities/{id}"] != 5 || seen["POST /v1/activities"] != 2 || seen[unroutedKey] != 2 {
		t.Errorf("Seen = %v", seen)
	}
	if unseen := c.Unseen(); slices.Contains(unseen, "GET /v1/inbox") || !slices.Contains(unseen, "GET /openapi.json") {
		t.Errorf("Unseen = %v", unseen)
	}
}

func TestResponseCheckerRejectsNonConformingExchanges(t *testing.T) {
	c := newResponseChecker(t)
	activity := jsonOf(t, viewOf(richActivity(), checkerNow, "es"))
	get := func(status int, h http.Header, body []byte) exchange {
		return exchange{method: "GET", target: "/v1/activities/act_abc", status: status, respHeader: h, respBody: body}
	}
	etag := jsonHeader("ETag", `"2.9.0a1b2c3d"`)
	notFound := problemExchange("GET", "/v1/activities/act_nope", errNoActivity)

	for name, x := range map[string]exchange{
		"missing required field": get(200, etag, mutate(t, activity, func(m map[string]any) { delete(m, "status") })),
		"wrong type":             get(200, etag, mutate(t, activity, func(m map[string]any) { m["version"] = "2" })),
		"nested wrong type": get(200, etag, mutate(t, activity, func(m map[string]any) {
			m["milestones"].([]any)[0].(map[string]any)["overdue"] = "no"
		})),
		"unknown field":            get(200, etag, mutate(t, activity, func(m map[string]any) { m["content_hash"] = "abc" })),
		"value outside enum":       get(200, etag, mutate(t, activity, func(m map[string]any) { m["colour"] = "blue" })),
		"not a date-time":          get(200, etag, mutate(t, activity, func(m map[string]any) { m["proposed_at"] = "yesterday" })),
		"null where never nil":     get(200, etag, mutate(t, activity, func(m map[string]any) { m["milestones"] = nil })),
		"missing ETag":             get(200, jsonHeader(), activity),
		"ETag of the bare version": get(200, jsonHeader("ETag", `"2"`), activity),
		"undocumented status":      get(418, etag, activity),
		"wrong content type":       get(200, http.Header{"Content-Type": {"text/plain"}, "Etag": {`"2"`}}, activity),
		"not JSON":                 get(200, etag, []byte("{")),
		"problem with wrong status field": func() exchange {
			x := notFound
			x.respBody = mutate(t, x.respBody, func(m map[string]any) { m["status"] = 400.0 })
			return x
		}(),
		"problem of the wrong class": problemExchange("GET", "/v1/activities/act_abc", fail(probStale, "not for a GET")),
		"problem as plain JSON": func() exchange {
			x := notFound
			x.respHeader = jsonHeader()
			return x
		}(),
		"problem missing title": func() exchange {
			x := notFound
			x.respBody = mutate(t, x.respBody, func(m map[string]any) { delete(m, "title") })
			return x
		}(),
		"201 without Location": {method: "POST", target: "/v1/activities", status: 201, reqHeader: jsonHeader(),
			reqBody:    []byte(`{"dialogue":"d","parties":["PA","US"],"title":"t","milestones":[{"title":"m","owner":"PA","due":"P1M"}]}`),
			respHeader: etag, respBody: activity},
		"accepted request with an unknown field": {method: "POST", target: "/v1/activities/act_abc/cancel", status: 200,
			reqHeader: jsonHeader(), reqBody: []byte(`{"reason":"x","why":"y"}`), respHeader: etag, respBody: activity},
		"accepted request with a bad query": {method: "GET", target: "/v1/activities?limit=500", status: 200,
			respHeader: jsonHeader(), respBody: []byte(`{"activities":[]}`)},
		"204 with a body":     {method: "DELETE", target: "/v1/admin/tokens/t1", status: 204, respHeader: http.Header{}, respBody: []byte("{}")},
		"unknown path, 200":   {method: "GET", target: "/v2/nothing", status: 200, respHeader: jsonHeader(), respBody: []byte("{}")},
		"unknown path, plain": {method: "GET", target: "/v2/nothing", status: 404, respHeader: http.Header{"Content-Type": {"text/plain"}}, respBody: []byte("404 page not found")},
	} {
		t.Run(name, func(t *testing.T) {
			tb := &recordingTB{TB: t}
			x.run(c, tb, false)
			if len(tb.failures()) == 0 {
				t.Error("Check accepted a non-conforming exchange")
			}
		})
	}

	// CheckResponseOnly ignores what is wrong with the request.
	tb := &recordingTB{TB: t}
	exchange{method: "POST", target: "/v1/activities/act_abc/cancel", status: 200,
		reqHeader: jsonHeader(), reqBody: []byte(`{"reason":"x","why":"y"}`), respHeader: etag, respBody: activity}.run(c, tb, true)
	if f := tb.failures(); len(f) > 0 {
		t.Errorf("CheckResponseOnly failed on the request: %v", f)
	}
}

func TestResponseCheckerIsSafeForConcurrentUse(t *testing.T) {
	c := newResponseChecker(t)
	activity := jsonOf(t, viewOf(richActivity(), checkerNow, "es"))
	x := exchange{method: "GET", target: "/v1/activities/act_abc", status: 200, respHeader: jsonHeader("ETag", `"2.9.0a1b2c3d"`), respBody: activity}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			tb := &recordingTB{TB: t}
			x.run(c, tb, false)
			if f := tb.failures(); len(f) > 0 {
				t.Error(f)
			}
		})
	}
	wg.Wait()
	if n := c.Seen()["GET /v1/activities/{id}"]; n != 16 {
		t.Errorf("Seen counted %d exchanges, want 16", n)
	}
}

func withHeader(x exchange, k, v string) exchange {
	x.respHeader = x.respHeader.Clone()
	x.respHeader.Set(k, v)
	return x
}

// The routes that need neither PostgreSQL nor Temporal can be checked
// against the real handler in-process.
func TestResponseCheckerOnStorelessRoutes(t *testing.T) {
	c := newResponseChecker(t)
	h := New(nil, nil, Options{Logger: slog.New(slog.DiscardHandler)}).Handler()
	for _, x := range []struct {
		method, target, auth string
		want                 int
	}{
		{"GET", "/healthz", "", 200},
		{"GET", "/metrics", "", 200},
		{"GET", "/openapi.json", "", 200},
		{"GET", "/docs", "", 200},
		{"GET", "/v1/activities", "", 401},
		{"POST", "/v1/activities", "Basic YTpi", 401},
		{"GET", "/v1/admin/parties", "Bearer ", 401},
		{"GET", "/nowhere", "", 404},
		{"POST", "/healthz", "", 405},
	} {
		req := httptest.NewRequest(x.method, x.target, nil)
		if x.auth != "" {
			req.Header.Set("Authorization", x.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != x.want {
			t.Errorf("%s %s answered %d, want %d", x.method, x.target, rec.Code, x.want)
		}
		c.Check(t, req, nil, rec.Result(), rec.Body.Bytes())
	}
}
