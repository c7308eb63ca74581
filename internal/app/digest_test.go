package app

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"pacto/activities"
	"pacto/internal/delivery"
	"pacto/internal/lifecycle"
	"pacto/internal/pgtest"
	"pacto/internal/store"
	"pacto/workflows"
)

// mailed keeps what a Mailer was asked to send.
type mailed struct {
	mu   sync.Mutex
	msgs []delivery.Message
	to   []string
}

func (m *mailed) Send(_ context.Context, _ string, to delivery.Recipient, msg delivery.Message, _ string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, msg)
	m.to = append(m.to, to.Email)
	return nil
}

// panama is the Panamanian clock: UTC-5 all year.
func panama(day, hour int) time.Time {
	return time.Date(2027, 3, day, hour+5, 0, 0, 0, time.UTC)
}

// recordActivity records a real activity's life in the demo dialogue: the
// US coordinator proposes it in both languages at 10 AM Panama time on
// the given day, the PA approver approves at 11 and the US approver at
// noon, which activates it. The PA coordinator hears of both approvals and
// the activation.
func recordActivity(t *testing.T, st *store.Store, id string, day int, es, en string) {
	t.Helper()
	var s lifecycle.State
	step := func(c lifecycle.Command, who lifecycle.Principal, at time.Time) {
		evs, err := lifecycle.Decide(s, c, who, at)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			s = lifecycle.Apply(s, e)
		}
		if err := st.Record(context.Background(), s, evs); err != nil {
			t.Fatal(err)
		}
	}
	person := func(id string, party lifecycle.PartyCode, role lifecycle.Role) lifecycle.Principal {
		return lifecycle.Principal{ID: id, Party: party, Roles: []lifecycle.Role{role}}
	}
	step(lifecycle.Propose{ActivityID: id, Dialogue: DemoDialogue, Rules: lifecycle.CurrentRules,
		DialogueParties: []lifecycle.Party{{Code: "PA", TimeZone: "America/Panama", Language: "es"}, {Code: "US", TimeZone: "America/New_York", Language: "en"}},
		Parties:         []lifecycle.PartyCode{"PA", "US"}, Title: lifecycle.Text{"es": es, "en": en},
		Milestones: []lifecycle.MilestoneSpec{{ID: "m1", Title: lifecycle.Text{"es": "Primer taller", "en": "First workshop"}, Owner: "PA", Due: "P30D"}}},
		person("us-coordinator", "US", lifecycle.RoleCoordinator), panama(day, 10))
	step(lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove}, person("pa-approver", "PA", lifecycle.RoleApprover), panama(day, 11))
	step(lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove}, person("us-approver", "US", lifecycle.RoleApprover), panama(day, 12))
}

// runDigest runs the Digest workflow in the time-skipping test
// environment, as the schedule would start it at scheduled, with the real
// activity over st.
func runDigest(t *testing.T, st *store.Store, scheduled time.Time) store.DigestRun {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := testEnvironment(&suite)
	workflows.Register(env)
	dig := &activities.Digesting{Store: st}
	env.RegisterActivityWithOptions(dig.QueueDigests, activity.RegisterOptions{Name: activities.QueueDigestsName})
	// A worker picks the run up a little after the hour; the run keeps to
	// the hour the schedule meant it for.
	env.SetStartTime(scheduled.Add(90 * time.Second))
	key := temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")
	if err := env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(key.ValueSet(scheduled))); err != nil {
		t.Fatal(err)
	}
	env.ExecuteWorkflow(workflows.DigestWorkflowName, workflows.DigestInput{Version: workflows.DigestVersion})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("digest at %s: completed %v, error %v", scheduled, env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var run store.DigestRun
	if err := env.GetWorkflowResult(&run); err != nil {
		t.Fatal(err)
	}
	return run
}

// A Spanish reader who chose a digest at 8 AM (America/Panama) gets, each
// morning, one mail in Spanish with the day's notices, none lost and none
// repeated across two days, while everyone else gets a mail per notice.
func TestDailyDigestForASpanishReaderAt8InPanama(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if _, err := SeedDemo(ctx, st, t.TempDir()+"/tokens.json"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetNotificationPreferences(ctx, "pa-coordinator", store.NotificationPreferences{Email: true, DigestHour: new(8)}, panama(15, 7)); err != nil {
		t.Fatal(err)
	}
	mail := &mailed{}
	sender := &activities.Delivering{Store: st, Mailer: mail, From: "Pacto <pacto@pacto.example>", BaseURL: "https://pacto.example"}
	// sendDigests sends the digests queued and not yet sent, as the
	// Delivery workflow would, and returns the mails they made.
	sendDigests := func() []delivery.Message {
		t.Helper()
		rows, err := st.Pool().Query(ctx, "SELECT id FROM deliveries WHERE channel = 'digest' AND status = 'pending' ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for rows.Next() {
			var id string
			_ = rows.Scan(&id)
			ids = append(ids, id)
		}
		mail.mu.Lock()
		before := len(mail.msgs)
		mail.mu.Unlock()
		for _, id := range ids {
			if err := sender.Deliver(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		mail.mu.Lock()
		defer mail.mu.Unlock()
		for _, to := range mail.to[before:] {
			if to != "pa-coordinator@pa.example" {
				t.Fatalf("a digest went to %s", to)
			}
		}
		return slices.Clone(mail.msgs[before:])
	}

	// Monday 8 AM, an hour after choosing it: the digest is due, but there
	// is nothing to tell yet, so no mail.
	if run := runDigest(t, st, panama(15, 8)); run != (store.DigestRun{Due: 1}) {
		t.Fatalf("Monday 8 AM: %+v; want due, with nothing to send", run)
	}
	// Monday: the first activity's approvals and activation, which wait
	// for tomorrow's digest.
	recordActivity(t, st, "act-customs", 15, "Capacitación aduanera conjunta", "Joint customs training")
	if run := runDigest(t, st, panama(15, 13)); run != (store.DigestRun{}) {
		t.Fatalf("Monday 1 PM: %+v; want nothing due until tomorrow", run)
	}

	// Tuesday 8 AM: one digest, in Spanish, of Monday's three notices.
	if run := runDigest(t, st, panama(16, 8)); run != (store.DigestRun{Due: 1, Queued: 1, Notices: 3}) {
		t.Fatalf("Tuesday 8 AM: %+v; want one digest of 3 notices", run)
	}
	tuesday := sendDigests()
	if len(tuesday) != 1 {
		t.Fatalf("Tuesday: %d digests sent; want 1", len(tuesday))
	}
	m := tuesday[0]
	if m.Subject != "Resumen diario de Pacto: 3 avisos" {
		t.Errorf("Tuesday's subject: %q", m.Subject)
	}
	for _, want := range []string{
		"Hola, Coordinadora de Panamá:",
		"hasta el martes, 16 de marzo de 2027, 8:00 a. m. (America/Panama)",
		"1. Aprobada por Panamá: Capacitación aduanera conjunta",
		"Aprobador de Panamá (Panamá) ha aprobado la versión 1 de la actividad «Capacitación aduanera conjunta»",
		"Fecha: lunes, 15 de marzo de 2027, 11:00 a. m. (America/Panama)",
		"2. Aprobada por United States: Capacitación aduanera conjunta",
		"US Approver (United States) ha aprobado",
		"3. Actividad iniciada: Capacitación aduanera conjunta",
		"Fecha: lunes, 15 de marzo de 2027, 12:00 p. m. (America/Panama)",
		"https://pacto.example/activities/act-customs",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("Tuesday's digest lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text+m.HTML, "Joint customs training") || strings.Contains(m.Text, "America/New_York") {
		t.Errorf("Tuesday's digest has the English title or the other party's zone:\n%s", m.Text)
	}

	// The same hour again (a retried or doubled run) and the next hour
	// find nothing due.
	for _, at := range []time.Time{panama(16, 8), panama(16, 9)} {
		if run := runDigest(t, st, at); run != (store.DigestRun{}) {
			t.Fatalf("%s: %+v; want nothing due", at, run)
		}
	}
	if again := sendDigests(); len(again) != 0 {
		t.Fatalf("%d more digests on Tuesday", len(again))
	}

	// Tuesday after the digest: the second activity. Wednesday's digest
	// has its notices and none of Monday's.
	recordActivity(t, st, "act-manual", 16, "Manual de procedimientos", "Procedures handbook")
	if run := runDigest(t, st, panama(17, 8)); run != (store.DigestRun{Due: 1, Queued: 1, Notices: 3}) {
		t.Fatalf("Wednesday 8 AM: %+v; want one digest of 3 notices", run)
	}
	wednesday := sendDigests()
	if len(wednesday) != 1 || !strings.Contains(wednesday[0].Text, "Manual de procedimientos") ||
		strings.Contains(wednesday[0].Text, "Capacitación aduanera conjunta") || !strings.Contains(wednesday[0].Text, "martes, 16 de marzo de 2027") {
		t.Fatalf("Wednesday's digests: %+v", wednesday)
	}

	// Every notice of the reader's inbox was in exactly one digest, and no
	// mail of its own was queued for any.
	var inbox, digested []string
	rows, err := st.Pool().Query(ctx, "SELECT activity_id || '/' || seq FROM notifications WHERE principal_id = 'pa-coordinator' ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		_ = rows.Scan(&k)
		inbox = append(inbox, k)
	}
	rows, err = st.Pool().Query(ctx, `SELECT n->>'activity' || '/' || (n->>'seq') FROM deliveries d, jsonb_array_elements(d.content->'notices') n
		WHERE d.channel = 'digest' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		_ = rows.Scan(&k)
		digested = append(digested, k)
	}
	if len(inbox) != 6 || !slices.Equal(inbox, digested) {
		t.Fatalf("inbox %v, digested %v; want the same 6 notices, each once", inbox, digested)
	}
	var own, others int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE n.principal_id = 'pa-coordinator'), count(*) FILTER (WHERE n.principal_id = 'us-coordinator')
		FROM deliveries d JOIN notifications n ON n.id = d.notification_id`).Scan(&own, &others); err != nil {
		t.Fatal(err)
	}
	if own != 0 || others != 6 {
		t.Fatalf("mails per notice: %d for the digest reader (want 0), %d for the US coordinator (want 6)", own, others)
	}
	if len(mail.msgs) != 2 {
		t.Fatalf("%d mails in all; want the 2 digests", len(mail.msgs))
	}
}
