package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"pacto/internal/api"
	"pacto/internal/export/iati"
	"pacto/internal/store"
)

// exportIATIHelp follows the IATI export's flags in --help.
const exportIATIHelp = `
The file holds the dialogue's published activities only: those every
party's approver consents to publishing (POST /v1/activities/{id}/publication).
Their IATI identifiers are the reporting party's organisation identifier, a
hyphen and the activity's id; set the reporting party with 'pacto dialogue
iati' and its identifier with 'pacto party iati'. With --out, the file
appears whole or not at all.
`

// exportIATI is 'pacto export iati'.
func exportIATI(ctx context.Context, args []string, out io.Writer) error {
	f := newFlags("export iati", "export iati --dialogue ID [--out FILE] [flags]")
	db := f.database()
	dialogue := f.fs.String("dialogue", "", "the dialogue's id, e.g. hld-pa-us")
	outFile := f.fs.String("out", "", "the file to write (default: standard output)")
	f.note(exportIATIHelp)
	if err := f.parse(args); err != nil {
		return err
	}
	if *dialogue == "" {
		return fmt.Errorf("--dialogue is required: %w", errUsage)
	}
	return withStore(ctx, *db, func(st *store.Store) error {
		e, err := iati.Prepare(ctx, st, *dialogue, time.Now(), 0)
		var setup *iati.SetupError
		switch {
		case errors.Is(err, iati.ErrNoDialogue):
			return fmt.Errorf("no dialogue %s", *dialogue)
		case errors.Is(err, iati.ErrNothingPublished):
			return fmt.Errorf("no activity of dialogue %s is published: each party's approver consents first", *dialogue)
		case errors.As(err, &setup):
			return errors.New(strings.ReplaceAll(setup.Detail, "PUT /v1/admin/", "the API's PUT /v1/admin/"))
		case err != nil:
			return err
		}
		if *outFile == "" {
			_, err := e.Stream(ctx, out)
			return err
		}
		n, err := writeFileWhole(*outFile, func(w io.Writer) (int, error) { return e.Stream(ctx, w) })
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: %d published activities written to %s\n", *dialogue, n, *outFile)
		return nil
	})
}

// writeFileWhole writes path through a temporary file in its directory,
// renamed into place once write succeeds, so a failure leaves no partial
// file behind.
func writeFileWhole(path string, write func(io.Writer) (int, error)) (int, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // gone already once renamed
	n, err := write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return n, nil
}

func runPartyIATI(ctx context.Context, args []string, out io.Writer) error {
	f := newFlags("party iati", "party iati --code CODE --org-ref REF [--org-type TYPE] [flags]")
	db := f.database()
	code := f.fs.String("code", "", "the party's code, e.g. PA")
	ref := f.fs.String("org-ref", "", "its IATI organisation identifier, e.g. XM-DAC-41114 (empty: none)")
	typ := f.fs.String("org-type", "", "its IATI organisation type, a code of the OrganisationType list (default 10, government)")
	if err := f.parse(args); err != nil {
		return err
	}
	if *code == "" {
		return fmt.Errorf("--code is required: %w", errUsage)
	}
	if err := api.ValidatePartyIATI(*ref, *typ, "--"); err != nil {
		return fmt.Errorf("%v: %w", cliField(err), errUsage)
	}
	return withStore(ctx, *db, func(st *store.Store) error {
		p, err := st.SetPartyIATI(ctx, *code, *ref, *typ)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no party %s", *code)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "party %s: IATI organisation %s, type %s\n", p.Code, orDash(p.IATIOrgRef), p.IATIOrgType)
		return nil
	})
}

func runDialogueIATI(ctx context.Context, args []string, out io.Writer) error {
	f := newFlags("dialogue iati", "dialogue iati --id ID --reporting-party CODE [--sector CODE] [--recipient-countries CODES] [flags]")
	db := f.database()
	id := f.fs.String("id", "", "the dialogue's id, e.g. hld-pa-us")
	var in store.DialogueIATI
	var countries string
	f.fs.StringVar(&in.ReportingParty, "reporting-party", "", "the party, one of the dialogue's, whose IATI identifier prefixes its activities' (empty: none)")
	f.fs.StringVar(&in.Sector, "sector", "", "the DAC 5-digit purpose code of its activities that give none, e.g. 15190")
	f.fs.StringVar(&countries, "recipient-countries", "", "comma-separated ISO 3166-1 codes of the countries its activities that give none are for, e.g. PA")
	f.note("\nEvery setting is replaced: one left out is cleared.\n")
	if err := f.parse(args); err != nil {
		return err
	}
	if *id == "" {
		return fmt.Errorf("--id is required: %w", errUsage)
	}
	for _, c := range strings.Split(countries, ",") {
		if c = strings.TrimSpace(c); c != "" {
			in.RecipientCountries = append(in.RecipientCountries, c)
		}
	}
	if err := api.ValidateDialogueIATI(in, nil, "--"); err != nil {
		return fmt.Errorf("%v: %w", cliField(err), errUsage)
	}
	return withStore(ctx, *db, func(st *store.Store) error {
		d, err := st.SetDialogueIATI(ctx, *id, in)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("no dialogue %s", *id)
		case errors.Is(err, store.ErrNotAParty):
			return fmt.Errorf("--reporting-party: %s is not a party of dialogue %s: %w", in.ReportingParty, *id, errUsage)
		case err != nil:
			return err
		}
		fmt.Fprintf(out, "dialogue %s: reported in IATI by %s, sector %s, recipient countries %s\n", d.ID,
			orDash(d.ReportingParty), orDash(d.Sector), orDash(strings.Join(d.RecipientCountries, ",")))
		return nil
	})
}

// cliField says a validator's refusal with the flag it names.
func cliField(err error) string {
	p := api.Describe(err)
	if p.Field == "" {
		return p.Detail
	}
	return strings.ReplaceAll(strings.ReplaceAll(p.Field, "_", "-"), "[", " [") + ": " + p.Detail
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
