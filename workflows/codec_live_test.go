package workflows

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"pacto/internal/codec"
	"pacto/internal/lifecycle"
)

// The live server with the payload codec on the client and the worker,
// as every Pacto process has it: an activity continues as new and each
// run replays from its encrypted history; a Record the read model refuses
// leaves only an encrypted failure in the history, while the refusal it
// causes still reads in full to the client; and no history, as the server
// returns it, holds the activities' texts.
func TestLiveServerWithTheCodec(t *testing.T) {
	k, err := codec.NewKey("live-1")
	if err != nil {
		t.Fatal(err)
	}
	cx, err := codec.New([]codec.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	l := startLiveWith(t, cx)
	t.Run("continue-as-new", l.continueAsNew)
	t.Run("refused-record", l.refusedRecordEncrypted)
	t.Run("no-plaintext", func(t *testing.T) {
		l.t = t
		texts := []string{"Joint customs training", "Capacitación aduanera conjunta", "Train border officials",
			"First cohort trained", "week 17", "end of test", "invalid byte sequence"}
		for _, id := range []string{"live-continue", "live-codec-refused"} {
			runs := l.runs(id)
			if id == "live-continue" && len(runs) < 3 {
				t.Fatalf("%s has %d runs; want the continued ones too", id, len(runs))
			}
			for i, h := range runs {
				for _, e := range h.Events {
					b, err := proto.Marshal(e)
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range texts {
						if bytes.Contains(b, []byte(s)) {
							t.Errorf("%s run %d: event %d (%s) holds %q in plain text", id, i+1, e.GetEventId(), e.GetEventType(), s)
						}
					}
				}
			}
			// The texts are there, sealed: the codec opens them.
			in := runs[0].Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
			if len(in) == 0 || string(in[0].Metadata[converter.MetadataEncoding]) != codec.EncodingEncrypted {
				t.Fatalf("%s's input is not encrypted: %v", id, in)
			}
			plain, err := cx.Decode(in)
			if err != nil || !bytes.Contains(plain[0].Data, []byte("Joint customs training")) {
				t.Fatalf("%s's input decodes to %v, %v", id, plain, err)
			}
		}
	})
}

// runs are every run's history of the workflow, first to last.
func (l *live) runs(id string) []*historypb.History {
	l.t.Helper()
	d, err := l.c.DescribeWorkflowExecution(context.Background(), id, "")
	if err != nil {
		l.t.Fatal(err)
	}
	var out []*historypb.History
	for runID := d.GetWorkflowExecutionInfo().GetFirstRunId(); runID != ""; {
		h := l.history(id, runID)
		out = append(out, h)
		runID = h.Events[len(h.Events)-1].GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
	}
	return out
}

// refusedRecordEncrypted blocks an activity on a Record the read model
// refuses, then unblocks it, with the codec on.
func (l *live) refusedRecordEncrypted(t *testing.T) {
	l.t = t
	const id = "live-codec-refused"
	l.rec.mu.Lock()
	l.rec.refusing, l.rec.refuseSeq = true, 2
	l.rec.mu.Unlock()
	defer func() {
		l.rec.mu.Lock()
		l.rec.refusing = false
		l.rec.mu.Unlock()
	}()
	l.start(paCoord, proposal(id))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The approval is kept by the workflow and answered as not recorded.
	h, err := l.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: UpdateDecide, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{Request[lifecycle.DecideProposal]{Actor: paApprover, Command: approve(1)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var res UpdateResult
	if err := h.Get(ctx, &res); err != nil || res.Recorded == nil || *res.Recorded {
		t.Fatalf("the refused approval: %+v, %v; want answered as not recorded", res, err)
	}
	// A command while blocked is refused; the refusal travelled
	// encrypted and reads as the workflow wrote it.
	_, err = update(l, id, UpdateDecide, usApprover, approve(1))
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != ErrRecordBlocked || !strings.Contains(ae.Message(), "could not be recorded") {
		t.Fatalf("a command while blocked: %v; want a %s refusal that says why", err, ErrRecordBlocked)
	}

	// The Record's failure is in the history (a local activity's marker,
	// or an activity's failure for older runs), its message sealed.
	failed := 0
	for _, e := range l.history(id, "").Events {
		f := e.GetMarkerRecordedEventAttributes().GetFailure()
		if f == nil {
			f = e.GetActivityTaskFailedEventAttributes().GetFailure()
		}
		if f == nil {
			continue
		}
		failed++
		if f.GetMessage() != "Encoded failure" || f.GetStackTrace() != "" ||
			string(f.GetEncodedAttributes().GetMetadata()[converter.MetadataEncoding]) != codec.EncodingEncrypted {
			t.Fatalf("the Record's failure is stored as message %q, encoded attributes %v", f.GetMessage(), f.GetEncodedAttributes().GetMetadata())
		}
		if err := codec.FailureConverter(codec.DataConverter(l.codec)).FailureToError(f); !strings.Contains(err.Error(), "invalid byte sequence") {
			t.Fatalf("the Record's failure decodes to %v", err)
		}
	}
	if failed == 0 {
		t.Fatal("no failed Record in the history")
	}

	// Once the cause is gone, an admin's retry records it and the
	// activity goes on.
	l.rec.mu.Lock()
	l.rec.refusing = false
	l.rec.mu.Unlock()
	if err := l.c.SignalWorkflow(ctx, id, "", SignalRetryRecord, nil); err != nil {
		t.Fatal(err)
	}
	var s lifecycle.State
	for {
		s, err = update(l, id, UpdateDecide, usApprover, approve(1))
		if err == nil {
			break
		}
		if !errors.As(err, &ae) || ae.Type() != ErrRecordBlocked || ctx.Err() != nil {
			t.Fatalf("the approval after the retry: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if s.Status != lifecycle.StatusActive {
		t.Fatalf("after both approvals: %s", s.Status)
	}
	must(l, id, UpdateCancel, paApprover, lifecycle.Cancel{Reason: "end of test"})
	if err := replayWith(id, l.history(id, ""), l.codec); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if err := replay(id, l.history(id, "")); err == nil {
		t.Fatal("the encrypted history replays without the codec; the check proves nothing")
	}
	if n := countEvents(l.history(id, ""), enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED); n != 1 {
		t.Fatalf("%d completions", n)
	}
}
