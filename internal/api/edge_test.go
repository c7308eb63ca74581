package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"pacto/internal/lifecycle"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"pacto/internal/app"
)

// TestEdge runs the HTTP-level conventions against the whole stack.
func TestEdge(t *testing.T) {
	s := newStack(t)
	for _, tc := range []struct {
		name string
		run  func(*stack, *testing.T)
	}{
		{"bad-path-ids", (*stack).badPathIDs},
		{"query-text", (*stack).queryText},
		{"head", (*stack).head},
		{"etag", (*stack).etags},
		{"headers", (*stack).edgeHeaders},
		{"search", (*stack).search},
		{"grammar", (*stack).grammar},
		{"progress-while-suspended", (*stack).progressWhileSuspended},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.t = t
			tc.run(s, t)
		})
	}
}

// An id in a path that cannot exist is 404, before it reaches Temporal
// (whose headers take only printable ASCII) or PostgreSQL (whose text
// takes no NUL and no invalid UTF-8).
func (s *stack) badPathIDs(t *testing.T) {
	a := s.activate()
	title := "Renamed"
	for _, bad := range []string{"%C3%B1", "%00", "%FF", "a%20b", strings.Repeat("a", 101)} {
		for _, c := range []struct {
			who, method, path string
			body              any
			headers           []string
		}{
			{"pa-observer", "GET", "/v1/activities/" + bad, nil, nil},
			{"pa-observer", "GET", "/v1/activities/" + bad + "?consistent=true", nil, nil},
			{"pa-observer", "GET", "/v1/activities/" + bad + "/audit", nil, nil},
			{"pa-observer", "GET", "/v1/activities/" + bad + "/audit/verify", nil, nil},
			{"pa-coordinator", "PATCH", "/v1/activities/" + bad, AmendRequest{Title: lifecycle.Plain(title)}, []string{"If-Match", `"1"`}},
			{"pa-approver", "POST", "/v1/activities/" + bad + "/decisions", DecisionRequest{Version: 1, Decision: "approve"}, nil},
			{"pa-approver", "POST", "/v1/activities/" + bad + "/suspend", ReasonRequest{Reason: "pause"}, nil},
			{"pa-approver", "POST", "/v1/activities/" + bad + "/resume", ReasonRequest{Reason: "go on"}, nil},
			{"pa-approver", "POST", "/v1/activities/" + bad + "/cancel", ReasonRequest{Reason: "stop"}, nil},
			{"pa-coordinator", "POST", "/v1/activities/" + bad + "/milestones/m1/progress", ProgressRequest{Note: "x"}, nil},
			{"pa-coordinator", "POST", "/v1/activities/" + a.ID + "/milestones/" + bad + "/progress", ProgressRequest{Note: "x"}, nil},
			{"pa-coordinator", "POST", "/v1/activities/" + a.ID + "/milestones/" + bad + "/complete", nil, nil},
			{"pa-coordinator", "POST", "/v1/activities/" + a.ID + "/milestones/" + bad + "/extensions", ExtensionRequest{NewDue: "2099-12-31", Reason: "later"}, nil},
			{"pa-approver", "POST", "/v1/activities/" + a.ID + "/milestones/m1/extensions/" + bad + "/decisions", ExtensionDecisionRequest{Decision: "approve"}, nil},
			{"admin", "DELETE", "/v1/admin/tokens/" + bad, nil, nil},
			{"admin", "DELETE", "/v1/admin/webhooks/" + bad, nil, nil},
			{"admin", "POST", "/v1/admin/deliveries/" + bad + "/retry", nil, nil},
			{"admin", "GET", "/v1/admin/principals/" + bad + "/identities", nil, nil},
			{"admin", "POST", "/v1/admin/principals/" + bad + "/identities", IdentityRequest{Issuer: "https://id.example", Subject: "s"}, nil},
			{"admin", "POST", "/v1/admin/principals/" + bad + "/disable", nil, nil},
		} {
			r := s.call(c.who, c.method, c.path, c.body, opts{headers: c.headers})
			if r.status != http.StatusNotFound {
				t.Errorf("%s %s: %d, want 404: %s", c.method, c.path, r.status, r.body)
				continue
			}
			want(t, r, http.StatusNotFound, "not-found")
			// The problem names the path as it was sent, escaped.
			if inst := r.problem(t).Instance; !escapedPath.MatchString(inst) {
				t.Errorf("%s %s: instance %q is not an escaped path", c.method, c.path, inst)
			}
		}
	}
}

// Query parameters that PostgreSQL cannot hold as text are refused, naming
// the parameter, before they reach it.
func (s *stack) queryText(t *testing.T) {
	nulCursor := base64.RawURLEncoding.EncodeToString([]byte(`{"p":"2027-01-01T00:00:00Z","i":"act\u0000x"}`))
	for _, c := range []struct{ who, path, field string }{
		{"pa-observer", "/v1/activities?q=%00", "q"},
		{"pa-observer", "/v1/activities?q=caf%E9", "q"}, // Latin-1, not UTF-8
		{"pa-observer", "/v1/activities?dialogue=hld%00", "dialogue"},
		{"pa-observer", "/v1/activities?party=%FF", "party"},
		{"pa-observer", "/v1/activities?pending_party=US%00", "pending_party"},
		{"pa-observer", "/v1/activities?horizon=%C0", "horizon"},
		{"pa-observer", "/v1/activities?cursor=" + nulCursor, "cursor"},
		{"pa-observer", "/v1/activities?unknown=%00", "unknown"},
		{"pa-observer", "/v1/inbox?cursor=%FF", "cursor"},
		{"admin", "/v1/activities?q=%00", "q"},
		{"admin", "/v1/admin/principals?party=%00", "party"},
		{"admin", "/v1/admin/tokens?principal=%FF", "principal"},
		{"admin", "/v1/admin/deliveries?status=%00", "status"},
	} {
		r := s.call(c.who, "GET", c.path, nil)
		if r.status != http.StatusUnprocessableEntity {
			t.Errorf("GET %s: %d, want 422: %s", c.path, r.status, r.body)
			continue
		}
		want(t, r, http.StatusUnprocessableEntity, "invalid-input", c.field)
	}
	// The same for the Idempotency-Key header, which is stored and sent to
	// Temporal: net/http lets any byte above 0x7f through in a header.
	a := s.propose(proposal())
	key := opts{headers: []string{"Idempotency-Key", "caf\xe9"}}
	want(t, s.call("pa-coordinator", "POST", "/v1/activities", proposal(), key), 422, "invalid-input", "Idempotency-Key")
	want(t, s.call("pa-approver", "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}, key), 422, "invalid-input", "Idempotency-Key")
	// Text that is fine still works.
	want(t, s.call("pa-observer", "GET", "/v1/activities?q=caf%C3%A9", nil), 200)
}

// Every GET route answers HEAD with the GET's status and headers and no
// body; 405s list HEAD wherever GET is allowed.
func (s *stack) head(t *testing.T) {
	a := s.activate()
	ops := routerOperations(t)
	gets := 0
	for _, op := range ops {
		method, path, _ := strings.Cut(op, " ")
		if method != http.MethodGet {
			continue
		}
		gets++
		path = strings.ReplaceAll(path, "{id}", a.ID)
		who := "pa-observer"
		if strings.HasPrefix(path, "/v1/admin/") {
			who = "admin"
		}
		get := s.call(who, http.MethodGet, path, nil)
		head := s.call(who, http.MethodHead, path, nil)
		if head.status != get.status {
			t.Errorf("HEAD %s: %d, GET %d", path, head.status, get.status)
		}
		if len(head.body) != 0 {
			t.Errorf("HEAD %s has a body of %d bytes", path, len(head.body))
		}
		for _, h := range []string{"Content-Type", "ETag", "Cache-Control", "X-Content-Type-Options", "Content-Security-Policy"} {
			if head.header.Get(h) != get.header.Get(h) {
				t.Errorf("HEAD %s: %s %q, GET has %q", path, h, head.header.Get(h), get.header.Get(h))
			}
		}
	}
	if gets < 10 {
		t.Fatalf("only %d GET routes: %v", gets, ops)
	}
	// Without a token too: /healthz needs none.
	want(t, s.call("", http.MethodHead, "/healthz", nil), 200)
	want(t, s.call("", http.MethodHead, "/v1/activities", nil), 401)
	for path, allow := range map[string]string{
		"/healthz":                              "GET, HEAD",
		"/v1/activities":                        "GET, HEAD, POST",
		"/v1/activities/" + a.ID:                "GET, HEAD, PATCH",
		"/v1/activities/" + a.ID + "/decisions": "POST",
		"/v1/admin/tokens/t1":                   "DELETE",
	} {
		r := s.call("admin", http.MethodPut, path, nil)
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != allow {
			t.Errorf("PUT %s: %d Allow %q, want 405 Allow %q", path, r.status, r.header.Get("Allow"), allow)
		}
	}
	r := s.call("admin", http.MethodHead, "/v1/activities/"+a.ID+"/decisions", nil)
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("HEAD on a POST-only route: %d Allow %q", r.status, r.header.Get("Allow"))
	}
}

var escapedPath = regexp.MustCompile(`^(/[A-Za-z0-9_.:%-]*)+$`)

var etagForm = regexp.MustCompile(`^"([0-9]+)\.([0-9]+)\.[0-9a-f]{8}"$`)

// The ETag changes with the representation; If-None-Match answers 304
// while it holds; If-Match takes the ETag or the bare version.
func (s *stack) etags(t *testing.T) {
	a := s.propose(proposal())
	path := "/v1/activities/" + a.ID
	first := s.call("us-observer", "GET", path, nil)
	want(t, first, 200)
	e1 := first.header.Get("ETag")
	if m := etagForm.FindStringSubmatch(e1); m == nil || m[1] != "1" {
		t.Fatalf("ETag %q is not \"<version>.<seq>.<digest>\" of version 1", e1)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		for _, inm := range []string{e1, "W/" + e1, `"0.0.00000000", ` + e1, "*"} {
			r := s.call("us-observer", method, path, nil, opts{headers: []string{"If-None-Match", inm}})
			if r.status != http.StatusNotModified || len(r.body) != 0 || r.header.Get("ETag") != e1 {
				t.Fatalf("%s with If-None-Match %s: %d ETag %q body %q, want 304 with the ETag", method, inm, r.status, r.header.Get("ETag"), r.body)
			}
		}
	}
	// An approval changes the body but not the version: the ETag changes.
	want(t, s.call("pa-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 200)
	second := s.call("us-observer", "GET", path, nil, opts{headers: []string{"If-None-Match", e1}})
	want(t, second, 200)
	e2 := second.header.Get("ETag")
	if m := etagForm.FindStringSubmatch(e2); m == nil || m[1] != "1" || e2 == e1 {
		t.Fatalf("after an approval the ETag is %q (was %q)", e2, e1)
	}
	// The same seq read later, when the milestone's colour has moved on,
	// is another representation with another ETag.
	want(t, s.call("us-approver", "POST", path+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 200)
	now := s.call("us-observer", "GET", path, nil)
	later := httptest.NewServer(New(s.st, s.tc, Options{Logger: quietLogger(), Now: func() time.Time { return time.Now().AddDate(0, 3, 0) }}).Handler())
	defer later.Close()
	saved := s.base
	s.base = later.URL
	overdue := s.call("us-observer", "GET", path, nil)
	s.base = saved
	want(t, overdue, 200)
	if overdue.activity(t).Colour != "red" || overdue.activity(t).Seq != now.activity(t).Seq || overdue.header.Get("ETag") == now.header.Get("ETag") {
		t.Fatalf("three months on: colour %s seq %d ETag %s; now: seq %d ETag %s", overdue.activity(t).Colour, overdue.activity(t).Seq,
			overdue.header.Get("ETag"), now.activity(t).Seq, now.header.Get("ETag"))
	}

	// If-Match: the new ETag and the bare version are both the version.
	b := s.propose(proposal())
	bpath := "/v1/activities/" + b.ID
	want(t, s.call("us-approver", "POST", bpath+"/decisions", DecisionRequest{Version: 1, Decision: "request_changes", Comment: "More"}), 200)
	cur := s.call("pa-coordinator", "GET", bpath, nil)
	title := "Joint customs training, two cohorts"
	r := s.call("pa-coordinator", "PATCH", bpath, AmendRequest{Title: lifecycle.Plain(title)}, opts{headers: []string{"If-Match", cur.header.Get("ETag")}})
	want(t, r, 200)
	if v := r.activity(t); v.Version != 2 || !strings.HasPrefix(r.header.Get("ETag"), `"2.`) {
		t.Fatalf("amended with the ETag: version %d ETag %s", v.Version, r.header.Get("ETag"))
	}
	// The ETag read before the amendment names version 1: stale.
	want(t, s.call("pa-coordinator", "PATCH", bpath, AmendRequest{Title: lifecycle.Plain(title)}, opts{headers: []string{"If-Match", cur.header.Get("ETag")}}), 409, "stale-version")
	title3 := "Joint customs training, three cohorts"
	r = s.call("pa-coordinator", "PATCH", bpath, AmendRequest{Title: lifecycle.Plain(title3)}, opts{headers: []string{"If-Match", `"2"`}})
	want(t, r, 200)
	if v := r.activity(t); v.Version != 3 {
		t.Fatalf("amended with the bare version: version %d", v.Version)
	}
	want(t, s.call("pa-coordinator", "PATCH", bpath, AmendRequest{Title: lifecycle.Plain(title3)}, opts{headers: []string{"If-Match", `"three"`}}), 422, "invalid-input", "If-Match")
}

// Every response carries a request id, nosniff and a CSP; /docs's CSP
// allows exactly its inline style; a 503 says when to retry.
func (s *stack) edgeHeaders(t *testing.T) {
	a := s.propose(proposal())
	for _, c := range []struct{ who, method, path string }{
		{"", "GET", "/healthz"},
		{"", "GET", "/metrics"},
		{"", "GET", "/openapi.json"},
		{"", "GET", "/v1/activities"},
		{"", "POST", "/healthz"},
		{"pa-observer", "GET", "/v1/activities/" + a.ID},
		{"pa-observer", "GET", "/v1/nothing-here"},
		{"pa-observer", "GET", "/v1/activities?status=sleeping"},
	} {
		r := s.call(c.who, c.method, c.path, nil)
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Content-Security-Policy") != apiCSP {
			t.Errorf("%s %s: nosniff %q CSP %q", c.method, c.path, r.header.Get("X-Content-Type-Options"), r.header.Get("Content-Security-Policy"))
		}
		id := r.header.Get("X-Request-Id")
		if !usableRequestID(id) {
			t.Errorf("%s %s: X-Request-Id %q", c.method, c.path, id)
		}
		if r.status >= 400 && r.problem(t).RequestID != id {
			t.Errorf("%s %s: the problem's request_id %q is not the header's %q", c.method, c.path, r.problem(t).RequestID, id)
		}
	}
	// A usable id is echoed; anything else is replaced.
	r := s.call("pa-observer", "GET", "/v1/nothing-here", nil, opts{headers: []string{"X-Request-Id", "trace-42/abc"}})
	if r.header.Get("X-Request-Id") != "trace-42/abc" || r.problem(t).RequestID != "trace-42/abc" {
		t.Errorf("X-Request-Id not echoed: %q, problem %q", r.header.Get("X-Request-Id"), r.problem(t).RequestID)
	}
	for _, bad := range []string{"two words", strings.Repeat("x", maxRequestID+1), "caf\xe9"} {
		r := s.call("pa-observer", "GET", "/healthz", nil, opts{headers: []string{"X-Request-Id", bad}})
		if got := r.header.Get("X-Request-Id"); got == bad || !usableRequestID(got) {
			t.Errorf("X-Request-Id %q answered with %q", bad, got)
		}
	}
	// /docs: its one inline style is allowed by hash, nothing else.
	docs := s.call("", "GET", "/docs", nil)
	want(t, docs, 200)
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllSubmatch(docs.body, -1)
	if len(style) != 1 {
		t.Fatalf("/docs has %d style elements", len(style))
	}
	sum := sha256.Sum256(style[0][1])
	wantCSP := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	if got := docs.header.Get("Content-Security-Policy"); got != wantCSP || docs.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("/docs CSP %q, want %q", got, wantCSP)
	}
	if bytes.Contains(docs.body, []byte("<script")) || bytes.Contains(docs.body, []byte(" style=")) {
		t.Error("/docs has a script or a style attribute its CSP would block")
	}
	// 503s carry Retry-After.
	dead, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Logger: sdklog.NewStructuredLogger(quietLogger())})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	noTemporal := httptest.NewServer(New(s.st, dead, Options{Logger: quietLogger(), RequestTimeout: 5 * time.Second}).Handler())
	defer noTemporal.Close()
	saved := s.base
	s.base = noTemporal.URL
	defer func() { s.base = saved }()
	for _, path := range []string{"/readyz", "/v1/activities/act_notrecordedyet"} {
		r := s.call("pa-observer", "GET", path, nil)
		want(t, r, 503, "unavailable")
		if r.header.Get("Retry-After") != retryAfterSeconds {
			t.Errorf("503 on %s has Retry-After %q", path, r.header.Get("Retry-After"))
		}
	}
}

// q is literal and ignores case and accents.
func (s *stack) search(t *testing.T) {
	p := proposal()
	p.Title, p.Summary = lifecycle.Plain("Capacitación ADUANERA zq"), lifecycle.Plain("Formación técnica en Panamá")
	a := s.propose(p)
	for q, found := range map[string]bool{
		"capacitacion":               true,
		"CAPACITACI%C3%93N+aduanera": true,
		"formacion+tecnica":          true,
		"capacitaci%C3%B3n":          true,
		"Capacitacio%CC%81n":         true, // decomposed
		"%25":                        false,
		"_":                          false,
		"capacitaci_n":               false,
		"aduanera+capacitacion":      false,
	} {
		ids := s.listIDs(t, "us-observer", "?q="+q)
		if slices.Contains(ids, a.ID) != found {
			t.Errorf("q=%s found the activity: %v, want %v", q, !found, found)
		}
		if (q == "%25" || q == "_") && len(ids) != 0 {
			t.Errorf("q=%s matched %d activities without it in title or summary", q, len(ids))
		}
	}
}

func (s *stack) grammar(t *testing.T) {
	a := s.propose(proposal())
	r := s.call("pa-coordinator", "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 1, Decision: "approve"})
	want(t, r, 403, "forbidden")
	if d := r.problem(t).Detail; d != "only an approver may do this" {
		t.Errorf("detail %q", d)
	}
	r = s.call("pa-approver", "POST", "/v1/activities/"+a.ID+"/milestones/m1/progress", ProgressRequest{Note: "x"})
	want(t, r, 403, "forbidden")
	if d := r.problem(t).Detail; d != "only a coordinator may do this" {
		t.Errorf("detail %q", d)
	}
}

// A suspension pauses reminders, not the work: progress can still be
// documented, while completing a milestone waits for the resumption.
func (s *stack) progressWhileSuspended(t *testing.T) {
	a := s.activate()
	path := "/v1/activities/" + a.ID
	want(t, s.call("us-approver", "POST", path+"/suspend", ReasonRequest{Reason: "Elections"}), 200)
	r := s.call("pa-coordinator", "POST", path+"/milestones/m1/progress", ProgressRequest{Note: "Cohort met while suspended"})
	want(t, r, 200)
	if v := r.activity(t); v.Status != "suspended" || len(v.Milestones[0].Notes) != 1 {
		t.Fatalf("progress while suspended: %+v", v)
	}
	want(t, s.call("pa-coordinator", "POST", path+"/milestones/m1/complete", nil), 409, "invalid-transition")
}

// Oversized requests are refused by the API as problems, through a real
// listener and the http.Server that the commands run, not by net/http as
// plain text.
func TestEdgeRequestLimits(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.ServeHTTP(ctx, ln, New(nil, nil, Options{Logger: quietLogger()}).Handler(), quietLogger())
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
	})
	base := "http://" + ln.Addr().String()
	send := func(target string, header http.Header) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest("GET", base+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	query := func(n int) string { return "/healthz?q=" + strings.Repeat("x", n-len("/healthz?q=")) }
	big := func(n int) http.Header { return http.Header{"X-Padding": {strings.Repeat("x", n)}} }
	for _, c := range []struct {
		name   string
		target string
		header http.Header
		status int
		slug   string
	}{
		{"URI at the limit", query(MaxURIBytes), nil, 200, ""},
		{"URI over the limit", query(MaxURIBytes + 1), nil, 414, "uri-too-long"},
		{"URI over net/http's default cap", query(2 << 20), nil, 414, "uri-too-long"},
		{"path over the limit", "/" + strings.Repeat("p", 1<<20), nil, 414, "uri-too-long"},
		{"headers under the limit", "/healthz", big(MaxHeaderBytes / 2), 200, ""},
		{"headers over the limit", "/healthz", big(MaxHeaderBytes), 431, "header-fields-too-large"},
		{"headers over net/http's default cap", "/healthz", big(2 << 20), 431, "header-fields-too-large"},
	} {
		resp, body := send(c.target, c.header)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), c.status)
			continue
		}
		if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", c.name, resp.Header)
		}
		if c.slug == "" {
			continue
		}
		var p Problem
		if resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(body, &p) != nil ||
			p.Type != problemTypeBase+c.slug || p.Status != c.status || p.RequestID != resp.Header.Get("X-Request-Id") {
			t.Errorf("%s: %s %q", c.name, resp.Header.Get("Content-Type"), body)
		}
		for _, msg := range problemMismatches(resp.StatusCode, body) {
			t.Errorf("%s: %s", c.name, msg)
		}
		if len(body) > 2<<10 {
			t.Errorf("%s: a problem of %d bytes echoes too much of the request", c.name, len(body))
		}
	}
}

// A client cannot add label values to /metrics by inventing methods.
func TestEdgeMetricsBucketUnknownMethods(t *testing.T) {
	hs := httptest.NewServer(New(nil, nil, Options{Logger: quietLogger()}).Handler())
	defer hs.Close()
	for _, m := range []string{"FROBNICATE", "BREW", "get"} {
		for _, path := range []string{"/healthz", "/no-such-route"} {
			req, err := http.NewRequest(m, hs.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: %d", m, path, resp.StatusCode)
			}
		}
	}
	resp, err := http.Get(hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "pacto_http_") && (strings.Contains(line, "FROBNICATE") || strings.Contains(line, "BREW") || strings.Contains(line, `method="get"`)) {
			t.Errorf("metrics keep an invented method: %s", line)
		}
	}
	if !strings.Contains(string(body), `pacto_http_requests_total{code="405",method="OTHER",route="unmatched"} 6`) {
		t.Errorf("metrics do not count the invented methods as OTHER:\n%s", grepLines(string(body), "pacto_http_requests_total"))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
