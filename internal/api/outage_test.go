package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"

	"pacto/internal/app"
	"pacto/internal/pgcluster"
	"pacto/internal/store"
	"pacto/workflows"
)

// PostgreSQL stopped for 20 seconds while activities run: every answer is
// a success or a 503 (never a 500), the clock keeps the workflows going,
// and once PostgreSQL is back the read model converges to the workflows'
// state with an intact audit chain.
func TestPostgresOutage(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pacto-outage-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	opts := pgcluster.Options{DataDir: filepath.Join(dir, "pg"), Port: port, DisableFsync: true}
	pg, err := pgcluster.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pg.Stop(context.Background()) }()
	if err := app.EnsureDatabase(ctx, pg.URL("postgres"), "pacto"); err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx, pg.URL("pacto")); err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenLazy(ctx, pg.URL("pacto")+"&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tokensFile := filepath.Join(dir, "tokens.json")
	if _, err := app.SeedDemo(ctx, st, tokensFile); err != nil {
		t.Fatal(err)
	}
	var tokens map[string]string
	b, _ := os.ReadFile(tokensFile)
	if err := json.Unmarshal(b, &tokens); err != nil {
		t.Fatal(err)
	}

	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{Logger: sdklog.NewStructuredLogger(quietLogger())}))
	tc := ts.GetDefaultClient()
	if _, err := workflows.RegisterSearchAttributes(ctx, tc, ts.GetDefaultNamespace()); err != nil {
		t.Fatal(err)
	}
	w := app.NewWorker(tc, st, app.Delivery{})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	hs := httptest.NewServer(New(st, tc, Options{Logger: quietLogger(), RecordWait: time.Second, RequestTimeout: 10 * time.Second}).Handler())
	defer hs.Close()
	s := &stack{t: t, base: hs.URL, st: st, tc: tc, tokens: tokens, checker: newResponseChecker(t)}

	// Activities whose clock ticks every few seconds, so their workflows
	// change state (and must record it) all through the outage.
	var ids []string
	for range 4 {
		req := proposal()
		req.Dialogue = app.DemoDialogue
		req.Milestones[0].Due = "PT6S"
		req.Policy = &PolicyInput{DueSoonLead: "PT3S", OverdueReminderEvery: "PT3S", OverdueReminders: ptr(5)}
		a := s.propose(req)
		want(t, s.call("pa-approver", "POST", "/v1/activities/"+a.ID+"/decisions", DecisionRequest{Version: 1, Decision: "approve"}), 200)
		ids = append(ids, a.ID)
	}

	if err := pg.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	outage := time.Now()
	statuses := map[int]int{}
	for time.Since(outage) < 20*time.Second {
		for _, id := range ids {
			r := s.call("us-approver", "POST", "/v1/activities/"+id+"/decisions", DecisionRequest{Version: 1, Decision: "approve"})
			statuses[r.status]++
			if r.status != http.StatusOK && r.status != http.StatusServiceUnavailable && r.status != http.StatusConflict {
				t.Fatalf("during the outage a decision got %d: %s", r.status, r.body)
			}
			g := s.call("us-observer", "GET", "/v1/activities/"+id, nil)
			statuses[g.status]++
			if g.status != http.StatusOK && g.status != http.StatusServiceUnavailable {
				t.Fatalf("during the outage a read got %d: %s", g.status, g.body)
			}
		}
		time.Sleep(time.Second)
	}
	t.Logf("answers during the 20 s outage: %v", statuses)
	if statuses[http.StatusServiceUnavailable] == 0 {
		t.Fatal("no 503 while PostgreSQL was down")
	}

	pg, err = pgcluster.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	// The approvals refused during the outage are sent again, as a client would.
	for _, id := range ids {
		r := s.call("us-approver", "POST", "/v1/activities/"+id+"/decisions", DecisionRequest{Version: 1, Decision: "approve"})
		if r.status != http.StatusOK && !(r.status == http.StatusConflict && strings.Contains(string(r.body), "already approved")) {
			t.Fatalf("after the outage: %d %s", r.status, r.body)
		}
	}
	// The read model converges to each workflow's state.
	deadline := time.Now().Add(2 * time.Minute)
	for _, id := range ids {
		for {
			wf, err := s.queryWorkflow(id)
			if err != nil {
				t.Fatal(err)
			}
			rm, err := st.Activity(ctx, id)
			if err == nil && rm.Seq == wf && rm.Status == "active" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: read model at seq %d (%v), workflow at %d", id, rm.Seq, err, wf)
			}
			time.Sleep(500 * time.Millisecond)
		}
		v, err := st.VerifyAudit(ctx, id)
		if err != nil || !v.Valid {
			t.Fatalf("%s: audit %+v %v", id, v, err)
		}
		if n := s.countAudit(t, id, "approved"); n != 2 {
			t.Fatalf("%s: %d approvals recorded, want 2", id, n)
		}
	}
}

// queryWorkflow returns the workflow's own sequence number.
func (s *stack) queryWorkflow(id string) (int64, error) {
	v, err := s.tc.QueryWorkflow(context.Background(), id, "", workflows.QueryState)
	if err != nil {
		return 0, fmt.Errorf("query %s: %w", id, err)
	}
	var st struct {
		Seq int64 `json:"seq"`
	}
	if err := v.Get(&st); err != nil {
		return 0, err
	}
	return st.Seq, nil
}
