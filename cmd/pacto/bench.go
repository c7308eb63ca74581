package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"pacto/internal/bench"
)

// runBench measures Pacto on the embedded default in a fresh temp dir and
// prints a table, plus JSON to a file.
func runBench(ctx context.Context, args []string, out io.Writer) error {
	f := newFlags("bench", "bench [flags]")
	quick := f.boolean("quick", "PACTO_BENCH_QUICK", false, "a small run that takes under a minute (for CI)")
	jsonOut := f.str("out", "PACTO_BENCH_OUT", "bench.json", "file to write the results to as JSON (empty: none)")
	if err := f.parse(args); err != nil {
		return err
	}
	cfg, mode := bench.Full, "full"
	if *quick {
		cfg, mode = bench.Quick, "quick"
	}
	cfg.Log = out
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
