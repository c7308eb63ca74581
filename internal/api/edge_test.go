package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"pacto/internal/app"
)

// TestEdge runs the edge's refusals against the whole stack.
func TestEdge(t *testing.T) {
	s := newStack(t)
	for _, tc := range []struct {
		name string
		run  func(*stack, *testing.T)
	}{
		{"bad-path-ids", (*stack).badPathIDs},
		{"query-text", (*stack).queryText},
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
			{"pa-coordinator", "PATCH", "/v1/activities/" + bad, AmendRequest{Title: &title}, []string{"If-Match", `"1"`}},
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
		} {
			r := s.call(c.who, c.method, c.path, c.body, opts{headers: c.headers})
			if r.status != http.StatusNotFound {
				t.Errorf("%s %s: %d, want 404: %s", c.method, c.path, r.status, r.body)
				continue
			}
			want(t, r, http.StatusNotFound, "not-found")
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
		{"headers under the limit", "/healthz", big(MaxHeaderBytes / 2), 200, ""},
		{"headers over the limit", "/healthz", big(MaxHeaderBytes), 431, "header-fields-too-large"},
		{"headers over net/http's default cap", "/healthz", big(2 << 20), 431, "header-fields-too-large"},
	} {
		resp, body := send(c.target, c.header)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), c.status)
			continue
		}
		if c.slug == "" {
			continue
		}
		var p Problem
		if resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(body, &p) != nil ||
			p.Type != problemTypeBase+c.slug || p.Status != c.status || p.RequestID == "" {
			t.Errorf("%s: %s %q", c.name, resp.Header.Get("Content-Type"), body)
		}
		for _, msg := range problemMismatches(resp.StatusCode, body) {
			t.Errorf("%s: %s", c.name, msg)
		}
	}
}
