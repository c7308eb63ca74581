package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"pacto/internal/app"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// auditEvents reads an activity's whole audit log, with each event's
// hashed content decoded.
func (s *stack) auditEvents(t *testing.T, id string) []lifecycle.Event {
	t.Helper()
	r := s.call("admin", "GET", "/v1/activities/"+id+"/audit?limit=200", nil)
	want(t, r, http.StatusOK)
	var page AuditPage
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	out := make([]lifecycle.Event, len(page.Events))
	for i, e := range page.Events {
		var c struct {
			Event lifecycle.Event `json:"event"`
		}
		if err := json.Unmarshal(e.Content, &c); err != nil {
			t.Fatal(err)
		}
		if c.Event.Actor != e.Actor || string(c.Event.Type) != e.Type {
			t.Fatalf("audit row %d: columns %s/%s, content %s/%s", e.Seq, e.Type, e.Actor, c.Event.Type, c.Event.Actor)
		}
		out[i] = c.Event
	}
	return out
}

func (s *stack) verified(t *testing.T, id string) store.AuditVerification {
	t.Helper()
	r := s.call("admin", "GET", "/v1/activities/"+id+"/audit/verify", nil)
	want(t, r, http.StatusOK)
	var v store.AuditVerification
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	if !v.Valid {
		t.Fatalf("the audit chain of %s does not verify: %+v", id, v)
	}
	return v
}

func (s *stack) temporalStatus(t *testing.T, id string) enumspb.WorkflowExecutionStatus {
	t.Helper()
	desc, err := s.tc.DescribeWorkflowExecution(context.Background(), id, "")
	if err != nil {
		t.Fatal(err)
	}
	return desc.GetWorkflowExecutionInfo().GetStatus()
}

// cancelledInTemporal cancels an active activity's workflow as the Web
// UI's "Request Cancellation" does, from outside Pacto: the activity is
// cancelled in the read model, its audit log says so, by Temporal with
// the client's identity and reason, and its parties' coordinators and
// approvers are told, as for an approver's cancellation.
func (s *stack) cancelledInTemporal(t *testing.T) {
	ctx := context.Background()
	a := s.activate()
	if err := s.tc.CancelWorkflowWithOptions(ctx, client.CancelWorkflowOptions{WorkflowID: a.ID, Reason: "opened twice by mistake"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		v := s.call("us-observer", "GET", "/v1/activities/"+a.ID, nil).activity(t)
		if v.Status == "cancelled" {
			if v.ReadModel != nil {
				t.Fatalf("the read model is behind: %+v", v.ReadModel)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the activity is still %s 30s after its workflow was cancelled in Temporal", v.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	evs := s.auditEvents(t, a.ID)
	last := evs[len(evs)-1]
	if last.Type != lifecycle.EventCancelled || last.Actor != lifecycle.TemporalActor || last.Comment != "opened twice by mistake" ||
		last.Temporal == nil || last.Temporal.Identity == "" || last.Seq != a.Seq+1 {
		t.Fatalf("last audit event %+v (temporal %+v)", last, last.Temporal)
	}
	s.verified(t, a.ID)

	// Every coordinator and approver of both parties is told; nobody else.
	var told []string
	rows, err := s.st.Pool().Query(ctx, "SELECT principal_id FROM notifications WHERE activity_id = $1 AND kind = 'cancelled' ORDER BY principal_id", a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		told = append(told, p)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	for _, p := range []string{"pa-approver", "pa-coordinator", "us-approver", "us-coordinator"} {
		if !slices.Contains(told, p) {
			t.Fatalf("told %v; %s is missing", told, p)
		}
	}
	for _, p := range []string{"pa-observer", "us-observer", "mx-approver", "admin"} {
		if slices.Contains(told, p) {
			t.Fatalf("told %v; %s should not be", told, p)
		}
	}
	inbox := s.call("us-coordinator", "GET", "/v1/inbox?limit=200", nil)
	want(t, inbox, http.StatusOK)
	var page InboxPage
	if err := json.Unmarshal(inbox.body, &page); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range page.Notifications {
		if n.Activity == a.ID && n.Kind == "cancelled" && strings.Contains(string(n.Content), `"actor":"temporal"`) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no cancellation by Temporal in the US coordinator's inbox: %s", inbox.body)
	}

	if st := s.temporalStatus(t, a.ID); st != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
		t.Fatalf("the run is %s in Temporal; want canceled", st)
	}
	r := s.call("pa-coordinator", "POST", "/v1/activities/"+a.ID+"/milestones/m1/progress", ProgressRequest{Note: "too late"})
	want(t, r, http.StatusConflict, "invalid-transition")
	if p := r.problem(t); !strings.Contains(p.Detail, "cancelled and takes no more commands") {
		t.Fatalf("refusal %q", p.Detail)
	}
	// The reconciler has nothing to say of it: it ended as it should.
	res, err := s.worker.Reconciler.Pass(ctx)
	if err != nil || slices.Contains(res.Lost, a.ID) {
		t.Fatalf("reconciler pass: %+v, %v", res, err)
	}
}

// diverged terminates an active activity's workflow in Temporal, which
// the workflow cannot see: until the reconciler looks, commands are
// refused with a 409 saying why; its pass records workflow_lost in the
// audit log with what Temporal said, counts it and lists it for admins.
// An admin's restart then starts the workflow again from the recorded
// state, commands work, and the audit chain still verifies.
func (s *stack) diverged(t *testing.T) {
	ctx := context.Background()
	a := s.activate()
	if err := s.tc.TerminateWorkflow(ctx, a.ID, "", "stuck in a test"); err != nil {
		t.Fatal(err)
	}
	r := s.call("pa-coordinator", "POST", "/v1/activities/"+a.ID+"/milestones/m1/progress", ProgressRequest{Note: "while lost"})
	want(t, r, http.StatusConflict, "invalid-transition")
	if p := r.problem(t); !strings.Contains(p.Detail, "no longer runs in Temporal") || !strings.Contains(p.Detail, "restart") {
		t.Fatalf("refusal %q; want it to say the workflow is not running and can be restarted", p.Detail)
	}

	lost := func() float64 {
		return counterValue(t, s.worker.Collectors(), "pacto_workflows_lost_total", lifecycle.RunTerminated)
	}
	before := lost()
	// Visibility is eventually consistent: until it has the termination,
	// a pass sees the run as running and rightly leaves it to a later pass.
	var res app.ReconcileResult
	noted := 0
	for deadline := time.Now().Add(30 * time.Second); ; {
		var err error
		res, err = s.worker.Reconciler.Pass(ctx)
		if err != nil {
			t.Fatal(err)
		}
		noted += len(res.Lost)
		if slices.Contains(res.Lost, a.ID) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !slices.Contains(res.Lost, a.ID) || res.Open == 0 || res.Described == 0 {
		t.Fatalf("pass %+v; want %s noted lost", res, a.ID)
	}
	if got := lost(); got != before+float64(noted) || got < 1 {
		t.Fatalf("pacto_workflows_lost_total{temporal_status=terminated} went from %v to %v", before, got)
	}
	// Once only.
	if again, err := s.worker.Reconciler.Pass(ctx); err != nil || slices.Contains(again.Lost, a.ID) {
		t.Fatalf("second pass %+v, %v", again, err)
	}

	evs := s.auditEvents(t, a.ID)
	last := evs[len(evs)-1]
	if last.Type != lifecycle.EventWorkflowLost || last.Actor != lifecycle.SystemActor || last.Seq != a.Seq+1 || last.Temporal == nil ||
		last.Temporal.Status != lifecycle.RunTerminated || last.Temporal.Reason != "stuck in a test" || last.Temporal.Identity == "" || last.Temporal.RunID == "" {
		t.Fatalf("last audit event %+v (temporal %+v)", last, last.Temporal)
	}
	if v := s.call("us-observer", "GET", "/v1/activities/"+a.ID, nil).activity(t); v.Status != "active" || v.Seq != a.Seq+1 {
		t.Fatalf("the activity reads %s at seq %d; it keeps its status, at the lost event", v.Status, v.Seq)
	}

	want(t, s.call("us-approver", "GET", "/v1/admin/diverged", nil), http.StatusForbidden, "forbidden")
	list := s.call("admin", "GET", "/v1/admin/diverged", nil)
	want(t, list, http.StatusOK)
	var dl DivergedList
	if err := json.Unmarshal(list.body, &dl); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(dl.Diverged, func(d store.Divergence) bool { return d.ActivityID == a.ID })
	if i < 0 {
		t.Fatalf("%s not listed: %s", a.ID, list.body)
	}
	if d := dl.Diverged[i]; d.Status != lifecycle.StatusActive || d.Temporal.Status != lifecycle.RunTerminated || d.Seq != a.Seq+1 || d.Title != "Capacitación aduanera conjunta" {
		t.Fatalf("listed %+v", d)
	}
	metrics := s.call("", "GET", "/metrics", nil)
	if !strings.Contains(string(metrics.body), "\npacto_diverged_activities ") || strings.Contains(string(metrics.body), "\npacto_diverged_activities 0\n") {
		t.Fatalf("/metrics does not count the diverged activity:\n%s", grepLines(string(metrics.body), "pacto_diverged"))
	}

	// The restart: refused to others, without a reason, for an ended
	// activity; done by an admin.
	want(t, s.call("us-approver", "POST", "/v1/admin/activities/"+a.ID+"/restart", ReasonRequest{Reason: "r"}), http.StatusForbidden, "forbidden")
	want(t, s.call("admin", "POST", "/v1/admin/activities/"+a.ID+"/restart", ReasonRequest{Reason: " "}), http.StatusUnprocessableEntity, "invalid-input", "reason")
	want(t, s.call("admin", "POST", "/v1/admin/activities/no-such-activity/restart", ReasonRequest{Reason: "r"}), http.StatusNotFound, "not-found")
	r = s.call("admin", "POST", "/v1/admin/activities/"+a.ID+"/restart", ReasonRequest{Reason: "terminated by mistake"})
	want(t, r, http.StatusOK)
	if v := r.activity(t); v.Status != "active" || v.Seq != a.Seq+2 {
		t.Fatalf("restarted: %s at seq %d", v.Status, v.Seq)
	}
	if st := s.temporalStatus(t, a.ID); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("after the restart the workflow is %s; want running", st)
	}
	want(t, s.call("admin", "POST", "/v1/admin/activities/"+a.ID+"/restart", ReasonRequest{Reason: "again"}), http.StatusConflict, "invalid-transition")
	list = s.call("admin", "GET", "/v1/admin/diverged", nil)
	if strings.Contains(string(list.body), `"`+a.ID+`"`) {
		t.Fatalf("still listed after the restart: %s", list.body)
	}

	// Commands work again, and the clock is the restarted run's.
	progress := s.call("pa-coordinator", "POST", "/v1/activities/"+a.ID+"/milestones/m1/progress", ProgressRequest{Note: "back at work"})
	want(t, progress, http.StatusOK)
	if v := progress.activity(t); v.Seq != a.Seq+3 {
		t.Fatalf("progress after the restart at seq %d", v.Seq)
	}
	evs = s.auditEvents(t, a.ID)
	var tail []string
	for _, e := range evs[len(evs)-3:] {
		tail = append(tail, string(e.Type)+"/"+e.Actor)
	}
	if want := []string{"workflow_lost/system", "restarted/admin", "progress_reported/pa-coordinator"}; !slices.Equal(tail, want) {
		t.Fatalf("audit ends %v, want %v", tail, want)
	}
	if e := evs[len(evs)-2]; e.Comment != "terminated by mistake" {
		t.Fatalf("restart recorded with %q", e.Comment)
	}
	if v := s.verified(t, a.ID); v.Events != len(evs) {
		t.Fatalf("verified %d of %d events", v.Events, len(evs))
	}

	// An ended activity is not restarted.
	want(t, s.call("us-approver", "POST", "/v1/activities/"+a.ID+"/cancel", ReasonRequest{Reason: "done"}), http.StatusOK)
	want(t, s.call("admin", "POST", "/v1/admin/activities/"+a.ID+"/restart", ReasonRequest{Reason: "r"}), http.StatusConflict, "invalid-transition")
}

// counterValue reads counter name, with label value label (the counters
// here have one label), from collectors as a scrape would.
func counterValue(t *testing.T, collectors []prometheus.Collector, name, label string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
