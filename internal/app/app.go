// Package app wires Pacto's parts into running processes: the Temporal
// client, the worker, and the HTTP server with graceful shutdown. The
// commands in cmd/pacto (dev, serve, api, worker) share it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"pacto/activities"
	"pacto/internal/codec"
	"pacto/internal/delivery"
	"pacto/internal/store"
	"pacto/workflows"
)

// TemporalConfig says where Temporal is. Empty fields fall back to the
// SDK's environment configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_API_KEY, TEMPORAL_TLS_* and the temporal.toml profile).
type TemporalConfig struct {
	Address   string
	Namespace string
	// Codec, when set, encodes every payload the client and its workers
	// send, failures' messages included (see internal/codec); nil stores
	// them in plain text.
	Codec converter.PayloadCodec
}

// DialTemporal connects to Temporal, lazily: the process starts even if
// the server is not up yet, and calls fail with Unavailable meanwhile.
func DialTemporal(cfg TemporalConfig, log *slog.Logger) (client.Client, error) {
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return nil, fmt.Errorf("read Temporal client configuration: %w", err)
	}
	if cfg.Address != "" {
		opts.HostPort = cfg.Address
	}
	if cfg.Namespace != "" {
		opts.Namespace = cfg.Namespace
	}
	if opts.HostPort == "" {
		opts.HostPort = client.DefaultHostPort
	}
	opts.Logger = sdklog.NewStructuredLogger(log.With("component", "temporal"))
	if dc := cfg.DataConverter(); dc != nil {
		opts.DataConverter = dc
		opts.FailureConverter = codec.FailureConverter(dc)
	}
	c, err := client.NewLazyClient(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", opts.HostPort, err)
	}
	return c, nil
}

// DataConverter is the data converter of the clients DialTemporal makes
// with cfg: nil (the SDK's default) without a codec.
func (cfg TemporalConfig) DataConverter() converter.DataConverter {
	if cfg.Codec == nil {
		return nil
	}
	return codec.DataConverter(cfg.Codec)
}

// Delivery configures how the worker sends the outbox.
type Delivery struct {
	// Mailer sends email; nil leaves email unconfigured (such deliveries
	// fail visibly and can be retried once it is).
	Mailer  delivery.Mailer
	From    string
	BaseURL string
	// Policy shapes each delivery's retries; zero means the default.
	Policy workflows.DeliveryInput
	// Logger receives the relay's warnings; nil means slog's default.
	Logger *slog.Logger
	// Proposer makes the proposals that adopted meeting minutes agreed
	// (the API's own Propose); nil leaves them for people to propose.
	Proposer activities.Proposer
	// DataConverter is the one the client was made with (see
	// TemporalConfig.Codec): the worker reads the digest schedule's
	// arguments with it. nil is the SDK's default.
	DataConverter converter.DataConverter
}

// NewWorker returns a worker for Pacto's task queue with the activity,
// delivery and digest workflows and their activities, writing to st, and
// the relay that sets the outbox's deliveries under way.
func NewWorker(c client.Client, st *store.Store, d Delivery) *Worker {
	w := worker.New(c, workflows.TaskQueue, worker.Options{})
	workflows.Register(w)
	rec := &activities.Recording{Store: st}
	w.RegisterActivityWithOptions(rec.Record, activity.RegisterOptions{Name: activities.RecordName})
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	metrics := NewWorkerMetrics()
	del := &activities.Delivering{Store: st, Mailer: d.Mailer, From: d.From, BaseURL: d.BaseURL, Log: log, Failed: metrics.DeliveriesFailed}
	w.RegisterActivityWithOptions(del.Deliver, activity.RegisterOptions{Name: activities.DeliverName})
	w.RegisterActivityWithOptions(del.MarkDeliveryFailed, activity.RegisterOptions{Name: activities.MarkFailedName})
	insp := &activities.Inspecting{Client: c}
	w.RegisterActivityWithOptions(insp.CancelRequest, activity.RegisterOptions{Name: activities.CancelRequestName})
	dig := &activities.Digesting{Store: st}
	w.RegisterActivityWithOptions(dig.QueueDigests, activity.RegisterOptions{Name: activities.QueueDigestsName})
	RegisterReviewActivities(w, st, d.Proposer)
	return &Worker{worker: w, client: c, log: log, emailOff: d.Mailer == nil, metrics: metrics, dc: d.DataConverter,
		relay:      &Relay{Store: st, Starter: Starter{Client: c, Policy: d.Policy}, Log: log},
		Reconciler: &Reconciler{Store: st, Client: c, Log: log, Metrics: NewReconcileMetrics()}}
}

// WorkerMetrics are a worker's own Prometheus metrics, on a registry the
// worker owns, for a metrics listener to serve.
type WorkerMetrics struct {
	Registry *prometheus.Registry
	// DeliveriesFailed counts the deliveries marked failed (their attempts
	// ran out, or their error cannot be retried), by channel: email,
	// digest or webhook.
	DeliveriesFailed *prometheus.CounterVec
}

// NewWorkerMetrics makes a worker's metrics on a registry of their own.
func NewWorkerMetrics() *WorkerMetrics {
	m := &WorkerMetrics{
		Registry: prometheus.NewRegistry(),
		DeliveriesFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pacto_deliveries_failed_total",
			Help: "Deliveries marked failed (attempts ran out or the error cannot be retried), by channel.",
		}, []string{"channel"}),
	}
	m.Registry.MustRegister(m.DeliveriesFailed)
	return m
}

// Metrics returns the worker's own metrics.
func (w *Worker) Metrics() *WorkerMetrics { return w.metrics }

// Worker is one worker process's share of the work: the Temporal worker,
// the outbox relay, seeing that the daily digests' schedule exists, and
// its turns at reconciling the read model with Temporal.
type Worker struct {
	// Reconciler is set up with the defaults; change its Every before
	// Start to reconcile more or less often (or not at all).
	Reconciler *Reconciler

	worker   worker.Worker
	client   client.Client
	log      *slog.Logger
	emailOff bool
	metrics  *WorkerMetrics
	dc       converter.DataConverter
	relay    *Relay
	stop     context.CancelFunc
	done     sync.WaitGroup
	stopOnce sync.Once
}

// Start connects to Temporal and starts polling it and relaying the
// outbox, and sets the digest schedule (in the background). It returns an
// error, within seconds, if Temporal cannot be reached or has no such
// namespace: a worker that cannot poll should not look as if it ran.
func (w *Worker) Start() error {
	if err := w.worker.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	if w.emailOff {
		// Each such delivery fails at once and for good; say so up front
		// rather than only as failures pile up.
		w.log.Warn("email is not configured on this worker: email and digest deliveries will fail until PACTO_SMTP_HOST is set")
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	w.done.Go(func() { w.relay.Run(ctx) })
	w.done.Go(func() { keepDigestSchedule(ctx, w.client, w.dc, w.log) })
	w.done.Go(func() { w.Reconciler.Run(ctx) })
	return nil
}

// Collectors are the worker's own Prometheus metrics, for the process
// that serves them to register.
func (w *Worker) Collectors() []prometheus.Collector {
	return []prometheus.Collector{w.Reconciler.Metrics}
}

// Stop stops the relay, then the Temporal worker (letting running
// activities finish). Calling it again does nothing.
func (w *Worker) Stop() {
	w.stopOnce.Do(func() {
		if w.stop != nil {
			w.stop()
			w.done.Wait()
		}
		w.worker.Stop()
	})
}

// Starter starts delivery workflows.
type Starter struct {
	Client client.Client
	Policy workflows.DeliveryInput
}

// StartBatch starts the workflow that sends a batch of deliveries. Its ID
// is derived from the rows, so starting the same batch again (after a
// relay died before marking it) starts nothing.
func (s Starter) StartBatch(ctx context.Context, ids []string) error {
	in := s.input("")
	in.IDs = ids
	return s.start(ctx, workflows.BatchDeliveryWorkflowID(ids), in)
}

// RetryDelivery starts a new attempt at a delivery that had failed.
func (s Starter) RetryDelivery(ctx context.Context, id string) error {
	return s.start(ctx, fmt.Sprintf("%s/retry-%d", workflows.DeliveryWorkflowID(id), time.Now().UnixNano()), s.input(id))
}

func (s Starter) input(id string) workflows.DeliveryInput {
	in := workflows.DefaultDeliveryInput(id)
	if s.Policy.Attempts > 0 {
		in.Attempts, in.FirstRetry, in.MaxRetry = s.Policy.Attempts, s.Policy.FirstRetry, s.Policy.MaxRetry
	}
	return in
}

func (s Starter) start(ctx context.Context, workflowID string, in workflows.DeliveryInput) error {
	_, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflowID, TaskQueue: workflows.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, workflows.DeliveryWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return fmt.Errorf("start %s: %w", workflowID, err)
	}
	return nil
}

// RunWorker starts w and runs it until ctx is done, then stops it
// (letting running activities finish).
func RunWorker(ctx context.Context, w *Worker) error {
	if err := w.Start(); err != nil {
		return err
	}
	w.Run(ctx)
	return nil
}

// Run keeps a started worker until ctx is done, then stops it (letting
// running activities finish).
func (w *Worker) Run(ctx context.Context) {
	<-ctx.Done()
	w.Stop()
}

// ShutdownGrace bounds how long in-flight HTTP requests may take to finish
// once shutdown begins.
const ShutdownGrace = 20 * time.Second

// MaxHeaderBytes is net/http's cap on a request's line and header fields.
// It is far above the API's own limits (api.MaxURIBytes, 8 KiB, and
// api.MaxHeaderBytes, 64 KiB), so that the API refuses an oversized request
// with a problem (414 or 431) rather than net/http with a plain-text 431,
// which only a request beyond this cap still gets.
const MaxHeaderBytes = 4 << 20

// ServeHTTP serves h on ln until ctx is done, then shuts down gracefully:
// no new connections, in-flight requests finish within ShutdownGrace.
func ServeHTTP(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		MaxHeaderBytes:    MaxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down http: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	return nil
}
