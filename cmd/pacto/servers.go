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

	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"

	"pacto/internal/api"
	"pacto/internal/app"
	"pacto/internal/console"
	"pacto/internal/store"
	"pacto/workflows"
)

// process is what the server commands share: a logger, the store and a
// Temporal client, closed together.
type process struct {
	log      *slog.Logger
	store    *store.Store
	temporal client.Client
}

func openProcess(ctx context.Context, s serverFlags) (*process, error) {
	if err := required("database-url", *s.databaseURL); err != nil {
		return nil, err
	}
	log, err := s.logger()
	if err != nil {
		return nil, err
	}
	st, err := store.OpenLazy(ctx, *s.databaseURL)
	if err != nil {
		return nil, err
	}
	tc, err := app.DialTemporal(app.TemporalConfig{Address: *s.temporalAddress, Namespace: *s.temporalNamespace}, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &process{log: log, store: st, temporal: tc}, nil
}

func (p *process) close() {
	p.temporal.Close()
	p.store.Close()
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
	mail := f.mail()
	var reconcileEvery *string
	if withWorker {
		reconcileEvery = f.str("reconcile-every", "PACTO_RECONCILE_EVERY", app.ReconcileEvery.String(),
			"how often, across all workers, to compare the open activities with their workflows in Temporal (0 turns it off)")
	}
	if withAPI {
		f.note(oidcHelp)
	}
	if err := f.parse(args); err != nil {
		return err
	}
	var every time.Duration
	if withWorker {
		var err error
		if every, err = reconcileInterval(*reconcileEvery); err != nil {
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
	p, err := openProcess(ctx, s)
	if err != nil {
		return err
	}
	defer p.close()
	g, ctx := errgroup.WithContext(ctx)
	if withWorker {
		deliveryCfg.Logger = p.log
		deliveryCfg.Proposer = api.New(p.store, p.temporal, api.Options{Logger: p.log})
		w := app.NewWorker(p.temporal, p.store, deliveryCfg)
		w.Reconciler.Every = every
		g.Go(func() error { return app.RunWorker(ctx, w) })
		p.log.Info("worker started", "task_queue", workflows.TaskQueue)
	}
	if withAPI {
		ln, err := listen(*httpAddr)
		if err != nil {
			return err
		}
		h, err := httpHandler(p.store, p.temporal, p.log, app.Starter{Client: p.temporal, Policy: deliveryCfg.Policy}, signin)
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

// httpHandler is the API with the web console at its root. signin says
// how people sign in to the console (DevSignIn, Providers, PublicURL) and
// whether its cookies are for HTTPS.
func httpHandler(st *store.Store, tc client.Client, log *slog.Logger, deliveries app.Starter, signin console.Options) (http.Handler, error) {
	srv := api.New(st, tc, api.Options{Logger: log, Deliveries: deliveries})
	signin.API, signin.Store, signin.Log = srv, st, log
	con, err := console.New(signin)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	srv.Mount(con.Handler())
	return srv.Handler(), nil
}
