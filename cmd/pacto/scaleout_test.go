package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"

	"pacto/internal/pgtest"
	"pacto/workflows"
)

// Two `pacto worker` processes and one `pacto api` against one Temporal
// server and one PostgreSQL: a burst of 100 proposals, then a burst of 200
// decisions during which one worker is killed with SIGKILL and, a moment
// later, started again. Every accepted request is kept: each activity
// reaches active, and each accepted decision is in its audit log exactly
// once.
func TestTwoWorkersOneAPISurviveAWorkerKill(t *testing.T) {
	ctx := context.Background()
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))),
	}))
	if _, err := workflows.RegisterSearchAttributes(ctx, ts.GetDefaultClient(), ts.GetDefaultNamespace()); err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDatabase(t)
	httpPort := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	env := []string{
		"PACTO_DATABASE_URL=" + db, "TEMPORAL_ADDRESS=" + ts.GetFrontendHostPort(),
		"TEMPORAL_NAMESPACE=" + ts.GetDefaultNamespace(), "PACTO_LOG_LEVEL=warn",
	}
	tokens := migrateAndSeed(t, env, db)

	w1 := start(t, env, "worker")
	start(t, env, "worker")
	apiProc := start(t, env, "api", "--http", fmt.Sprintf("127.0.0.1:%d", httpPort))
	waitReady(t, apiProc, base, 2*time.Minute)

	const activities, concurrency = 100, 8
	pa := apiClient{t, base, tokens["pa-coordinator"]}
	ids := make([]string, activities)
	burst(t, activities, concurrency, func(i int) error {
		// Like a careful client, retry a 503 with the same Idempotency-Key.
		code, body := retry503(pa, "POST", "/v1/activities", fmt.Sprintf("propose-%d", i), map[string]any{
			"dialogue": "hld-pa-us", "parties": []string{"PA", "US"}, "title": map[string]string{"es": fmt.Sprintf("Actividad %d", i), "en": fmt.Sprintf("Activity %d", i)},
			"milestones": []map[string]any{{"title": map[string]string{"es": "Informe", "en": "Report"}, "owner": "US", "due": "P1Y"}},
		})
		if code != 201 {
			return fmt.Errorf("propose %d: %d %s", i, code, body)
		}
		var v map[string]any
		_ = json.Unmarshal(body, &v)
		ids[i] = v["id"].(string)
		return nil
	})
	if t.Failed() {
		return
	}

	// 200 decisions, both approvers of every activity, interleaved.
	var sent, accepted atomic.Int32
	restarted := make(chan struct{})
	burst(t, 2*activities, concurrency, func(i int) error {
		id, who := ids[i/2], []string{"pa-approver", "us-approver"}[i%2]
		if sent.Add(1) == activities {
			// Half way through the burst, one worker dies; another takes
			// its place a moment later.
			_ = syscall.Kill(w1.cmd.Process.Pid, syscall.SIGKILL)
			go func() {
				time.Sleep(2 * time.Second)
				start(t, env, "worker")
				close(restarted)
			}()
		}
		c := apiClient{t, base, tokens[who]}
		code, body := retry503(c, "POST", "/v1/activities/"+id+"/decisions", "approve-"+id, map[string]any{"version": 1, "decision": "approve"})
		if code != 200 {
			return fmt.Errorf("%s on %s: %d %s", who, id, code, body)
		}
		accepted.Add(1)
		return nil
	})
	<-restarted
	if t.Failed() {
		return
	}
	if accepted.Load() != 2*activities {
		t.Fatalf("%d of %d decisions accepted", accepted.Load(), 2*activities)
	}
	// The workflows know at once; the read model converges once the Records
	// the dead worker held are retried on another.
	observer := apiClient{t, base, tokens["us-observer"]}
	deadline := time.Now().Add(90 * time.Second)
	for _, id := range ids {
		v := observer.must("GET", "/v1/activities/"+id+"?consistent=true", nil, 200)
		if v["status"] != "active" {
			t.Errorf("%s is %v, want active", id, v["status"])
		}
		waitApprovedOnce(t, observer, id, deadline)
		if v := observer.must("GET", "/v1/activities/"+id, nil, 200); v["status"] != "active" {
			t.Errorf("read model has %s as %v, want active", id, v["status"])
		}
	}
}

// burst runs job(0..n-1), concurrency at a time, and reports each error.
func burst(t *testing.T, n, concurrency int, job func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, concurrency)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := job(i); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// wait waits for the process to exit by itself.
func (p *proc) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(within):
		t.Fatalf("pacto did not finish within %s", within)
		return nil
	}
}

// retry503 sends a request with an Idempotency-Key, again while the answer
// is 503 (at most 10 times), as a client that wants its request through.
func retry503(c apiClient, method, path, key string, body any) (int, []byte) {
	for attempt := 0; ; attempt++ {
		code, b := c.doKey(method, path, key, body)
		if code != 503 || attempt == 9 {
			return code, b
		}
		time.Sleep(time.Second)
	}
}
