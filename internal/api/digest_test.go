package api

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"pacto/internal/app"
	"pacto/internal/delivery"
	"pacto/internal/lifecycle"
	"pacto/workflows"
)

// A reader who chose a daily digest hears of nothing by mail until the
// hourly schedule (which the worker sets at start) runs: then one mail, in
// their language, through the relay, the Delivery workflow and a real SMTP
// server. The other approver gets a mail per notice as before, and the
// schedule running again sends nothing twice.
func TestDigestThroughTheSchedule(t *testing.T) {
	box := &mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	ml, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ml) }()
	t.Cleanup(func() { srv.Close() })
	mailer, err := delivery.NewSMTPMailer(delivery.SMTPConfig{Host: "127.0.0.1", Port: ml.Addr().(*net.TCPAddr).Port, TLS: delivery.TLSOpportunistic, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := newStackWith(t, app.Delivery{Mailer: mailer, From: "Pacto <pacto@pacto.example>", BaseURL: "https://pacto.example",
		Policy: workflows.DeliveryInput{Attempts: 5, FirstRetry: 500 * time.Millisecond, MaxRetry: time.Second}})
	ctx := context.Background()
	for who, addr := range map[string]string{"us-approver": "us-approver@us.example", "pa-approver": "pa-approver@pa.example"} {
		if _, err := s.st.Pool().Exec(ctx, "UPDATE principals SET email = $2 WHERE id = $1", who, addr); err != nil {
			t.Fatal(err)
		}
	}

	// The PA approver chooses a digest at the hour Panama's clock shows
	// now; as if chosen two hours ago, so that this hour's is due.
	zone, err := lifecycle.LoadZone("America/Panama")
	if err != nil {
		t.Fatal(err)
	}
	h := time.Now().In(zone).Hour()
	want(t, s.call("pa-approver", "PUT", "/v1/me/notifications", NotificationPreferences{Email: true, DigestHour: &h}), 200)
	if _, err := s.st.Pool().Exec(ctx, "UPDATE principals SET digested_through = now() - interval '2 hours' WHERE id = 'pa-approver'"); err != nil {
		t.Fatal(err)
	}

	a := s.propose(proposal())
	eventually(t, 30*time.Second, "the US approver's approval request", func() bool {
		return len(box.received("us-approver@us.example")) == 1
	})
	if n := len(box.received("pa-approver@pa.example")); n != 0 {
		t.Fatalf("the digest reader got %d mails before the digest", n)
	}

	// The worker has set the hourly schedule of the Digest workflow.
	handle := s.tc.ScheduleClient().GetHandle(ctx, workflows.DigestScheduleID)
	var desc *client.ScheduleDescription
	eventually(t, 30*time.Second, "the digest schedule", func() bool {
		desc, err = handle.Describe(ctx)
		return err == nil
	})
	action, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || action.Workflow != workflows.DigestWorkflowName || action.TaskQueue != workflows.TaskQueue ||
		len(desc.Schedule.Spec.Intervals) != 1 || desc.Schedule.Spec.Intervals[0].Every != time.Hour {
		t.Fatalf("digest schedule: action %+v, spec %+v", desc.Schedule.Action, desc.Schedule.Spec)
	}
	// Setting it again (another worker, a restart) leaves it as it is; a
	// schedule set by an older build is brought up to this one's version,
	// and one set by a newer build is not turned back.
	setVersion := func(v int) {
		t.Helper()
		if err := handle.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			a := *s.Action.(*client.ScheduleWorkflowAction)
			a.Args = []any{workflows.DigestInput{Version: v}}
			s.Action = &a
			return &client.ScheduleUpdate{Schedule: &s}, nil
		}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ stored, after int }{
		{workflows.DigestVersion, workflows.DigestVersion}, {0, workflows.DigestVersion}, {workflows.DigestVersion + 1, workflows.DigestVersion + 1},
	} {
		setVersion(c.stored)
		if err := app.EnsureDigestSchedule(ctx, s.tc, nil, ""); err != nil {
			t.Fatal(err)
		}
		if got := digestScheduleVersion(t, handle); got != c.after {
			t.Fatalf("a schedule at version %d is at %d after a worker of version %d set it; want %d", c.stored, got, workflows.DigestVersion, c.after)
		}
	}
	setVersion(workflows.DigestVersion)

	// Its run, now: one Spanish digest listing the approval request.
	if err := handle.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "the PA approver's digest", func() bool {
		return len(box.received("pa-approver@pa.example")) == 1
	})
	digest := box.received("pa-approver@pa.example")[0]
	for _, w := range []string{"Subject: Resumen diario de Pacto: 1 aviso", "Se solicita su aprobación: Capacitación aduanera conjunta",
		"(America/Panama)", "https://pacto.example/activities/" + a.ID} {
		if !strings.Contains(digest, w) {
			t.Errorf("the digest lacks %q:\n%s", w, digest)
		}
	}
	if strings.Contains(digest, "Joint customs training") {
		t.Errorf("the Spanish digest has the English title:\n%s", digest)
	}
	var sent DeliveryList
	eventually(t, 30*time.Second, "the digest marked sent", func() bool {
		r := s.call("admin", "GET", "/v1/admin/deliveries?status=sent", nil)
		_ = json.Unmarshal(r.body, &sent)
		for _, d := range sent.Deliveries {
			if d.Channel == "digest" {
				return true
			}
		}
		return false
	})

	// The schedule running again finds nothing new for the reader.
	if err := handle.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the second digest run to finish", func() bool {
		d, err := handle.Describe(ctx)
		return err == nil && d.Info.NumActions >= 2 && len(d.Info.RunningWorkflows) == 0
	})
	time.Sleep(time.Second) // time for a wrongly queued digest to be relayed
	if n := len(box.received("pa-approver@pa.example")); n != 1 {
		t.Fatalf("the digest reader got %d mails; want the one digest", n)
	}
	if n := len(box.received("us-approver@us.example")); n != 1 {
		t.Fatalf("the US approver got %d mails; want the one approval request", n)
	}
}

// digestScheduleVersion is the DigestInput.Version the digest schedule
// starts its runs with.
func digestScheduleVersion(t *testing.T, h client.ScheduleHandle) int {
	t.Helper()
	d, err := h.Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	var in workflows.DigestInput
	if len(a.Args) != 1 {
		t.Fatalf("the schedule's action has %d arguments", len(a.Args))
	}
	if err := converter.GetDefaultDataConverter().FromPayload(a.Args[0].(*commonpb.Payload), &in); err != nil {
		t.Fatal(err)
	}
	return in.Version
}
