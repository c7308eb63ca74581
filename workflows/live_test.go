package workflows

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/temporaltest"

	"pacto/activities"
	"pacto/internal/codec"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// recordHistories rewrites testdata/histories from a live run. Use it only
// after an intentional, versioned change (see Input.Version).
var recordHistories = flag.Bool("record", false, "re-record testdata/histories from a live run on the in-process server")

const historiesDir = "testdata/histories"

func quietLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// replay replays one run's history with the current workflow code. The
// workflow checks its own ID, so the replay uses the original one. Beyond
// the commands the SDK checks, it compares what the replayed code answered
// with what the recorded run answered: every Update's result (the whole
// state in runs before version 2, a state hash from version 2) and the
// run's final state or continue-as-new input, so a change that alters
// only the state fails replay too.
func replay(id string, h *historypb.History) error { return replayWith(id, h, nil) }

// replayWith replays a history written through the payload codec pc (nil:
// none), decoding it as a worker with that codec does.
func replayWith(id string, h *historypb.History, pc converter.PayloadCodec) error {
	c := &capture{updates: map[string]*commonpb.Payloads{}, codec: pc}
	opts := worker.WorkflowReplayerOptions{Interceptors: []interceptor.WorkerInterceptor{c}}
	if pc != nil {
		opts.DataConverter = codec.DataConverter(pc)
		opts.FailureConverter = codec.FailureConverter(opts.DataConverter)
	}
	r, err := worker.NewWorkflowReplayerWithOptions(opts)
	if err != nil {
		return err
	}
	Register(r)
	if err := r.ReplayWorkflowHistoryWithOptions(quietLogger(), h, worker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: id},
	}); err != nil {
		return err
	}
	return c.compare(h)
}

// capture keeps what the replayed workflow code answered.
type capture struct {
	interceptor.WorkerInterceptorBase
	mu      sync.Mutex
	updates map[string]*commonpb.Payloads
	result  *commonpb.Payloads
	errs    []error
	// codec, when set, decodes the recorded answers, and a replayed
	// continue-as-new input, before they are compared.
	codec converter.PayloadCodec
}

func (c *capture) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &captureInbound{c: c}
	i.Next = next
	return i
}

type captureInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	c *capture
}

func (i *captureInbound) ExecuteUpdate(ctx workflow.Context, in *interceptor.UpdateInput) (any, error) {
	res, err := i.Next.ExecuteUpdate(ctx, in)
	if err == nil {
		i.c.keep(workflow.GetCurrentUpdateInfo(ctx).ID, res)
	}
	return res, err
}

func (i *captureInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	res, err := i.Next.ExecuteWorkflow(ctx, in)
	var can *workflow.ContinueAsNewError
	switch {
	case errors.As(err, &can):
		i.c.mu.Lock()
		i.c.result = can.Input
		i.c.mu.Unlock()
	case err == nil:
		i.c.keep("", res)
	}
	return res, err
}

// keep encodes a replayed answer as the recorded one was encoded; "" is
// the run's result.
func (c *capture) keep(updateID string, v any) {
	p, err := converter.GetDefaultDataConverter().ToPayloads(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.errs = append(c.errs, err)
		return
	}
	if updateID == "" {
		c.result = p
		return
	}
	c.updates[updateID] = p
}

// compare checks the replayed answers against the history's.
func (c *capture) compare(h *historypb.History) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := errors.Join(c.errs...); err != nil {
		return err
	}
	same := func(what string, recorded, replayed *commonpb.Payloads) error {
		if c.codec != nil {
			// A continue-as-new input is replayed encoded too.
			for _, p := range []**commonpb.Payloads{&recorded, &replayed} {
				plain, err := c.codec.Decode((*p).GetPayloads())
				if err != nil {
					return fmt.Errorf("%s: %w", what, err)
				}
				*p = &commonpb.Payloads{Payloads: plain}
			}
		}
		a, b := payloadData(recorded), payloadData(replayed)
		if !bytes.Equal(a, b) {
			return fmt.Errorf("%s differs on replay:\nrecorded %s\nreplayed %s", what, a, b)
		}
		return nil
	}
	for _, e := range h.Events {
		if a := e.GetWorkflowExecutionUpdateCompletedEventAttributes(); a != nil {
			id := a.GetMeta().GetUpdateId()
			if ok := a.GetOutcome().GetSuccess(); ok != nil {
				if err := same("update "+id, ok, c.updates[id]); err != nil {
					return err
				}
			}
		}
		if a := e.GetWorkflowExecutionCompletedEventAttributes(); a != nil {
			if err := same("the final state", a.GetResult(), c.result); err != nil {
				return err
			}
		}
		if a := e.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
			if err := same("the continue-as-new input", a.GetInput(), c.result); err != nil {
				return err
			}
		}
	}
	return nil
}

func payloadData(p *commonpb.Payloads) []byte {
	var out []byte
	for _, x := range p.GetPayloads() {
		out = append(out, x.GetData()...)
	}
	return out
}

// Histories recorded from earlier versions of the workflow must still
// replay: a change that breaks this breaks every running activity.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(historiesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no histories in %s; record them with: go test ./workflows -run TestLiveServer -record", historiesDir)
	}
	for _, f := range files {
		// Each file is named <workflow ID>[@label].json: the replay needs the
		// ID it was recorded under, and a label keeps older recordings.
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		id, _, _ := strings.Cut(name, "@")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			h, err := client.HistoryFromJSON(bytes.NewReader(b), client.HistoryJSONOptions{})
			if err != nil {
				t.Fatalf("decode %s: %v", f, err)
			}
			if err := replay(id, h); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}

// live is a real worker on the in-process Temporal server.
type live struct {
	t      *testing.T
	ts     *temporaltest.TestServer
	c      client.Client
	rec    *recorder
	sender *sender
	// codec is the payload codec of the client and worker; nil for none.
	codec converter.PayloadCodec
}

// sender is the live test's Deliver and MarkDeliveryFailed: "flaky" fails
// twice, "refused" fails for good, anything else is sent at once.
type sender struct {
	mu       sync.Mutex
	attempts map[string]int
	failed   map[string]string
}

func (s *sender) Deliver(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[id]++
	switch {
	case id == "refused":
		return temporal.NewNonRetryableApplicationError("550 no such user", activities.PermanentErrorType, nil)
	case id == "flaky" && s.attempts[id] < 3:
		return errors.New("connection refused")
	}
	return nil
}

// QueueDigests fails its first attempt (the database is down), then
// queues two digests.
func (s *sender) QueueDigests(_ context.Context, at time.Time) (store.DigestRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts["digest"]++
	if s.attempts["digest"] == 1 {
		return store.DigestRun{}, errors.New("connection refused")
	}
	return store.DigestRun{Due: 3, Queued: 2, Notices: 5}, nil
}

func (s *sender) MarkDeliveryFailed(_ context.Context, id, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed[id] = reason
	return nil
}

func startLive(t *testing.T) *live { return startLiveWith(t, nil) }

// startLiveWith starts the live harness with its client and worker
// encoding every payload and failure through pc (nil: none).
func startLiveWith(t *testing.T, pc converter.PayloadCodec) *live {
	t.Helper()
	opts := client.Options{Logger: quietLogger()}
	if pc != nil {
		opts.DataConverter = codec.DataConverter(pc)
		opts.FailureConverter = codec.FailureConverter(opts.DataConverter)
	}
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(opts))
	c := ts.GetDefaultClient()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := RegisterSearchAttributes(ctx, c, ts.GetDefaultNamespace()); err != nil {
		t.Fatalf("register search attributes: %v", err)
	}
	rec := &recorder{}
	snd := &sender{attempts: map[string]int{}, failed: map[string]string{}}
	ts.NewWorker(TaskQueue, func(r worker.Registry) {
		Register(r)
		r.RegisterActivityWithOptions(rec.Record, activity.RegisterOptions{Name: "Record"})
		r.RegisterActivityWithOptions(snd.Deliver, activity.RegisterOptions{Name: activities.DeliverName})
		r.RegisterActivityWithOptions(snd.MarkDeliveryFailed, activity.RegisterOptions{Name: activities.MarkFailedName})
		r.RegisterActivityWithOptions(snd.QueueDigests, activity.RegisterOptions{Name: activities.QueueDigestsName})
		insp := &activities.Inspecting{Client: c}
		r.RegisterActivityWithOptions(insp.CancelRequest, activity.RegisterOptions{Name: activities.CancelRequestName})
		registerReviewer(r)
	})
	return &live{t: t, ts: ts, c: c, rec: rec, sender: snd, codec: pc}
}

func (l *live) start(actor lifecycle.Principal, p lifecycle.Propose) client.WorkflowRun {
	l.t.Helper()
	return l.startInput(p.ActivityID, Proposal(actor, p))
}

// startInput starts a run with the input as given, such as one of an
// older version.
func (l *live) startInput(id string, in Input) client.WorkflowRun {
	l.t.Helper()
	run, err := l.c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: TaskQueue}, WorkflowName, in)
	if err != nil {
		l.t.Fatalf("start %s: %v", id, err)
	}
	return run
}

// update sends one command and waits for its result.
func update[C lifecycle.Command](l *live, id, name string, actor lifecycle.Principal, cmd C) (lifecycle.State, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := l.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: name, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{Request[C]{Actor: actor, Command: cmd}},
	})
	if err != nil {
		return lifecycle.State{}, err
	}
	var res UpdateResult
	if err := h.Get(ctx, &res); err != nil {
		return lifecycle.State{}, err
	}
	if !res.IsRecorded() {
		return lifecycle.State{}, fmt.Errorf("%s on %s answered as not recorded: %+v", name, id, res)
	}
	// The answer is compact: read the state it speaks of from the workflow.
	v, err := l.c.QueryWorkflow(ctx, id, "", QueryState)
	if err != nil {
		return lifecycle.State{}, err
	}
	var s lifecycle.State
	if err := v.Get(&s); err != nil {
		return lifecycle.State{}, err
	}
	if s.Seq < res.Seq {
		return lifecycle.State{}, fmt.Errorf("%s on %s answered seq %d, the workflow holds %d", name, id, res.Seq, s.Seq)
	}
	return s, nil
}

func must[C lifecycle.Command](l *live, id, name string, actor lifecycle.Principal, cmd C) lifecycle.State {
	l.t.Helper()
	s, err := update(l, id, name, actor, cmd)
	if err != nil {
		l.t.Fatalf("%s on %s: %v", name, id, err)
	}
	return s
}

// refused sends a command that must be refused with the core error kind,
// and returns the core's error.
func refused[C lifecycle.Command](l *live, id, name string, actor lifecycle.Principal, cmd C, kind lifecycle.Kind) *lifecycle.Error {
	l.t.Helper()
	_, err := update(l, id, name, actor, cmd)
	ce, ok := CoreError(err)
	if !ok || ce.Kind != kind {
		l.t.Fatalf("%s on %s: got %v, want a %s refusal", name, id, err, kind)
	}
	return ce
}

// history fetches one run's history.
func (l *live) history(id, runID string) *historypb.History {
	l.t.Helper()
	it := l.c.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			l.t.Fatalf("history of %s/%s: %v", id, runID, err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}

// replayAndKeep replays a history with the current code and, with -record,
// writes it to testdata under its workflow ID.
func (l *live) replayAndKeep(id string, h *historypb.History) {
	l.t.Helper()
	if err := replayWith(id, h, l.codec); err != nil {
		l.t.Fatalf("replay %s: %v", id, err)
	}
	if !*recordHistories || l.codec != nil {
		// The recordings stay plain: replay reads them without a codec.
		return
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: " "}.Marshal(h)
	if err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(historiesDir, id+".json"), b, 0o644); err != nil {
		l.t.Fatal(err)
	}
}

func countEvents(h *historypb.History, typ enumspb.EventType) int {
	n := 0
	for _, e := range h.Events {
		if e.GetEventType() == typ {
			n++
		}
	}
	return n
}

func (l *live) waitResult(run client.WorkflowRun) lifecycle.State {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var s lifecycle.State
	if err := run.Get(ctx, &s); err != nil {
		l.t.Fatalf("workflow %s: %v", run.GetID(), err)
	}
	return s
}

func seconds(n int) *time.Duration {
	d := time.Duration(n) * time.Second
	return &d
}

func TestLiveServer(t *testing.T) {
	l := startLive(t)
	t.Run("reminders", l.reminders)
	t.Run("lifecycle", l.lifecycle)
	t.Run("continue-as-new", l.continueAsNew)
	t.Run("delivery", l.delivery)
	t.Run("digest", l.digest)
	t.Run("review", l.review)
	t.Run("review-schedule", l.reviewSchedule)
	t.Run("languages", l.languages)
	t.Run("assign-languages", l.assignLanguages)
	t.Run("cancelled-in-temporal", l.cancelledInTemporal)
	t.Run("publication", l.publication)
}

// publication runs consent to publish through an activity's life: PA
// consents to version 1, the US amends (which clears it), both approve
// and consent to version 2, the US withdraws and consents again, and the
// activity completes. Its history, with the version marker of the
// publication Update, is kept for replay.
func (l *live) publication(t *testing.T) {
	l.t = t
	p := proposal("live-publication")
	p.Sector, p.RecipientCountries = "33120", []string{"PA"}
	run := l.start(paCoord, p)
	id := p.ActivityID
	must(l, id, UpdatePublication, paApprover, lifecycle.DecidePublication{Version: 1, Decision: lifecycle.PublicationConsent})
	amend := lifecycle.Amend{BaseVersion: 1, Title: p.Title, Summary: p.Summary, Objectives: p.Objectives, Milestones: p.Milestones,
		Sector: p.Sector, RecipientCountries: []string{"PA", "US"}}
	if amended := must(l, id, UpdateAmend, usCoord, amend); amended.Version != 2 || amended.Publication != nil {
		t.Fatalf("after the amendment: version %d consents %v", amended.Version, amended.Publication)
	}
	refused(l, id, UpdatePublication, usApprover, lifecycle.DecidePublication{Version: 1, Decision: lifecycle.PublicationConsent}, lifecycle.KindStaleVersion)
	must(l, id, UpdateDecide, paApprover, approve(2))
	must(l, id, UpdateDecide, usApprover, approve(2))
	for _, who := range []lifecycle.Principal{paApprover, usApprover} {
		must(l, id, UpdatePublication, who, lifecycle.DecidePublication{Version: 2, Decision: lifecycle.PublicationConsent})
	}
	must(l, id, UpdatePublication, usApprover, lifecycle.DecidePublication{Version: 2, Decision: lifecycle.PublicationWithdraw})
	if again := must(l, id, UpdatePublication, usApprover, lifecycle.DecidePublication{Version: 2, Decision: lifecycle.PublicationConsent}); !lifecycle.Published(again) {
		t.Fatalf("not published after both consented to version 2: %v", again.Publication)
	}
	must(l, id, UpdateCompleteMilestone, paCoord, lifecycle.CompleteMilestone{MilestoneID: "m1", Actual: ptr(38.0)})
	final := l.waitResult(run)
	if final.Status != lifecycle.StatusCompleted || !lifecycle.Published(final) || final.Sector != "33120" {
		t.Fatalf("final %s published %v sector %q", final.Status, lifecycle.Published(final), final.Sector)
	}
	h := l.history(id, run.GetRunID())
	if countEvents(h, enumspb.EVENT_TYPE_MARKER_RECORDED) == 0 {
		t.Fatal("no version marker in the history of the publication decisions")
	}
	l.replayAndKeep(id, h)
}

// delivery sends a batch through the Delivery workflow on the server: each
// row retries on its own, a refused one is marked failed, and the history
// is kept for replay.
func (l *live) delivery(t *testing.T) {
	l.t = t
	in := DefaultDeliveryInput("")
	in.IDs = []string{"ok", "flaky", "refused"}
	in.FirstRetry, in.MaxRetry = 100*time.Millisecond, 200*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, err := l.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "live-delivery", TaskQueue: TaskQueue}, DeliveryWorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatalf("delivery workflow: %v", err)
	}
	l.sender.mu.Lock()
	attempts, failed := maps.Clone(l.sender.attempts), maps.Clone(l.sender.failed)
	l.sender.mu.Unlock()
	if attempts["ok"] != 1 || attempts["flaky"] != 3 || attempts["refused"] != 1 {
		t.Fatalf("attempts %v; want ok 1, flaky 3, refused 1", attempts)
	}
	if len(failed) != 1 || !strings.Contains(failed["refused"], "550") {
		t.Fatalf("marked failed: %v; want only refused", failed)
	}
	l.replayAndKeep("live-delivery", l.history("live-delivery", run.GetRunID()))
}

// digest runs the Digest workflow on the server, its queueing retried
// once, and keeps the history for replay.
func (l *live) digest(t *testing.T) {
	l.t = t
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run, err := l.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "live-digest", TaskQueue: TaskQueue}, DigestWorkflowName, DigestInput{Version: DigestVersion})
	if err != nil {
		t.Fatal(err)
	}
	var got store.DigestRun
	if err := run.Get(ctx, &got); err != nil || got != (store.DigestRun{Due: 3, Queued: 2, Notices: 5}) {
		t.Fatalf("digest workflow: %+v, %v", got, err)
	}
	l.replayAndKeep("live-digest", l.history("live-digest", run.GetRunID()))
}

// reminders runs a milestone through due-soon, overdue and escalation on
// a seconds-long cadence, with refused commands along the way.
func (l *live) reminders(t *testing.T) {
	l.t = t
	p := proposal("live-reminders")
	p.Milestones[0].Due = "PT4S"
	two := 2
	p.Policy = lifecycle.PolicyOverrides{DueSoonLead: seconds(2), OverdueReminderEvery: seconds(1), OverdueReminders: &two}
	run := l.start(paCoord, p)

	refused(l, p.ActivityID, UpdateDecide, usApprover, approve(2), lifecycle.KindStaleVersion)
	refused(l, p.ActivityID, UpdateDecide, usApprover, lifecycle.DecideProposal{Version: 1, Party: "PA", Decision: lifecycle.DecisionApprove}, lifecycle.KindForbidden)
	refused(l, p.ActivityID, UpdateDecide, paCoord, approve(1), lifecycle.KindForbidden)
	must(l, p.ActivityID, UpdateDecide, paApprover, approve(1))
	active := must(l, p.ActivityID, UpdateDecide, usApprover, approve(1))
	if active.Status != lifecycle.StatusActive {
		t.Fatalf("after both approvals: %s", active.Status)
	}
	due := active.Milestones[0].DueAt
	deadline := time.Now().Add(30 * time.Second)
	for len(eventsOf(l.rec, lifecycle.EventMilestoneEscalated)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no escalation within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	must(l, p.ActivityID, UpdateCompleteMilestone, paCoord, lifecycle.CompleteMilestone{MilestoneID: "m1", Note: "done"})
	final := l.waitResult(run)
	if final.Status != lifecycle.StatusCompleted {
		t.Fatalf("final %s", final.Status)
	}

	// Each notice fires no earlier than it is owed, in order.
	var got []lifecycle.EventType
	for _, e := range l.rec.events() {
		if e.Milestone != "m1" || e.Type == lifecycle.EventMilestoneCompleted {
			continue
		}
		got = append(got, e.Type)
		var owed time.Time
		switch {
		case e.Type == lifecycle.EventMilestoneDueSoon:
			owed = due.Add(-2 * time.Second)
		case e.Type == lifecycle.EventMilestoneOverdue:
			owed = due.Add(time.Duration(e.Notice-1) * time.Second)
		default:
			owed = due.Add(2 * time.Second)
		}
		if e.At.Before(owed) {
			t.Errorf("%s %d fired at %s, before it was owed at %s", e.Type, e.Notice, e.At, owed)
		}
	}
	want := []lifecycle.EventType{lifecycle.EventMilestoneDueSoon, lifecycle.EventMilestoneOverdue, lifecycle.EventMilestoneOverdue, lifecycle.EventMilestoneEscalated}
	if !slices.Equal(got, want) {
		t.Fatalf("notices %v, want %v", got, want)
	}

	h := l.history(p.ActivityID, run.GetRunID())
	// Three refused Updates, three accepted: only the accepted are in history.
	if n := countEvents(h, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED); n != 3 {
		t.Fatalf("%d updates in history, want the 3 accepted ones", n)
	}
	l.replayAndKeep(p.ActivityID, h)
}

// lifecycle goes through changes requested, amendment, extension,
// suspension, resumption and cancellation.
func (l *live) lifecycle(t *testing.T) {
	l.t = t
	p := proposal("live-lifecycle")
	p.Milestones[0].Due = "P90D"
	run := l.start(paCoord, p)
	id := p.ActivityID
	must(l, id, UpdateDecide, usApprover, lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionRequestChanges, Comment: "Add a target date"})
	amended := must(l, id, UpdateAmend, paCoord, lifecycle.Amend{BaseVersion: 1, Title: bilingual(p.Title["en"]+" (2027)", p.Title["es"]+" (2027)"), Summary: p.Summary, Objectives: p.Objectives, Milestones: p.Milestones})
	if amended.Version != 2 {
		t.Fatalf("amended to version %d", amended.Version)
	}
	refused(l, id, UpdateAmend, paCoord, lifecycle.Amend{BaseVersion: 1, Title: lifecycle.Plain("stale")}, lifecycle.KindStaleVersion)
	must(l, id, UpdateDecide, paApprover, approve(2))
	must(l, id, UpdateDecide, usApprover, approve(2))
	newDue := time.Now().UTC().AddDate(0, 6, 0).Format("2006-01-02")
	must(l, id, UpdateRequestExtension, paCoord, lifecycle.RequestExtension{MilestoneID: "m1", NewDue: newDue, Reason: "Budget cycle"})
	must(l, id, UpdateDecideExtension, paApprover, lifecycle.DecideExtension{ExtensionID: "x1", Decision: lifecycle.DecisionApprove})
	ext := must(l, id, UpdateDecideExtension, usApprover, lifecycle.DecideExtension{ExtensionID: "x1", Decision: lifecycle.DecisionApprove})
	if ext.Extensions[0].Status != lifecycle.ExtensionApproved {
		t.Fatalf("extension %s", ext.Extensions[0].Status)
	}
	must(l, id, UpdateReportProgress, paCoord, lifecycle.ReportProgress{MilestoneID: "m1", Evidence: []string{"https://example.org/report.pdf"}, Actual: ptr(12.0)})
	must(l, id, UpdateSuspend, usApprover, lifecycle.Suspend{Reason: "Elections"})
	must(l, id, UpdateResume, usApprover, lifecycle.Resume{Reason: "Resumed"})
	must(l, id, UpdateCancel, paApprover, lifecycle.Cancel{Reason: "Merged into another activity"})
	final := l.waitResult(run)
	if final.Status != lifecycle.StatusCancelled || final.Milestones[0].Indicator.Actual == nil || *final.Milestones[0].Indicator.Actual != 12 {
		t.Fatalf("final %+v", final)
	}
	l.replayAndKeep(id, l.history(id, run.GetRunID()))
}

func ptr[T any](v T) *T { return &v }

// languages runs a version-3 activity through equally authentic texts:
// PA's coordinator proposes in Spanish only, the US approver is refused
// for the missing English, the US coordinator adds it by amendment, both
// approve and the milestone is completed.
func (l *live) languages(t *testing.T) {
	l.t = t
	p := spanishProposal("live-languages")
	run := l.start(paCoord, p)
	id := p.ActivityID
	ce := refused(l, id, UpdateDecide, usApprover, approve(1), lifecycle.KindInvalidTransition)
	if ce.Language != "en" || !slices.Contains(ce.Missing, "title") || !slices.Contains(ce.Missing, "milestones[0].indicator.unit") {
		t.Fatalf("refusal %+v; want it to name en and the texts without it", ce)
	}
	must(l, id, UpdateDecide, paApprover, approve(1))
	amended := must(l, id, UpdateAmend, usCoord, englishAmendment(1))
	if amended.Version != 2 || !slices.Equal(lifecycle.PendingParties(amended), []lifecycle.PartyCode{"PA", "US"}) {
		t.Fatalf("after the English amendment: version %d pending %v", amended.Version, lifecycle.PendingParties(amended))
	}
	wantBothTexts(t, "after the English amendment", amended)
	must(l, id, UpdateDecide, paApprover, approve(2))
	if active := must(l, id, UpdateDecide, usApprover, approve(2)); active.Status != lifecycle.StatusActive {
		t.Fatalf("after both approved version 2: %s", active.Status)
	}
	must(l, id, UpdateCompleteMilestone, paCoord, lifecycle.CompleteMilestone{MilestoneID: "m1", Note: "Primera cohorte lista"})
	final := l.waitResult(run)
	if final.Status != lifecycle.StatusCompleted || !slices.Equal(final.Languages, []string{"en", "es"}) {
		t.Fatalf("final %s with languages %v", final.Status, final.Languages)
	}
	wantBothTexts(t, "final", final)
	l.replayAndKeep(id, l.history(id, run.GetRunID()))
}

// assignLanguages runs an activity as one proposed before languages was:
// a run of Input.Version 2 whose proposal has plain texts and parties
// without languages. It is approved by PA as then, moved to languages by
// assign_languages, given its English by amendment and approved by both,
// so its recorded history holds the versioned change.
func (l *live) assignLanguages(t *testing.T) {
	l.t = t
	p := beforeLanguages("live-assign-languages")
	id := p.ActivityID
	run := l.startInput(id, Input{Actor: paCoord, Propose: &p, Version: 2})
	before := must(l, id, UpdateDecide, paApprover, approve(1))
	if len(before.Languages) != 0 || before.Rules != 2 || !before.Title.Equal(p.Title) {
		t.Fatalf("before the move: rules %d languages %v title %v", before.Rules, before.Languages, before.Title)
	}
	keyed := englishAmendment(1)
	keyed.Title = lifecycle.Text{"en": keyed.Title[""]}
	refused(l, id, UpdateAmend, usCoord, keyed, lifecycle.KindInvalidInput)
	moved := must(l, id, UpdateAssignLanguages, system, assignLanguages())
	if !slices.Equal(moved.Languages, []string{"en", "es"}) || !moved.Title.Equal(lifecycle.Text{"es": p.Title[""]}) ||
		moved.Version != 1 || !slices.Equal(lifecycle.PendingParties(moved), []lifecycle.PartyCode{"US"}) {
		t.Fatalf("moved: languages %v title %v version %d pending %v", moved.Languages, moved.Title, moved.Version, lifecycle.PendingParties(moved))
	}
	if ce := refused(l, id, UpdateDecide, usApprover, approve(1), lifecycle.KindInvalidTransition); ce.Language != "en" {
		t.Fatalf("the US approval refused naming %q, want en", ce.Language)
	}
	amended := must(l, id, UpdateAmend, usCoord, englishAmendment(1))
	wantBothTexts(t, "after the English amendment", amended)
	must(l, id, UpdateDecide, paApprover, approve(2))
	if active := must(l, id, UpdateDecide, usApprover, approve(2)); active.Status != lifecycle.StatusActive {
		t.Fatalf("after both approved version 2: %s", active.Status)
	}
	must(l, id, UpdateCancel, usApprover, lifecycle.Cancel{Reason: "Merged into another activity"})
	final := l.waitResult(run)
	if final.Status != lifecycle.StatusCancelled || final.Rules != 2 {
		t.Fatalf("final %s under rules %d", final.Status, final.Rules)
	}
	wantBothTexts(t, "final", final)
	h := l.history(id, run.GetRunID())
	if n := countEvents(h, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED); n != 6 {
		t.Fatalf("%d updates in history, want the 6 accepted ones (the 2 refused leave none)", n)
	}
	l.replayAndKeep(id, h)
}

// cancelledInTemporal cancels an active activity's run from outside, as
// the Web UI's "Request Cancellation" or `temporal workflow cancel` does:
// the run records the cancellation, by Temporal with the client's
// identity and reason, and closes as cancelled. Its history, with the
// version marker of the change, is kept for replay.
func (l *live) cancelledInTemporal(t *testing.T) {
	l.t = t
	p := proposal("live-cancelled-in-temporal")
	run := l.start(paCoord, p)
	id := p.ActivityID
	must(l, id, UpdateDecide, paApprover, approve(1))
	must(l, id, UpdateDecide, usApprover, approve(1))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := l.c.CancelWorkflowWithOptions(ctx, client.CancelWorkflowOptions{WorkflowID: id, Reason: "opened twice by mistake"}); err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); !temporal.IsCanceledError(err) {
		t.Fatalf("the run ended with %v; want it cancelled", err)
	}
	var got *lifecycle.Event
	for _, e := range l.rec.events() {
		if e.Type == lifecycle.EventCancelled && e.Actor == lifecycle.TemporalActor {
			got = &e
		}
	}
	if got == nil || got.Comment != "opened twice by mistake" || got.Temporal == nil || got.Temporal.Identity == "" {
		t.Fatalf("recorded cancellation %+v; want one by Temporal with the client's identity and the reason", got)
	}
	desc, err := l.c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED {
		t.Fatalf("the run is %s in Temporal; want canceled", st)
	}
	var status string
	if err := converter.GetDefaultDataConverter().FromPayload(desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[StatusKey.GetName()], &status); err != nil || status != string(lifecycle.StatusCancelled) {
		t.Fatalf("search attribute %s is %q (%v); want cancelled", StatusKey.GetName(), status, err)
	}
	h := l.history(id, run.GetRunID())
	if countEvents(h, enumspb.EVENT_TYPE_MARKER_RECORDED) == 0 {
		t.Fatal("no version marker in the history of the cancelled run")
	}
	l.replayAndKeep(id, h)
}

// continueAsNew drives enough steps through one activity to make it
// continue as new twice, then checks every run's history length against
// the bound and replays each run.
func (l *live) continueAsNew(t *testing.T) {
	l.t = t
	p := proposal("live-continue")
	p.Milestones[0].Due = "P1Y"
	run := l.start(paCoord, p)
	id := p.ActivityID
	must(l, id, UpdateDecide, paApprover, approve(1))
	must(l, id, UpdateDecide, usApprover, approve(1))
	const reports = 2*MaxStepsPerRun + 20
	for i := range reports {
		must(l, id, UpdateReportProgress, paCoord, lifecycle.ReportProgress{MilestoneID: "m1", Note: fmt.Sprintf("week %d", i+1)})
	}
	final := must(l, id, UpdateCancel, paApprover, lifecycle.Cancel{Reason: "end of test"})
	if final.Status != lifecycle.StatusCancelled {
		t.Fatalf("final %s", final.Status)
	}
	// Walk the chain of runs from the first.
	runID, runs, longest := run.GetRunID(), 0, 0
	for runID != "" {
		runs++
		h := l.history(id, runID)
		t.Logf("run %d: %d events, last %s", runs, len(h.Events), h.Events[len(h.Events)-1].GetEventType())
		if len(h.Events) > longest {
			longest = len(h.Events)
		}
		if len(h.Events) >= MaxHistoryEvents {
			t.Errorf("run %d has %d events; the bound is %d", runs, len(h.Events), MaxHistoryEvents)
		}
		if err := replayWith(id, h, l.codec); err != nil {
			t.Fatalf("replay run %d: %v", runs, err)
		}
		runID = h.Events[len(h.Events)-1].GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
	}
	if runs < 3 {
		t.Fatalf("%d runs for %d steps; want continue-as-new every %d steps", runs, reports+3, MaxStepsPerRun)
	}
	notes := 0
	for _, e := range eventsOf(l.rec, lifecycle.EventProgressReported) {
		if e.Progress != nil && e.Progress.Note != "" {
			notes++
		}
	}
	if notes != reports {
		t.Fatalf("%d progress reports recorded, want %d", notes, reports)
	}
	t.Logf("%d steps in %d runs; longest run history %d events", reports+3, runs, longest)
}

// The replay's comparison of answers is what catches a change that alters
// only the state: a recorded answer that differs from what the code
// computes, as after such a change, fails the replay. Checked on the
// current recording, on the version-2 one kept beside it, and on the
// answer to assign_languages in a version-2 run.
func TestReplayFailsWhenTheStateDiffers(t *testing.T) {
	for _, c := range []struct{ file, update string }{
		{"live-lifecycle", UpdateDecide},
		{"live-lifecycle@v2", UpdateDecide},
		{"live-assign-languages", UpdateAssignLanguages},
	} {
		t.Run(c.file, func(t *testing.T) {
			id, _, _ := strings.Cut(c.file, "@")
			b, err := os.ReadFile(filepath.Join(historiesDir, c.file+".json"))
			if err != nil {
				t.Fatal(err)
			}
			h, err := client.HistoryFromJSON(bytes.NewReader(b), client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := replay(id, h); err != nil {
				t.Fatalf("the untouched history does not replay: %v", err)
			}
			names := map[string]string{}
			tampered := 0
			for _, e := range h.Events {
				if a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil {
					names[a.GetAcceptedRequest().GetMeta().GetUpdateId()] = a.GetAcceptedRequest().GetInput().GetName()
				}
				if a := e.GetWorkflowExecutionUpdateCompletedEventAttributes(); a != nil && tampered == 0 && names[a.GetMeta().GetUpdateId()] == c.update {
					p := a.GetOutcome().GetSuccess().GetPayloads()[0]
					data := bytes.Replace(p.Data, []byte(`"state_hash":"`), []byte(`"state_hash":"0`), 1)
					if bytes.Equal(data, p.Data) {
						t.Fatalf("the answer to %s has no state hash: %s", c.update, p.Data)
					}
					p.Data = data
					tampered++
				}
			}
			if tampered == 0 {
				t.Fatalf("no answer to %s in the history", c.update)
			}
			if err := replay(id, h); err == nil || !strings.Contains(err.Error(), "differs on replay") {
				t.Fatalf("replaying a history whose recorded state differs: %v; want a difference reported", err)
			}
		})
	}
}

// The recorded histories keep a run of every version the workflow has
// had, so each keeps being replayed; a version-2 run that was moved to
// languages, the change version 3 brought to older runs; a run asked
// to cancel in Temporal from before and after that was handled; and a
// run that took publication decisions.
func TestRecordedHistoriesCoverEveryVersion(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(historiesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	versions := map[int][]string{}
	moved := false
	// Runs asked to cancel in Temporal, by the version of their handling
	// of it (-1: before the change, no marker).
	cancelled := map[int][]string{}
	var published []string // runs that took a publication decision
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h, err := client.HistoryFromJSON(bytes.NewReader(b), client.HistoryJSONOptions{})
		if err != nil {
			t.Fatalf("decode %s: %v", f, err)
		}
		start := h.Events[0].GetWorkflowExecutionStartedEventAttributes()
		if typ := start.GetWorkflowType().GetName(); typ != WorkflowName && typ != LegacyWorkflowName {
			continue
		}
		var in Input
		if err := converter.GetDefaultDataConverter().FromPayloads(start.GetInput(), &in); err != nil {
			t.Fatalf("decode the input of %s: %v", f, err)
		}
		versions[in.Version] = append(versions[in.Version], filepath.Base(f))
		asked, handling := false, -1
		for _, e := range h.Events {
			if a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil &&
				a.GetAcceptedRequest().GetInput().GetName() == UpdateAssignLanguages && in.Version < 3 {
				moved = true
			}
			if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED {
				asked = true
			}
			if change, v, ok := versionMarker(t, f, e); ok && change == cancelInTemporalChange {
				handling = v
			}
			if change, v, ok := versionMarker(t, f, e); ok && change == publicationChange && v == 1 {
				published = append(published, filepath.Base(f))
			}
		}
		if asked {
			cancelled[handling] = append(cancelled[handling], filepath.Base(f))
		}
	}
	if len(cancelled[-1]) == 0 || len(cancelled[1]) == 0 {
		t.Errorf("want a recorded history of a run asked to cancel in Temporal before the %q change and one after it; have %v", cancelInTemporalChange, cancelled)
	}
	for v := 0; v <= InputVersion; v++ {
		if len(versions[v]) == 0 {
			t.Errorf("no recorded history of a version %d run (recorded: %v)", v, versions)
		}
	}
	if !moved {
		t.Error("no recorded history of a run before version 3 taking assign_languages")
	}
	if len(published) == 0 {
		t.Errorf("no recorded history of a run taking a publication decision (marker %q)", publicationChange)
	}
}

// versionMarker decodes e if it is a workflow.GetVersion marker.
func versionMarker(t *testing.T, file string, e *historypb.HistoryEvent) (change string, version int, ok bool) {
	t.Helper()
	a := e.GetMarkerRecordedEventAttributes()
	if a == nil || a.GetMarkerName() != "Version" {
		return "", 0, false
	}
	dc := converter.GetDefaultDataConverter()
	if err := dc.FromPayloads(a.GetDetails()["change-id"], &change); err != nil {
		t.Fatalf("%s: decode a version marker: %v", file, err)
	}
	if err := dc.FromPayloads(a.GetDetails()["version"], &version); err != nil {
		t.Fatalf("%s: decode a version marker: %v", file, err)
	}
	return change, version, true
}

// The recorded histories keep a Review run of each version: one from
// before the meeting's cycle, with no "meeting-cycle" marker, and one
// that runs it, whose marker says version 1 and which claims its meeting.
func TestRecordedReviewHistoriesCoverBothVersions(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(historiesDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var before, cycle []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h, err := client.HistoryFromJSON(bytes.NewReader(b), client.HistoryJSONOptions{})
		if err != nil {
			t.Fatalf("decode %s: %v", f, err)
		}
		if h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName() != ReviewWorkflowName {
			continue
		}
		version, claims := -1, false
		for _, e := range h.Events {
			if change, v, ok := versionMarker(t, f, e); ok && change == cycleChange {
				version = v
			}
			if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == activities.ClaimMeetingName {
				claims = true
			}
		}
		switch {
		case version == -1 && !claims:
			before = append(before, filepath.Base(f))
		case version == 1 && claims:
			cycle = append(cycle, filepath.Base(f))
		default:
			t.Errorf("%s: a Review history with marker version %d that claims its meeting: %v", f, version, claims)
		}
	}
	if len(before) == 0 {
		t.Errorf("no recorded Review history from before the %q change (cycle: %v)", cycleChange, cycle)
	}
	if len(cycle) == 0 {
		t.Errorf("no recorded Review history of the meeting's cycle (before it: %v)", before)
	}
}
