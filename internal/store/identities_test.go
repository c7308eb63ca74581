package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"pacto/internal/store"
)

const issuer = "https://idp.pa.example"

// An identity names one principal: linking it again to the same one is no
// change, to another is a conflict; unknown principals and values the
// schema refuses are told apart.
func TestLinkIdentity(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	id, created, err := st.LinkIdentity(ctx, issuer, "sub-1", "pa-approver")
	if err != nil || !created || id.Principal != "pa-approver" || id.CreatedAt.IsZero() {
		t.Fatalf("first link: %+v %v %v", id, created, err)
	}
	again, created, err := st.LinkIdentity(ctx, issuer, "sub-1", "pa-approver")
	if err != nil || created || !again.CreatedAt.Equal(id.CreatedAt) {
		t.Fatalf("the same link again: %+v %v %v", again, created, err)
	}
	if _, _, err := st.LinkIdentity(ctx, issuer, "sub-1", "pa-observer"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the identity linked to another principal: %v", err)
	}
	// The same subject at another issuer is another person.
	if _, created, err := st.LinkIdentity(ctx, "https://idp.us.example", "sub-1", "us-approver"); err != nil || !created {
		t.Fatalf("same subject, other issuer: %v %v", created, err)
	}
	if _, _, err := st.LinkIdentity(ctx, issuer, "sub-2", "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown principal: %v", err)
	}
	if _, _, err := st.LinkIdentity(ctx, issuer, strings.Repeat("s", 256), "pa-approver"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a subject over 255 characters: %v", err)
	}
	if _, _, err := st.LinkIdentity(ctx, "", "sub-3", "pa-approver"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("an empty issuer: %v", err)
	}
	p, err := st.IdentityPrincipal(ctx, issuer, "sub-1")
	if err != nil || p.ID != "pa-approver" || p.Party != "PA" {
		t.Fatalf("identity principal: %+v %v", p, err)
	}
	if _, err := st.IdentityPrincipal(ctx, issuer, "sub-9"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unlinked identity: %v", err)
	}
	ids, err := st.Identities(ctx, "pa-approver")
	if err != nil || len(ids) != 1 || ids[0].Subject != "sub-1" {
		t.Fatalf("identities: %+v %v", ids, err)
	}
	// A disabled principal is still found, so that the console can say
	// why it refuses them.
	if err := st.DisablePrincipal(ctx, "pa-approver"); err != nil {
		t.Fatal(err)
	}
	if p, err := st.IdentityPrincipal(ctx, issuer, "sub-1"); err != nil || p.Disabled == nil {
		t.Fatalf("disabled principal's identity: %+v %v", p, err)
	}
}

// Email matching finds only enabled principals of the party, whatever the
// case of the address.
func TestPrincipalsByEmail(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	for _, p := range []store.Principal{
		{ID: "ana", Party: "PA", Roles: []string{"observer"}, Name: "Ana", Email: "Ana.Perez@pa.example", Language: "es"},
		{ID: "ana-us", Party: "US", Roles: []string{"observer"}, Name: "Ana", Email: "ana.perez@pa.example", Language: "en"},
		{ID: "gone", Party: "PA", Roles: []string{"observer"}, Name: "Gone", Email: "gone@pa.example", Language: "es"},
	} {
		if _, err := st.CreatePrincipal(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.DisablePrincipal(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	ps, err := st.PrincipalsByEmail(ctx, "PA", "ana.perez@PA.example")
	if err != nil || len(ps) != 1 || ps[0].ID != "ana" {
		t.Fatalf("by email: %+v %v", ps, err)
	}
	for _, email := range []string{"gone@pa.example", ""} {
		if ps, err := st.PrincipalsByEmail(ctx, "PA", email); err != nil || len(ps) != 0 {
			t.Fatalf("by email %q: %+v %v", email, ps, err)
		}
	}
}

// A sign-in under way is found by its state once, and not after it
// expires.
func TestSignInsAreTakenOnce(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	in := store.SignIn{Party: "PA", Nonce: "n", Verifier: "v", Next: "/inbox"}
	if err := st.StartSignIn(ctx, "state-1", in, t0, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.StartSignIn(ctx, "state-2", in, t0, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := st.TakeSignIn(ctx, "state-1", t0.Add(time.Minute))
	if err != nil || got != in {
		t.Fatalf("take: %+v %v", got, err)
	}
	if _, err := st.TakeSignIn(ctx, "state-1", t0.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("taken twice: %v", err)
	}
	if _, err := st.TakeSignIn(ctx, "state-2", t0.Add(11*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("taken after expiry: %v", err)
	}
	// Starting another forgets those that expired.
	if err := st.StartSignIn(ctx, "state-3", in, t0.Add(11*time.Minute), t0.Add(21*time.Minute)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.Pool().QueryRow(ctx, "SELECT count(*) FROM signin_flows").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d sign-ins kept, want 1: %v", n, err)
	}
}
