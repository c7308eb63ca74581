//go:build !nodev

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"pacto/internal/api"
	"pacto/internal/app"
	"pacto/internal/console"
	"pacto/internal/delivery"
	"pacto/internal/devserver"
	"pacto/internal/pgcluster"
	"pacto/internal/store"
	"pacto/internal/telemetry"
)

// devSummary is the usage line of `pacto dev`.
const devSummary = "run everything in one process on the embedded default (PostgreSQL, Temporal, worker, API)"

// runDev runs everything in one process on the embedded default: a
// private PostgreSQL cluster and an in-process Temporal server, both kept
// under the data dir, the worker and the HTTP API. Restarting resumes
// every activity and timer.
func runDev(ctx context.Context, args []string, out io.Writer) error {
	f := newFlags("dev", "dev [flags]")
	dataDir := f.str("data-dir", "PACTO_DATA_DIR", ".pacto", "where PostgreSQL, Temporal and the demo tokens keep their data")
	httpAddr := f.str("http", "PACTO_HTTP", "127.0.0.1:8080", "address the HTTP API listens on")
	temporalPort := f.str("temporal-port", "PACTO_TEMPORAL_PORT", "7233", "port of the Temporal frontend on 127.0.0.1")
	uiPort := f.str("ui-port", "PACTO_UI_PORT", "8233", "port of the Temporal Web UI on 127.0.0.1 (0 turns it off)")
	fresh := f.boolean("fresh", "PACTO_FRESH", false, "delete the data dir first and start from nothing")
	logLevel := f.str("log-level", "PACTO_LOG_LEVEL", "warn", "log level: debug, info, warn or error")
	taskQueue := f.taskQueue()
	cache := f.workflowCache(app.DefaultWorkflowCache)
	mail := f.mail()
	cf := f.codec(true)
	f.note(oidcHelp)
	f.note(tracingHelp)
	if err := f.parse(args); err != nil {
		return err
	}
	origins, err := cf.origins()
	if err != nil {
		return err
	}
	// The dev sign-in page stays; configured providers are offered beside it.
	providers, err := oidcProviders(os.Environ())
	if err != nil {
		return err
	}
	if *mail.publicURL != "" && len(providers) > 0 {
		if err := checkPublicURL(*mail.publicURL); err != nil {
			return err
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: use debug, info, warn or error: %w", *logLevel, errUsage)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := required("task-queue", *taskQueue); err != nil {
		return err
	}
	queue := strings.TrimSpace(*taskQueue)
	// Before the embedded server starts: its own workers share the bound.
	if err := setWorkflowCache(*cache); err != nil {
		return err
	}
	tport, err := port("temporal-port", *temporalPort)
	if err != nil {
		return err
	}
	uport, err := port("ui-port", *uiPort)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	step := func(format string, a ...any) { fmt.Fprintf(out, "▸ "+format+"\n", a...) }
	started := time.Now()

	if *fresh {
		step("removing %s (--fresh)", dir)
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove data dir: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	step("data dir %s", dir)
	// Payloads are encrypted here as in production, under a key of the
	// data dir's own unless keys are configured.
	cx, keysAt, keyMade, err := cf.devCodec(dir)
	if err != nil {
		return err
	}
	if keyMade {
		step("payload key %s made, kept in %s (Temporal's data here is unreadable without it)", cx.EncryptingKey(), keysAt)
	} else {
		step("payload key %s, from %s", cx.EncryptingKey(), keysAt)
	}

	// Listen first, so a busy port fails before anything starts.
	ln, err := listen(*httpAddr)
	if err != nil {
		return err
	}
	defer ln.Close()

	pg, err := pgcluster.Start(ctx, pgcluster.Options{DataDir: filepath.Join(dir, "postgres"), Logf: func(format string, a ...any) {
		log.Info(fmt.Sprintf(format, a...), "component", "postgres")
	}})
	if err != nil {
		return fmt.Errorf("start PostgreSQL: %w", err)
	}
	defer stopWithin(log, "PostgreSQL", pg.Stop)
	step("PostgreSQL on 127.0.0.1:%d (binaries in %s, data in %s)", pg.Port(), pg.Binaries().Dir, pg.DataDir())

	dbURL := pg.URL("pacto")
	if err := app.EnsureDatabase(ctx, pg.URL("postgres"), "pacto"); err != nil {
		return err
	}
	if err := store.Migrate(ctx, dbURL); err != nil {
		return err
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	step("database migrated")

	base := "http://" + ln.Addr().String()
	// The Web UI's pages decode payloads through the API, as the admin
	// signed in to the console.
	tsrv, err := devserver.Start(ctx, devserver.Options{DataDir: filepath.Join(dir, "temporal"), FrontendPort: tport, UIPort: uport, Logger: log,
		UICodecEndpoint: base + "/codec"})
	if err != nil {
		return fmt.Errorf("start Temporal: %w", err)
	}
	defer stopWithin(log, "Temporal", tsrv.Stop)
	step("Temporal on %s, namespace %s", tsrv.FrontendAddress(), tsrv.Namespace())

	if ui := tsrv.UIAddress(); ui != "" {
		origins = append(origins, "http://"+ui)
	}
	// One registry: the API's /metrics serves the SDK's, the worker's and
	// the API's metrics.
	tracing, err := telemetry.FromEnv(ctx, "pacto-dev")
	if err != nil {
		return err
	}
	defer stopWithin(log, "tracing", tracing.Shutdown)
	registry := telemetry.NewRegistry()
	tcfg := app.TemporalConfig{Address: tsrv.FrontendAddress(), Namespace: tsrv.Namespace(), Codec: cx}
	tc, err := dialTemporal(tcfg, registry, tracing, log)
	if err != nil {
		return err
	}
	defer tc.Close()

	tokensFile := filepath.Join(dir, "dev-tokens.json")
	created, err := app.SeedDemo(ctx, st, tokensFile)
	if err != nil {
		return err
	}
	if created {
		b, _ := os.ReadFile(tokensFile)
		step("demo dialogue %s with parties PA and US; tokens (shown once, kept in %s):\n%s", app.DemoDialogue, tokensFile, strings.TrimSpace(string(b)))
	} else {
		step("demo tokens in %s", tokensFile)
	}

	// Without an SMTP server, emails are written as .eml files to open.
	mailDir := filepath.Join(dir, "mail")
	eml, err := delivery.NewEMLMailer(mailDir)
	if err != nil {
		return err
	}
	deliveryCfg, err := mail.delivery(eml)
	if err != nil {
		return err
	}
	if deliveryCfg.BaseURL == "" {
		// Mails link to the activity's page in this console.
		deliveryCfg.BaseURL = "http://" + ln.Addr().String()
	}
	if *mail.host == "" {
		step("email notices are written to %s (set PACTO_SMTP_HOST to send them)", mailDir)
	} else {
		step("email notices go to %s", *mail.host)
	}

	g, gctx := errgroup.WithContext(ctx)
	deliveryCfg.Logger = log
	deliveryCfg.TaskQueue = queue
	deliveryCfg.Proposer = api.New(st, tc, api.Options{Logger: log, TaskQueue: queue})
	deliveryCfg.DataConverter = tcfg.DataConverter()
	if deliveryCfg.Metrics, err = app.NewWorkerMetrics(registry, st); err != nil {
		return err
	}
	w := app.NewWorker(tc, st, deliveryCfg)
	if err := registerAll(registry, w.Collectors()); err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	g.Go(func() error { w.Run(gctx); return nil })
	step("worker started")
	signin := console.Options{DevSignIn: true, Providers: providers, PublicURL: *mail.publicURL}
	if signin.PublicURL == "" {
		signin.PublicURL = "http://" + ln.Addr().String()
	}
	h, err := httpHandler(st, tc, api.Options{Logger: log, TaskQueue: queue, Registry: registry,
		Deliveries: app.Starter{Client: tc, TaskQueue: queue}}, signin, tracing, codecEndpoint{codec: cx, origins: origins})
	if err != nil {
		return err
	}
	g.Go(func() error { return app.ServeHTTP(gctx, ln, h, log) })

	step("ready in %s", time.Since(started).Round(time.Millisecond))
	fmt.Fprintf(out, "\n  Console    %s/   (sign in as any demo principal)\n", base)
	fmt.Fprintf(out, "  API        %s/v1   (reference: %s/docs)\n", base, base)
	if ui := tsrv.UIAddress(); ui != "" {
		fmt.Fprintf(out, "  Temporal   http://%s   (Web UI; payloads decode for the admin signed in to the console)\n", ui)
	}
	fmt.Fprintf(out, "  Temporal   %s   (frontend, namespace %s)\n  PostgreSQL %s\n  Tokens     %s\n\nPress Ctrl-C to stop.\n",
		tsrv.FrontendAddress(), tsrv.Namespace(), redact(dbURL), tokensFile)

	err = g.Wait()
	step("stopping")
	return err
}

func port(name, v string) (int, error) {
	var n int
	if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n < 0 || n > 65535 || fmt.Sprint(n) != v {
		return 0, fmt.Errorf("--%s %q is not a port number: %w", name, v, errUsage)
	}
	return n, nil
}

// redact hides the password of a database URL for printing.
func redact(url string) string {
	at := strings.LastIndex(url, "@")
	colon := strings.Index(url, "://")
	if at < 0 || colon < 0 {
		return url
	}
	userinfo := url[colon+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return url[:colon+3] + user + ":***" + url[at:]
	}
	return url
}
