package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"golang.org/x/sync/errgroup"

	"pacto/internal/api"
	"pacto/internal/app"
	"pacto/internal/codec"
	"pacto/internal/console"
	"pacto/internal/store"
	"pacto/internal/telemetry"
)

// process is what the server commands share: a logger, the store, a
// Temporal client, the registry /metrics serves (the SDK's metrics and
// Pacto's) and tracing, closed together, and the payload codec (nil:
// none).
type process struct {
	log      *slog.Logger
	store    *store.Store
	temporal client.Client
	registry *prometheus.Registry
	tracing  *telemetry.Tracing
	queue    string
	codec    *codec.Codec
	// dc is the Temporal client's data converter.
	dc converter.DataConverter
}

func openProcess(ctx context.Context, name string, s serverFlags, cf codecFlags) (*process, error) {
	if err := required("database-url", *s.databaseURL); err != nil {
		return nil, err
	}
	if err := required("task-queue", *s.taskQueue); err != nil {
		return nil, err
	}
	log, err := s.logger()
	if err != nil {
		return nil, err
	}
	cx, err := cf.load()
	if err != nil {
		return nil, err
	}
	logCodec(log, cx)
	p := &process{log: log, registry: telemetry.NewRegistry(), queue: strings.TrimSpace(*s.taskQueue), codec: cx}
	if p.tracing, err = telemetry.FromEnv(ctx, "pacto-"+name); err != nil {
		return nil, err
	}
	if p.store, err = store.OpenLazy(ctx, *s.databaseURL); err != nil {
		p.close()
		return nil, err
	}
	cfg := app.TemporalConfig{Address: *s.temporalAddress, Namespace: *s.temporalNamespace, Codec: payloadCodec(cx)}
	p.dc = cfg.DataConverter()
	if p.temporal, err = dialTemporal(cfg, p.registry, p.tracing, log); err != nil {
		p.close()
		return nil, err
	}
	if p.tracing.Enabled() {
		log.Info("tracing on: spans are exported over OTLP")
	}
	return p, nil
}

func (p *process) close() {
	if p.temporal != nil {
		p.temporal.Close()
	}
	if p.store != nil {
		p.store.Close()
	}
	stopWithin(p.log, "tracing", p.tracing.Shutdown)
}

func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

func runAPI(ctx context.Context, args []string, _ io.Writer) error {
	return runServers(ctx, "api", args, true, false)
}

func runWorker(ctx context.Context, args []string, _ io.Writer) error {
	return runServers(ctx, "worker", args, false, true)
}

func runServe(ctx context.Context, args []string, _ io.Writer) error {
	return runServers(ctx, "serve", args, true, true)
}

// runServers runs the HTTP API, a worker, or both, until ctx ends (SIGINT
// or SIGTERM), then shuts down gracefully. Both are stateless: run as many
// of each as load needs.
func runServers(ctx context.Context, name string, args []string, withAPI, withWorker bool) error {
	f := newFlags(name, name+" [flags]")
	s := f.server()
	httpAddr := f.str("http", "PACTO_HTTP", "127.0.0.1:8080", "address the HTTP API listens on")
	if !withAPI {
		httpAddr = nil
	}
	var metricsAddr *string
	if withWorker {
		metricsAddr = f.str("metrics-addr", "PACTO_METRICS_ADDR", "", "address of the worker's /healthz, /readyz and /metrics, e.g. 127.0.0.1:9464 (empty: off)")
	}
	mail := f.mail()
	cf := f.codec(withAPI)
	var reconcileEvery, cache *string
	if withWorker {
		cache = f.workflowCache(app.DefaultWorkflowCache)
		reconcileEvery = f.str("reconcile-every", "PACTO_RECONCILE_EVERY", app.ReconcileEvery.String(),
			"how often, across all workers, to compare the open activities with their workflows in Temporal (0 turns it off)")
	}
	if withAPI {
		f.note(oidcHelp)
	}
	f.note(tracingHelp)
	if err := f.parse(args); err != nil {
		return err
	}
	origins, err := cf.origins()
	if err != nil {
		return err
	}
	var every time.Duration
	if withWorker {
		if every, err = reconcileInterval(*reconcileEvery); err != nil {
			return err
		}
		if err := setWorkflowCache(*cache); err != nil {
			return err
		}
	}
	deliveryCfg, err := mail.delivery(nil)
	if err != nil {
		return err
	}
	var signin console.Options
	if withAPI {
		if signin.Providers, err = oidcProviders(os.Environ()); err != nil {
			return err
		}
		if len(signin.Providers) > 0 {
			if err := checkPublicURL(*mail.publicURL); err != nil {
				return err
			}
			signin.PublicURL = *mail.publicURL
		}
		signin.SecureCookies = strings.HasPrefix(deliveryCfg.BaseURL, "https://")
	}
	p, err := openProcess(ctx, name, s, cf)
	if err != nil {
		return err
	}
	defer p.close()
	var probes net.Listener
	if metricsAddr != nil && *metricsAddr != "" {
		if probes, err = listen(*metricsAddr); err != nil {
			return err
		}
	}
	g, ctx := errgroup.WithContext(ctx)
	if withWorker {
		deliveryCfg.Logger = p.log
		deliveryCfg.TaskQueue = p.queue
		deliveryCfg.Proposer = api.New(p.store, p.temporal, api.Options{Logger: p.log, TaskQueue: p.queue})
		deliveryCfg.DataConverter = p.dc
		if deliveryCfg.Metrics, err = app.NewWorkerMetrics(p.registry, p.store); err != nil {
			return err
		}
		w := app.NewWorker(p.temporal, p.store, deliveryCfg)
		w.Reconciler.Every = every
		if err := registerAll(p.registry, w.Collectors()); err != nil {
			return err
		}
		// Start before saying so: it connects, and fails within seconds
		// when Temporal is out of reach, which ends the process.
		if err := w.Start(); err != nil {
			return fmt.Errorf("the worker cannot poll Temporal at %s (namespace %s); check --temporal-address, --temporal-namespace and that the server is up: %w",
				temporalTarget(*s.temporalAddress), namespaceOrDefault(*s.temporalNamespace), err)
		}
		defer w.Stop()
		// The probes outlive the worker's drain, saying it no longer polls.
		probeCtx, stopProbes := context.WithCancel(context.WithoutCancel(ctx))
		g.Go(func() error {
			defer stopProbes()
			w.Run(ctx)
			return nil
		})
		p.log.Info("worker started", "task_queue", p.queue)
		if probes != nil {
			g.Go(func() error {
				return app.ServeProbes(probeCtx, probes, app.Probes{Worker: w, Store: p.store, Gatherer: p.registry}, p.log)
			})
			p.log.Info("worker probes and metrics listening", "addr", probes.Addr().String())
		} else {
			stopProbes()
		}
	}
	if withAPI {
		ln, err := listen(*httpAddr)
		if err != nil {
			return err
		}
		h, err := httpHandler(p.store, p.temporal, api.Options{Logger: p.log, TaskQueue: p.queue, Registry: p.registry,
			Deliveries: app.Starter{Client: p.temporal, Policy: deliveryCfg.Policy, TaskQueue: p.queue}}, signin, p.tracing,
			codecEndpoint{codec: p.codec, origins: origins})
		if err != nil {
			return err
		}
		g.Go(func() error { return app.ServeHTTP(ctx, ln, h, p.log) })
		p.log.Info("http api listening", "addr", ln.Addr().String())
		switch {
		case p.codec != nil && len(origins) > 0:
			p.log.Info("codec endpoint serves the Temporal Web UI", "path", "/codec", "origins", strings.Join(origins, ","))
		case p.codec == nil && len(origins) > 0:
			p.log.Warn("no codec endpoint: " + codecOriginEnv + " is set but no payload codec key is")
		}
		for _, idp := range signin.Providers {
			p.log.Info("console sign-in through an identity provider", "party", idp.Party, "issuer", idp.Issuer, "match_email", idp.MatchEmail)
		}
	}
	err = g.Wait()
	p.log.Info("stopped", "command", name)
	return err
}

// reconcileInterval reads --reconcile-every: a duration, 0 for off.
func reconcileInterval(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	switch {
	case err != nil || d < 0:
		return 0, fmt.Errorf("--reconcile-every %q: give a duration such as 5m, or 0 to turn it off: %w", v, errUsage)
	case d == 0:
		return -1, nil
	case d < 10*time.Second:
		return 0, fmt.Errorf("--reconcile-every %s: at least 10s, since each pass lists every running workflow: %w", v, errUsage)
	}
	return d, nil
}

func runMigrate(ctx context.Context, args []string, out io.Writer) error {
	f := newFlags("migrate", "migrate [flags]")
	db := f.database()
	if err := f.parse(args); err != nil {
		return err
	}
	if err := required("database-url", *db); err != nil {
		return err
	}
	if err := store.Migrate(ctx, *db); err != nil {
		return err
	}
	fmt.Fprintln(out, "database schema is up to date")
	return nil
}

func runSetup(ctx context.Context, args []string, out io.Writer) error {
	f := newFlags("setup", "setup [flags]")
	address, namespace := f.temporal()
	create := f.boolean("create-namespace", "PACTO_CREATE_NAMESPACE", false, "register the namespace if it does not exist (self-hosted clusters; on Temporal Cloud create it in the console)")
	retentionFlag := f.str("retention", "PACTO_RETENTION", "90d", "how long a namespace created with --create-namespace keeps closed workflows' histories: days (90d) or a Go duration (2160h), at least 1d")
	waitFlag := f.str("wait", "PACTO_SETUP_WAIT", "60s", "how long to wait for the namespace and its search attributes to become usable")
	cf := f.codec(false)
	if err := f.parse(args); err != nil {
		return err
	}
	retention, err := days("retention", *retentionFlag)
	if err != nil {
		return err
	}
	if retention < 24*time.Hour {
		return fmt.Errorf("--retention %q: Temporal keeps histories at least a day: %w", *retentionFlag, errUsage)
	}
	wait, err := days("wait", *waitFlag)
	if err != nil {
		return err
	}
	if wait <= 0 {
		return fmt.Errorf("--wait %q must be positive: %w", *waitFlag, errUsage)
	}
	cx, err := cf.load()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tc, err := app.DialTemporal(app.TemporalConfig{Address: *address, Namespace: *namespace, Codec: payloadCodec(cx)}, log)
	if err != nil {
		return err
	}
	defer tc.Close()
	ns := namespaceOrDefault(*namespace)
	res, err := app.SetupNamespace(ctx, tc, app.Setup{Namespace: ns, Create: *create, Retention: retention, Wait: wait})
	if err != nil {
		return err
	}
	if res.Created {
		fmt.Fprintf(out, "namespace %s created (retention %s)\n", ns, *retentionFlag)
	}
	if res.Added {
		fmt.Fprintf(out, "search attributes registered on namespace %s\n", ns)
	} else {
		fmt.Fprintf(out, "search attributes already registered on namespace %s\n", ns)
	}
	fmt.Fprintf(out, "search attributes usable on namespace %s (after %s)\n", ns, res.Usable.Round(time.Millisecond))
	return nil
}

// days parses a duration flag that may also be a whole number of days
// ("90d"), which time.ParseDuration does not read.
func days(name, v string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(v, "d"); ok {
		var d int
		if _, err := fmt.Sscanf(n, "%d", &d); err == nil && fmt.Sprint(d) == n && d >= 0 && d <= 36500 {
			return time.Duration(d) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(v); err == nil {
		return d, nil
	}
	return 0, fmt.Errorf("--%s %q: give days (90d) or a duration (2160h, 30s): %w", name, v, errUsage)
}

// temporalTarget names the Temporal address a process dials, for errors:
// the flag's, else the SDK configuration's or its default.
func temporalTarget(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return "the configured address (default " + client.DefaultHostPort + ")"
}

// namespaceOrDefault is the namespace a process uses.
func namespaceOrDefault(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return client.DefaultNamespace
}

// codecEndpoint is what /codec serves: the processes' codec (nil: no
// endpoint) to the pages of the Web UI origins.
type codecEndpoint struct {
	codec   *codec.Codec
	origins []string
}

// httpHandler is the API with the web console at its root, and the codec
// endpoint when there is a codec, traced when tracing is on. signin says
// how people sign in to the console (DevSignIn, Providers, PublicURL) and
// whether its cookies are for HTTPS.
func httpHandler(st *store.Store, tc client.Client, opts api.Options, signin console.Options, tracing *telemetry.Tracing, ce codecEndpoint) (http.Handler, error) {
	srv := api.New(st, tc, opts)
	signin.API, signin.Store, signin.Log = srv, st, opts.Logger
	con, err := console.New(signin)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	srv.Mount(con.Handler())
	if ce.codec != nil {
		// The Web UI's pages come with the console's session cookie.
		srv.ServeCodec(api.CodecEndpoint{Codec: ce.codec, Origins: ce.origins, Session: con.SessionPrincipal})
	}
	return tracing.HTTPHandler(srv.Handler()), nil
}

// registerAll registers each collector on reg.
func registerAll(reg prometheus.Registerer, cs []prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	return nil
}

// stopWithin stops a part with a bound, logging rather than failing: the
// process is on its way out.
func stopWithin(log *slog.Logger, what string, stop func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		log.Warn("stop "+what, "err", err)
	}
}
