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

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"

	"pacto/internal/api"
	"pacto/internal/app"
	"pacto/internal/console"
	"pacto/internal/store"
	"pacto/internal/telemetry"
	"pacto/workflows"
)

// process is what the server commands share: a logger, the store, a
// Temporal client, the registry /metrics serves (the SDK's metrics and
// Pacto's) and tracing, closed together.
type process struct {
	log      *slog.Logger
	store    *store.Store
	temporal client.Client
	registry *prometheus.Registry
	tracing  *telemetry.Tracing
	queue    string
}

func openProcess(ctx context.Context, name string, s serverFlags) (*process, error) {
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
	p := &process{log: log, registry: telemetry.NewRegistry(), queue: strings.TrimSpace(*s.taskQueue)}
	if p.tracing, err = telemetry.FromEnv(ctx, "pacto-"+name); err != nil {
		return nil, err
	}
	if p.store, err = store.OpenLazy(ctx, *s.databaseURL); err != nil {
		p.close()
		return nil, err
	}
	if p.temporal, err = dialTemporal(app.TemporalConfig{Address: *s.temporalAddress, Namespace: *s.temporalNamespace}, p.registry, p.tracing, log); err != nil {
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
	if withAPI {
		f.note(oidcHelp)
	}
	f.note(tracingHelp)
	if err := f.parse(args); err != nil {
		return err
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
	p, err := openProcess(ctx, name, s)
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
		if deliveryCfg.Metrics, err = app.NewWorkerMetrics(p.registry, p.store); err != nil {
			return err
		}
		w := app.NewWorker(p.temporal, p.store, deliveryCfg)
		// The probes outlive the worker's drain, saying it no longer polls.
		probeCtx, stopProbes := context.WithCancel(context.WithoutCancel(ctx))
		g.Go(func() error {
			defer stopProbes()
			return app.RunWorker(ctx, w)
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
			Deliveries: app.Starter{Client: p.temporal, Policy: deliveryCfg.Policy, TaskQueue: p.queue}}, signin, p.tracing)
		if err != nil {
			return err
		}
		g.Go(func() error { return app.ServeHTTP(ctx, ln, h, p.log) })
		p.log.Info("http api listening", "addr", ln.Addr().String())
		for _, idp := range signin.Providers {
			p.log.Info("console sign-in through an identity provider", "party", idp.Party, "issuer", idp.Issuer, "match_email", idp.MatchEmail)
		}
	}
	err = g.Wait()
	p.log.Info("stopped", "command", name)
	return err
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
	if err := f.parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tc, err := app.DialTemporal(app.TemporalConfig{Address: *address, Namespace: *namespace}, log)
	if err != nil {
		return err
	}
	defer tc.Close()
	ns := *namespace
	if ns == "" {
		ns = client.DefaultNamespace
	}
	if _, err := workflows.RegisterSearchAttributes(ctx, tc, ns); err != nil {
		return err
	}
	fmt.Fprintf(out, "search attributes registered on namespace %s\n", ns)
	return nil
}

// httpHandler is the API with the web console at its root, traced when
// tracing is on. signin says how people sign in to the console
// (DevSignIn, Providers, PublicURL) and whether its cookies are for HTTPS.
func httpHandler(st *store.Store, tc client.Client, opts api.Options, signin console.Options, tracing *telemetry.Tracing) (http.Handler, error) {
	srv := api.New(st, tc, opts)
	signin.API, signin.Store, signin.Log = srv, st, opts.Logger
	con, err := console.New(signin)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	srv.Mount(con.Handler())
	return tracing.HTTPHandler(srv.Handler()), nil
}
