// Package api is Pacto's HTTP API: JSON over /v1 with bearer tokens and
// RFC 9457 problem details, a thin layer that turns requests into Temporal
// Updates on activity workflows and reads the PostgreSQL read model.
package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"pacto/internal/store"
	"pacto/workflows"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// Server holds what the handlers need. Create it with New.
type Server struct {
	store    *store.Store
	temporal client.Client
	log      *slog.Logger
	now      func() time.Time
	// recordWait bounds how long a write waits for the read model to hold
	// its own change, so an immediate GET reads it too.
	recordWait time.Duration
	timeout    time.Duration
	// exportTimeout bounds a streamed export instead of timeout.
	exportTimeout time.Duration
	deliveries    DeliveryRetrier
	// inflight holds, per activity ID with Updates under way or waiting,
	// their slots; an entry goes when its last user leaves.
	inflightMu sync.Mutex
	inflight   map[string]*updateSlots
	// allowed lists each route pattern's methods, filled by Handler.
	allowed map[string][]string
	// console serves the web console at the root, beside /v1 (see Mount).
	console http.Handler
	// codec, when set, is served under /codec (see ServeCodec).
	codec     *CodecEndpoint
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	// taskQueue is where the API starts workflows and schedules.
	taskQueue string
}

// Options configure a Server; zero values take sensible defaults.
type Options struct {
	Logger *slog.Logger
	// Now is the clock used for derived views (colours, overdue); time.Now
	// by default.
	Now func() time.Time
	// RecordWait is how long a write waits for the read model (3s).
	RecordWait time.Duration
	// RequestTimeout bounds each request (30s).
	RequestTimeout time.Duration
	// ExportTimeout bounds a streamed export, which may take longer (10m).
	ExportTimeout time.Duration
	// Deliveries restarts failed deliveries for the admin API.
	Deliveries DeliveryRetrier
	// TaskQueue is where activity workflows and the meetings' schedules
	// are started; workflows.TaskQueue by default. Workers must poll it.
	TaskQueue string
	// Registry is the process's Prometheus registry, served on /metrics
	// with the API's own metrics added; it must already hold the Go and
	// process collectors (telemetry.NewRegistry). Nil: a registry of the
	// API's own.
	Registry *prometheus.Registry
}

// New returns a Server over a store and a Temporal client.
func New(st *store.Store, tc client.Client, opts Options) *Server {
	s := &Server{store: st, temporal: tc, log: opts.Logger, now: opts.Now, recordWait: opts.RecordWait, timeout: opts.RequestTimeout, deliveries: opts.Deliveries,
		exportTimeout: opts.ExportTimeout, inflight: map[string]*updateSlots{}, taskQueue: cmp.Or(opts.TaskQueue, workflows.TaskQueue), registry: opts.Registry}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.recordWait == 0 {
		s.recordWait = 3 * time.Second
	}
	if s.timeout == 0 {
		s.timeout = 30 * time.Second
	}
	if s.exportTimeout == 0 {
		s.exportTimeout = 10 * time.Minute
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
		s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pacto_http_requests_total", Help: "HTTP requests by route, method and status code.",
	}, []string{"route", "method", "code"})
	s.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "pacto_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
	}, []string{"route", "method"})
	if st != nil {
		s.registry.MustRegister(storeGauges(st)...)
	}
	s.registry.MustRegister(s.requests, s.durations)
	return s
}

// allowedMethods lists the methods routed for a path, in a fixed order.
// Every route pattern is literal segments and {name} parameters, each
// parameter a whole segment or its end.
func (s *Server) allowedMethods(path string) []string {
	var out []string
	for pattern, methods := range s.allowed {
		if routeMatches(pattern, path) {
			out = append(out, methods...)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return methodOrder(a) - methodOrder(b) })
	return slices.Compact(out)
}

func methodOrder(m string) int {
	return slices.Index([]string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}, m)
}

func routeMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i, p := range ps {
		// A parameter may follow literal text in its segment (report.{format}).
		if open := strings.IndexByte(p, '{'); open >= 0 && strings.HasSuffix(p, "}") {
			if len(xs[i]) <= open || xs[i][:open] != p[:open] {
				return false
			}
		} else if p != xs[i] {
			return false
		}
	}
	return true
}

// Mount serves h (the web console) at every path the API does not use;
// call it before Handler.
func (s *Server) Mount(h http.Handler) { s.console = h }

// Handler returns the API's routes with their middleware.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	// The request id and the security headers come first, so that every
	// answer carries them, even a refusal by the limits. HEAD is served by
	// each GET route (RFC 9110); net/http drops the body it writes.
	r.Use(requestID, securityHeaders, s.observe, s.recoverer, limits, headAsGet, s.deadline)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, fail(probNotFound, "no route for "+r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		// RFC 9110 asks a 405 to say which methods the resource has.
		w.Header().Set("Allow", strings.Join(s.allowedMethods(r.URL.Path), ", "))
		writeProblem(w, r, fail(probMethod, r.Method+" is not allowed on "+r.URL.Path))
	})

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	r.Get("/openapi.json", s.openapi)
	r.Get("/docs", s.docs)

	if s.console != nil {
		// The console has every path but the API's, /docs and the probes.
		r.Handle("/*", s.console)
	}
	if s.codec != nil {
		r.Route("/codec", s.codecRoutes)
	}
	r.Route("/v1", func(r chi.Router) {
		r.Use(s.authenticate, textQuery)
		r.Post("/activities", s.handle(s.propose))
		r.Get("/activities", s.handle(s.listActivities))
		r.Get("/activities/export.csv", s.handle(s.exportCSV))
		r.Get("/activities/export.xlsx", s.handle(s.exportXLSX))
		r.Route("/activities/{id}", func(r chi.Router) {
			r.Get("/", s.handle(s.getActivity))
			r.Patch("/", s.handle(s.amend))
			r.Post("/decisions", s.handle(s.decide))
			r.Post("/milestones/{mid}/progress", s.handle(s.reportProgress))
			r.Post("/milestones/{mid}/complete", s.handle(s.completeMilestone))
			r.Post("/milestones/{mid}/extensions", s.handle(s.requestExtension))
			r.Post("/milestones/{mid}/extensions/{eid}/decisions", s.handle(s.decideExtension))
			r.Post("/suspend", s.handle(s.suspend))
			r.Post("/resume", s.handle(s.resume))
			r.Post("/cancel", s.handle(s.cancel))
			r.Get("/audit", s.handle(s.audit))
			r.Get("/audit/verify", s.handle(s.verifyAudit))
			r.Get("/publication", s.handle(s.getPublication))
			r.Post("/publication", s.handle(s.decidePublication))
		})
		r.Get("/dialogues/{dialogue}/export/iati", s.handle(s.exportIATI))
		r.Get("/dialogues/{dialogue}/calendar", s.handle(s.getCalendar))
		r.Put("/dialogues/{dialogue}/calendar", s.handle(s.putCalendar))
		r.Get("/dialogues/{dialogue}/meetings", s.handle(s.listMeetings))
		r.Post("/dialogues/{dialogue}/meetings", s.handle(s.addMeeting))
		r.Route("/dialogues/{dialogue}/meetings/{number}", func(r chi.Router) {
			r.Get("/", s.handle(s.getMeeting))
			r.Patch("/", s.handle(s.moveMeeting))
			r.Delete("/", s.handle(s.cancelMeeting))
			r.Get("/report", s.handle(s.meetingReport))
			r.Get("/report.{format}", s.handle(s.meetingReportAs))
			r.Get("/statements", s.handle(s.listStatements))
			r.Post("/statements", s.handle(s.makeStatement))
			r.Get("/minutes", s.handle(s.getMinutes))
			r.Put("/minutes", s.handle(s.putMinutes))
			r.Post("/minutes/signatures", s.handle(s.signMinutes))
		})
		r.Get("/inbox", s.handle(s.inbox))
		r.Post("/inbox/read", s.handle(s.markRead))
		r.Get("/me/notifications", s.handle(s.getPreferences))
		r.Put("/me/notifications", s.handle(s.setPreferences))
		r.Route("/admin", func(r chi.Router) {
			r.Use(s.requireAdmin)
			r.Get("/parties", s.handle(s.listParties))
			r.Post("/parties", s.handle(s.createParty))
			r.Put("/parties/{code}/iati", s.handle(s.setPartyIATI))
			r.Get("/dialogues", s.handle(s.listDialogues))
			r.Post("/dialogues", s.handle(s.createDialogue))
			r.Put("/dialogues/{dialogue}/iati", s.handle(s.setDialogueIATI))
			r.Get("/principals", s.handle(s.listPrincipals))
			r.Post("/principals", s.handle(s.createPrincipal))
			r.Get("/principals/{pid}/identities", s.handle(s.listIdentities))
			r.Post("/principals/{pid}/identities", s.handle(s.linkIdentity))
			r.Post("/principals/{pid}/disable", s.handle(s.disablePrincipal))
			r.Get("/tokens", s.handle(s.listTokens))
			r.Post("/tokens", s.handle(s.createToken))
			r.Delete("/tokens/{tid}", s.handle(s.revokeToken))
			r.Get("/webhooks", s.handle(s.listWebhooks))
			r.Post("/webhooks", s.handle(s.createWebhook))
			r.Delete("/webhooks/{wid}", s.handle(s.deleteWebhook))
			r.Get("/deliveries", s.handle(s.listDeliveries))
			r.Post("/deliveries/{did}/retry", s.handle(s.retryDelivery))
			r.Get("/record-failures", s.handle(s.listRecordFailures))
			r.Post("/record-failures/{id}/retry", s.handle(s.retryRecord))
			r.Get("/diverged", s.handle(s.listDiverged))
			r.Post("/activities/{id}/restart", s.handle(s.restartActivity))
		})
	})
	// The methods of each route, for the Allow header of a 405.
	s.allowed = map[string][]string{}
	_ = chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if len(route) > 1 {
			route = strings.TrimSuffix(route, "/") // a sub-router's "/" route
		}
		s.allowed[route] = append(s.allowed[route], method)
		if method == http.MethodGet {
			s.allowed[route] = append(s.allowed[route], http.MethodHead)
		}
		return nil
	})
	return r
}

// handlerFunc is a handler that returns its failure instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle writes a handler's error as problem JSON: known classes as they
// are, unavailable dependencies as 503, anything else as 500 (logged). A
// path parameter that cannot be an id is a 404 before the handler runs.
func (s *Server) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ae := badPathID(r); ae != nil {
			writeProblem(w, r, ae)
			return
		}
		err := h(w, r)
		if err == nil {
			return
		}
		var ae *apiError
		switch {
		case errors.As(err, &ae):
		case attributesUnmapped(err):
			// An operator's to fix, and a client's to retry: the namespace
			// lacks Pacto's search attributes, or has only just had them.
			s.log.WarnContext(r.Context(), "Temporal namespace has no mapping for Pacto's search attributes: run `pacto setup` on it", "err", err, "request_id", middleware.GetReqID(r.Context()))
			ae = fail(probUnavailable, notReadyDetail)
		case unavailable(err):
			s.log.WarnContext(r.Context(), "dependency unavailable", "err", err, "request_id", middleware.GetReqID(r.Context()))
			ae = fail(probUnavailable, "a service Pacto depends on did not answer; try again shortly")
		default:
			s.log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", middleware.GetReqID(r.Context()))
			ae = fail(probInternal, "the request failed; the request id identifies it in the logs")
		}
		writeProblem(w, r, ae)
	}
}

// unavailable reports whether err means PostgreSQL or Temporal could not
// be reached in time, as opposed to a bug.
func unavailable(err error) bool {
	var (
		connErr     *pgconn.ConnectError
		netErr      net.Error
		unavail     *serviceerror.Unavailable
		deadline    *serviceerror.DeadlineExceeded
		rateLimited *serviceerror.ResourceExhausted
	)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.As(err, &connErr) || errors.As(err, &netErr) || errors.As(err, &unavail) ||
		errors.As(err, &deadline) || errors.As(err, &rateLimited) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	if attributesUnmapped(err) {
		return true
	}
	// Connection exceptions (08…) and operator intervention (57…, e.g. a
	// server shutting down) are the database going away, not a bug.
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57"))
}

// notReadyDetail is the detail of a 503 for a dependency that answers but
// is not set up for Pacto yet.
const notReadyDetail = "a service Pacto depends on is not ready yet; try again shortly"

// attributesUnmapped reports whether err is Temporal refusing a search
// attribute its namespace has no mapping for: `pacto setup` has not run on
// the namespace, or ran only seconds ago (a new mapping takes a while to
// reach every frontend). Temporal says so with an InvalidArgument, which
// is not the client's fault.
func attributesUnmapped(err error) bool {
	var invalid *serviceerror.InvalidArgument
	return errors.As(err, &invalid) && strings.Contains(invalid.Message, "has no mapping defined for search attribute")
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection, as the IATI
// export does to stream for longer than the server's write timeout.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// observe logs every request and feeds the metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		elapsed := time.Since(start)
		method := methodLabel(r.Method)
		// The request's span, when traced, is named by its route.
		if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
			span.SetName(method + " " + route)
			span.SetAttributes(attribute.String("http.route", route))
		}
		s.requests.WithLabelValues(route, method, fmt.Sprint(rec.status)).Inc()
		s.durations.WithLabelValues(route, method).Observe(elapsed.Seconds())
		s.log.InfoContext(r.Context(), "http request", "method", r.Method, "path", clip(r.URL.Path), "route", route,
			"status", rec.status, "bytes", rec.bytes, "duration_ms", float64(elapsed.Microseconds())/1000,
			"request_id", middleware.GetReqID(r.Context()))
	})
}

// recoverer turns a panic into a logged 500 problem instead of a dropped
// connection.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic in handler", "panic", fmt.Sprint(v), "request_id", middleware.GetReqID(r.Context()))
				writeProblem(w, r, fail(probInternal, "the request failed; the request id identifies it in the logs"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// deadline bounds each request's context. A handler that runs out of time
// fails with a 503 problem of its own; nothing is written behind its back.
// An export, which streams every activity asked for, has longer.
func (s *Server) deadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		timeout := s.timeout
		if isExport(r.URL.Path) {
			timeout = s.exportTimeout
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type principalKey struct{}

// authenticate resolves the bearer token to a principal.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pacto"`)
			writeProblem(w, r, fail(probUnauthorized, "send the header Authorization: Bearer <token>"))
			return
		}
		p, err := s.store.Authenticate(r.Context(), strings.TrimSpace(token), s.now())
		switch {
		case errors.Is(err, store.ErrBadToken):
			w.Header().Set("WWW-Authenticate", `Bearer realm="pacto", error="invalid_token"`)
			writeProblem(w, r, fail(probUnauthorized, "the token is invalid or has been revoked"))
			return
		case err != nil:
			s.handle(func(http.ResponseWriter, *http.Request) error { return err })(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

func principalOf(r *http.Request) store.Principal {
	p, _ := r.Context().Value(principalKey{}).(store.Principal)
	return p
}

func hasRole(p store.Principal, role string) bool {
	for _, r := range p.Roles {
		if r == role {
			return true
		}
	}
	return false
}

func (s *Server) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hasRole(principalOf(r), "admin") {
			writeProblem(w, r, fail(probForbidden, "only an admin may use /v1/admin"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// decode reads a JSON body strictly: one object, no unknown fields, at most
// MaxBodyBytes.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return fail(probMediaType, "send the body as application/json")
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err != nil {
			return decodeError(err)
		}
		return fail(probMalformed, "the body must hold a single JSON object")
	}
	return checkStorableText(v)
}

func decodeError(err error) error {
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return fail(probTooLarge, fmt.Sprintf("the body exceeds %d bytes", tooLarge.Limit))
	case errors.As(err, &syntax):
		return fail(probMalformed, fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, err))
	case errors.As(err, &typeErr):
		return failField(probInvalid, typeErr.Field, fmt.Sprintf("%s must be %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value))
	case errors.Is(err, io.EOF):
		return errEmptyBody
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fail(probMalformed, "the body ends in the middle of a JSON value")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &apiError{class: probMalformed, field: field, detail: "unknown field " + field}
	}
	return fail(probMalformed, "the body could not be read: "+err.Error())
}

// errEmptyBody is the decode error for a request without a body.
var errEmptyBody = fail(probMalformed, "the body is empty; send a JSON object")

func emptyBody(err error) bool { return err == errEmptyBody }

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// isExport reports whether path is one of the streamed exports (the API's
// or the console's), which may take longer than other requests.
func isExport(path string) bool {
	p := strings.TrimPrefix(path, "/v1")
	return p == "/activities/export.csv" || p == "/activities/export.xlsx" ||
		strings.HasPrefix(p, "/dialogues/") && strings.HasSuffix(p, "/export/iati")
}
