package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"pacto/internal/codec"
	"pacto/internal/pgtest"
	"pacto/internal/temporalcluster"
)

var (
	nodevOnce sync.Once
	nodevDir  string
	nodevPath string
	nodevErr  error
)

// nodevBinary builds the production build of cmd/pacto (-tags nodev, no
// embedded default) once per test binary.
func nodevBinary(t *testing.T) string {
	t.Helper()
	nodevOnce.Do(func() {
		nodevDir, nodevErr = os.MkdirTemp("", "pacto-nodev-")
		if nodevErr != nil {
			return
		}
		nodevPath = filepath.Join(nodevDir, "pacto")
		if out, err := exec.Command("go", "build", "-tags", productionTag, "-o", nodevPath, ".").CombinedOutput(); err != nil {
			nodevErr = fmt.Errorf("go build -tags %s: %v\n%s", productionTag, err, out)
		}
	})
	if nodevErr != nil {
		t.Fatal(nodevErr)
	}
	return nodevPath
}

// Pacto on a Temporal cluster as production runs one: the frontend,
// history, matching and worker services each in its own process (started
// from the default build's `pacto temporal-service`), on PostgreSQL for
// persistence and visibility, the schema applied by the server's own SQL
// tooling. Against it, the production build: `pacto migrate`, `pacto
// setup --create-namespace`, two `pacto api` and three `pacto worker`
// processes. 300 activities are proposed and approved by both parties'
// approvers through both APIs in turn, while one worker is killed with
// SIGKILL and another started. Every activity ends active with each
// decision in its audit log exactly once and its audit chain valid, the
// cluster's visibility finds them by Pacto's search attributes, and a
// milestone's reminders reach its coordinator's inbox on time.
func TestPactoOnATemporalClusterOnPostgreSQL(t *testing.T) {
	began := time.Now()
	ctx := context.Background()
	serverBin, prodBin := pactoBinary(t), nodevBinary(t)
	t.Logf("binaries built in %s", time.Since(began).Round(time.Millisecond))

	persistenceDB, visibilityDB, db := pgtest.NewDatabase(t), pgtest.NewDatabase(t), pgtest.NewDatabase(t)
	var temporalLog syncBuffer
	clusterStart := time.Now()
	tc, err := temporalcluster.Start(ctx, temporalcluster.Options{
		PersistenceURL: persistenceDB, VisibilityURL: visibilityDB,
		Command: func() *exec.Cmd { return exec.Command(serverBin, "temporal-service") },
		Output:  &temporalLog,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := tc.Stop(stopCtx); err != nil {
			t.Errorf("stop the Temporal cluster: %v", err)
		}
		if t.Failed() {
			out := temporalLog.String()
			t.Logf("the Temporal services' log ends:\n%s", out[max(0, len(out)-8192):])
		}
	})
	t.Logf("Temporal cluster ready in %s", time.Since(clusterStart).Round(time.Millisecond))
	// Four processes, one per service, each seen in the frontend's ring,
	// with both stores on PostgreSQL.
	d, err := tc.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.GetPersistenceStore(), "postgres") || !strings.HasPrefix(d.GetVisibilityStore(), "postgres") {
		t.Fatalf("the cluster's stores are %q and %q, want PostgreSQL for both", d.GetPersistenceStore(), d.GetVisibilityStore())
	}
	pids := map[int]bool{}
	for svc, pid := range tc.PIDs() {
		if pid == os.Getpid() || pids[pid] {
			t.Fatalf("the %s service does not run in a process of its own", svc)
		}
		pids[pid] = true
	}
	for _, r := range d.GetMembershipInfo().GetRings() {
		if slices.Contains(temporalcluster.Services, r.GetRole()) && r.GetMemberCount() != 1 {
			t.Errorf("the %s ring has %d members, want 1", r.GetRole(), r.GetMemberCount())
		}
	}
	if len(pids) != 4 {
		t.Fatalf("%d service processes, want 4", len(pids))
	}

	const namespace = "pacto-cluster"
	key, err := codec.NewKey("cluster-test")
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PACTO_DATABASE_URL=" + db, "TEMPORAL_ADDRESS=" + tc.FrontendAddress(), "TEMPORAL_NAMESPACE=" + namespace,
		"PACTO_LOG_LEVEL=warn", codec.EnvKeys + "=" + codec.FormatKey(key), codec.EnvKeysFile + "=",
	}
	if p := startBinary(t, prodBin, env, "migrate"); p.wait(t, time.Minute) != nil {
		t.Fatalf("pacto migrate:\n%s", p.out.String())
	}
	setupStart := time.Now()
	setup := startBinary(t, prodBin, env, "setup", "--create-namespace", "--retention", "7d", "--wait", "90s")
	if err := setup.wait(t, 2*time.Minute); err != nil || !strings.Contains(setup.out.String(), "namespace "+namespace+" created") {
		t.Fatalf("pacto setup --create-namespace: %v\n%s", err, setup.out.String())
	}
	t.Logf("pacto setup --create-namespace took %s", time.Since(setupStart).Round(time.Millisecond))

	tokens := seedDemo(t, db)

	w1 := startBinary(t, prodBin, env, "worker")
	startBinary(t, prodBin, env, "worker")
	startBinary(t, prodBin, env, "worker")
	var bases []string
	for range 2 {
		base := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
		waitReady(t, startBinary(t, prodBin, env, "api", "--http", strings.TrimPrefix(base, "http://")), base, 2*time.Minute)
		bases = append(bases, base)
	}
	as := func(who string, i int) apiClient { return apiClient{t, bases[i%2], tokens[who]} }

	// The reminder: a milestone of Panama's, due 30 s after activation,
	// announced 15 s before and reminded once overdue. It falls due while
	// the burst below runs.
	remind := as("pa-coordinator", 0).must("POST", "/v1/activities", map[string]any{
		"dialogue": "hld-pa-us", "parties": []string{"PA", "US"},
		"title":      map[string]string{"es": "Recordatorio en el clúster", "en": "Reminder on the cluster"},
		"milestones": []map[string]any{{"title": map[string]string{"es": "Informe", "en": "Report"}, "owner": "PA", "due": "PT30S"}},
		"policy":     map[string]any{"due_soon_lead": "PT15S", "overdue_reminder_every": "PT10S", "overdue_reminders": 1},
	}, 201)["id"].(string)
	as("pa-approver", 0).must("POST", "/v1/activities/"+remind+"/decisions", map[string]any{"version": 1, "decision": "approve"}, 200)
	if v := as("us-approver", 1).must("POST", "/v1/activities/"+remind+"/decisions", map[string]any{"version": 1, "decision": "approve"}, 200); v["status"] != "active" {
		t.Fatalf("the reminder's activity is %v after both approvals", v["status"])
	}
	activated := time.Now()

	const activities, concurrency = 300, 8
	burstStart := time.Now()
	ids := make([]string, activities)
	burst(t, activities, concurrency, func(i int) error {
		code, body := retry503(as("pa-coordinator", i), "POST", "/v1/activities", fmt.Sprintf("propose-%d", i), map[string]any{
			"dialogue": "hld-pa-us", "parties": []string{"PA", "US"},
			"title":      map[string]string{"es": fmt.Sprintf("Actividad %d", i), "en": fmt.Sprintf("Activity %d", i)},
			"milestones": []map[string]any{{"title": map[string]string{"es": "Informe", "en": "Report"}, "owner": "US", "due": "P1Y"}},
		})
		if code != 201 {
			return fmt.Errorf("propose %d: %d %s", i, code, body)
		}
		var v map[string]any
		_ = json.Unmarshal(body, &v)
		ids[i], _ = v["id"].(string)
		return nil
	})
	if t.Failed() {
		return
	}
	proposed := time.Since(burstStart)

	// 600 decisions, both approvers of every activity, through both APIs
	// in turn. Half way, one worker dies; another starts a second later.
	var sent, accepted atomic.Int32
	replaced := make(chan struct{})
	decisionsStart := time.Now()
	burst(t, 2*activities, concurrency, func(i int) error {
		id, who := ids[i/2], []string{"pa-approver", "us-approver"}[i%2]
		if sent.Add(1) == activities {
			_ = syscall.Kill(w1.cmd.Process.Pid, syscall.SIGKILL)
			go func() {
				time.Sleep(time.Second)
				startBinary(t, prodBin, env, "worker")
				close(replaced)
			}()
		}
		// i/2 alternates activities between the APIs; i%2 and i/2 together
		// send each activity's two decisions through different ones.
		code, body := retry503(as(who, i/2+i%2), "POST", "/v1/activities/"+id+"/decisions", "approve-"+id+"-"+who, map[string]any{"version": 1, "decision": "approve"})
		if code != 200 {
			return fmt.Errorf("%s on %s: %d %s", who, id, code, body)
		}
		accepted.Add(1)
		return nil
	})
	<-replaced
	if t.Failed() {
		return
	}
	decided := time.Since(decisionsStart)
	if accepted.Load() != 2*activities {
		t.Fatalf("%d of %d decisions accepted", accepted.Load(), 2*activities)
	}
	t.Logf("%d proposals in %s (%.0f/s), %d decisions in %s (%.0f/s), through 2 APIs, a worker killed half way",
		activities, proposed.Round(time.Millisecond), activities/proposed.Seconds(),
		2*activities, decided.Round(time.Millisecond), 2*activities/decided.Seconds())

	// Every activity active, each decision in the audit log exactly once
	// (once the Records the dead worker held are retried elsewhere), and
	// every audit chain valid.
	converge := time.Now()
	deadline := converge.Add(90 * time.Second)
	for i, id := range ids {
		c := as("us-observer", i)
		if v := c.must("GET", "/v1/activities/"+id+"?consistent=true", nil, 200); v["status"] != "active" {
			t.Errorf("%s is %v, want active", id, v["status"])
		}
		waitApprovedOnce(t, c, id, deadline)
		if v := c.must("GET", "/v1/activities/"+id, nil, 200); v["status"] != "active" {
			t.Errorf("the read model has %s as %v, want active", id, v["status"])
		}
		if v := c.must("GET", "/v1/activities/"+id+"/audit/verify", nil, 200); v["valid"] != true {
			t.Errorf("%s's audit chain does not verify: %v", id, v)
		}
	}
	t.Logf("read model and audit logs checked in %s", time.Since(converge).Round(time.Millisecond))

	// The cluster's visibility store finds them by Pacto's search attributes.
	quiet := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	sdk, err := client.Dial(client.Options{HostPort: tc.FrontendAddress(), Namespace: namespace, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer sdk.Close()
	for deadline := time.Now().Add(30 * time.Second); ; {
		n, err := sdk.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace,
			Query: "PactoStatus = 'active' AND PactoDialogue = 'hld-pa-us'"})
		if err == nil && n.GetCount() == activities+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("visibility counts %d active activities (%v), want %d", n.GetCount(), err, activities+1)
		}
		time.Sleep(500 * time.Millisecond)
	}
	// In the persistence database itself: every run is there.
	conn, err := pgx.Connect(ctx, persistenceDB)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var runs int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM current_executions c JOIN namespaces n ON n.id = c.namespace_id WHERE n.name = $1", namespace).Scan(&runs); err != nil || runs < activities+1 {
		t.Fatalf("%d runs of namespace %s in Temporal's PostgreSQL database (%v), want at least %d", runs, namespace, err, activities+1)
	}

	// The reminder's notices, announced and then overdue.
	pa := as("pa-coordinator", 1)
	for _, kind := range []string{"milestone_due_soon", "milestone_overdue"} {
		for deadline := activated.Add(90 * time.Second); !inboxHolds(pa, remind, kind); {
			if time.Now().After(deadline) {
				t.Fatalf("no %s notice in the PA coordinator's inbox", kind)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	t.Logf("reminders arrived; %s after activation", time.Since(activated).Round(time.Millisecond))
	t.Logf("whole test: %s", time.Since(began).Round(time.Millisecond))
}

// inboxHolds reports whether the principal's inbox, read to its end,
// holds a notice of kind about the activity.
func inboxHolds(c apiClient, activity, kind string) bool {
	c.t.Helper()
	cursor := ""
	for {
		var page struct {
			Notifications []struct {
				Activity string `json:"activity"`
				Kind     string `json:"kind"`
			} `json:"notifications"`
			Next string `json:"next_cursor"`
		}
		path := "/v1/inbox?limit=200"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		code, b := c.do("GET", path, nil)
		if code != 200 {
			c.t.Fatalf("GET /v1/inbox: %d %s", code, b)
		}
		if err := json.Unmarshal(b, &page); err != nil {
			c.t.Fatalf("GET /v1/inbox: %v", err)
		}
		for _, n := range page.Notifications {
			if n.Activity == activity && n.Kind == kind {
				return true
			}
		}
		if page.Next == "" {
			return false
		}
		cursor = page.Next
	}
}
