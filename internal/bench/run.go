package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strconv"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

// Run starts the embedded default in a fresh temp dir, measures, stops it
// and returns the numbers.
func Run(ctx context.Context, mode string, cfg Config) (*Result, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	progress := func(format string, a ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "… "+format+"\n", a...)
		}
	}
	temporal := "embedded (one process, SQLite)"
	if cfg.ClusterCommand != nil {
		temporal = "cluster (frontend, history, matching and worker processes; PostgreSQL persistence and visibility)"
	}
	e, err := start(ctx, log, cfg)
	if err != nil {
		return nil, fmt.Errorf("start Pacto on Temporal %s: %w", temporal, err)
	}
	defer e.stop()
	res := &Result{Mode: mode, Temporal: temporal, Extra: map[string]float64{}}
	baseRSS := rssMB()
	pgBase, err := e.dbSizeMB(ctx)
	if err != nil {
		return nil, err
	}
	temporalPGBase, err := e.temporalDBSizeMB(ctx)
	if err != nil {
		return nil, err
	}

	// (a) proposals through the API against bare workflow starts.
	for _, c := range []int{1, 32} {
		progress("throughput at concurrency %d", c)
		// The CPU a proposal costs counts its emails, sent in the
		// background after it answers, so its window closes once the
		// outbox has drained.
		apiCPU := sampleCPU()
		apiTime, _, err := parallel(cfg.Requests, c, func(int) error {
			_, err := e.propose(ctx, "P1Y", 1)
			return err
		})
		if err != nil {
			return nil, err
		}
		// The proposals' emails go out in the background; let them finish
		// so the bare run has the server to itself, as the API run had.
		if err := e.drain(ctx); err != nil {
			return nil, err
		}
		apiCost := costOf(cpuSince(apiCPU), cfg.Requests)
		bareCPU := sampleCPU()
		bareTime, _, err := parallel(cfg.Requests, c, func(i int) error {
			run, err := e.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("noop-%d-%d-%d", c, i, time.Now().UnixNano()), TaskQueue: noopQueue}, "BenchNoop")
			if err != nil {
				return err
			}
			return run.Get(ctx, nil)
		})
		if err != nil {
			return nil, err
		}
		t := Throughput{Concurrency: c, APIPerSec: float64(cfg.Requests) / apiTime.Seconds(), BarePerSec: float64(cfg.Requests) / bareTime.Seconds(),
			APICPU: apiCost, BareCPU: costOf(cpuSince(bareCPU), cfg.Requests)}
		t.Ratio = t.APIPerSec / t.BarePerSec
		res.Throughput = append(res.Throughput, t)
		e.measuredRates = append(e.measuredRates, t.APIPerSec)
	}

	// (b) the approval round trip and a single decision, each followed by
	// its bare Temporal equivalent (a start and two Updates that do
	// nothing), so both see the same server at the same moment.
	progress("approval round trips")
	var trips, decisions, bareTrips, bareDecisions []time.Duration
	for i := range cfg.RoundTrips {
		t0 := time.Now()
		id, err := e.propose(ctx, "P1Y", 1)
		if err != nil {
			return nil, err
		}
		if err := e.approve(ctx, "pa-approver", id); err != nil {
			return nil, err
		}
		t1 := time.Now()
		if err := e.approve(ctx, "us-approver", id); err != nil {
			return nil, err
		}
		decisions = append(decisions, time.Since(t1))
		trips = append(trips, time.Since(t0))

		trip, decision, err := e.bareRound(ctx, fmt.Sprintf("noop-round-%d-%d", i, time.Now().UnixNano()))
		if err != nil {
			return nil, fmt.Errorf("bare Temporal round trip: %w", err)
		}
		bareTrips, bareDecisions = append(bareTrips, trip), append(bareDecisions, decision)
	}
	res.Latency = append(res.Latency, latency("approval round trip (propose + 2 approvals)", trips), latency("single decision", decisions),
		latency("bare Temporal round trip (start + 2 Updates)", bareTrips), latency("bare Temporal Update", bareDecisions))
	if err := e.drain(ctx); err != nil {
		return nil, err
	}

	// Open activities up to the size memory is measured at, so that the
	// reminders below fire among more sleeping workflows than the worker
	// keeps in memory.
	progress("open activities up to %d", cfg.OpenActivities)
	if err := e.fill(ctx, cfg.OpenActivities-cfg.ReminderActivities); err != nil {
		return nil, err
	}

	// (d) reminder lateness: milestones falling due together.
	progress("%d activities × 5 milestones due within %s", cfg.ReminderActivities, cfg.Window)
	lateness, cpu, err := e.reminders(ctx, cfg)
	if err != nil {
		return nil, err
	}
	res.Reminders, res.ReminderCPU = lateness, cpu
	if err := e.drain(ctx); err != nil {
		return nil, err
	}

	// The activity the IATI export's dialogue will hold copies of is
	// published now, while the worker runs (the measurement of memory
	// stops it).
	if err := e.publish(ctx); err != nil {
		return nil, err
	}

	// (e) memory per 1,000 open activities.
	open, err := e.open(ctx)
	if err != nil {
		return nil, err
	}
	pgSize, err := e.dbSizeMB(ctx)
	if err != nil {
		return nil, err
	}
	rss := rssMB()
	temporalPG, err := e.temporalDBSizeMB(ctx)
	if err != nil {
		return nil, err
	}
	var temporalRSS float64
	if e.cluster != nil {
		for _, pid := range e.cluster.PIDs() {
			temporalRSS += processRSSMB(strconv.Itoa(pid))
		}
	}
	goroutines := runtime.NumGoroutine()
	runtime.GC()
	heap, held := goMemMB()
	if cfg.HeapProfile != nil {
		if err := pprof.Lookup("heap").WriteTo(cfg.HeapProfile, 0); err != nil {
			return nil, fmt.Errorf("heap profile: %w", err)
		}
	}
	// The worker's share: the Go heap and goroutine stacks its cache of
	// running workflows holds, measured by stopping it and emptying the
	// cache. The reads below need no worker.
	e.worker.Stop()
	worker.PurgeStickyWorkflowCache()
	runtime.GC()
	_, left := goMemMB()
	workerMB := held - left
	res.Memory = Memory{OpenActivities: open, ProcessRSSMB: rss, GoHeapMB: heap, BaselineRSSMB: baseRSS, PostgresBaselineMB: pgBase,
		ProcessMBPer1000: (rss - baseRSS) / float64(open) * 1000, PostgresMBPer1000: (pgSize - pgBase) / float64(open) * 1000,
		WorkerMB: workerMB, WorkerMBPer1000: workerMB / float64(open) * 1000, TemporalRSSMB: temporalRSS,
		WorkflowCache: cfg.WorkflowCache, Goroutines: goroutines}
	if e.cluster != nil {
		res.Memory.TemporalPostgresMBPer1000 = (temporalPG - temporalPGBase) / float64(open) * 1000
	}

	weight, err := e.pageWeight(ctx)
	if err != nil {
		return nil, err
	}
	res.Extra["console_activity_page_kb"] = weight

	// (c) reads from the read model as it grows.
	for _, n := range cfg.ReadModelSizes {
		progress("reads with %d activities in the read model", n)
		reads, cpu, err := e.reads(ctx, n, cfg.Reads)
		if err != nil {
			return nil, err
		}
		res.Latency = append(res.Latency, reads...)
		res.ReadsCPU = append(res.ReadsCPU, ReadsCPU{Activities: n, CPU: cpu})
	}

	// (f) the IATI export of a dialogue of n published activities.
	for _, n := range cfg.ExportSizes {
		progress("IATI export of %d published activities", n)
		if err := e.fillExport(ctx, n); err != nil {
			return nil, err
		}
		x, err := e.exportIATI(ctx)
		if err != nil {
			return nil, err
		}
		res.Exports = append(res.Exports, x)
	}
	return res, nil
}

// open counts the open activities.
func (e *env) open(ctx context.Context) (int, error) {
	return e.count(ctx, "SELECT count(*) FROM activities WHERE status IN ('proposed', 'active')")
}

// fill proposes activities through the API until n are open, each a
// workflow asleep until its approval window runs out, and waits for their
// notices to go out.
func (e *env) fill(ctx context.Context, n int) error {
	open, err := e.open(ctx)
	if err != nil {
		return err
	}
	if add := n - open; add > 0 {
		if _, _, err := parallel(add, 32, func(int) error {
			_, err := e.setUp(ctx, proposal("P1Y", 1))
			return err
		}); err != nil {
			return fmt.Errorf("open %d activities: %w", add, err)
		}
	}
	return e.drain(ctx)
}

// drain waits until every delivery written so far has been sent.
func (e *env) drain(ctx context.Context) error {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		n, err := e.count(ctx, "SELECT count(*) FROM deliveries WHERE status = 'pending'")
		if err != nil || n == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d deliveries still pending after 5 minutes", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// temporalDBSizeMB is the size of the cluster's two databases together;
// 0 without a cluster.
func (e *env) temporalDBSizeMB(ctx context.Context) (float64, error) {
	if e.cluster == nil {
		return 0, nil
	}
	var b int64
	if err := e.st.Pool().QueryRow(ctx, "SELECT pg_database_size($1) + pg_database_size($2)", clusterPersistenceDB, clusterVisibilityDB).Scan(&b); err != nil {
		return 0, fmt.Errorf("size of the Temporal cluster's databases: %w", err)
	}
	return float64(b) / (1 << 20), nil
}

func (e *env) count(ctx context.Context, sql string, args ...any) (int, error) {
	var n int
	err := e.st.Pool().QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

func (e *env) dbSizeMB(ctx context.Context) (float64, error) {
	var b int64
	if err := e.st.Pool().QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&b); err != nil {
		return 0, fmt.Errorf("database size: %w", err)
	}
	return float64(b) / (1 << 20), nil
}

// reminders creates activities whose milestones fall due spread over the
// window, then reads from the audit log when each overdue notice fired.
func (e *env) reminders(ctx context.Context, cfg Config) (Latency, CPU, error) {
	n := cfg.ReminderActivities
	// Leave time to create and approve them all before the first is due.
	perSecond := 10.0
	if len(e.measuredRates) > 0 {
		perSecond = e.measuredRates[len(e.measuredRates)-1] / 3
	}
	lead := time.Duration(float64(n)/perSecond*1.5*float64(time.Second)) + 5*time.Second
	first := time.Now().Add(lead)
	step := cfg.Window / time.Duration(n*5)
	_, _, err := parallel(n, 16, func(i int) error {
		body := proposal("", 5)
		for j, m := range body["milestones"].([]map[string]any) {
			m["due"] = first.Add(time.Duration(i*5+j) * step).UTC().Format(time.RFC3339Nano)
		}
		id, err := e.setUp(ctx, body)
		if err != nil {
			return err
		}
		if err := e.approve(ctx, "pa-approver", id); err != nil {
			return err
		}
		return e.approve(ctx, "us-approver", id)
	})
	if err != nil {
		return Latency{}, CPU{}, err
	}
	if time.Now().After(first) {
		return Latency{}, CPU{}, fmt.Errorf("setting up %d activities took longer than the %s allowed; results would be meaningless", n, lead)
	}
	// The CPUs are measured from the first reminder due to the last fired.
	select {
	case <-ctx.Done():
		return Latency{}, CPU{}, ctx.Err()
	case <-time.After(time.Until(first)):
	}
	from := sampleCPU()
	var cpu CPU
	deadline := first.Add(cfg.Window + time.Minute)
	want := n * 5
	for {
		got, err := e.count(ctx, "SELECT count(*) FROM audit_events WHERE type = 'milestone_overdue'")
		if err != nil {
			return Latency{}, CPU{}, err
		}
		if got >= want {
			cpu = cpuSince(from)
			break
		}
		if time.Now().After(deadline) {
			return Latency{}, CPU{}, fmt.Errorf("only %d of %d reminders fired by %s", got, want, deadline.Format(time.TimeOnly))
		}
		time.Sleep(500 * time.Millisecond)
	}
	rows, err := e.st.Pool().Query(ctx, "SELECT (content::jsonb #>> '{event,at}')::timestamptz - (content::jsonb #>> '{event,due}')::timestamptz FROM audit_events WHERE type = 'milestone_overdue'")
	if err != nil {
		return Latency{}, CPU{}, err
	}
	defer rows.Close()
	var late []time.Duration
	for rows.Next() {
		var d time.Duration
		if err := rows.Scan(&d); err != nil {
			return Latency{}, CPU{}, err
		}
		late = append(late, d)
	}
	return latency(fmt.Sprintf("reminder lateness (%d reminders in %s)", want, cfg.Window), late), cpu, rows.Err()
}

// reads fills the read model up to n activities (copies of a real one,
// written straight into PostgreSQL) and times a GET and two filtered lists.
func (e *env) reads(ctx context.Context, n, reads int) ([]Latency, CPU, error) {
	have, err := e.count(ctx, "SELECT count(*) FROM activities")
	if err != nil {
		return nil, CPU{}, err
	}
	if add := n - have; add > 0 {
		// The copies' search column is the model's (its title and summary
		// in every language, as Record wrote it) and the copy's number.
		var model string
		if err := e.st.Pool().QueryRow(ctx, "SELECT id FROM activities WHERE status = 'active' LIMIT 1").Scan(&model); err != nil {
			return nil, CPU{}, fmt.Errorf("pick the activity to copy: %w", err)
		}
		if _, err := e.st.Pool().Exec(ctx, `
			INSERT INTO activities (id, dialogue_id, title, summary, status, version, seq, proposer, proposer_party,
				parties, pending_parties, horizons, next_due, amber_from, next_wake, snapshot, proposed_at, activated_at, closed_at, search)
			SELECT 'bench-' || $2::int + g, dialogue_id, title || ' ' || g, summary,
				(ARRAY['proposed','active','active','completed'])[1 + g % 4], version, seq, proposer, proposer_party,
				parties, CASE WHEN g % 4 = 0 THEN parties ELSE '{}' END, horizons, next_due + g * interval '1 minute', amber_from + g * interval '1 minute',
				next_wake, snapshot, proposed_at - g * interval '1 second', activated_at, closed_at, search || ' ' || g
			FROM (SELECT * FROM activities WHERE id = $3) a, generate_series(1, $1::int) g`,
			add, have, model); err != nil {
			return nil, CPU{}, fmt.Errorf("fill the read model: %w", err)
		}
		// Vacuum as well, so autovacuum does not run during the reads.
		if _, err := e.st.Pool().Exec(ctx, "VACUUM ANALYZE activities"); err != nil {
			return nil, CPU{}, err
		}
	}
	ids := []string{}
	rows, err := e.st.Pool().Query(ctx, "SELECT id FROM activities ORDER BY random() LIMIT 500")
	if err != nil {
		return nil, CPU{}, err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, CPU{}, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	var gets, lists, worklists []time.Duration
	var work, listPages, activityPages []time.Duration
	// How busy the machine is while the reads, one at a time, run: what
	// else competes with them.
	cpu := sampleCPU()
	for i := range reads {
		t0 := time.Now()
		code, b, err := e.call(ctx, "us-observer", "GET", "/v1/activities/"+ids[rand.IntN(len(ids))], nil)
		if err != nil || code != http.StatusOK {
			return nil, CPU{}, fmt.Errorf("get: %d %s %v", code, b, err)
		}
		gets = append(gets, time.Since(t0))
		if i%4 == 0 {
			// An approver's worklist, searched; and a combination that
			// matches nothing (active activities with a pending extension
			// are rare), the worst case for the planner's row estimates.
			for _, l := range []struct {
				query string
				into  *[]time.Duration
			}{
				{"status=proposed&pending_party=US&q=Benchmark", &worklists},
				{"status=active&pending_party=US&q=Benchmark", &lists},
			} {
				t0 = time.Now()
				code, b, err = e.call(ctx, "us-observer", "GET", "/v1/activities?"+l.query+"&limit=20", nil)
				if err != nil || code != http.StatusOK {
					return nil, CPU{}, fmt.Errorf("list: %d %s %v", code, b, err)
				}
				*l.into = append(*l.into, time.Since(t0))
			}
			// The console's pages, as an approver opens them.
			for _, p := range []struct {
				path string
				into *[]time.Duration
			}{
				{"/", &work},
				{"/activities?status=proposed&pending_party=US", &listPages},
				{"/activities/" + ids[rand.IntN(len(ids))], &activityPages},
			} {
				t0 = time.Now()
				code, _, err = e.page(ctx, "us-approver", p.path)
				if err != nil || code != http.StatusOK {
					return nil, CPU{}, fmt.Errorf("console %s: %d %v", p.path, code, err)
				}
				*p.into = append(*p.into, time.Since(t0))
			}
		}
	}
	used := cpuSince(cpu)
	return []Latency{
		latency(fmt.Sprintf("GET /v1/activities/{id} at %d", n), gets),
		latency(fmt.Sprintf("worklist (proposed, pending US, text) at %d", n), worklists),
		latency(fmt.Sprintf("filtered list matching none (active, pending US, text) at %d", n), lists),
		latency(fmt.Sprintf("console My work at %d", n), work),
		latency(fmt.Sprintf("console activities list at %d", n), listPages),
		latency(fmt.Sprintf("console activity page at %d", n), activityPages),
	}, used, nil
}

// pageWeight is what a browser downloads, uncompressed, to show one
// activity's page in the console: its HTML and every asset it loads.
func (e *env) pageWeight(ctx context.Context) (float64, error) {
	var id string
	if err := e.st.Pool().QueryRow(ctx, "SELECT id FROM activities WHERE status = 'active' AND id NOT LIKE 'bench-%' LIMIT 1").Scan(&id); err != nil {
		return 0, fmt.Errorf("pick an activity: %w", err)
	}
	total := 0
	for _, path := range []string{"/activities/" + id, "/assets/style.css", "/assets/console.js"} {
		code, b, err := e.page(ctx, "us-approver", path)
		if err != nil || code != http.StatusOK {
			return 0, fmt.Errorf("console %s: %d %v", path, code, err)
		}
		total += len(b)
	}
	return float64(total) / 1024, nil
}

// Print writes the table people read.
func Print(w io.Writer, r *Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "pacto bench (%s)\nTemporal: %s\n\n", r.Mode, r.Temporal)
	fmt.Fprintln(tw, "throughput\tconcurrency\tAPI proposals/s\tbare SDK starts/s\tratio")
	for _, t := range r.Throughput {
		fmt.Fprintf(tw, "\t%d\t%.1f\t%.1f\t%.2f\n", t.Concurrency, t.APIPerSec, t.BarePerSec, t.Ratio)
	}
	fmt.Fprintln(tw, "\nCPU per request\tconcurrency\tAPI proposal, its emails included\tbare SDK start")
	for _, t := range r.Throughput {
		fmt.Fprintf(tw, "\t%d\t%s\t%s\n", t.Concurrency, t.APICPU, t.BareCPU)
	}
	fmt.Fprintln(tw, "\nlatency\tcount\tp50 ms\tp99 ms\tmax ms")
	for _, l := range append(r.Latency, r.Reminders) {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\n", l.Name, l.Count, l.P50, l.P99, l.Max)
	}
	if c := r.ReminderCPU; c.Seconds > 0 {
		fmt.Fprintf(tw, "\nwhile reminders fired\t%.0f s: this process used %.2f of %d cores; the machine was %.0f%% busy\n", c.Seconds, c.ProcessCores, c.CPUs, 100*c.MachineBusy)
	}
	for _, rc := range r.ReadsCPU {
		c := rc.CPU
		fmt.Fprintf(tw, "while reads ran at %d\t%.0f s: this process used %.2f of %d cores; the machine was %.0f%% busy\n", rc.Activities, c.Seconds, c.ProcessCores, c.CPUs, 100*c.MachineBusy)
	}
	m := r.Memory
	fmt.Fprintf(tw, "\nmemory\t%d open activities\n", m.OpenActivities)
	fmt.Fprintf(tw, "process RSS\t%.0f MB (%.0f MB at start; %.1f MB per 1,000 open activities)\n", m.ProcessRSSMB, m.BaselineRSSMB, m.ProcessMBPer1000)
	fmt.Fprintf(tw, "Go heap in use\t%.0f MB\n", m.GoHeapMB)
	fmt.Fprintf(tw, "worker\t%.0f MB of Go heap and stacks hold its cached workflows (%.1f MB per 1,000 open activities; it keeps at most %d)\n", m.WorkerMB, m.WorkerMBPer1000, m.WorkflowCache)
	fmt.Fprintf(tw, "goroutines\t%d\n", m.Goroutines)
	fmt.Fprintf(tw, "PostgreSQL size\t%.1f MB per 1,000 open activities (%.0f MB empty)\n", m.PostgresMBPer1000, m.PostgresBaselineMB)
	if m.TemporalRSSMB > 0 {
		fmt.Fprintf(tw, "Temporal services\t%.0f MB RSS in their four processes together\n", m.TemporalRSSMB)
		fmt.Fprintf(tw, "Temporal's PostgreSQL\t%.1f MB per 1,000 open activities (persistence and visibility)\n", m.TemporalPostgresMBPer1000)
	}
	if len(r.Exports) > 0 {
		fmt.Fprintln(tw, "\nIATI export\tactivities\tseconds\tMB written\tGo heap before, MB\tpeak heap in use, MB\tpeak live heap growth, MB")
		for _, x := range r.Exports {
			fmt.Fprintf(tw, "\t%d\t%.2f\t%.1f\t%.0f\t%.0f\t%.1f\n", x.Activities, x.Seconds, x.MB, x.BaseHeapMB, x.PeakHeapMB, x.PeakLiveGrowthMB)
		}
	}
	if kb, ok := r.Extra["console_activity_page_kb"]; ok {
		fmt.Fprintf(tw, "\nconsole page weight\t%.1f KB for an activity's page with its style and script, uncompressed\n", kb)
	}
	_ = tw.Flush()
}

// bareRound starts a noop-decisions workflow and sends it two Updates,
// each waited for until done, and returns how long the whole took and
// how long the second Update did.
func (e *env) bareRound(ctx context.Context, id string) (trip, decision time.Duration, err error) {
	t0 := time.Now()
	run, err := e.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: noopQueue}, "BenchNoopDecisions")
	if err != nil {
		return 0, 0, err
	}
	var t1 time.Time
	for range 2 {
		t1 = time.Now()
		h, err := e.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, RunID: run.GetRunID(), UpdateName: noopUpdate, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err != nil {
			return 0, 0, err
		}
		if err := h.Get(ctx, nil); err != nil {
			return 0, 0, err
		}
	}
	decision, trip = time.Since(t1), time.Since(t0)
	return trip, decision, run.Get(ctx, nil)
}
