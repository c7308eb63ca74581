package devserver

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	sqliteschema "go.temporal.io/server/schema/sqlite"

	"pacto/workflows"
)

const taskQueue = "devserver-test"

// childDirEnv makes the test binary run childServer instead of the tests.
const childDirEnv = "DEVSERVER_TEST_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		os.Exit(childServer(dir))
	}
	os.Exit(m.Run())
}

// quietLogger shows only the server's warnings and errors. It writes to
// stderr rather than t.Log: the server may log from its own goroutines
// after a test has returned.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// tickInput sets Pacto's four search attributes, then sleeps.
type tickInput struct {
	Sleep    time.Duration
	Status   string
	Pending  []string
	NextDue  time.Time
	Dialogue string
}

// tick upserts the search attributes, sleeps on a durable timer and
// returns the workflow time at which the timer fired.
func tick(ctx workflow.Context, in tickInput) (time.Time, error) {
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		workflows.StatusKey.ValueSet(in.Status),
		workflows.PendingPartiesKey.ValueSet(in.Pending),
		workflows.NextDueKey.ValueSet(in.NextDue),
		workflows.DialogueKey.ValueSet(in.Dialogue),
	); err != nil {
		return time.Time{}, err
	}
	if err := workflow.Sleep(ctx, in.Sleep); err != nil {
		return time.Time{}, err
	}
	return workflow.Now(ctx), nil
}

// connect dials s and runs a worker for tick until the test ends.
func connect(t *testing.T, ctx context.Context, s *Server) client.Client {
	t.Helper()
	c, err := s.NewClient(ctx, client.Options{Logger: nopLogger{}})
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(tick)
	if err := w.Start(); err != nil {
		c.Close()
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(func() { w.Stop(); c.Close() })
	return c
}

func start(t *testing.T, ctx context.Context, opts Options) (*Server, time.Duration) {
	t.Helper()
	began := time.Now()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	took := time.Since(began)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return s, took
}

// TestPersistsAcrossRestart runs workflows on a fresh data directory,
// finds one by all four of Pacto's search attributes, stops the server
// with a timer pending and starts it again on the same directory: the
// finished workflow is still there and the timer fires.
func TestPersistsAcrossRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// A space in the path checks the SQLite URI handling.
	dir := filepath.Join(t.TempDir(), "dev data")

	s, took := start(t, ctx, Options{DataDir: dir, UIPort: AnyPort, Logger: quietLogger()})
	t.Logf("first start (creates the schema): %v; VmRSS after start: %s", took.Round(time.Millisecond), vmRSS())
	if !strings.HasPrefix(s.FrontendAddress(), "127.0.0.1:") || s.Namespace() != DefaultNamespace {
		t.Errorf("frontend %q namespace %q, want loopback and %q", s.FrontendAddress(), s.Namespace(), DefaultNamespace)
	}
	if _, err := os.Stat(s.DatabasePath()); err != nil {
		t.Errorf("database file: %v", err)
	}

	t.Run("UI", func(t *testing.T) { checkUI(t, ctx, s.UIAddress()) })

	t.Run("DataDirLocked", func(t *testing.T) {
		if _, err := Start(ctx, Options{DataDir: dir}); err == nil || !strings.Contains(err.Error(), "locked") {
			t.Errorf("second server on the same directory: err = %v, want locked", err)
		}
	})

	t.Run("Retention", func(t *testing.T) {
		c := connect(t, ctx, s)
		d, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: s.Namespace()})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(); got != DefaultRetention {
			t.Errorf("retention %v, want %v", got, DefaultRetention)
		}
	})

	due := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	attrs := tickInput{Status: "active", Pending: []string{"PA", "US"}, NextDue: due, Dialogue: "hld-pa-us"}
	c := connect(t, ctx, s)

	done := attrs
	done.Sleep = 500 * time.Millisecond
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "wf-done", TaskQueue: taskQueue}, tick, done)
	if err != nil {
		t.Fatalf("start wf-done: %v", err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatalf("wf-done: %v", err)
	}
	// Each type on its own terms: Keyword equality, KeywordList membership,
	// Datetime range.
	found := waitList(t, ctx, c, `PactoStatus = 'active' AND PactoPendingParties = 'US' AND `+
		`PactoNextDue > '2030-01-01T00:00:00Z' AND PactoNextDue < '2030-01-03T00:00:00Z' AND `+
		`PactoDialogue = 'hld-pa-us' AND ExecutionStatus = 'Completed'`, 1)
	if found[0] != "wf-done" {
		t.Errorf("found %v, want wf-done", found)
	}
	if n := list(t, ctx, c, `PactoPendingParties = 'CR'`); len(n) != 0 {
		t.Errorf("PactoPendingParties = 'CR' found %v, want none", n)
	}

	// A timer due after the restart. It must be in history before the stop,
	// or it would merely be created after the restart.
	pending := attrs
	pending.Sleep = 4 * time.Second
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "wf-timer", TaskQueue: taskQueue}, tick, pending); err != nil {
		t.Fatalf("start wf-timer: %v", err)
	}
	waitEvent(t, ctx, c, "wf-timer", enumspb.EVENT_TYPE_TIMER_STARTED)

	stopBegan := time.Now()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	t.Logf("graceful stop: %v", time.Since(stopBegan).Round(time.Millisecond))
	if err := s.Stop(ctx); err != nil {
		t.Errorf("second stop: %v", err)
	}

	s2, took := start(t, ctx, Options{DataDir: dir, Logger: quietLogger()})
	t.Logf("restart (reuses the schema): %v; VmRSS after restart: %s", took.Round(time.Millisecond), vmRSS())
	if s2.UIAddress() != "" {
		t.Errorf("UI at %q without UIPort", s2.UIAddress())
	}
	c2 := connect(t, ctx, s2)

	if found := waitList(t, ctx, c2, `WorkflowId = 'wf-done' AND ExecutionStatus = 'Completed' AND PactoDialogue = 'hld-pa-us'`, 1); found[0] != "wf-done" {
		t.Errorf("after restart found %v, want wf-done", found)
	}
	var fired time.Time
	if err := c2.GetWorkflow(ctx, "wf-timer", "").Get(ctx, &fired); err != nil {
		t.Fatalf("wf-timer after restart: %v", err)
	}
	if !fired.After(stopBegan) {
		t.Errorf("timer fired at %v, before the stop at %v", fired, stopBegan)
	}
}

// TestSurvivesSIGKILL kills a server process that has a timer pending,
// then starts on its data directory: the timer fires.
func TestSurvivesSIGKILL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "READY") {
		t.Fatalf("child said %q, %v", line, err)
	}
	t.Logf("child process: %s", strings.TrimSpace(strings.TrimPrefix(line, "READY")))
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown at all
		t.Fatalf("kill child: %v", err)
	}
	_ = cmd.Wait()
	killed := time.Now()

	s, took := start(t, ctx, Options{DataDir: dir, Logger: quietLogger()})
	t.Logf("start after SIGKILL: %v", took.Round(time.Millisecond))
	c := connect(t, ctx, s)
	var fired time.Time
	if err := c.GetWorkflow(ctx, "wf-killed", "").Get(ctx, &fired); err != nil {
		t.Fatalf("wf-killed after SIGKILL: %v", err)
	}
	if !fired.After(killed) {
		t.Errorf("timer fired at %v, before the kill at %v", fired, killed)
	}
}

// childServer runs in the child process of TestSurvivesSIGKILL: it starts
// a workflow whose timer is due in a few seconds, says READY once the timer
// is in history, and waits to be killed.
func childServer(dir string) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	began := time.Now()
	s, err := Start(ctx, Options{DataDir: dir, Logger: quietLogger()})
	if err != nil {
		return fail(err)
	}
	took, rss := time.Since(began), vmRSS()
	c, err := s.NewClient(ctx, client.Options{Logger: nopLogger{}})
	if err != nil {
		return fail(err)
	}
	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(tick)
	if err := w.Start(); err != nil {
		return fail(err)
	}
	in := tickInput{Sleep: 3 * time.Second, Status: "active", Pending: []string{"PA"}, NextDue: time.Now(), Dialogue: "d"}
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "wf-killed", TaskQueue: taskQueue}, tick, in); err != nil {
		return fail(err)
	}
	for !hasEvent(ctx, c, "wf-killed", enumspb.EVENT_TYPE_TIMER_STARTED) {
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Printf("READY first start (creates the schema) %v; VmRSS after start %s; with a worker and a workflow %s\n",
		took.Round(time.Millisecond), rss, vmRSS())
	<-ctx.Done()
	return fail(errors.New("not killed in time"))
}

// TestAddsSearchAttributesToExistingNamespace starts on a namespace that
// already exists without Pacto's search attributes, as one made by an
// older Pacto would: Start adds them, and a workflow can upsert them.
func TestAddsSearchAttributesToExistingNamespace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	dbs, err := prepareStores(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := dbs.persistence
	bare, err := sqliteschema.NewNamespaceConfig(clusterName, "bare", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqliteschema.CreateNamespaces(cfg, bare); err != nil {
		t.Fatal(err)
	}

	s, _ := start(t, ctx, Options{DataDir: dir, Namespace: "bare", Logger: quietLogger()})
	c := connect(t, ctx, s)
	in := tickInput{Status: "proposed", Pending: []string{"PA"}, NextDue: time.Now(), Dialogue: "bare-d"}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "wf-bare", TaskQueue: taskQueue}, tick, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatalf("wf-bare: %v", err)
	}
	waitList(t, ctx, c, `PactoStatus = 'proposed' AND PactoPendingParties = 'PA' AND PactoDialogue = 'bare-d' AND PactoNextDue < '2100-01-01T00:00:00Z'`, 1)
}

// TestStartRejectsBadOptions checks that bad options are errors, never
// panics, and leave the data directory unlocked.
func TestStartRejectsBadOptions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = taken.Close() }()
	takenPort := taken.Addr().(*net.TCPAddr).Port

	for name, tc := range map[string]struct {
		opts Options
		want string
	}{
		"no data dir":         {Options{}, "DataDir is required"},
		"blank data dir":      {Options{DataDir: "  "}, "DataDir is required"},
		"query in data dir":   {Options{DataDir: filepath.Join(dir, "a?b")}, "must not contain"},
		"data dir is a file":  {Options{DataDir: file}, "create data directory"},
		"host name as IP":     {Options{DataDir: dir, IP: "localhost"}, "not an IP address"},
		"bad IP":              {Options{DataDir: dir, IP: "300.1.1.1"}, "not an IP address"},
		"negative port":       {Options{DataDir: dir, FrontendPort: -2}, "not a TCP port"},
		"port too big":        {Options{DataDir: dir, FrontendPort: 65536}, "not a TCP port"},
		"UI port too big":     {Options{DataDir: dir, UIPort: 70000}, "not a TCP port"},
		"system namespace":    {Options{DataDir: dir, Namespace: "temporal-system"}, "reserved"},
		"space in namespace":  {Options{DataDir: dir, Namespace: "my ns"}, "spaces"},
		"short retention":     {Options{DataDir: dir, Retention: time.Hour}, "minimum of one day"},
		"frontend port taken": {Options{DataDir: dir, FrontendPort: takenPort}, "frontend port"},
		"UI port taken":       {Options{DataDir: dir, UIPort: takenPort}, "UI port"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := Start(ctx, tc.opts)
			if err == nil {
				_ = s.Stop(ctx)
				t.Fatalf("started with %+v", tc.opts)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Start(canceled, Options{DataDir: dir}); err == nil || !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: err = %v", err)
	}

	// The failed starts let go of the directory.
	release, err := lockDataDir(filepath.Join(dir, lockFile))
	if err != nil {
		t.Fatalf("data directory still locked: %v", err)
	}
	_ = release()

	var nilServer *Server
	if err := nilServer.Stop(ctx); err != nil {
		t.Errorf("Stop on nil: %v", err)
	}
}

// TestRefusesForeignDatabase checks that a database devserver did not
// create, or created with another schema version, is refused rather than
// used.
func TestRefusesForeignDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), databaseFile)
	cfg := sqliteConfig(path)

	state, err := prepareSchema(ctx, cfg, partPersistence)
	if err != nil || state != schemaCreated {
		t.Fatalf("first prepare: %v, %v", state, err)
	}
	if _, err := prepareSchema(ctx, cfg, partVisibility); err == nil || !strings.Contains(err.Error(), "remove the data directory") {
		t.Errorf("persistence taken for visibility: err = %v", err)
	}
	if state, err := prepareSchema(ctx, cfg, partPersistence); err != nil || state != schemaReused {
		t.Fatalf("second prepare: %v, %v", state, err)
	}
	run := func(q string) {
		t.Helper()
		db, err := sql.Open("sqlite", dsn(cfg))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = db.Close() }()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	run(`UPDATE ` + markerTable + ` SET value = '0.1' WHERE name = 'schema'`)
	if _, err := prepareSchema(ctx, cfg, partPersistence); err == nil || !strings.Contains(err.Error(), "remove the data directory") {
		t.Errorf("old schema: err = %v", err)
	}
	run(`DROP TABLE ` + markerTable)
	if _, err := prepareSchema(ctx, cfg, partPersistence); err == nil || !strings.Contains(err.Error(), "did not create") {
		t.Errorf("foreign database: err = %v", err)
	}
}

// TestDataDirectoryLayouts checks where visibility records live: in a
// file of their own on a new data directory, still in temporal.db on one
// made before they had their own; and that a visibility file that is
// missing, or left from an earlier temporal.db, is refused.
func TestDataDirectoryLayouts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tables := func(path string) []string {
		t.Helper()
		var names []string
		err := inTx(ctx, sqliteConfig(path), func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('executions', 'executions_visibility') ORDER BY name`)
			if err != nil {
				return err
			}
			defer func() { _ = rows.Close() }()
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					return err
				}
				names = append(names, n)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	// run starts a server on dir, starts a workflow there and finds it in
	// the visibility records.
	run := func(t *testing.T, dir, id string) {
		t.Helper()
		s, err := Start(ctx, Options{DataDir: dir, FrontendPort: AnyPort, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = s.Stop(context.Background()) }()
		c := connect(t, ctx, s)
		in := tickInput{Status: "active", Pending: []string{}, NextDue: time.Now(), Dialogue: "layout"}
		if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, tick, in); err != nil {
			t.Fatal(err)
		}
		waitList(t, ctx, c, fmt.Sprintf("WorkflowId = '%s' AND PactoDialogue = 'layout'", id), 1)
	}

	t.Run("New", func(t *testing.T) {
		dir := t.TempDir()
		run(t, dir, "wf-new")
		main, vis := filepath.Join(dir, databaseFile), filepath.Join(dir, visibilityFile)
		if got := tables(main); !slices.Equal(got, []string{"executions"}) {
			t.Errorf("%s has tables %v, want only the persistence schema", databaseFile, got)
		}
		if got := tables(vis); !slices.Equal(got, []string{"executions_visibility"}) {
			t.Errorf("%s has tables %v, want only the visibility schema", visibilityFile, got)
		}

		// Its visibility file lost: refused, nothing created in its place.
		for _, f := range []string{vis, vis + "-wal", vis + "-shm"} {
			_ = os.Remove(f)
		}
		if _, err := Start(ctx, Options{DataDir: dir, FrontendPort: AnyPort, Logger: quietLogger()}); err == nil || !strings.Contains(err.Error(), "is missing") {
			t.Errorf("start without %s: err = %v", visibilityFile, err)
		}
		if _, err := os.Stat(vis); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the refused start made %s: %v", visibilityFile, err)
		}
	})

	t.Run("StaleVisibility", func(t *testing.T) {
		dir := t.TempDir()
		run(t, dir, "wf-stale")
		for _, f := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(filepath.Join(dir, databaseFile+f))
		}
		if _, err := Start(ctx, Options{DataDir: dir, FrontendPort: AnyPort, Logger: quietLogger()}); err == nil || !strings.Contains(err.Error(), "visibility records but") {
			t.Errorf("start on a stale %s: err = %v", visibilityFile, err)
		}
	})

	t.Run("OneFile", func(t *testing.T) {
		dir := t.TempDir()
		main := filepath.Join(dir, databaseFile)
		if _, err := prepareSchema(ctx, sqliteConfig(main), partBoth); err != nil {
			t.Fatal(err)
		}
		run(t, dir, "wf-one-file")
		if _, err := os.Stat(filepath.Join(dir, visibilityFile)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a data directory with visibility in %s got a %s: %v", databaseFile, visibilityFile, err)
		}
		if got := tables(main); !slices.Equal(got, []string{"executions", "executions_visibility"}) {
			t.Errorf("%s has tables %v", databaseFile, got)
		}
	})
}

func checkUI(t *testing.T, ctx context.Context, addr string) {
	if addr == "" {
		t.Fatal("no UI address")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET UI: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(strings.ToLower(string(body)), "<html") {
		t.Errorf("GET UI: %s %q, body starts %q", resp.Status, resp.Header.Get("Content-Type"), truncate(string(body), 100))
	}

	// The UI's API reaches the frontend.
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/v1/namespaces/"+DefaultNamespace, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET UI API: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	var ns struct {
		NamespaceInfo struct{ Name string }
	}
	body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(body, &ns); resp.StatusCode != http.StatusOK || err != nil || ns.NamespaceInfo.Name != DefaultNamespace {
		t.Errorf("GET UI API namespace: %s, %v, body starts %q", resp.Status, err, truncate(string(body), 200))
	}
}

func list(t *testing.T, ctx context.Context, c client.Client, query string) []string {
	t.Helper()
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
	if err != nil {
		t.Fatalf("list %q: %v", query, err)
	}
	var ids []string
	for _, e := range resp.GetExecutions() {
		ids = append(ids, e.GetExecution().GetWorkflowId())
	}
	return ids
}

// waitList polls a visibility query, which lags the workflow by a moment.
func waitList(t *testing.T, ctx context.Context, c client.Client, query string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ids := list(t, ctx, c, query)
		if len(ids) == n {
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q found %v, want %d workflows", query, ids, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func hasEvent(ctx context.Context, c client.Client, id string, typ enumspb.EventType) bool {
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return false
		}
		if e.GetEventType() == typ {
			return true
		}
	}
	return false
}

func waitEvent(t *testing.T, ctx context.Context, c client.Client, id string, typ enumspb.EventType) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !hasEvent(ctx, c, id, typ) {
		if time.Now().After(deadline) {
			t.Fatalf("%s has no %v event", id, typ)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// vmRSS is this process's resident memory, from /proc (Linux only).
func vmRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(v)
			if kb, err := strconv.Atoi(f[0]); err == nil {
				return fmt.Sprintf("%d MiB", kb/1024)
			}
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// nopLogger silences the SDK in tests.
type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}
