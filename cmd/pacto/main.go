// Command pacto runs and administers Pacto, the workflow engine for
// cooperation activities between governments and organisations.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand of pacto.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, out io.Writer) error
}

var commands = map[string]command{
	"dev":       {devSummary, runDev},
	"bench":     {benchSummary, runBench},
	"api":       {"serve the HTTP API (against an external Temporal and PostgreSQL)", runAPI},
	"worker":    {"run a Temporal worker for activity workflows", runWorker},
	"serve":     {"run the HTTP API and a worker in one process", runServe},
	"migrate":   {"apply the database migrations", runMigrate},
	"setup":     {"make a Temporal namespace ready: Pacto's search attributes (and the namespace, with --create-namespace)", runSetup},
	"party":     {"create or list parties, or set a party's IATI organisation (create | list | iati)", runParty},
	"dialogue":  {"create or list dialogues, or set how a dialogue's activities are published in IATI (create | list | iati)", runDialogue},
	"principal": {"create, list or disable principals, and link their sign-in identities (create | list | link | identities | disable)", runPrincipal},
	"token":     {"create, list or revoke API tokens (create | list | revoke)", runToken},
	"report":    {"write a dialogue meeting's progress report (frozen, draft or compiled now) as JSON, CSV, HTML or PDF", runReport},
	"export":    {"write activities out: one row per milestone as CSV or an Excel workbook (csv | xlsx), or a dialogue's published activities as an IATI 2.03 file (iati)", runExport},
	"admin":     {"list activities whose workflow was lost in Temporal, and restart one (diverged | restart)", runAdmin},
}

// internalCommands are started only by pacto itself, so usage leaves them
// out.
var internalCommands = map[string]command{
	// One service of the Temporal cluster `pacto bench --cluster` starts
	// as child processes of itself.
	"temporal-service": {"run one Temporal service of pacto bench --cluster", runTemporalService},
}

func usage(w io.Writer) {
	fmt.Fprint(w, "pacto runs the lifecycle of cooperation activities between parties.\n\nUsage:\n  pacto <command> [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, "\nRun 'pacto <command> --help' for its flags; every flag can also be set by the environment variable it names.\n")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks an error that is the caller's: exit status 2.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		cmd, ok = internalCommands[args[0]]
	}
	if !ok {
		fmt.Fprintf(stderr, "pacto: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	err := cmd.run(ctx, args[1:], stdout)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "pacto %s: %v\n", args[0], strings.TrimSuffix(err.Error(), ": "+errUsage.Error()))
		return 2
	default:
		fmt.Fprintf(stderr, "pacto %s: %v\n", args[0], err)
		return 1
	}
}
