package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// life decides commands on one activity with the core and records each
// change in the store, as the workflow would.
type life struct {
	t   *testing.T
	st  *store.Store
	s   lifecycle.State
	now time.Time
}

func (l *life) do(cmd lifecycle.Command, who lifecycle.Principal) {
	l.t.Helper()
	l.now = l.now.Add(time.Hour)
	events, err := lifecycle.Decide(l.s, cmd, who, l.now)
	if err != nil {
		l.t.Fatalf("%s by %s: %v", cmd.CommandName(), who.ID, err)
	}
	for _, e := range events {
		l.s = lifecycle.Apply(l.s, e)
	}
	if err := l.st.Record(context.Background(), l.s, events); err != nil {
		l.t.Fatal(err)
	}
}

var (
	paApprover = actor("pa-approver", "PA", lifecycle.RoleApprover)
	usApprover = actor("us-approver", "US", lifecycle.RoleApprover)
	paCoord    = actor("pa-coordinator", "PA", lifecycle.RoleCoordinator)
)

// activeLife proposes and activates activity id, its milestone m1 owned
// by PA.
func activeLife(t *testing.T, st *store.Store, id string) *life {
	l := &life{t: t, st: st, now: t0}
	l.do(lifecycle.Propose{ActivityID: id, Dialogue: "hld", Rules: lifecycle.CurrentRules,
		DialogueParties: []lifecycle.Party{{Code: "PA", TimeZone: "America/Panama", Language: "es"}, {Code: "US", TimeZone: "America/New_York", Language: "en"}},
		Parties:         []lifecycle.PartyCode{"PA", "US"}, Title: lifecycle.Text{"es": "Capacitación aduanera", "en": "Customs training"},
		Milestones: []lifecycle.MilestoneSpec{{ID: "m1", Title: lifecycle.Text{"es": "Cohorte", "en": "Cohort"}, Owner: "PA", Due: "P30D"}}}, paCoord)
	l.do(lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove}, paApprover)
	l.do(lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove}, usApprover)
	return l
}

func consentBy(who lifecycle.Principal, l *life) {
	l.t.Helper()
	l.do(lifecycle.DecidePublication{Version: l.s.Version, Decision: lifecycle.PublicationConsent}, who)
}

func publishedIDs(t *testing.T, st *store.Store, dialogue string, limit int) []string {
	t.Helper()
	var ids []string
	after := ""
	for {
		page, next, err := st.PublishedPage(context.Background(), dialogue, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page {
			ids = append(ids, a.ID)
		}
		if next == "" {
			return ids
		}
		after = next
	}
}

func TestOnlyActivitiesEveryPartyConsentsToArePublished(t *testing.T) {
	st := seeded(t)
	a := activeLife(t, st, "act-a")
	consentBy(paApprover, a)
	if ids := publishedIDs(t, st, "hld", 10); len(ids) != 0 {
		t.Fatalf("published %v with one consent of two", ids)
	}
	consentBy(usApprover, a)
	b := activeLife(t, st, "act-b")
	consentBy(usApprover, b)
	consentBy(paApprover, b)
	c := activeLife(t, st, "act-c")
	consentBy(usApprover, c)
	if ids := publishedIDs(t, st, "hld", 1); !slices.Equal(ids, []string{"act-a", "act-b"}) {
		t.Fatalf("published %v, want act-a and act-b, page by page", ids)
	}
	if n := count(t, st, "SELECT count(*) FROM activities WHERE published"); n != 2 {
		t.Fatalf("%d rows marked published, want 2", n)
	}
	a.do(lifecycle.DecidePublication{Version: 1, Decision: lifecycle.PublicationWithdraw}, usApprover)
	if ids := publishedIDs(t, st, "hld", 10); !slices.Equal(ids, []string{"act-b"}) {
		t.Fatalf("published %v after act-a's consent was withdrawn, want act-b", ids)
	}
	if ids := publishedIDs(t, st, "other", 10); len(ids) != 0 {
		t.Fatalf("another dialogue publishes %v", ids)
	}
}

// The export's page carries every evidence link the audit log holds,
// though the snapshot keeps only the latest five of a milestone.
func TestPublishedPageCarriesEveryEvidenceLink(t *testing.T) {
	st := seeded(t)
	l := activeLife(t, st, "act-e")
	var want []string
	for i := range 4 {
		links := []string{fmt.Sprintf("https://example.org/%d-a.pdf", i), fmt.Sprintf("https://example.org/%d-b", i)}
		want = append(want, links...)
		l.do(lifecycle.ReportProgress{MilestoneID: "m1", Evidence: links}, paCoord)
	}
	l.do(lifecycle.CompleteMilestone{MilestoneID: "m1", Evidence: []string{"https://example.org/final.pdf"}}, paCoord)
	want = append(want, "https://example.org/final.pdf")
	if len(l.s.Milestones[0].Evidence) >= len(want) {
		t.Fatalf("the snapshot keeps %d links; the test needs it to keep fewer than %d", len(l.s.Milestones[0].Evidence), len(want))
	}
	consentBy(paApprover, l)
	consentBy(usApprover, l)
	page, _, err := st.PublishedPage(context.Background(), "hld", "", 10)
	if err != nil || len(page) != 1 {
		t.Fatalf("page %v, %v", page, err)
	}
	var got []string
	for _, e := range page[0].Evidence {
		if e.Milestone != "m1" || e.At.IsZero() {
			t.Fatalf("evidence %+v", e)
		}
		got = append(got, e.URL)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("evidence %v, want %v", got, want)
	}
	if page[0].State.Status != lifecycle.StatusCompleted || !page[0].LastEventAt.Equal(l.now.Truncate(time.Microsecond)) {
		t.Fatalf("status %s last event %s, want completed at %s", page[0].State.Status, page[0].LastEventAt, l.now)
	}
}

// Once an activity has ended its workflow records nothing more; a
// publication decision is recorded in the read model, chained in its
// audit log, and a late Record of an earlier change undoes nothing.
func TestDecideEndedRecordsAfterTheEnd(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	l := activeLife(t, st, "act-end")
	decide := func(who lifecycle.Principal, d lifecycle.PublicationDecision) func(lifecycle.State) ([]lifecycle.Event, error) {
		return func(s lifecycle.State) ([]lifecycle.Event, error) {
			return lifecycle.Decide(s, lifecycle.DecidePublication{Version: s.Version, Decision: d}, who, l.now.Add(time.Hour))
		}
	}
	if _, err := st.DecideEnded(ctx, "act-end", decide(usApprover, lifecycle.PublicationConsent)); !errors.Is(err, store.ErrNotEnded) {
		t.Fatalf("on an active activity: %v, want ErrNotEnded", err)
	}
	before := l.s
	l.do(lifecycle.Cancel{Reason: "merged"}, paApprover)
	for _, who := range []lifecycle.Principal{usApprover, paApprover} {
		if _, err := st.DecideEnded(ctx, "act-end", decide(who, lifecycle.PublicationConsent)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.DecideEnded(ctx, "act-end", decide(usApprover, lifecycle.PublicationConsent)); lifecycle.KindOf(err) != lifecycle.KindInvalidTransition {
		t.Fatalf("a second consent: %v, want the core's refusal", err)
	}
	if _, err := st.DecideEnded(ctx, "act-none", decide(usApprover, lifecycle.PublicationConsent)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown activity: %v", err)
	}
	// A retried Record from the ended run arrives late.
	if err := st.Record(ctx, l.s, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.Record(ctx, before, nil); err != nil {
		t.Fatal(err)
	}
	got, err := st.Activity(ctx, "act-end")
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != l.s.Seq+2 || !lifecycle.Published(got) || got.Status != lifecycle.StatusCancelled {
		t.Fatalf("seq %d (want %d) published %v status %s", got.Seq, l.s.Seq+2, lifecycle.Published(got), got.Status)
	}
	if v, err := st.VerifyAudit(ctx, "act-end"); err != nil || !v.Valid || v.Events != int(got.Seq) {
		t.Fatalf("audit %+v, %v", v, err)
	}
	if ids := publishedIDs(t, st, "hld", 10); !slices.Equal(ids, []string{"act-end"}) {
		t.Fatalf("published %v", ids)
	}
}

func TestIATISettings(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	p, err := st.SetPartyIATI(ctx, "PA", "XM-DAC-12-1", "")
	if err != nil || p.IATIOrgRef != "XM-DAC-12-1" || p.IATIOrgType != store.DefaultIATIOrgType {
		t.Fatalf("party %+v, %v", p, err)
	}
	if _, err := st.SetPartyIATI(ctx, "ZZ", "XM-DAC-1", "10"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown party: %v", err)
	}
	if _, err := st.CreateParty(ctx, store.Party{Code: "MX", Name: "México", TimeZone: "America/Mexico_City", Language: "es", IATIOrgRef: "XM-DAC-18", IATIOrgType: "15"}); err != nil {
		t.Fatal(err)
	}
	in := store.DialogueIATI{ReportingParty: "PA", Sector: "15190", RecipientCountries: []string{"PA", "US"}}
	d, err := st.SetDialogueIATI(ctx, "hld", in)
	if err != nil || d.ReportingParty != "PA" || d.Sector != "15190" || !slices.Equal(d.RecipientCountries, in.RecipientCountries) {
		t.Fatalf("dialogue %+v, %v", d, err)
	}
	if _, err := st.SetDialogueIATI(ctx, "hld", store.DialogueIATI{ReportingParty: "MX"}); !errors.Is(err, store.ErrNotAParty) {
		t.Fatalf("a reporting party outside the dialogue: %v", err)
	}
	if _, err := st.SetDialogueIATI(ctx, "nope", in); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an unknown dialogue: %v", err)
	}
	if _, err := st.CreateDialogue(ctx, store.Dialogue{ID: "tri", Name: "Trilateral", Parties: []string{"PA", "US", "MX"},
		DialogueIATI: store.DialogueIATI{ReportingParty: "MX", Sector: "33120"}}); err != nil {
		t.Fatal(err)
	}
	frame, err := st.IATIDialogue(ctx, "tri")
	if err != nil || frame.ReportingParty != "MX" || frame.Sector != "33120" || len(frame.Parties) != 3 {
		t.Fatalf("frame %+v, %v", frame, err)
	}
	if mx, ok := frame.Party("MX"); !ok || mx.OrgRef != "XM-DAC-18" || mx.OrgType != "15" || mx.Name != "México" {
		t.Fatalf("MX in the frame: %+v", mx)
	}
	if _, err := st.CreateDialogue(ctx, store.Dialogue{ID: "bad", Name: "Bad", Parties: []string{"PA", "US"},
		DialogueIATI: store.DialogueIATI{ReportingParty: "MX"}}); !errors.Is(err, store.ErrNotAParty) {
		t.Fatalf("a dialogue reported by a party outside it: %v", err)
	}
	if _, err := st.IATIDialogue(ctx, "bad"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the refused dialogue was kept: %v", err)
	}
}
