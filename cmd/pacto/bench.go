//go:build !nodev

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"

	"pacto/internal/bench"
)

// benchSummary is the usage line of `pacto bench`.
const benchSummary = "measure throughput, latency, reminder lateness and memory on the embedded default (or, with --cluster, a Temporal cluster on PostgreSQL)"

// runBench measures Pacto on the embedded default, or on a Temporal
// cluster whose services run as child processes of this binary, in a fresh
// temp dir, and prints a table, plus JSON to a file.
func runBench(ctx context.Context, args []string, out io.Writer) error {
	f := newFlags("bench", "bench [flags]")
	quick := f.boolean("quick", "PACTO_BENCH_QUICK", false, "a small run that takes under a minute (for CI)")
	jsonOut := f.str("out", "PACTO_BENCH_OUT", "bench.json", "file to write the results to as JSON (empty: none)")
	cpuProfile := f.str("cpuprofile", "PACTO_BENCH_CPUPROFILE", "", "write a CPU profile of the whole run (server, worker, API and load) to this file")
	cluster := f.boolean("cluster", "PACTO_BENCH_CLUSTER", false, "run Temporal as production does instead of the embedded default: the frontend, history, matching and worker services each in its own process, on PostgreSQL for persistence and visibility")
	memProfile := f.str("memprofile", "PACTO_BENCH_MEMPROFILE", "", "write a heap profile to this file, taken when memory is measured with the open activities")
	cache := f.str("workflow-cache", "PACTO_WORKFLOW_CACHE", "", fmt.Sprintf("workflows the worker keeps in memory (default %d, as pacto dev; %d with --quick, below the activities it opens)",
		bench.Full.WorkflowCache, bench.Quick.WorkflowCache))
	if err := f.parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("create CPU profile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return fmt.Errorf("start CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	cfg, mode := bench.Full, "full"
	if *quick {
		cfg, mode = bench.Quick, "quick"
	}
	if *cache != "" {
		n, err := strconv.Atoi(strings.TrimSpace(*cache))
		if err != nil || n < 0 {
			return fmt.Errorf("--workflow-cache %q: want a number of workflows, 0 or more: %w", *cache, errUsage)
		}
		cfg.WorkflowCache = n
	}
	cfg.Log = out
	if *cluster {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this binary, to run the Temporal services: %w", err)
		}
		cfg.ClusterCommand = func() *exec.Cmd { return exec.Command(self, "temporal-service") }
	}
	if *memProfile != "" {
		mf, err := os.Create(*memProfile)
		if err != nil {
			return fmt.Errorf("create heap profile: %w", err)
		}
		defer mf.Close()
		cfg.HeapProfile = mf
	}
	res, err := bench.Run(ctx, mode, cfg)
	if err != nil {
		return err
	}
	bench.Print(out, res)
	if *jsonOut != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *jsonOut, err)
		}
		fmt.Fprintf(out, "\nresults written to %s\n", *jsonOut)
	}
	return nil
}
