package console

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"pacto/internal/pgtest"
	"pacto/internal/store"
)

// The codec endpoint finds the person signed in to the console by the
// session cookie; an ended session or none finds nobody.
func TestSessionPrincipal(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if _, err := st.CreatePrincipal(ctx, store.Principal{ID: "admin", Roles: []string{"admin"}, Name: "Admin", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	c, err := New(Options{Store: st, Log: quietLogger(), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := st.CreateSession(ctx, "admin", "dev", now, c.sessions)
	if err != nil {
		t.Fatal(err)
	}
	request := func(cookie string) *http.Request {
		r, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://pacto.example/codec/decode", nil)
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
		}
		return r
	}
	if p, err := c.SessionPrincipal(request(secret)); err != nil || p.ID != "admin" || p.Roles[0] != "admin" {
		t.Fatalf("a live session: %+v, %v", p, err)
	}
	for name, cookie := range map[string]string{"no cookie": "", "an unknown secret": "pacto_s_unknown"} {
		if _, err := c.SessionPrincipal(request(cookie)); !errors.Is(err, store.ErrNoSession) {
			t.Errorf("%s: %v; want ErrNoSession", name, err)
		}
	}
	// Past the idle limit, the session has ended.
	now = now.Add(c.sessions.Idle + time.Minute)
	if _, err := c.SessionPrincipal(request(secret)); !errors.Is(err, store.ErrNoSession) {
		t.Fatalf("an idle session: %v; want ErrNoSession", err)
	}
}
