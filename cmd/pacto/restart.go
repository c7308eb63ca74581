package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"pacto/internal/api"
	"pacto/internal/app"
	"pacto/internal/store"
)

// runAdmin is what an operator does about activities whose workflow no
// longer runs in Temporal: list them, and restart one from its last
// recorded state, as GET /v1/admin/diverged and
// POST /v1/admin/activities/{id}/restart do.
func runAdmin(ctx context.Context, args []string, out io.Writer) error {
	verb, rest, err := subcommand(args, "diverged", "restart")
	if err != nil {
		return err
	}
	synopsis := map[string]string{
		"diverged": "admin diverged [flags]",
		"restart":  "admin restart --activity ID --as PRINCIPAL --reason TEXT [flags]",
	}[verb]
	f := newFlags("admin "+verb, synopsis)
	db := f.database()
	var limit int
	var activity, as, reason string
	var address, namespace *string
	switch verb {
	case "diverged":
		f.fs.IntVar(&limit, "limit", 100, "list at most this many, oldest first")
	case "restart":
		address, namespace = f.temporal()
		f.fs.StringVar(&activity, "activity", "", "the activity whose workflow to restart")
		f.fs.StringVar(&as, "as", "", "the admin principal the audit log names as restarting it")
		f.fs.StringVar(&reason, "reason", "", "why, for the audit log")
		f.note("\nStarts the activity's workflow again under the same ID from the last state the\n" +
			"database recorded, once its run no longer runs in Temporal; the new run records\n" +
			"the restart, by --as, before anything else.\n")
	}
	if err := f.parse(rest); err != nil {
		return err
	}
	if verb == "diverged" {
		if limit < 1 || limit > 1000 {
			return fmt.Errorf("--limit must be 1 to 1000: %w", errUsage)
		}
		return withStore(ctx, *db, func(st *store.Store) error {
			ds, err := st.Divergences(ctx, limit)
			if err != nil {
				return err
			}
			rows := make([][]string, len(ds))
			for i, d := range ds {
				at := d.DetectedAt
				rows[i] = []string{d.ActivityID, string(d.Status), d.Temporal.Status, when(&at), d.Temporal.Identity, oneLine(d.Temporal.Reason)}
			}
			return table(out, "ACTIVITY\tSTATUS\tIN TEMPORAL\tDETECTED\tBY\tREASON", rows)
		})
	}
	for name, v := range map[string]string{"activity": activity, "as": as, "reason": reason} {
		if err := required(name, v); err != nil {
			return err
		}
	}
	return withStore(ctx, *db, func(st *store.Store) error {
		p, err := st.Principal(ctx, as)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no principal %q", as)
		} else if err != nil {
			return err
		}
		if p.Disabled != nil {
			return fmt.Errorf("principal %s is disabled", as)
		}
		log := slog.New(slog.DiscardHandler)
		tc, err := app.DialTemporal(app.TemporalConfig{Address: *address, Namespace: *namespace}, log)
		if err != nil {
			return err
		}
		defer tc.Close()
		srv := api.New(st, tc, api.Options{Logger: log, RequestTimeout: time.Minute})
		restarted, err := srv.Restart(ctx, p, activity, reason)
		if err != nil {
			// The API's refusals say what is wrong; anything else is
			// shown as it is, for the operator at the terminal.
			if prob := api.Describe(err); prob.Status < 500 {
				return errors.New(prob.Detail)
			}
			return err
		}
		fmt.Fprintf(out, "activity %s restarted by %s: %s at seq %s\n", restarted.ID, p.ID, restarted.Status, strconv.FormatInt(restarted.Seq, 10))
		return nil
	})
}

// oneLine keeps a table row on one line.
func oneLine(s string) string {
	out := []rune(s)
	for i, r := range out {
		if r == '\n' || r == '\r' || r == '\t' {
			out[i] = ' '
		}
	}
	return string(out)
}
