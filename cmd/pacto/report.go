package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"pacto/internal/api"
	"pacto/internal/store"
)

// reportHelp follows the report command's flags in --help.
const reportHelp = `
The report is the meeting's frozen report once its review has frozen it (as
JSON, the very bytes kept, whose SHA-256 is in the meeting's audit chain);
before that, the draft the parties were sent, with the statements made so
far; before the draft, one compiled now from the read model (for a past
meeting, from the audit log as of its time). Every party's activities are
in it; times are shown in UTC and in each party's zone.
`

func runReport(ctx context.Context, args []string, out io.Writer) error {
	f := newFlags("report", "report --dialogue ID --meeting N [--format json|csv|html|pdf] [--out FILE] [--lang es|en] [flags]")
	db := f.database()
	dialogue := f.fs.String("dialogue", "", "the dialogue's id, e.g. hld-pa-us")
	meeting := f.fs.Int("meeting", 0, "the meeting's number in the dialogue's calendar, from 1")
	format := f.fs.String("format", "json", "json, csv, html or pdf")
	outFile := f.fs.String("out", "", "the file to write (default: standard output)")
	lang := f.fs.String("lang", "en", "the language of the report's text: es or en")
	f.note(reportHelp)
	if err := f.parse(args); err != nil {
		return err
	}
	switch {
	case *dialogue == "":
		return fmt.Errorf("--dialogue is required: %w", errUsage)
	case *meeting < 1:
		return fmt.Errorf("--meeting is required, the meeting's number from 1: %w", errUsage)
	case !slices.Contains([]string{"json", "csv", "html", "pdf"}, *format):
		return fmt.Errorf("--format must be json, csv, html or pdf, not %q: %w", *format, errUsage)
	case *lang != "es" && *lang != "en":
		return fmt.Errorf("--lang must be es or en, not %q: %w", *lang, errUsage)
	}
	return withStore(ctx, *db, func(st *store.Store) error {
		kr, err := api.ReadMeetingReport(ctx, st, *dialogue, *meeting, time.Now())
		if err != nil {
			return fmt.Errorf("the report of %s meeting %d: %w", *dialogue, *meeting, err)
		}
		body := kr.JSON
		if body == nil || *format != "json" {
			if body, err = api.RenderReportIn(kr.Report, *format, *lang, "UTC"); err != nil {
				return err
			}
		}
		if *outFile == "" {
			_, err := out.Write(body)
			return err
		}
		if err := os.WriteFile(*outFile, body, 0o644); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
		what := map[string]string{api.ReportFrozen: "frozen report", api.ReportDraft: "draft report with the statements made so far",
			api.ReportCompiled: "report compiled now"}[kr.Kind]
		if kr.Kind == api.ReportFrozen {
			what += " (SHA-256 " + kr.SHA256 + ")"
		}
		fmt.Fprintf(out, "%s meeting %d: %s written to %s as %s\n", *dialogue, *meeting, what, *outFile, *format)
		return nil
	})
}
