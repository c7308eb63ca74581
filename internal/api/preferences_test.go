package api

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"pacto/internal/pgtest"
	"pacto/internal/store"
)

// newStoreStack is the API over a real database without Temporal, for
// the routes that never reach a workflow.
func newStoreStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	srv := New(st, nil, Options{Logger: quietLogger()})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	s := &stack{t: t, base: hs.URL, st: st, srv: srv, tokens: map[string]string{}, checker: newResponseChecker(t)}
	if _, err := st.CreateParty(ctx, seedParties[0]); err != nil {
		t.Fatal(err)
	}
	s.principal(store.Principal{ID: "pa-observer", Party: "PA", Roles: []string{"observer"}, Name: "PA observer", Language: "es"})
	return s
}

// A body that does not say whether to send email is refused, rather than
// read as "off".
func TestNotificationPreferencesRequireEmail(t *testing.T) {
	s := newStoreStack(t)
	emailOn := func() bool {
		t.Helper()
		var on bool
		if err := s.st.Pool().QueryRow(context.Background(), "SELECT email_notifications FROM principals WHERE id = 'pa-observer'").Scan(&on); err != nil {
			t.Fatal(err)
		}
		return on
	}
	if !emailOn() {
		t.Fatal("email notices start off")
	}
	for _, body := range []string{`{}`, `null`, `{"email":null}`} {
		want(t, s.call("pa-observer", "PUT", "/v1/me/notifications", []byte(body)), 422, "invalid-input", "email")
		if !emailOn() {
			t.Fatalf("%s turned email off", body)
		}
	}
	r := s.call("pa-observer", "PUT", "/v1/me/notifications", NotificationPreferences{Email: false})
	want(t, r, 200)
	if got := strings.TrimSpace(string(r.body)); got != `{"email":false,"digest_hour":null}` || emailOn() {
		t.Fatalf("turning email off answered %s", got)
	}
	want(t, s.call("pa-observer", "PUT", "/v1/me/notifications", []byte(`{}`)), 422, "invalid-input", "email")
	if emailOn() {
		t.Fatal("a refused body turned email back on")
	}
	want(t, s.call("pa-observer", "PUT", "/v1/me/notifications", []byte(`{"email":"no"}`)), 422, "invalid-input", "email")
	want(t, s.call("pa-observer", "PUT", "/v1/me/notifications", NotificationPreferences{Email: true}), 200)
	if !emailOn() {
		t.Fatal("email is still off")
	}
}

// The choice between a mail per notice and a daily digest: read back with
// GET, kept when a client sends only email, refused out of range without
// changing anything, and left with null.
func TestNotificationPreferencesChooseADigest(t *testing.T) {
	s := newStoreStack(t)
	body := func(r reply) string { return strings.TrimSpace(string(r.body)) }
	stored := func() store.NotificationPreferences {
		t.Helper()
		p, err := s.st.NotificationPreferences(context.Background(), "pa-observer")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	r := s.call("pa-observer", "GET", "/v1/me/notifications", nil)
	want(t, r, 200)
	if body(r) != `{"email":true,"digest_hour":null}` {
		t.Fatalf("a new principal's preferences: %s", body(r))
	}
	r = s.call("pa-observer", "PUT", "/v1/me/notifications", []byte(`{"email":true,"digest_hour":8}`))
	want(t, r, 200)
	if body(r) != `{"email":true,"digest_hour":8}` {
		t.Fatalf("choosing a digest at 8 answered %s", body(r))
	}
	if p := stored(); !p.Email || p.DigestHour == nil || *p.DigestHour != 8 {
		t.Fatalf("stored %+v", p)
	}
	if r = s.call("pa-observer", "GET", "/v1/me/notifications", nil); body(r) != `{"email":true,"digest_hour":8}` {
		t.Fatalf("GET after choosing a digest at 8: %s", body(r))
	}
	// A client that knows only email keeps the digest as it is.
	for _, b := range []string{`{"email":false}`, `{"email":true}`} {
		r = s.call("pa-observer", "PUT", "/v1/me/notifications", []byte(b))
		want(t, r, 200)
		if !strings.Contains(body(r), `"digest_hour":8`) {
			t.Fatalf("%s answered %s; want the digest hour kept", b, body(r))
		}
	}
	for _, b := range []string{`{"email":true,"digest_hour":24}`, `{"email":true,"digest_hour":-1}`,
		`{"email":true,"digest_hour":8.5}`, `{"email":true,"digest_hour":"8"}`, `{"email":true,"digest_hour":true}`} {
		want(t, s.call("pa-observer", "PUT", "/v1/me/notifications", []byte(b)), 422, "invalid-input", "digest_hour")
		if p := stored(); !p.Email || p.DigestHour == nil || *p.DigestHour != 8 {
			t.Fatalf("the refused %s changed the preferences to %+v", b, p)
		}
	}
	r = s.call("pa-observer", "PUT", "/v1/me/notifications", []byte(`{"email":true,"digest_hour":0}`))
	if want(t, r, 200); body(r) != `{"email":true,"digest_hour":0}` {
		t.Fatalf("midnight answered %s", body(r))
	}
	r = s.call("pa-observer", "PUT", "/v1/me/notifications", []byte(`{"email":true,"digest_hour":null}`))
	if want(t, r, 200); body(r) != `{"email":true,"digest_hour":null}` || stored().DigestHour != nil {
		t.Fatalf("leaving the digest answered %s, stored %+v", body(r), stored())
	}
	want(t, s.call("", "GET", "/v1/me/notifications", nil), 401, "unauthenticated")
}
