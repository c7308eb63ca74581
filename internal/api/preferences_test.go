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
	if got := strings.TrimSpace(string(r.body)); got != `{"email":false}` || emailOn() {
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
