package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"pacto/internal/api"
	"pacto/internal/export/tabular"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// runExport writes activities out of Pacto, one format per action.
func runExport(ctx context.Context, args []string, out io.Writer) error {
	verb, rest, err := subcommand(args, "csv", "xlsx", "iati")
	if err != nil {
		return err
	}
	switch verb {
	case "csv", "xlsx":
		return runTabularExport(ctx, verb, rest, out)
	case "iati":
		return exportIATI(ctx, rest, out)
	}
	return fmt.Errorf("unknown action %q: %w", verb, errUsage)
}

// tabularHelp follows the flags of export csv and export xlsx in --help.
const tabularHelp = `
One row per milestone, its activity's columns first (an activity without
milestones is one row), newest proposal first, as GET
/v1/activities/export.csv and export.xlsx give them: the filters are the
activity list's. Without --as every activity is exported, in English
(--lang) with times in UTC (--time-zone); with --as, what that principal
may see, in their language and their party's zone.
`

// runTabularExport is export csv and export xlsx: the activities a filter
// selects, read from the database a page at a time.
func runTabularExport(ctx context.Context, format string, args []string, out io.Writer) error {
	f := newFlags("export "+format, "export "+format+" [filters] [--as PRINCIPAL] [--out FILE] [flags]")
	db := f.database()
	filters := map[string]*string{}
	for _, fl := range []struct{ name, param, usage string }{
		{"status", "status", "only activities in this status: proposed, active, suspended, declined, expired, cancelled or completed"},
		{"party", "party", "only activities this party takes part in"},
		{"pending-party", "pending_party", "only activities waiting for this party's approval"},
		{"horizon", "horizon", "only activities with a milestone of this horizon: short, medium or long"},
		{"dialogue", "dialogue", "only activities of this dialogue"},
		{"q", "q", "text found in the title or summary, ignoring case and accents"},
		{"due-before", "due_before", "only activities whose next due time is before this instant (RFC 3339) or date"},
		{"due-after", "due_after", "only activities whose next due time is after this instant (RFC 3339) or date"},
	} {
		filters[fl.param] = f.fs.String(fl.name, "", fl.usage)
	}
	overdue := f.fs.Bool("overdue", false, "only activities with an overdue milestone")
	as := f.fs.String("as", "", "export what this principal may see, in their language and their party's zone")
	lang := f.fs.String("lang", "", "the language of the headers and texts, es or en (default: --as's, else en)")
	zone := f.fs.String("time-zone", "", "the zone times are written in (default: --as's party's, else UTC)")
	outFile := f.fs.String("out", "", "the file to write (default: standard output)")
	var delimiter *string
	var bom *bool
	if format == "csv" {
		delimiter = f.fs.String("delimiter", ",", "the field separator: , or ;")
		bom = f.fs.Bool("bom", false, "start the file with a UTF-8 byte-order mark, for spreadsheet programs")
	}
	f.note(tabularHelp)
	if err := f.parse(args); err != nil {
		return err
	}
	if f.fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", f.fs.Arg(0), errUsage)
	}
	q := url.Values{}
	for param, v := range filters {
		if *v != "" {
			q.Set(param, *v)
		}
	}
	if *overdue {
		q.Set("overdue", "true")
	}
	o := tabular.Options{Now: time.Now()}
	if format == "csv" {
		switch *delimiter {
		case ",", "comma":
			o.Comma = ','
		case ";", "semicolon":
			o.Comma = ';'
		default:
			return fmt.Errorf("--delimiter must be , or ;, not %q: %w", *delimiter, errUsage)
		}
		o.BOM = *bom
	}
	if *lang != "" && *lang != "es" && *lang != "en" {
		return fmt.Errorf("--lang must be es or en, not %q: %w", *lang, errUsage)
	}
	if *zone != "" {
		loc, err := lifecycle.LoadZone(*zone)
		if err != nil {
			return fmt.Errorf("--time-zone: %v: %w", err, errUsage)
		}
		o.Zone = loc
	}
	return withStore(ctx, *db, func(st *store.Store) error {
		// Without --as, an operator's view: every activity.
		p := store.Principal{ID: "pacto-export", Roles: []string{"admin"}, Language: "en"}
		if *as != "" {
			var err error
			if p, err = exportPrincipal(ctx, st, *as); err != nil {
				return err
			}
			if o.Zone == nil {
				if o.Zone, err = partyZone(ctx, st, p.Party); err != nil {
					return err
				}
			}
		}
		o.Lang = p.Language
		if *lang != "" {
			o.Lang = *lang
		}
		filter, none, err := api.ListFilter(p, q, o.Now)
		if err != nil {
			prob := api.Describe(err)
			return fmt.Errorf("--%s: %s: %w", strings.ReplaceAll(prob.Field, "_", "-"), prob.Detail, errUsage)
		}
		src := tabular.Nothing()
		if !none {
			src = tabular.NewSource(st, filter)
		}
		write := func(w io.Writer) error {
			if format == "csv" {
				return tabular.WriteCSV(ctx, w, src, o)
			}
			return tabular.WriteXLSX(ctx, w, src, o)
		}
		if *outFile == "" {
			return write(out)
		}
		if err := writeWhole(*outFile, write); err != nil {
			return err
		}
		fmt.Fprintf(out, "activities written to %s as %s\n", *outFile, format)
		return nil
	})
}

// exportPrincipal is the principal --as names, who must exist and be
// enabled.
func exportPrincipal(ctx context.Context, st *store.Store, id string) (store.Principal, error) {
	p, err := st.Principal(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return p, fmt.Errorf("--as: no principal %q: %w", id, errUsage)
	}
	if err != nil {
		return p, err
	}
	if p.Disabled != nil {
		return p, fmt.Errorf("--as: principal %q is disabled", id)
	}
	return p, nil
}

// partyZone is the zone of a party, or UTC for none.
func partyZone(ctx context.Context, st *store.Store, code string) (*time.Location, error) {
	if code == "" {
		return time.UTC, nil
	}
	parties, err := st.Parties(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range parties {
		if p.Code == code {
			return lifecycle.LoadZone(p.TimeZone)
		}
	}
	return time.UTC, nil
}

// writeWhole writes a file through write and puts it in place only once
// it is whole: a failure part way leaves no file, or the one there was.
func writeWhole(name string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
