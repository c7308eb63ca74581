// Package bench measures Pacto on its embedded default, or on a Temporal
// cluster shaped as production runs one: throughput against the bare
// Temporal SDK on the same server, request latencies, read-model latencies
// at scale, reminder lateness and memory. `pacto bench` runs it.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"pacto/internal/api"
	"pacto/internal/app"
	"pacto/internal/codec"
	"pacto/internal/console"
	"pacto/internal/delivery"
	"pacto/internal/devserver"
	"pacto/internal/pgcluster"
	"pacto/internal/store"
	"pacto/internal/telemetry"
	"pacto/internal/temporalcluster"
)

// Config sizes a run.
type Config struct {
	// Requests per throughput measurement, at each concurrency.
	Requests int
	// RoundTrips is how many propose+approve+approve round trips to time.
	RoundTrips int
	// ReadModelSizes are the activity counts to time reads at.
	ReadModelSizes []int
	// Reads per latency measurement.
	Reads int
	// ExportSizes are the numbers of published activities to time the
	// IATI export at.
	ExportSizes []int
	// Reminders: activities × 5 milestones falling due within Window.
	ReminderActivities int
	Window             time.Duration
	// ClusterCommand, when set, runs Temporal as a cluster instead of the
	// embedded default: its four services each in a process this makes
	// (see temporalcluster.Options.Command), on PostgreSQL databases of
	// the run's own PostgreSQL server. The worker, the API and the load
	// stay in this process, as with the embedded default.
	ClusterCommand func() *exec.Cmd
	// OpenActivities is how many open activities, each a sleeping workflow
	// made through the API, the reminders fire among and memory is
	// measured at. It should exceed WorkflowCache, so that reminders fire
	// on workflows the worker no longer holds and must replay.
	OpenActivities int
	// WorkflowCache bounds the worker's cache of workflows (see
	// app.SetWorkflowCache).
	WorkflowCache int
	// HeapProfile, when set, receives a heap profile taken as memory is
	// measured, with the open activities held as they would be.
	HeapProfile io.Writer
	Log         io.Writer
}

// Quick is small enough for CI (seconds); Full is the real measurement.
// Quick's worker keeps fewer workflows than its reminders fire on, so
// nearly every reminder replays its workflow.
var (
	Quick = Config{Requests: 40, RoundTrips: 20, ReadModelSizes: []int{1000}, Reads: 200, ExportSizes: []int{1000}, ReminderActivities: 10, Window: 10 * time.Second,
		OpenActivities: 150, WorkflowCache: 5}
	Full = Config{Requests: 500, RoundTrips: 200, ReadModelSizes: []int{10000, 100000}, Reads: 2000, ExportSizes: []int{10000, 100000}, ReminderActivities: 2000, Window: 2 * time.Minute,
		OpenActivities: 10000, WorkflowCache: app.DefaultWorkflowCache}
)

// Result is one run's numbers.
type Result struct {
	Mode string `json:"mode"`
	// Temporal says which Temporal the run measured.
	Temporal   string       `json:"temporal"`
	Throughput []Throughput `json:"throughput"`
	Latency    []Latency    `json:"latency"`
	Reminders  Latency      `json:"reminder_lateness"`
	// ReminderCPU is how busy the CPUs were while the reminders fired.
	ReminderCPU CPU `json:"reminder_cpu"`
	// ReadsCPU is how busy the CPUs were while the reads ran, one at a
	// time, at each of Config.ReadModelSizes.
	ReadsCPU []ReadsCPU `json:"reads_cpu"`
	Memory   Memory     `json:"memory"`
	// Exports are the IATI exports at each of Config.ExportSizes.
	Exports []Export           `json:"iati_exports,omitempty"`
	Extra   map[string]float64 `json:"extra,omitempty"`
}

// Throughput compares proposals through the API with bare workflow starts.
type Throughput struct {
	Concurrency int     `json:"concurrency"`
	APIPerSec   float64 `json:"api_per_sec"`
	BarePerSec  float64 `json:"bare_sdk_per_sec"`
	Ratio       float64 `json:"ratio"`
	// The CPU each request cost, on the whole machine and in this process.
	APICPU  Cost `json:"api_cpu"`
	BareCPU Cost `json:"bare_sdk_cpu"`
}

// Cost is the CPU time one request cost over a stretch of the run, in
// milliseconds: on the whole machine (PostgreSQL included), and in this
// process (Temporal, worker, API and load); with how busy the machine was.
type Cost struct {
	MachineMs   float64 `json:"machine_ms"`
	ProcessMs   float64 `json:"process_ms"`
	MachineBusy float64 `json:"machine_busy"`
}

// String is how the table shows it.
func (c Cost) String() string {
	return fmt.Sprintf("%.1f ms (%.1f in this process; machine %.0f%% busy)", c.MachineMs, c.ProcessMs, 100*c.MachineBusy)
}

// costOf spreads a stretch's CPU time over the n requests it served.
func costOf(c CPU, n int) Cost {
	return Cost{
		MachineMs:   c.MachineBusy * float64(c.CPUs) * c.Seconds * 1000 / float64(n),
		ProcessMs:   c.ProcessCores * c.Seconds * 1000 / float64(n),
		MachineBusy: c.MachineBusy,
	}
}

// ReadsCPU is how busy the CPUs were while the reads ran with Activities
// in the read model.
type ReadsCPU struct {
	Activities int `json:"activities"`
	CPU
}

// Latency is a distribution in milliseconds.
type Latency struct {
	Name  string  `json:"name"`
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// Memory is resident memory and database size per 1,000 open activities.
type Memory struct {
	OpenActivities    int     `json:"open_activities"`
	ProcessRSSMB      float64 `json:"process_rss_mb"`
	GoHeapMB          float64 `json:"go_heap_mb"`
	PostgresMBPer1000 float64 `json:"postgres_mb_per_1000"`
	ProcessMBPer1000  float64 `json:"process_mb_per_1000"`
	BaselineRSSMB     float64 `json:"baseline_rss_mb"`
	// WorkerMB is the Go heap and stacks the worker's cache of running
	// workflows holds (the embedded default runs server, worker and API in one
	// process, so the worker has no RSS of its own).
	WorkerMB           float64 `json:"worker_cache_mb"`
	WorkerMBPer1000    float64 `json:"worker_cache_mb_per_1000"`
	PostgresBaselineMB float64 `json:"postgres_baseline_mb"`
	// On a cluster: its four processes' resident memory together, and
	// the growth of its two databases per 1,000 open activities.
	TemporalRSSMB             float64 `json:"temporal_rss_mb,omitempty"`
	TemporalPostgresMBPer1000 float64 `json:"temporal_postgres_mb_per_1000,omitempty"`
	// WorkflowCache is the bound on the worker's cache of workflows, and
	// Goroutines the process's goroutines when memory was measured.
	WorkflowCache int `json:"workflow_cache"`
	Goroutines    int `json:"goroutines"`
}

func latency(name string, ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{Name: name}
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	at := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	return Latency{Name: name, Count: len(ds), P50: ms(at(0.5)), P99: ms(at(0.99)), Max: ms(ds[len(ds)-1])}
}

// env is Pacto on the embedded default or a Temporal cluster, started for
// one run.
type env struct {
	dir string
	pg  *pgcluster.Cluster
	st  *store.Store
	ts  *devserver.Server
	// cluster is the Temporal cluster, when the run has one instead of ts.
	cluster *temporalcluster.Cluster
	tc      client.Client
	worker  *app.Worker
	noop    worker.Worker
	base    string
	tokens  map[string]string
	stop    func()
	http    *http.Client
	// measuredRates are the API proposal rates seen so far, to size setups.
	measuredRates []float64
	// sessions are the console sign-ins made so far, by principal.
	sessions map[string]*http.Cookie
	// published is the activity the IATI export's dialogue holds copies of.
	published string
}

// noopWorkflow is the bare baseline: the smallest workflow there is.
func noopWorkflow(ctx workflow.Context) error { return nil }

// noopUpdate is the bare Update the approval round trip is compared with.
const noopUpdate = "decide"

// noopDecisionsWorkflow is the bare baseline of an approval round: a
// workflow that takes two Updates, each doing nothing, then ends. It is
// what Temporal alone costs for a proposal and two decisions.
func noopDecisionsWorkflow(ctx workflow.Context) error {
	decided := 0
	if err := workflow.SetUpdateHandler(ctx, noopUpdate, func(workflow.Context) error {
		decided++
		return nil
	}); err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool { return decided == 2 }); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

const noopQueue = "pacto-bench-noop"

// Names of the cluster's databases and namespace.
const (
	clusterPersistenceDB = "temporal"
	clusterVisibilityDB  = "temporal_visibility"
	clusterNamespace     = "pacto-bench"
)

func start(ctx context.Context, log *slog.Logger, cfg Config) (*env, error) {
	dir, err := os.MkdirTemp("", "pacto-bench-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	e := &env{dir: dir, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	cleanups := []func(){func() { os.RemoveAll(dir) }}
	e.stop = func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	fail := func(err error) (*env, error) { e.stop(); return nil, err }
	// Before the embedded server: its own workers share the cache.
	if err := app.SetWorkflowCache(cfg.WorkflowCache); err != nil {
		return fail(err)
	}
	if e.pg, err = pgcluster.Start(ctx, pgcluster.Options{DataDir: filepath.Join(dir, "pg"), Settings: map[string]string{"max_connections": "200"}}); err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, func() { _ = e.pg.Stop(context.Background()) })
	if err := app.EnsureDatabase(ctx, e.pg.URL("postgres"), "pacto"); err != nil {
		return fail(err)
	}
	if err := store.Migrate(ctx, e.pg.URL("pacto")); err != nil {
		return fail(err)
	}
	if e.st, err = store.Open(ctx, e.pg.URL("pacto")+"&pool_max_conns=64"); err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, e.st.Close)
	// Payloads are encrypted, as in `pacto dev` and production, so the
	// figures include the codec's cost.
	cx, _, err := codec.LoadOrCreate(filepath.Join(dir, codec.DevKeysFile))
	if err != nil {
		return fail(err)
	}
	// Measured as deployed: the SDK's metrics and the worker's own go to
	// the registry the API's /metrics serves.
	registry := telemetry.NewRegistry()
	sdkMetrics, err := telemetry.TemporalMetrics(registry, log)
	if err != nil {
		return fail(err)
	}
	var tcfg app.TemporalConfig
	if cfg.ClusterCommand != nil {
		for _, db := range []string{clusterPersistenceDB, clusterVisibilityDB} {
			if err := app.EnsureDatabase(ctx, e.pg.URL("postgres"), db); err != nil {
				return fail(err)
			}
		}
		if e.cluster, err = temporalcluster.Start(ctx, temporalcluster.Options{
			PersistenceURL: e.pg.URL(clusterPersistenceDB), VisibilityURL: e.pg.URL(clusterVisibilityDB), Command: cfg.ClusterCommand,
		}); err != nil {
			return fail(err)
		}
		cleanups = append(cleanups, func() { _ = e.cluster.Stop(context.Background()) })
		tcfg = app.TemporalConfig{Address: e.cluster.FrontendAddress(), Namespace: clusterNamespace, Codec: cx, Metrics: sdkMetrics}
	} else {
		if e.ts, err = devserver.Start(ctx, devserver.Options{DataDir: filepath.Join(dir, "temporal"), FrontendPort: devserver.AnyPort, Logger: log}); err != nil {
			return fail(err)
		}
		cleanups = append(cleanups, func() { _ = e.ts.Stop(context.Background()) })
		tcfg = app.TemporalConfig{Address: e.ts.FrontendAddress(), Namespace: e.ts.Namespace(), Codec: cx, Metrics: sdkMetrics}
	}
	if e.tc, err = app.DialTemporal(tcfg, log); err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, e.tc.Close)
	if e.cluster != nil {
		// As `pacto setup --create-namespace` does on a new cluster.
		if _, err := app.SetupNamespace(ctx, e.tc, app.Setup{Namespace: clusterNamespace, Create: true}); err != nil {
			return fail(err)
		}
	}
	tokensFile := filepath.Join(dir, "tokens.json")
	if _, err := app.SeedDemo(ctx, e.st, tokensFile); err != nil {
		return fail(err)
	}
	b, _ := os.ReadFile(tokensFile)
	if err := json.Unmarshal(b, &e.tokens); err != nil {
		return fail(err)
	}
	// Email goes to .eml files, as in `pacto dev`.
	mailer, err := delivery.NewEMLMailer(filepath.Join(dir, "mail"))
	if err != nil {
		return fail(err)
	}
	workerMetrics, err := app.NewWorkerMetrics(registry, e.st)
	if err != nil {
		return fail(err)
	}
	e.worker = app.NewWorker(e.tc, e.st, app.Delivery{Mailer: mailer, From: "pacto@bench.example", Logger: log,
		DataConverter: tcfg.DataConverter(), Metrics: workerMetrics})
	// The read model's bulk copies have no workflows: the reconciler
	// would note each one lost, in the middle of the measurements.
	e.worker.Reconciler.Every = -1
	if err := e.worker.Start(); err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, e.worker.Stop)
	e.noop = worker.New(e.tc, noopQueue, worker.Options{})
	e.noop.RegisterWorkflowWithOptions(noopWorkflow, workflow.RegisterOptions{Name: "BenchNoop"})
	e.noop.RegisterWorkflowWithOptions(noopDecisionsWorkflow, workflow.RegisterOptions{Name: "BenchNoopDecisions"})
	if err := e.noop.Start(); err != nil {
		return fail(err)
	}
	cleanups = append(cleanups, e.noop.Stop)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	srv := api.New(e.st, e.tc, api.Options{Logger: log, Registry: registry})
	con, err := console.New(console.Options{API: srv, Store: e.st, Log: log, DevSignIn: true})
	if err != nil {
		ln.Close()
		return fail(err)
	}
	srv.Mount(con.Handler())
	h := srv.Handler()
	srvCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = app.ServeHTTP(srvCtx, ln, h, log); close(done) }()
	cleanups = append(cleanups, func() { cancel(); <-done })
	e.base = "http://" + ln.Addr().String()
	return e, nil
}

// call makes one API request and returns its status and body.
func (e *env) call(ctx context.Context, who, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+e.tokens[who])
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func proposal(due string, milestones int) map[string]any {
	ms := make([]map[string]any, milestones)
	for i := range ms {
		ms[i] = map[string]any{"id": fmt.Sprintf("m%d", i+1), "owner": "PA", "due": due,
			"title": map[string]string{"es": fmt.Sprintf("Hito %d", i+1), "en": fmt.Sprintf("Milestone %d", i+1)}}
	}
	// Both parties' texts, so that both can approve.
	return map[string]any{"dialogue": app.DemoDialogue, "parties": []string{"PA", "US"}, "milestones": ms,
		"title":  map[string]string{"es": "Actividad de referencia", "en": "Benchmark activity"},
		"policy": map[string]any{"due_soon_lead": "PT0S", "overdue_reminder_every": "P7D", "overdue_reminders": 1}}
}

func (e *env) propose(ctx context.Context, due string, milestones int) (string, error) {
	return e.proposeBody(ctx, proposal(due, milestones))
}

// setUp proposes body for a step's setup, not its measurement: a proposal
// refused while the server is saturated (503) is made again, a few times.
func (e *env) setUp(ctx context.Context, body map[string]any) (string, error) {
	for try := 1; ; try++ {
		id, err := e.proposeBody(ctx, body)
		var se *statusError
		if try == 5 || !errors.As(err, &se) || se.code != http.StatusServiceUnavailable {
			return id, err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Duration(try) * time.Second):
		}
	}
}

func (e *env) proposeBody(ctx context.Context, body map[string]any) (string, error) {
	code, b, err := e.call(ctx, "pa-coordinator", "POST", "/v1/activities", body)
	if err != nil {
		return "", err
	}
	if code != http.StatusCreated {
		return "", &statusError{op: "propose", code: code, body: b}
	}
	var v struct {
		ID string `json:"id"`
	}
	return v.ID, json.Unmarshal(b, &v)
}

// statusError is an API request answered with an unexpected status.
type statusError struct {
	op   string
	code int
	body []byte
}

func (e *statusError) Error() string { return fmt.Sprintf("%s: %d %s", e.op, e.code, e.body) }

func (e *env) approve(ctx context.Context, who, id string) error {
	code, b, err := e.call(ctx, who, "POST", "/v1/activities/"+id+"/decisions", map[string]any{"version": 1, "decision": "approve"})
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("approve: %d %s", code, b)
	}
	return nil
}

// parallel runs n jobs with the given concurrency and returns the elapsed
// time and each job's duration.
func parallel(n, concurrency int, job func(i int) error) (time.Duration, []time.Duration, error) {
	var mu sync.Mutex
	var firstErr error
	durations := make([]time.Duration, 0, n)
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				err := job(i)
				mu.Lock()
				durations = append(durations, time.Since(t0))
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return time.Since(start), durations, firstErr
}

func rssMB() float64 { return processRSSMB("self") }

// cpuSample is the CPU time this process (Temporal server, worker, API and
// load) and the whole machine (PostgreSQL included) had used at a moment.
type cpuSample struct {
	at            time.Time
	process       time.Duration
	busy, total   float64 // the machine's clock ticks, busy and in all
	machineCounts bool
}

func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	// The first line of /proc/stat: user nice system idle iowait irq
	// softirq steal, in ticks since boot.
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return s
	}
	for i, v := range f[1:9] {
		n, _ := strconv.ParseFloat(v, 64)
		s.total += n
		if i != 3 && i != 4 { // idle and iowait
			s.busy += n
		}
	}
	s.machineCounts = true
	return s
}

// CPU is how busy a stretch of the run kept the CPUs.
type CPU struct {
	Seconds float64 `json:"seconds"`
	// ProcessCores is the CPU time of this process (Temporal, worker, API
	// and load) over the stretch, in cores; MachineBusy is the share of
	// all the machine's CPUs busy, PostgreSQL and anything else included.
	ProcessCores float64 `json:"process_cores"`
	MachineBusy  float64 `json:"machine_busy"`
	CPUs         int     `json:"cpus"`
}

func cpuSince(from cpuSample) CPU {
	to := sampleCPU()
	wall := to.at.Sub(from.at)
	c := CPU{Seconds: wall.Seconds(), CPUs: runtime.NumCPU()}
	if wall > 0 {
		c.ProcessCores = float64(to.process-from.process) / float64(wall)
	}
	if from.machineCounts && to.machineCounts && to.total > from.total {
		c.MachineBusy = (to.busy - from.busy) / (to.total - from.total)
	}
	return c
}

// processRSSMB is a process's resident memory, or 0 where /proc does not
// say.
func processRSSMB(pid string) float64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// goMemMB returns the Go heap in use, and the heap and goroutine stacks
// together: a cached workflow holds both (its coroutines are goroutines).
func goMemMB() (heap, heapAndStacks float64) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20), float64(m.HeapInuse+m.StackInuse) / (1 << 20)
}

// page signs in to the console as who (once) and fetches path, returning
// its status and body.
func (e *env) page(ctx context.Context, who, path string) (int, []byte, error) {
	if e.sessions == nil {
		e.sessions = map[string]*http.Cookie{}
	}
	ck := e.sessions[who]
	if ck == nil {
		form := strings.NewReader("principal=" + who + "&next=/")
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.base+"/signin", form)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.base)
		resp, err := http.DefaultTransport.RoundTrip(req) // keep the redirect's cookie
		if err != nil {
			return 0, nil, err
		}
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == "pacto_session" {
				ck = c
			}
		}
		if ck == nil {
			return 0, nil, fmt.Errorf("console sign-in as %s: %d, no session", who, resp.StatusCode)
		}
		e.sessions[who] = ck
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.AddCookie(ck)
	resp, err := e.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
