package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"pacto/internal/api"
	"pacto/internal/store"
)

// withStore opens the database named by --database-url for one admin action.
func withStore(ctx context.Context, db string, fn func(*store.Store) error) error {
	if err := required("database-url", db); err != nil {
		return err
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// subcommand splits "create --flag ..." into its verb and the rest.
func subcommand(args []string, verbs ...string) (string, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", nil, fmt.Errorf("say which: %s: %w", strings.Join(verbs, ", "), errUsage)
	}
	for _, v := range verbs {
		if args[0] == v {
			return v, args[1:], nil
		}
	}
	return "", nil, fmt.Errorf("unknown action %q; use %s: %w", args[0], strings.Join(verbs, ", "), errUsage)
}

func table(out io.Writer, header string, rows [][]string) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, header)
	for _, r := range rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	return w.Flush()
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// explain turns the store's sentinel errors into a sentence for the CLI.
func explain(what string, err error) error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%s already exists", what)
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%s refers to something that does not exist (%v)", what, err)
	}
	return err
}

func runParty(ctx context.Context, args []string, out io.Writer) error {
	verb, rest, err := subcommand(args, "create", "list", "iati")
	if err != nil {
		return err
	}
	if verb == "iati" {
		return runPartyIATI(ctx, rest, out)
	}
	f := newFlags("party "+verb, "party "+verb+" [flags]")
	db := f.database()
	var p store.Party
	if verb == "create" {
		f.fs.StringVar(&p.Code, "code", "", "party code, e.g. PA")
		f.fs.StringVar(&p.Name, "name", "", "party name, e.g. Panamá")
		f.fs.StringVar(&p.TimeZone, "time-zone", "", "IANA time zone, e.g. America/Panama")
		f.fs.StringVar(&p.Language, "language", "en", "language of its notices: es or en")
		f.fs.StringVar(&p.IATIOrgRef, "iati-org-ref", "", "its IATI organisation identifier, e.g. XM-DAC-41114 (default none)")
		f.fs.StringVar(&p.IATIOrgType, "iati-org-type", "", "its IATI organisation type (default 10, government)")
	}
	if err := f.parse(rest); err != nil {
		return err
	}
	return withStore(ctx, *db, func(st *store.Store) error {
		if verb == "list" {
			ps, err := st.Parties(ctx)
			if err != nil {
				return err
			}
			rows := make([][]string, len(ps))
			for i, p := range ps {
				rows[i] = []string{p.Code, p.Name, p.TimeZone, p.Language, orDash(p.IATIOrgRef), p.IATIOrgType}
			}
			return table(out, "CODE\tNAME\tTIME ZONE\tLANGUAGE\tIATI ORGANISATION\tTYPE", rows)
		}
		if err := api.ValidateParty(p); err != nil {
			return fmt.Errorf("%v: %w", err, errUsage)
		}
		created, err := st.CreateParty(ctx, p)
		if err != nil {
			return explain("party "+p.Code, err)
		}
		fmt.Fprintf(out, "party %s created\n", created.Code)
		return nil
	})
}

func runDialogue(ctx context.Context, args []string, out io.Writer) error {
	verb, rest, err := subcommand(args, "create", "list", "iati")
	if err != nil {
		return err
	}
	if verb == "iati" {
		return runDialogueIATI(ctx, rest, out)
	}
	f := newFlags("dialogue "+verb, "dialogue "+verb+" [flags]")
	db := f.database()
	var d store.Dialogue
	var parties, languages string
	if verb == "create" {
		f.fs.StringVar(&d.ID, "id", "", "dialogue id, e.g. hld-pa-us")
		f.fs.StringVar(&d.Name, "name", "", "dialogue name")
		f.fs.StringVar(&parties, "parties", "", "comma-separated party codes, e.g. PA,US")
		f.fs.StringVar(&languages, "languages", "", "comma-separated authentic languages, e.g. es,en (default: the parties' languages)")
	}
	if err := f.parse(rest); err != nil {
		return err
	}
	return withStore(ctx, *db, func(st *store.Store) error {
		if verb == "list" {
			ds, err := st.Dialogues(ctx)
			if err != nil {
				return err
			}
			rows := make([][]string, len(ds))
			for i, d := range ds {
				rows[i] = []string{d.ID, d.Name, strings.Join(d.Parties, ","), strings.Join(d.Languages, ","),
					orDash(d.ReportingParty), orDash(d.Sector), orDash(strings.Join(d.RecipientCountries, ","))}
			}
			return table(out, "ID\tNAME\tPARTIES\tLANGUAGES\tIATI REPORTER\tSECTOR\tRECIPIENTS", rows)
		}
		for _, p := range strings.Split(parties, ",") {
			if p = strings.TrimSpace(p); p != "" {
				d.Parties = append(d.Parties, p)
			}
		}
		for _, l := range strings.Split(languages, ",") {
			if l = strings.TrimSpace(l); l != "" {
				d.Languages = append(d.Languages, l)
			}
		}
		if len(d.Parties) < 2 || d.ID == "" || d.Name == "" {
			return fmt.Errorf("--id, --name and at least two --parties are required: %w", errUsage)
		}
		if err := api.ValidateDialogue(d); err != nil {
			return fmt.Errorf("%v: %w", err, errUsage)
		}
		created, err := st.CreateDialogue(ctx, d)
		var langErr *store.LanguageError
		if errors.As(err, &langErr) {
			return fmt.Errorf("--languages: %v: %w", langErr, errUsage)
		}
		if err != nil {
			return explain("dialogue "+d.ID, err)
		}
		fmt.Fprintf(out, "dialogue %s created, in %s\n", created.ID, strings.Join(created.Languages, " and "))
		return nil
	})
}

func runPrincipal(ctx context.Context, args []string, out io.Writer) error {
	verb, rest, err := subcommand(args, "create", "list", "link", "identities", "disable")
	if err != nil {
		return err
	}
	switch verb {
	case "link", "identities", "disable":
		return runPrincipalIdentity(ctx, verb, rest, out)
	}
	f := newFlags("principal "+verb, "principal "+verb+" [flags]")
	db := f.database()
	var p store.Principal
	var roles string
	if verb == "create" {
		f.fs.StringVar(&p.ID, "id", "", "principal id, e.g. pa-approver")
		f.fs.StringVar(&p.Party, "party", "", "party code (may be empty for an admin)")
		f.fs.StringVar(&roles, "roles", "", "comma-separated roles: coordinator, approver, observer, admin")
		f.fs.StringVar(&p.Name, "name", "", "display name")
		f.fs.StringVar(&p.Email, "email", "", "email address for notices")
		f.fs.StringVar(&p.Language, "language", "en", "language: es or en")
	} else {
		f.fs.StringVar(&p.Party, "party", "", "list only this party's principals")
	}
	if err := f.parse(rest); err != nil {
		return err
	}
	return withStore(ctx, *db, func(st *store.Store) error {
		if verb == "list" {
			ps, err := st.Principals(ctx, p.Party)
			if err != nil {
				return err
			}
			rows := make([][]string, len(ps))
			for i, p := range ps {
				rows[i] = []string{p.ID, p.Party, strings.Join(p.Roles, ","), p.Name, p.Email, p.Language}
			}
			return table(out, "ID\tPARTY\tROLES\tNAME\tEMAIL\tLANGUAGE", rows)
		}
		for _, r := range strings.Split(roles, ",") {
			if r = strings.TrimSpace(r); r != "" {
				p.Roles = append(p.Roles, r)
			}
		}
		if err := api.ValidatePrincipal(&p); err != nil {
			return fmt.Errorf("%v: %w", err, errUsage)
		}
		if _, err := st.CreatePrincipal(ctx, p); err != nil {
			return explain("principal "+p.ID, err)
		}
		fmt.Fprintf(out, "principal %s created\n", p.ID)
		return nil
	})
}

func runToken(ctx context.Context, args []string, out io.Writer) error {
	verb, rest, err := subcommand(args, "create", "list", "revoke")
	if err != nil {
		return err
	}
	synopsis := "token " + verb + " [flags]"
	if verb == "revoke" {
		synopsis += " TOKEN-ID"
	}
	f := newFlags("token "+verb, synopsis)
	db := f.database()
	var principal, name string
	if verb != "revoke" {
		f.fs.StringVar(&principal, "principal", "", "the principal the token acts as")
	}
	if verb == "create" {
		f.fs.StringVar(&name, "name", "", "a label to recognise the token by")
	}
	if err := f.parse(rest); err != nil {
		return err
	}
	return withStore(ctx, *db, func(st *store.Store) error {
		switch verb {
		case "create":
			if err := required("principal", principal); err != nil {
				return err
			}
			info, secret, err := st.CreateToken(ctx, principal, name)
			if err != nil {
				return explain("principal "+principal, err)
			}
			fmt.Fprintf(out, "token %s created for %s. Keep it now; it is not shown again:\n%s\n", info.ID, info.Principal, secret)
		case "list":
			ts, err := st.Tokens(ctx, principal)
			if err != nil {
				return err
			}
			rows := make([][]string, len(ts))
			for i, t := range ts {
				rows[i] = []string{t.ID, t.Principal, t.Name, when(&t.CreatedAt), when(t.LastUsedAt), when(t.RevokedAt)}
			}
			return table(out, "ID\tPRINCIPAL\tNAME\tCREATED\tLAST USED\tREVOKED", rows)
		case "revoke":
			if f.fs.NArg() != 1 {
				return fmt.Errorf("give the id of the token to revoke: %w", errUsage)
			}
			id := f.fs.Arg(0)
			if err := st.RevokeToken(ctx, id); errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no live token %q", id)
			} else if err != nil {
				return err
			}
			fmt.Fprintf(out, "token %s revoked\n", id)
		}
		return nil
	})
}

// runPrincipalIdentity links an identity at an OpenID Connect provider to
// a principal, lists a principal's identities, or disables a principal.
func runPrincipalIdentity(ctx context.Context, verb string, args []string, out io.Writer) error {
	synopsis := map[string]string{
		"link":       "principal link --issuer URL --subject SUB [flags] PRINCIPAL-ID",
		"identities": "principal identities [flags] PRINCIPAL-ID",
		"disable":    "principal disable [flags] PRINCIPAL-ID",
	}[verb]
	f := newFlags("principal "+verb, synopsis)
	db := f.database()
	var req api.IdentityRequest
	if verb == "link" {
		f.fs.StringVar(&req.Issuer, "issuer", "", "the issuer URL of the party's identity provider, exactly as its ID tokens write it")
		f.fs.StringVar(&req.Subject, "subject", "", "the subject (sub claim) the provider gives the person")
	}
	if err := f.parse(args); err != nil {
		return err
	}
	if f.fs.NArg() != 1 {
		return fmt.Errorf("give the id of the principal: %w", errUsage)
	}
	id := f.fs.Arg(0)
	if verb == "link" {
		if err := api.ValidateIdentity(req); err != nil {
			return fmt.Errorf("%v: %w", err, errUsage)
		}
	}
	return withStore(ctx, *db, func(st *store.Store) error {
		p, err := st.Principal(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no principal %q", id)
		}
		if err != nil {
			return err
		}
		switch verb {
		case "link":
			linked, created, err := st.LinkIdentity(ctx, req.Issuer, req.Subject, id)
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("that identity is linked to principal %s; a person is one principal", linked.Principal)
			}
			if err != nil {
				return err
			}
			if !created {
				fmt.Fprintf(out, "identity %s at %s was already linked to %s\n", req.Subject, req.Issuer, id)
				return nil
			}
			fmt.Fprintf(out, "identity %s at %s linked to %s; they sign in through the provider configured for party %s\n", req.Subject, req.Issuer, id, p.Party)
		case "identities":
			ids, err := st.Identities(ctx, id)
			if err != nil {
				return err
			}
			rows := make([][]string, len(ids))
			for i, x := range ids {
				rows[i] = []string{x.Issuer, x.Subject, when(&x.CreatedAt)}
			}
			return table(out, "ISSUER\tSUBJECT\tLINKED", rows)
		case "disable":
			if p.Disabled != nil {
				fmt.Fprintf(out, "principal %s was already disabled at %s\n", id, when(p.Disabled))
				return nil
			}
			if err := st.DisablePrincipal(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			fmt.Fprintf(out, "principal %s disabled: its tokens and console sessions stopped\n", id)
		}
		return nil
	})
}
