package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// The seeded dialogue's parties with the languages their people read.
var bilingualParties = []lifecycle.Party{
	{Code: "PA", TimeZone: "America/Panama", Language: "es"},
	{Code: "US", TimeZone: "America/New_York", Language: "en"},
}

// The texts of an activity written in both of its languages.
var (
	bilingualTitle     = lifecycle.Text{"es": "Capacitación aduanera", "en": "Customs training"}
	bilingualSummary   = lifecycle.Text{"es": "Formar al personal de aduanas", "en": "Train customs staff"}
	bilingualMilestone = lifecycle.Text{"es": "Taller en Colón", "en": "Workshop in Colón"}
)

// change is one decision's events with the state after them.
type change struct {
	state  lifecycle.State
	events []lifecycle.Event
}

// decideAll decides each step's command on the state the steps before it
// left, an hour apart.
func decideAll(t *testing.T, s lifecycle.State, steps ...func(lifecycle.State) (lifecycle.Command, lifecycle.Principal)) []change {
	t.Helper()
	var out []change
	for i, step := range steps {
		cmd, who := step(s)
		evs, err := lifecycle.Decide(s, cmd, who, t0.Add(time.Duration(i)*time.Hour))
		if err != nil {
			t.Fatalf("%s by %s: %v", cmd.CommandName(), who.ID, err)
		}
		for _, e := range evs {
			s = lifecycle.Apply(s, e)
		}
		out = append(out, change{s, evs})
	}
	return out
}

// bilingualHistory is activity id proposed by Panama (Spanish) under the
// current rules with every text in Spanish and English, approved by both
// parties, and its milestone completed.
func bilingualHistory(t *testing.T, id string) []change {
	t.Helper()
	return decideAll(t, lifecycle.State{},
		func(lifecycle.State) (lifecycle.Command, lifecycle.Principal) {
			return lifecycle.Propose{ActivityID: id, Dialogue: "hld", Rules: lifecycle.CurrentRules,
				DialogueParties: bilingualParties, Parties: []lifecycle.PartyCode{"PA", "US"},
				Title: bilingualTitle, Summary: bilingualSummary,
				Objectives: []lifecycle.Text{{"es": "Formar a 40 funcionarios", "en": "Train 40 officers"}},
				Milestones: []lifecycle.MilestoneSpec{{ID: "m1", Title: bilingualMilestone, Owner: "PA", Due: "P30D",
					Indicator: &lifecycle.Indicator{Target: 40, Unit: lifecycle.Text{"es": "personas", "en": "people"}}}},
			}, actor("pa-coordinator", "PA", lifecycle.RoleCoordinator)
		},
		func(s lifecycle.State) (lifecycle.Command, lifecycle.Principal) {
			return lifecycle.DecideProposal{Version: s.Version, Decision: lifecycle.DecisionApprove}, actor("pa-approver", "PA", lifecycle.RoleApprover)
		},
		func(s lifecycle.State) (lifecycle.Command, lifecycle.Principal) {
			return lifecycle.DecideProposal{Version: s.Version, Decision: lifecycle.DecisionApprove}, actor("us-approver", "US", lifecycle.RoleApprover)
		},
		func(lifecycle.State) (lifecycle.Command, lifecycle.Principal) {
			return lifecycle.CompleteMilestone{MilestoneID: "m1", Note: "40 personas formadas"}, actor("pa-coordinator", "PA", lifecycle.RoleCoordinator)
		},
	)
}

func recordChanges(t *testing.T, st *store.Store, changes []change) {
	t.Helper()
	for _, c := range changes {
		if err := st.Record(context.Background(), c.state, c.events); err != nil {
			t.Fatal(err)
		}
	}
}

// An activity with languages is found by the words of any of its
// languages, ignoring accents and case; its title columns hold the
// proposer's language and its snapshot every language.
func TestActivityWithLanguagesIsSearchedAndStoredInEveryLanguage(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	changes := bilingualHistory(t, "act-lang")
	recordChanges(t, st, changes[:1])
	// Another activity, which no search below may find.
	other := snapshotAfter(history(t), 1)
	other.ID, other.Title = "act-other", lifecycle.Plain("Port security")
	if err := st.Record(ctx, other, history(t)[0]); err != nil {
		t.Fatal(err)
	}

	for q, want := range map[string][]string{
		"capacitacion":                 {"act-lang"},
		"CUSTOMS":                      {"act-lang"},
		"Capacitación ADUANERA":        {"act-lang"},
		"customs training":             {"act-lang"},
		"formar al personal de aduana": {"act-lang"}, // the Spanish summary
		"TRAIN CUSTOMS STAFF":          {"act-lang"}, // the English summary
		"port security":                {"act-other"},
		"formacion":                    nil,
	} {
		got, _, err := st.ListActivities(ctx, store.Filter{Text: q, Now: t0, Limit: 50})
		if err != nil {
			t.Fatalf("q=%q: %v", q, err)
		}
		if gotIDs := ids(got); !slices.Equal(gotIDs, want) {
			t.Errorf("q=%q found %v, want %v", q, gotIDs, want)
		}
	}

	// The columns hold the proposer's (Panama's) Spanish, not the first
	// language in order (English).
	var title, summary, milestone string
	if err := st.Pool().QueryRow(ctx, `SELECT a.title, a.summary, m.title FROM activities a JOIN milestones m ON m.activity_id = a.id WHERE a.id = 'act-lang'`).
		Scan(&title, &summary, &milestone); err != nil {
		t.Fatal(err)
	}
	if title != "Capacitación aduanera" || summary != "Formar al personal de aduanas" || milestone != "Taller en Colón" {
		t.Errorf("columns hold %q, %q, %q; want the proposer's Spanish", title, summary, milestone)
	}

	// The snapshot keeps every language, keyed.
	want := changes[0].state
	for _, got := range []lifecycle.State{activity(t, st, "act-lang"), listed(t, st, "act-lang")} {
		if !got.Title.Equal(bilingualTitle) || !got.Summary.Equal(bilingualSummary) || len(got.Objectives) != 1 || !got.Objectives[0].Equal(want.Objectives[0]) {
			t.Errorf("snapshot texts %v, %v, %v; want %v, %v, %v", got.Title, got.Summary, got.Objectives, bilingualTitle, bilingualSummary, want.Objectives)
		}
		if len(got.Milestones) != 1 || !got.Milestones[0].Title.Equal(bilingualMilestone) || !got.Milestones[0].Indicator.Unit.Equal(lifecycle.Text{"es": "personas", "en": "people"}) {
			t.Errorf("snapshot milestones %+v", got.Milestones)
		}
		if !slices.Equal(got.Languages, []string{"en", "es"}) || !slices.Equal(got.Parties, want.Parties) || got.ContentHash != want.ContentHash {
			t.Errorf("snapshot languages %v, parties %+v, hash %s; want %v, %+v, %s", got.Languages, got.Parties, got.ContentHash, want.Languages, want.Parties, want.ContentHash)
		}
	}
	var keyed bool
	if err := st.Pool().QueryRow(ctx, `SELECT snapshot->'title' = '{"es": "Capacitación aduanera", "en": "Customs training"}'::jsonb FROM activities WHERE id = 'act-lang'`).Scan(&keyed); err != nil || !keyed {
		t.Errorf("the stored snapshot's title is not keyed by language (%v)", err)
	}
}

// A milestone's notification, in the inbox and in the outbox of mails and
// webhooks, carries the activity's and the milestone's titles in every
// language, so that each reader reads their own.
func TestNotificationsCarryEveryLanguage(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	if _, err := st.Pool().Exec(ctx, "UPDATE principals SET email = id || '@example.org'"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateWebhookSubscription(ctx, store.WebhookSubscription{ID: "hook", URL: "https://hooks.example.org/pacto"}, "whsec_test"); err != nil {
		t.Fatal(err)
	}
	changes := bilingualHistory(t, "act-lang")
	recordChanges(t, st, changes)
	var completed lifecycle.Event
	for _, e := range changes[3].events {
		if e.Type == lifecycle.EventMilestoneCompleted {
			completed = e
		}
	}
	if completed.Seq == 0 {
		t.Fatalf("no milestone_completed among %+v", changes[3].events)
	}

	check := func(where string, c store.NotificationContent) {
		t.Helper()
		if c.Event != lifecycle.EventMilestoneCompleted || c.Milestone != "m1" {
			t.Fatalf("%s: content of %s on %q", where, c.Event, c.Milestone)
		}
		if !c.Title.Equal(bilingualTitle) || !c.MilestoneTitle.Equal(bilingualMilestone) {
			t.Errorf("%s: titles %v and %v; want %v and %v", where, c.Title, c.MilestoneTitle, bilingualTitle, bilingualMilestone)
		}
	}
	ns, _, err := st.Inbox(ctx, "us-coordinator", false, nil, 50)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range ns {
		if n.Seq != completed.Seq {
			continue
		}
		found = true
		var c store.NotificationContent
		if err := json.Unmarshal(n.Content, &c); err != nil {
			t.Fatal(err)
		}
		check("inbox", c)
		// In JSON, each title is an object keyed by language.
		var keyed struct {
			Title          map[string]string `json:"title"`
			MilestoneTitle map[string]string `json:"milestone_title"`
		}
		if err := json.Unmarshal(n.Content, &keyed); err != nil || len(keyed.Title) != 2 || len(keyed.MilestoneTitle) != 2 {
			t.Errorf("inbox content's titles are not keyed by language (%v): %s", err, n.Content)
		}
	}
	if !found {
		t.Fatalf("no milestone_completed in the US coordinator's inbox: %+v", ns)
	}

	// The delivery worker reads the same content back, for a mail to the
	// US coordinator (who reads English) and for the webhook.
	var mail string
	if err := st.Pool().QueryRow(ctx, `SELECT d.id FROM deliveries d JOIN notifications n ON n.id = d.notification_id
		WHERE d.channel = 'email' AND d.seq = $1 AND n.principal_id = 'us-coordinator'`, completed.Seq).Scan(&mail); err != nil {
		t.Fatal(err)
	}
	job, err := st.Delivery(ctx, mail)
	if err != nil {
		t.Fatal(err)
	}
	if job.Recipient.Language != "en" {
		t.Errorf("mail recipient reads %q, want en", job.Recipient.Language)
	}
	check("mail", job.Content)
	job, err = st.Delivery(ctx, fmt.Sprintf("webhook-hook-act-lang-%d", completed.Seq))
	if err != nil {
		t.Fatal(err)
	}
	check("webhook", job.Content)
}

// An activity recorded before texts had languages is moved to them by a
// languages_assigned event, which the store records like any other: in
// the audit chain, without a notification, and with the snapshot's texts
// now keyed by the proposer's language.
func TestLanguagesAssignedIsRecordable(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	if _, err := st.CreateWebhookSubscription(ctx, store.WebhookSubscription{ID: "hook", URL: "https://hooks.example.org/pacto"}, "whsec_test"); err != nil {
		t.Fatal(err)
	}
	changes := historyOf(t, "act-old")
	for i := range changes {
		if err := st.Record(ctx, snapshotAfter(changes, i+1), changes[i]); err != nil {
			t.Fatal(err)
		}
	}
	old := snapshotAfter(changes, len(changes))
	if old.Rules >= lifecycle.CurrentRules || len(old.Languages) != 0 {
		t.Fatalf("the history is not of an activity without languages: rules %d, languages %v", old.Rules, old.Languages)
	}
	// Recorded as before languages: plain strings, in the snapshot and in
	// the notifications.
	var plain bool
	if err := st.Pool().QueryRow(ctx, `SELECT snapshot->'title' = '"Customs training"'::jsonb FROM activities WHERE id = 'act-old'`).Scan(&plain); err != nil || !plain {
		t.Fatalf("the old activity's title is not stored as a plain string (%v)", err)
	}
	if n := count(t, st, `SELECT count(*) FROM notifications WHERE activity_id = 'act-old' AND content->'title' <> '"Customs training"'::jsonb`); n != 0 {
		t.Fatalf("%d notifications of the old activity without its plain title", n)
	}

	evs, err := lifecycle.Decide(old, lifecycle.AssignLanguages{Parties: bilingualParties, Languages: []string{"en", "es"}},
		lifecycle.Principal{ID: lifecycle.SystemActor}, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Type != lifecycle.EventLanguagesAssigned {
		t.Fatalf("assigning languages gave %+v", evs)
	}
	moved := lifecycle.Apply(old, evs[0])
	notifications, deliveries := count(t, st, "SELECT count(*) FROM notifications"), count(t, st, "SELECT count(*) FROM deliveries")
	if err := st.Record(ctx, moved, evs); err != nil {
		t.Fatal(err)
	}
	// Recording it again changes nothing.
	if err := st.Record(ctx, moved, evs); err != nil {
		t.Fatal(err)
	}

	v, err := st.VerifyAudit(ctx, "act-old")
	if err != nil || !v.Valid || int64(v.Events) != moved.Seq {
		t.Fatalf("audit after the move: %+v, %v; want %d valid events", v, err, moved.Seq)
	}
	audit, err := st.Audit(ctx, "act-old", moved.Seq-1, 10)
	if err != nil || len(audit) != 1 || audit[0].Type != string(lifecycle.EventLanguagesAssigned) || audit[0].Actor != lifecycle.SystemActor {
		t.Fatalf("last audit event %+v, %v; want languages_assigned by the system", audit, err)
	}
	var recorded struct {
		Event lifecycle.Event `json:"event"`
	}
	if err := json.Unmarshal(audit[0].Content, &recorded); err != nil || !slices.Equal(recorded.Event.Languages, []string{"en", "es"}) {
		t.Errorf("audited event %+v (%v); want the languages en and es", recorded.Event, err)
	}
	readers := map[lifecycle.PartyCode]string{}
	for _, p := range recorded.Event.Readers {
		readers[p.Code] = p.Language
	}
	if len(readers) != 2 || readers["PA"] != "es" || readers["US"] != "en" {
		t.Errorf("audited readers %+v; want PA reading es and US en", recorded.Event.Readers)
	}
	// An audit fact: nobody is told, by inbox, mail or webhook.
	if n := count(t, st, "SELECT count(*) FROM notifications"); n != notifications {
		t.Errorf("%d notifications after the move, %d before", n, notifications)
	}
	if n := count(t, st, "SELECT count(*) FROM deliveries"); n != deliveries {
		t.Errorf("%d deliveries after the move, %d before", n, deliveries)
	}

	got := activity(t, st, "act-old")
	if got.Seq != moved.Seq || !got.Title.Equal(lifecycle.Text{"es": "Customs training"}) || !got.Milestones[0].Title.Equal(lifecycle.Text{"es": "Cohort"}) {
		t.Errorf("snapshot after the move: seq %d, title %v, milestone %v; want seq %d and the texts keyed es", got.Seq, got.Title, got.Milestones[0].Title, moved.Seq)
	}
	if !slices.Equal(got.Languages, []string{"en", "es"}) || !slices.Equal(got.Parties, bilingualParties) || got.ContentHash != moved.ContentHash || got.Version != old.Version {
		t.Errorf("snapshot after the move: languages %v, parties %+v, v%d hash %s", got.Languages, got.Parties, got.Version, got.ContentHash)
	}
	var keyed bool
	if err := st.Pool().QueryRow(ctx, `SELECT snapshot->'title' = '{"es": "Customs training"}'::jsonb FROM activities WHERE id = 'act-old'`).Scan(&keyed); err != nil || !keyed {
		t.Errorf("the stored snapshot's title is not keyed after the move (%v)", err)
	}
	// The columns and the search read as before.
	var title, milestone string
	if err := st.Pool().QueryRow(ctx, `SELECT a.title, m.title FROM activities a JOIN milestones m ON m.activity_id = a.id WHERE a.id = 'act-old'`).Scan(&title, &milestone); err != nil {
		t.Fatal(err)
	}
	if title != "Customs training" || milestone != "Cohort" {
		t.Errorf("columns after the move: %q, %q", title, milestone)
	}
	if found, _, err := st.ListActivities(ctx, store.Filter{Text: "CUSTOMS training", Now: t0, Limit: 50}); err != nil || !slices.Equal(ids(found), []string{"act-old"}) {
		t.Errorf("search after the move: %v, %v", ids(found), err)
	}
}

func activity(t *testing.T, st *store.Store, id string) lifecycle.State {
	t.Helper()
	s, err := st.Activity(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// listed is activity id as the list of activities returns it.
func listed(t *testing.T, st *store.Store, id string) lifecycle.State {
	t.Helper()
	all, _, err := st.ListActivities(context.Background(), store.Filter{Now: t0, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("%s is not listed: %v", id, ids(all))
	return lifecycle.State{}
}
