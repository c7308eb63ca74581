package temporalcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/temporal"
)

// Serve runs one service of a cluster in this process: the body of each
// process Start starts. It reads the service's spec as JSON from in, which
// Start writes to the process's standard input and then holds open: when
// in reaches its end (Start's process stopped or died) or ctx ends (a
// signal), Serve stops the service and returns. The server logs to
// standard error.
func Serve(ctx context.Context, in io.Reader) error {
	dec := json.NewDecoder(in)
	var s spec
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("read the service's spec from standard input (it is started by pacto bench --cluster and the tests): %w", err)
	}
	if !slices.Contains(Services, s.Service) {
		return fmt.Errorf("unknown service %q, want one of %v", s.Service, Services)
	}
	logger := log.NewZapLogger(log.BuildZapLogger(log.Config{Level: s.LogLevel}))
	srv, err := temporal.NewServer(
		temporal.ForServices([]string{s.Service}),
		temporal.WithConfig(s.serverConfig()),
		temporal.WithLogger(logger),
		temporal.WithDynamicConfigClient(dynamicConfig()),
	)
	if err != nil {
		return fmt.Errorf("build the %s service: %w", s.Service, err)
	}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("start the %s service: %w", s.Service, err)
	}
	parentGone := make(chan struct{})
	go func() {
		// Nothing more is written; this returns when the writer is gone.
		// If a signal stops the service first, it ends with the process.
		_, _ = io.Copy(io.Discard, in)
		close(parentGone)
	}()
	select {
	case <-ctx.Done():
	case <-parentGone:
	}
	if err := srv.Stop(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("stop the %s service: %w", s.Service, err)
	}
	return nil
}
