//go:build !linux

package pgcluster

import (
	"context"
	"errors"
)

// Start would start a cluster; it relies on Linux (the parent-death signal,
// /proc, switching to the postgres account) and is not available elsewhere.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	return nil, errors.New("pgcluster: only supported on Linux")
}
