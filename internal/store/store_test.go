package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/pgtest"
	"pacto/internal/store"
)

func TestMain(m *testing.M) {
	pgtest.SetTemplateSetup(store.Migrate)
	pgtest.Main(m)
}

// t0 has nanoseconds, which PostgreSQL's timestamps do not keep.
var t0 = time.Date(2027, 1, 4, 15, 0, 0, 123456789, time.UTC)

// seeded opens a fresh database with two parties, a dialogue and a
// principal of each role per party.
func seeded(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	for _, p := range []store.Party{{Code: "PA", Name: "Panamá", TimeZone: "America/Panama", Language: "es"}, {Code: "US", Name: "United States", TimeZone: "America/New_York", Language: "en"}} {
		if _, err := st.CreateParty(ctx, p); err != nil {
			t.Fatal(err)
		}
		for _, role := range []string{"coordinator", "approver", "observer"} {
			id := map[string]string{"PA": "pa-", "US": "us-"}[p.Code] + role
			if _, err := st.CreatePrincipal(ctx, store.Principal{ID: id, Party: p.Code, Roles: []string{role}, Name: id, Language: p.Language}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := st.CreateDialogue(ctx, store.Dialogue{ID: "hld", Name: "High-Level Dialogue", Parties: []string{"PA", "US"}}); err != nil {
		t.Fatal(err)
	}
	return st
}

func actor(id string, party lifecycle.PartyCode, role lifecycle.Role) lifecycle.Principal {
	return lifecycle.Principal{ID: id, Party: party, Roles: []lifecycle.Role{role}}
}

// history is a real sequence of changes made by the core: proposal, PA's
// approval, US's approval (which activates).
func history(t testing.TB) [][]lifecycle.Event {
	t.Helper()
	return historyOf(t, "act-1")
}

// historyOf is history for an activity of the given id.
func historyOf(t testing.TB, id string) [][]lifecycle.Event {
	t.Helper()
	var s lifecycle.State
	var out [][]lifecycle.Event
	step := func(c lifecycle.Command, a lifecycle.Principal, at time.Time) {
		evs, err := lifecycle.Decide(s, c, a, at)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			s = lifecycle.Apply(s, e)
		}
		out = append(out, evs)
	}
	step(lifecycle.Propose{ActivityID: id, Dialogue: "hld",
		DialogueParties: []lifecycle.Party{{Code: "PA", TimeZone: "America/Panama"}, {Code: "US", TimeZone: "America/New_York"}},
		Parties:         []lifecycle.PartyCode{"PA", "US"}, Title: lifecycle.Plain("Customs training"),
		Milestones: []lifecycle.MilestoneSpec{{Title: lifecycle.Plain("Cohort"), Owner: "PA", Due: "P30D"}}},
		actor("pa-coordinator", "PA", lifecycle.RoleCoordinator), t0)
	step(lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove}, actor("pa-approver", "PA", lifecycle.RoleApprover), t0.Add(time.Hour))
	step(lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove}, actor("us-approver", "US", lifecycle.RoleApprover), t0.Add(2*time.Hour))
	return out
}

// snapshotAfter folds the first n changes.
func snapshotAfter(changes [][]lifecycle.Event, n int) lifecycle.State {
	var s lifecycle.State
	for _, evs := range changes[:n] {
		for _, e := range evs {
			s = lifecycle.Apply(s, e)
		}
	}
	return s
}

func count(t *testing.T, st *store.Store, sql string) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRecordIsIdempotentAndOrdered(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	changes := history(t)

	first := snapshotAfter(changes, 1)
	for range 2 { // a retried Record changes nothing
		if err := st.Record(ctx, first, changes[0]); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, st, "SELECT count(*) FROM audit_events"); n != 1 {
		t.Fatalf("%d audit events after a repeated record, want 1", n)
	}
	// The proposal asks both approvers; the proposer is not told of their own act.
	if n := count(t, st, "SELECT count(*) FROM notifications WHERE kind = 'proposed'"); n != 2 {
		t.Fatalf("%d approval requests, want one per approver", n)
	}

	last := snapshotAfter(changes, 3)
	if err := st.Record(ctx, last, append(append([]lifecycle.Event{}, changes[1]...), changes[2]...)); err != nil {
		t.Fatal(err)
	}
	// A late Record of an older change must not overwrite newer state.
	if err := st.Record(ctx, snapshotAfter(changes, 2), changes[1]); err != nil {
		t.Fatal(err)
	}
	got, err := st.Activity(ctx, "act-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != lifecycle.StatusActive || got.Seq != last.Seq {
		t.Fatalf("stored %s at seq %d; want active at %d", got.Status, got.Seq, last.Seq)
	}
	if n := count(t, st, "SELECT count(*) FROM audit_events"); int64(n) != last.Seq {
		t.Fatalf("%d audit events, want %d", n, last.Seq)
	}
	if n := count(t, st, "SELECT count(*) FROM approvals WHERE decision = 'approve'"); n != 2 {
		t.Fatalf("%d approvals stored, want 2", n)
	}
	if n := count(t, st, "SELECT count(*) FROM milestones WHERE status = 'open' AND due_at IS NOT NULL"); n != 1 {
		t.Fatalf("%d open milestones with a due time, want 1", n)
	}
	// Activation tells every coordinator; nobody hears twice.
	if n := count(t, st, "SELECT count(*) FROM notifications WHERE kind = 'activated'"); n != 2 {
		t.Fatalf("%d activation notices, want 2", n)
	}
	if n := count(t, st, "SELECT count(*) FROM (SELECT key FROM notifications GROUP BY key HAVING count(*) > 1) d"); n != 0 {
		t.Fatal("duplicate notifications")
	}
	// A gap in the events is refused rather than recorded.
	bogus := changes[2][0]
	bogus.Seq = last.Seq + 5
	if err := st.Record(ctx, last, []lifecycle.Event{bogus}); err == nil {
		t.Fatal("a record that leaves a gap in the audit log was accepted")
	}
}

// Record's writes go to the database together: one that fails undoes
// those before it, and the error names it. So does a gap in the events,
// found after the newer snapshot was written. A retry once the cause is
// gone records the change whole.
func TestRecordThatFailsWritesNothing(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	if _, err := st.Pool().Exec(ctx, "UPDATE principals SET email = id || '@example.org'"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateWebhookSubscription(ctx, store.WebhookSubscription{ID: "hook", URL: "https://example.org/hook"}, "whsec_test"); err != nil {
		t.Fatal(err)
	}
	changes := history(t)
	if err := st.Record(ctx, snapshotAfter(changes, 1), changes[0]); err != nil {
		t.Fatal(err)
	}
	written := func() [5]int {
		return [5]int{
			count(t, st, "SELECT count(*) FROM audit_events"),
			count(t, st, "SELECT seq FROM activities WHERE id = 'act-1'"),
			count(t, st, "SELECT count(*) FROM approvals WHERE decision = 'approve'"),
			count(t, st, "SELECT count(*) FROM notifications"),
			count(t, st, "SELECT count(*) FROM deliveries WHERE channel = 'email'"),
		}
	}
	before := written()

	// The webhook's row is among the last of the writes.
	if _, err := st.Pool().Exec(ctx, "ALTER TABLE deliveries ADD CONSTRAINT no_webhooks CHECK (channel <> 'webhook') NOT VALID"); err != nil {
		t.Fatal(err)
	}
	err := st.Record(ctx, snapshotAfter(changes, 2), changes[1])
	if err == nil || !strings.HasPrefix(err.Error(), "enqueue webhook hook for act-1/2: ") {
		t.Fatalf("record with a refused webhook row: %v; want the webhook named", err)
	}
	if got := written(); got != before {
		t.Fatalf("a failed record left rows: audit, seq, approvals, inbox, emails went from %v to %v", before, got)
	}

	bogus := changes[1][0]
	bogus.Seq += 5
	if err := st.Record(ctx, snapshotAfter(changes, 2), []lifecycle.Event{bogus}); err == nil || !strings.Contains(err.Error(), "gap") {
		t.Fatalf("record with a gap: %v", err)
	}
	if got := written(); got != before {
		t.Fatalf("a record refused for a gap left rows: audit, seq, approvals, inbox, emails went from %v to %v", before, got)
	}

	if _, err := st.Pool().Exec(ctx, "ALTER TABLE deliveries DROP CONSTRAINT no_webhooks"); err != nil {
		t.Fatal(err)
	}
	if err := st.Record(ctx, snapshotAfter(changes, 2), changes[1]); err != nil {
		t.Fatal(err)
	}
	after := written()
	for i, what := range []string{"audit events", "seq", "approvals", "inbox rows", "emails"} {
		if after[i] <= before[i] {
			t.Errorf("the retry wrote no %s (%d before, %d after): the failed record had nothing of them to undo", what, before[i], after[i])
		}
	}
	if n := count(t, st, "SELECT count(*) FROM deliveries WHERE channel = 'webhook' AND seq = 2"); n != 1 {
		t.Errorf("%d webhook rows for the approval, want 1", n)
	}
	if v, err := st.VerifyAudit(ctx, "act-1"); err != nil || !v.Valid || v.Events != 2 {
		t.Fatalf("audit after the retry: %+v, %v", v, err)
	}
}

func TestAuditChainDetectsTampering(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	changes := history(t)
	all := append(append(append([]lifecycle.Event{}, changes[0]...), changes[1]...), changes[2]...)
	if err := st.Record(ctx, snapshotAfter(changes, 3), all); err != nil {
		t.Fatal(err)
	}
	v, err := st.VerifyAudit(ctx, "act-1")
	if err != nil {
		t.Fatal(err)
	}
	if !v.Valid || v.Events != len(all) || len(v.Head) != 32 {
		t.Fatalf("untouched chain: %+v", v)
	}
	// The table refuses edits outright.
	if _, err := st.Pool().Exec(ctx, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2"); err == nil {
		t.Fatal("audit_events accepted an UPDATE")
	}
	if _, err := st.Pool().Exec(ctx, "DELETE FROM audit_events WHERE seq = 3"); err == nil {
		t.Fatal("audit_events accepted a DELETE")
	}
	// Someone with the power to disable the guard rewrites an approval:
	// verification names the row.
	if _, err := st.Pool().Exec(ctx, `ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update;
		UPDATE audit_events SET content = replace(content, '"pa-approver"', '"mallory"') WHERE seq = 2;
		ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update`); err != nil {
		t.Fatal(err)
	}
	v, err = st.VerifyAudit(ctx, "act-1")
	if err != nil {
		t.Fatal(err)
	}
	if v.Valid || v.BrokenAt != 2 {
		t.Fatalf("tampered chain reported %+v; want broken at 2", v)
	}
}

func TestListActivitiesFiltersAndPages(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	changes := history(t)
	base := snapshotAfter(changes, 1)
	// Five proposals a minute apart; two of them active.
	for i := range 5 {
		s := base
		s.ID = "act-" + string(rune('a'+i))
		s.ProposedAt = t0.Add(time.Duration(i) * time.Minute)
		s.Title = lifecycle.Plain([]string{"Customs training", "Port security", "Customs data", "Trade fair", "Health"}[i])
		events := []lifecycle.Event{changes[0][0]}
		if i%2 == 1 {
			s = snapshotAfter(changes, 3)
			s.ID, s.ProposedAt, s.Title = "act-"+string(rune('a'+i)), t0.Add(time.Duration(i)*time.Minute), lifecycle.Plain("Port security")
			events = append(append(append([]lifecycle.Event{}, changes[0]...), changes[1]...), changes[2]...)
		}
		if err := st.Record(ctx, s, events); err != nil {
			t.Fatal(err)
		}
	}
	page, next, err := st.ListActivities(ctx, store.Filter{VisibleTo: "PA", Limit: 2, Now: t0})
	if err != nil || len(page) != 2 || next == nil || page[0].ID != "act-e" || page[1].ID != "act-d" {
		t.Fatalf("first page %v next %v err %v", ids(page), next, err)
	}
	page, next, _ = st.ListActivities(ctx, store.Filter{VisibleTo: "PA", Limit: 2, After: next, Now: t0})
	if len(page) != 2 || page[0].ID != "act-c" {
		t.Fatalf("second page %v", ids(page))
	}
	page, next, _ = st.ListActivities(ctx, store.Filter{VisibleTo: "PA", Limit: 2, After: next, Now: t0})
	if len(page) != 1 || next != nil {
		t.Fatalf("last page %v next %v", ids(page), next)
	}
	active, _, _ := st.ListActivities(ctx, store.Filter{Status: "active", Now: t0, Limit: 50})
	if len(active) != 2 {
		t.Fatalf("active: %v", ids(active))
	}
	customs, _, _ := st.ListActivities(ctx, store.Filter{Text: "customs", Now: t0, Limit: 50})
	if len(customs) != 2 {
		t.Fatalf("text search: %v", ids(customs))
	}
	pending, _, _ := st.ListActivities(ctx, store.Filter{PendingParty: "US", Now: t0, Limit: 50})
	if len(pending) != 3 {
		t.Fatalf("pending US: %v", ids(pending))
	}
	// Status and pending party together are one condition on the pair.
	for _, c := range []struct {
		status, party string
		want          int
	}{{"proposed", "US", 3}, {"proposed", "PA", 3}, {"active", "US", 0}, {"completed", "US", 0}} {
		got, _, err := st.ListActivities(ctx, store.Filter{Status: c.status, PendingParty: c.party, Now: t0, Limit: 50})
		if err != nil || len(got) != c.want {
			t.Fatalf("%s pending %s: %v, want %d (err %v)", c.status, c.party, ids(got), c.want, err)
		}
	}
	// Thirty days after activation the milestone is overdue.
	overdue, _, _ := st.ListActivities(ctx, store.Filter{Overdue: true, Now: t0.Add(40 * 24 * time.Hour), Limit: 50})
	notYet, _, _ := st.ListActivities(ctx, store.Filter{Overdue: true, Now: t0.Add(24 * time.Hour), Limit: 50})
	if len(overdue) != 2 || len(notYet) != 0 {
		t.Fatalf("overdue later: %v; overdue now: %v", ids(overdue), ids(notYet))
	}
	invisible, _, _ := st.ListActivities(ctx, store.Filter{VisibleTo: "MX", Now: t0, Limit: 50})
	if len(invisible) != 0 {
		t.Fatalf("a party outside the activities sees %v", ids(invisible))
	}
}

func ids(ss []lifecycle.State) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}

func TestTokensAuthenticateAndRevoke(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	info, secret, err := st.CreateToken(ctx, "us-approver", "laptop")
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Authenticate(ctx, secret, t0)
	if err != nil || p.ID != "us-approver" || p.Party != "US" {
		t.Fatalf("authenticate: %+v %v", p, err)
	}
	if n := count(t, st, "SELECT count(*) FROM api_tokens WHERE last_used_at IS NOT NULL"); n != 1 {
		t.Fatal("last use not recorded")
	}
	var stored []byte
	if err := st.Pool().QueryRow(ctx, "SELECT secret_hash FROM api_tokens").Scan(&stored); err != nil || string(stored) == secret {
		t.Fatal("the secret itself is stored")
	}
	if _, err := st.Authenticate(ctx, secret+"x", t0); err != store.ErrBadToken {
		t.Fatalf("altered token: %v", err)
	}
	if err := st.RevokeToken(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(ctx, secret, t0); err != store.ErrBadToken {
		t.Fatalf("revoked token still authenticates: %v", err)
	}
	if err := st.RevokeToken(ctx, info.ID); err != store.ErrNotFound {
		t.Fatalf("second revoke: %v", err)
	}
}

// The relay's claim: every outbox row is handed on once, oldest first, in
// batches of at most max; a batch whose start fails stays for the next
// round; concurrent relays neither lose nor double-count rows.
func TestDispatchDeliveriesHandsEachRowOnOnce(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	if _, err := st.Pool().Exec(ctx, "UPDATE principals SET email = id || '@example.org'"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"act-1", "act-2", "act-3"} {
		changes := historyOf(t, id)
		for i := range changes {
			if err := st.Record(ctx, snapshotAfter(changes, i+1), changes[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	total := count(t, st, "SELECT count(*) FROM deliveries")
	if total < 12 {
		t.Fatalf("%d deliveries for 3 activities; want at least 12", total)
	}

	// A failed start leaves its rows for the next round.
	n, err := st.DispatchDeliveries(ctx, 5, func(context.Context, []string) error { return errors.New("temporal unavailable") })
	if err == nil || n != 0 || count(t, st, "SELECT count(*) FROM deliveries WHERE dispatched_at IS NOT NULL") != 0 {
		t.Fatalf("dispatch with a failing start: err %v, dispatched %d", err, n)
	}
	// The oldest five go first.
	var first []string
	if n, err = st.DispatchDeliveries(ctx, 5, func(_ context.Context, ids []string) error { first = ids; return nil }); err != nil || n != 5 {
		t.Fatalf("first batch: %d, %v", n, err)
	}
	var oldest []string
	rows, err := st.Pool().Query(ctx, "SELECT id FROM deliveries ORDER BY created_at, id LIMIT 5")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		oldest = append(oldest, id)
	}
	if !slices.Equal(first, oldest) {
		t.Fatalf("first batch %v, want the oldest rows %v", first, oldest)
	}

	// Two relays at once take the rest between them, each row once.
	var mu sync.Mutex
	seen := map[string]int{}
	for _, id := range first {
		seen[id]++
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := st.DispatchDeliveries(ctx, 3, func(_ context.Context, ids []string) error {
					mu.Lock()
					defer mu.Unlock()
					for _, id := range ids {
						seen[id]++
					}
					time.Sleep(10 * time.Millisecond)
					return nil
				})
				if err != nil {
					t.Error(err)
				}
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != total {
		t.Fatalf("handed on %d distinct rows, want %d", len(seen), total)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("row %s handed on %d times", id, k)
		}
	}
}

// A waiter is woken by Record's notification (with polling switched off),
// and gives up after its time when the sequence never comes.
func TestWaitRecordedWakesOnTheCommit(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	defer store.SetWatchPoll(time.Hour)()
	changes := history(t)
	got := make(chan bool, 1)
	go func() { got <- st.WaitRecorded(ctx, "act-1", 2, 20*time.Second) }()
	time.Sleep(200 * time.Millisecond) // the waiter is listening by now
	for i := range 2 {
		if err := st.Record(ctx, snapshotAfter(changes, i+1), changes[i]); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case ok := <-got:
		if !ok {
			t.Fatal("WaitRecorded gave up although seq 2 was recorded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the commit's notification did not wake the waiter")
	}
	start := time.Now()
	if st.WaitRecorded(ctx, "act-1", 99, 300*time.Millisecond) {
		t.Fatal("WaitRecorded reported a sequence that was never recorded")
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
		t.Fatalf("gave up after %s, want about 300ms", d)
	}
}

// Notifications carry the names people read: the actor's, the party's,
// and the milestone's title.
func TestNotificationsNamePeopleAndParties(t *testing.T) {
	st := seeded(t)
	ctx := context.Background()
	if _, err := st.Pool().Exec(ctx, "UPDATE principals SET name = 'Ana Pérez' WHERE id = 'pa-approver'"); err != nil {
		t.Fatal(err)
	}
	changes := history(t)
	for i := range changes {
		if err := st.Record(ctx, snapshotAfter(changes, i+1), changes[i]); err != nil {
			t.Fatal(err)
		}
	}
	ns, _, err := st.Inbox(ctx, "us-coordinator", false, nil, 50)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range ns {
		var c store.NotificationContent
		if err := json.Unmarshal(n.Content, &c); err != nil {
			t.Fatal(err)
		}
		if c.Event == lifecycle.EventApproved && c.Actor == "pa-approver" {
			found = true
			if c.ActorName != "Ana Pérez" || c.PartyName != "Panamá" || c.MilestoneTitle != nil {
				t.Errorf("approval names %q of %q (milestone %v); want the principal's and the party's names", c.ActorName, c.PartyName, c.MilestoneTitle)
			}
		}
	}
	if !found {
		t.Fatalf("no approval by pa-approver in the US coordinator's inbox: %+v", ns)
	}
}

// A dialogue's authentic languages are its parties' by default, and must
// include each party's language when given.
func TestDialogueLanguages(t *testing.T) {
	st := seeded(t)
	ctx := context.Background()
	ds, err := st.Dialogues(ctx)
	if err != nil || len(ds) != 1 || !slices.Equal(ds[0].Languages, []string{"en", "es"}) {
		t.Fatalf("seeded dialogue languages %+v (%v); want its parties' en and es", ds, err)
	}
	d, err := st.CreateDialogue(ctx, store.Dialogue{ID: "hld-2", Name: "Second", Parties: []string{"PA", "US"}, Languages: []string{"es", "en"}})
	if err != nil || !slices.Equal(d.Languages, []string{"es", "en"}) {
		t.Fatalf("given languages: %+v, %v", d, err)
	}
	_, err = st.CreateDialogue(ctx, store.Dialogue{ID: "hld-3", Name: "Third", Parties: []string{"PA", "US"}, Languages: []string{"es"}})
	var le *store.LanguageError
	if !errors.As(err, &le) || le.Party != "US" || le.Language != "en" || !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a dialogue without its US party's English: %v; want a LanguageError naming US and en", err)
	}
	if n := count(t, st, "SELECT count(*) FROM dialogues WHERE id = 'hld-3'"); n != 0 {
		t.Fatalf("the refused dialogue was stored")
	}
}
