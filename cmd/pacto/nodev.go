//go:build nodev

package main

// The nodev build is the production binary: it leaves out the embedded
// default (the in-process Temporal server with its SQLite persistence, the
// Temporal Web UI server and the private PostgreSQL starter), which is most
// of the default build's dependencies and size and which production never
// runs. `pacto dev` and `pacto bench` stay as commands so that whoever types
// them learns why they do nothing here.

import (
	"context"
	"errors"
	"io"
)

const (
	devSummary   = "not in this build, which has no embedded default"
	benchSummary = devSummary
)

// errNoEmbeddedDefault is what dev and bench answer in the nodev build.
var errNoEmbeddedDefault = errors.New("this build has no embedded default; use the default build (go run ./cmd/pacto dev), " +
	"or run `pacto api`/`pacto worker` against your own Temporal and PostgreSQL")

func runDev(context.Context, []string, io.Writer) error { return errNoEmbeddedDefault }

func runBench(context.Context, []string, io.Writer) error { return errNoEmbeddedDefault }

func runTemporalService(context.Context, []string, io.Writer) error { return errNoEmbeddedDefault }
