// Command pacto runs and administers Pacto, the workflow engine for
// cooperation activities between governments and organisations.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `pacto runs the lifecycle of cooperation activities between parties.

Usage:
  pacto <command> [flags]

Commands:
  help       show this text

The server commands (dev, serve, api, worker, migrate, token) are being built;
see README.md for what works today.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "pacto: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
