// Package app wires Pacto's parts into running processes: the Temporal
// client, the worker, and the HTTP server with graceful shutdown. The
// commands in cmd/pacto (dev, serve, api, worker) share it.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
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
	// Metrics receives the SDK's metrics (see telemetry.TemporalMetrics);
	// nil drops them.
	Metrics client.MetricsHandler
	// Interceptors wrap the client's calls and, for those that are also
	// worker interceptors, the workers made from it (tracing).
	Interceptors []interceptor.ClientInterceptor
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
	if cfg.Metrics != nil {
		opts.MetricsHandler = cfg.Metrics
	}
	opts.Interceptors = append(opts.Interceptors, cfg.Interceptors...)
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
	// TaskQueue is where the worker polls and starts its workflows and
	// schedules; empty means workflows.TaskQueue.
	TaskQueue string
	// Metrics counts what the activities do (see NewWorkerMetrics); nil
	// counts nothing.
	Metrics *activities.Metrics
}

// taskQueue is d's task queue, the default if unset.
func (d Delivery) taskQueue() string {
	if d.TaskQueue == "" {
		return workflows.TaskQueue
	}
	return d.TaskQueue
}

// NewWorker returns a worker for Pacto's task queue with the activity,
// delivery and digest workflows and their activities, writing to st, and
// the relay that sets the outbox's deliveries under way.
func NewWorker(c client.Client, st *store.Store, d Delivery) *Worker {
	queue := d.taskQueue()
	w := worker.New(c, queue, worker.Options{})
	workflows.Register(w)
	rec := &activities.Recording{Store: st, Metrics: d.Metrics}
	w.RegisterActivityWithOptions(rec.Record, activity.RegisterOptions{Name: activities.RecordName})
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	del := &activities.Delivering{Store: st, Mailer: d.Mailer, From: d.From, BaseURL: d.BaseURL, Log: log, Metrics: d.Metrics}
	w.RegisterActivityWithOptions(del.Deliver, activity.RegisterOptions{Name: activities.DeliverName})
	w.RegisterActivityWithOptions(del.MarkDeliveryFailed, activity.RegisterOptions{Name: activities.MarkFailedName})
	insp := &activities.Inspecting{Client: c}
	w.RegisterActivityWithOptions(insp.CancelRequest, activity.RegisterOptions{Name: activities.CancelRequestName})
	dig := &activities.Digesting{Store: st}
	w.RegisterActivityWithOptions(dig.QueueDigests, activity.RegisterOptions{Name: activities.QueueDigestsName})
	RegisterReviewActivities(w, st, d.Proposer)
	return &Worker{worker: w, client: c, log: log, emailOff: d.Mailer == nil, dc: d.DataConverter, queue: queue,
		relay:      &Relay{Store: st, Starter: Starter{Client: c, Policy: d.Policy, TaskQueue: queue}, Log: log},
		Reconciler: &Reconciler{Store: st, Client: c, Log: log, Metrics: NewReconcileMetrics()}}
}

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
	dc       converter.DataConverter
	relay    *Relay
	queue    string
	// polling is set once the Temporal worker has started and cleared when
	// it stops: the worker's /readyz.
	polling  atomic.Bool
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
	w.done.Go(func() { keepDigestSchedule(ctx, w.client, w.dc, w.queue, w.log) })
	w.done.Go(func() { w.Reconciler.Run(ctx) })
	w.polling.Store(true)
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
		w.polling.Store(false)
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
	// TaskQueue is where delivery workflows run; empty means
	// workflows.TaskQueue.
	TaskQueue string
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
		ID: workflowID, TaskQueue: cmp.Or(s.TaskQueue, workflows.TaskQueue),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, workflows.DeliveryWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return fmt.Errorf("start %s: %w", workflowID, err)
	}
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
