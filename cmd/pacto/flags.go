package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"pacto/internal/app"
	"pacto/internal/delivery"
	"pacto/workflows"
)

// flags is a flag set whose every flag has an environment variable: the
// variable sets the default, the flag wins, and --help names both.
type flags struct {
	fs    *flag.FlagSet
	notes string
}

func newFlags(name, synopsis string) *flags {
	f := &flags{fs: flag.NewFlagSet("pacto "+name, flag.ContinueOnError)}
	f.fs.Usage = func() {
		fmt.Fprintf(f.fs.Output(), "Usage: pacto %s\n\nFlags (environment variable in brackets):\n", synopsis)
		f.fs.PrintDefaults()
		fmt.Fprint(f.fs.Output(), f.notes)
	}
	return f
}

// note adds text to --help, after the flags.
func (f *flags) note(text string) { f.notes += text }

func (f *flags) str(name, env, def, usage string) *string {
	if v, ok := os.LookupEnv(env); ok {
		def = v
	}
	return f.fs.String(name, def, usage+" ["+env+"]")
}

func (f *flags) boolean(name, env string, def bool, usage string) *bool {
	if v, ok := os.LookupEnv(env); ok {
		if b, err := strconv.ParseBool(v); err == nil {
			def = b
		}
	}
	return f.fs.Bool(name, def, usage+" ["+env+"]")
}

// parse parses args; a bad flag is a usage error.
func (f *flags) parse(args []string) error {
	if err := f.fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	return nil
}

// common flags of the server commands.
type serverFlags struct {
	databaseURL       *string
	temporalAddress   *string
	temporalNamespace *string
	logLevel          *string
	logFormat         *string
	taskQueue         *string
}

func (f *flags) database() *string {
	return f.str("database-url", "PACTO_DATABASE_URL", "", "PostgreSQL connection URL")
}

func (f *flags) temporal() (address, namespace *string) {
	return f.str("temporal-address", "TEMPORAL_ADDRESS", "", "Temporal frontend host:port (default 127.0.0.1:7233 or the SDK's config profile)"),
		f.str("temporal-namespace", "TEMPORAL_NAMESPACE", "", "Temporal namespace (default \"default\")")
}

func (f *flags) server() serverFlags {
	var s serverFlags
	s.databaseURL = f.database()
	s.temporalAddress, s.temporalNamespace = f.temporal()
	s.logLevel = f.str("log-level", "PACTO_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	s.logFormat = f.str("log-format", "PACTO_LOG_FORMAT", "json", "log format: json or text")
	s.taskQueue = f.taskQueue()
	return s
}

// taskQueue is the Temporal task queue flag: the API starts workflows on
// it and workers poll it, so every process of a deployment must agree.
func (f *flags) taskQueue() *string {
	return f.str("task-queue", "PACTO_TASK_QUEUE", workflows.TaskQueue, "Temporal task queue the API starts workflows on and workers poll")
}

// workflowCache is the flag bounding how many workflows a worker keeps in
// memory (see app.SetWorkflowCache).
func (f *flags) workflowCache(def int) *string {
	return f.str("workflow-cache", "PACTO_WORKFLOW_CACHE", strconv.Itoa(def),
		"workflows the worker keeps in memory between their tasks; one it does not keep is replayed from its history when it next wakes (0 keeps none)")
}

// setWorkflowCache applies the --workflow-cache flag: before the embedded
// server or any worker starts, as the bound is the whole process's.
func setWorkflowCache(value string) error {
	n, err := strconv.Atoi(strings.TrimSpace(value))
	if err != nil || n < 0 {
		return fmt.Errorf("--workflow-cache %q: want a number of workflows, 0 or more: %w", value, errUsage)
	}
	return app.SetWorkflowCache(n)
}

func (s serverFlags) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(*s.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error: %w", *s.logLevel, errUsage)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(*s.logFormat) {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use json or text: %w", *s.logFormat, errUsage)
}

func required(name, value string) error {
	if strings.TrimSpace(value) == "" {
		return fmt.Errorf("--%s is required: %w", name, errUsage)
	}
	return nil
}

// mailFlags configure email delivery.
type mailFlags struct {
	host, port, username, password, tlsMode, from, publicURL *string
}

func (f *flags) mail() mailFlags {
	return mailFlags{
		host:      f.str("smtp-host", "PACTO_SMTP_HOST", "", "SMTP server for email notices (empty: email is off)"),
		port:      f.str("smtp-port", "PACTO_SMTP_PORT", "587", "SMTP port"),
		username:  f.str("smtp-username", "PACTO_SMTP_USERNAME", "", "SMTP user name (AUTH PLAIN)"),
		password:  f.str("smtp-password", "PACTO_SMTP_PASSWORD", "", "SMTP password; prefer the environment variable"),
		tlsMode:   f.str("smtp-tls", "PACTO_SMTP_TLS", "starttls", "starttls (required), opportunistic, or implicit (port 465)"),
		from:      f.str("mail-from", "PACTO_MAIL_FROM", "Pacto <pacto@localhost>", "From address of email notices"),
		publicURL: f.str("public-url", "PACTO_PUBLIC_URL", "", "public base URL of the API and console, for links in notices and the sign-in callback"),
	}
}

// delivery builds the delivery configuration; fallback is the mailer to
// use when no SMTP host is set (nil: email off).
func (m mailFlags) delivery(fallback delivery.Mailer) (app.Delivery, error) {
	d := app.Delivery{Mailer: fallback, From: *m.from, BaseURL: strings.TrimRight(*m.publicURL, "/")}
	if *m.host == "" {
		return d, nil
	}
	port, err := strconv.Atoi(*m.port)
	if err != nil || port <= 0 || port > 65535 {
		return d, fmt.Errorf("--smtp-port %q is not a port number: %w", *m.port, errUsage)
	}
	cfg := delivery.SMTPConfig{Host: *m.host, Port: port, Username: *m.username, Password: *m.password}
	switch *m.tlsMode {
	case "starttls":
		cfg.TLS = delivery.TLSMandatory
	case "opportunistic":
		cfg.TLS = delivery.TLSOpportunistic
	case "implicit":
		cfg.TLS = delivery.TLSImplicit
	default:
		return d, fmt.Errorf("--smtp-tls %q: use starttls, opportunistic or implicit: %w", *m.tlsMode, errUsage)
	}
	mailer, err := delivery.NewSMTPMailer(cfg)
	if err != nil {
		return d, fmt.Errorf("email: %w", err)
	}
	d.Mailer = mailer
	return d, nil
}
