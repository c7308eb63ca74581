package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"

	"pacto/internal/app"
	"pacto/internal/pgtest"
	"pacto/internal/store"
	"pacto/workflows"
)

// Two `pacto worker` processes and one `pacto api` against one Temporal
// server and one PostgreSQL: a burst of proposals and decisions, one
// worker killed with SIGKILL half way, and every activity still reaches
// the state its accepted decisions lead to, each decision recorded once.
func TestTwoWorkersOneAPISurviveAWorkerKill(t *testing.T) {
	ctx := context.Background()
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))),
	}))
	if err := workflows.RegisterSearchAttributes(ctx, ts.GetDefaultClient(), ts.GetDefaultNamespace()); err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDatabase(t)
	httpPort := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	env := []string{
		"PACTO_DATABASE_URL=" + db, "TEMPORAL_ADDRESS=" + ts.GetFrontendHostPort(),
		"TEMPORAL_NAMESPACE=" + ts.GetDefaultNamespace(), "PACTO_LOG_LEVEL=warn",
	}
	if err := start(t, env, "migrate").wait(t, time.Minute); err != nil {
		t.Fatalf("pacto migrate: %v", err)
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tokensFile := filepath.Join(t.TempDir(), "tokens.json")
	if _, err := app.SeedDemo(ctx, st, tokensFile); err != nil {
		t.Fatal(err)
	}
	var tokens map[string]string
	b, _ := os.ReadFile(tokensFile)
	if err := json.Unmarshal(b, &tokens); err != nil {
		t.Fatal(err)
	}

	w1 := start(t, env, "worker")
	start(t, env, "worker")
	apiProc := start(t, env, "api", "--http", fmt.Sprintf("127.0.0.1:%d", httpPort))
	waitReady(t, apiProc, base, 2*time.Minute)

	const activities = 24
	pa := apiClient{t, base, tokens["pa-coordinator"]}
	ids := make([]string, activities)
	var wg sync.WaitGroup
	errs := make(chan error, activities*3)
	sem := make(chan struct{}, 6)
	for i := range activities {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			// Like a careful client, retry a 503 with the same Idempotency-Key.
			code, body := retry503(pa, "POST", "/v1/activities", fmt.Sprintf("propose-%d", i), map[string]any{
				"dialogue": "hld-pa-us", "parties": []string{"PA", "US"}, "title": fmt.Sprintf("Activity %d", i),
				"milestones": []map[string]any{{"title": "Report", "owner": "US", "due": "P1Y"}},
			})
			if code != 201 {
				errs <- fmt.Errorf("propose %d: %d %s", i, code, body)
				return
			}
			var v map[string]any
			_ = json.Unmarshal(body, &v)
			ids[i] = v["id"].(string)
			if i == activities/2 {
				// Half way through the burst, one worker dies.
				_ = syscall.Kill(w1.cmd.Process.Pid, syscall.SIGKILL)
			}
			for _, who := range []string{"pa-approver", "us-approver"} {
				c := apiClient{t, base, tokens[who]}
				code, body := retry503(c, "POST", "/v1/activities/"+ids[i]+"/decisions", "approve-"+ids[i], map[string]any{"version": 1, "decision": "approve"})
				if code != 200 {
					errs <- fmt.Errorf("%s on %s: %d %s", who, ids[i], code, body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	// The workflows know at once; the read model converges once the Records
	// the dead worker held are retried on the other one.
	observer := apiClient{t, base, tokens["us-observer"]}
	deadline := time.Now().Add(90 * time.Second)
	for _, id := range ids {
		v := observer.must("GET", "/v1/activities/"+id+"?consistent=true", nil, 200)
		if v["status"] != "active" {
			t.Errorf("%s is %v, want active", id, v["status"])
		}
		for {
			approved := 0
			page := observer.must("GET", "/v1/activities/"+id+"/audit", nil, 200)
			for _, e := range page["events"].([]any) {
				if e.(map[string]any)["type"] == "approved" {
					approved++
				}
			}
			if approved == 2 {
				break
			}
			if approved > 2 || time.Now().After(deadline) {
				t.Fatalf("%s has %d approvals in its audit log, want exactly 2", id, approved)
			}
			time.Sleep(500 * time.Millisecond)
		}
		if v := observer.must("GET", "/v1/activities/"+id, nil, 200); v["status"] != "active" {
			t.Errorf("read model has %s as %v, want active", id, v["status"])
		}
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
