//go:build !nodev

package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"pacto/internal/temporalcluster"
)

// runTemporalService runs one service of the Temporal cluster that
// `pacto bench --cluster` (and the tests) start as child processes of
// pacto itself; the service's configuration comes on standard input.
func runTemporalService(ctx context.Context, args []string, _ io.Writer) error {
	f := newFlags("temporal-service", "temporal-service < spec")
	if err := f.parse(args); err != nil {
		return err
	}
	if len(f.fs.Args()) > 0 {
		return fmt.Errorf("takes no arguments: %w", errUsage)
	}
	return temporalcluster.Serve(ctx, os.Stdin)
}
