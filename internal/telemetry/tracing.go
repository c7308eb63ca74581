package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Tracing is a process's tracing. Off (the zero value, or nil) it adds
// nothing: no exporter, no interceptor, no HTTP wrapper. On, spans go
// from each API request through the Temporal client call, the workflow
// and its activities (the SDK's OpenTelemetry interceptor carries the
// context in Temporal headers) to the PostgreSQL queries they make.
type Tracing struct {
	provider trace.TracerProvider
	shutdown func(context.Context) error
}

// The propagation of trace context and baggage between processes: W3C's.
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// FromEnv sets tracing up from the standard OpenTelemetry environment: it
// is on when OTEL_TRACES_EXPORTER is otlp, or is unset while an OTLP
// endpoint is (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), and off when nothing is set,
// OTEL_TRACES_EXPORTER is none or OTEL_SDK_DISABLED is true. Spans go over
// OTLP by OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL: http/protobuf (the
// default) or grpc; the exporter reads the other OTEL_EXPORTER_OTLP_*
// variables (headers, timeout, certificates), the SDK OTEL_TRACES_SAMPLER
// and OTEL_BSP_*, and OTEL_SERVICE_NAME overrides service. When on, the
// provider and the propagators are also made OpenTelemetry's globals.
func FromEnv(ctx context.Context, service string) (*Tracing, error) {
	exp, err := exporterFromEnv(ctx)
	if err != nil || exp == nil {
		return &Tracing{}, err
	}
	res := resource.Default()
	if v, _ := res.Set().Value("service.name"); strings.HasPrefix(v.AsString(), "unknown_service") {
		res, err = resource.Merge(res, resource.NewSchemaless(attribute.String("service.name", service)))
		if err != nil {
			return nil, fmt.Errorf("tracing resource: %w", err)
		}
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagator)
	return &Tracing{provider: tp, shutdown: tp.Shutdown}, nil
}

// exporterFromEnv is the span exporter the environment asks for, or nil.
func exporterFromEnv(ctx context.Context) (sdktrace.SpanExporter, error) {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return nil, nil
	}
	switch exporter := strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")); exporter {
	case "none":
		return nil, nil
	case "":
		if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
			return nil, nil
		}
	case "otlp":
	default:
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: Pacto exports traces over otlp, or not at all (none)", exporter)
	}
	protocol := strings.TrimSpace(os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"))
	if protocol == "" {
		protocol = strings.TrimSpace(os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"))
	}
	var (
		exp sdktrace.SpanExporter
		err error
	)
	switch protocol {
	case "", "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%q: use http/protobuf or grpc", protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	return exp, nil
}

// With is tracing through tp, whatever the environment says: for tests,
// with an in-memory exporter. It sets no globals.
func With(tp trace.TracerProvider) *Tracing {
	return &Tracing{provider: tp}
}

// Enabled reports whether spans are made.
func (t *Tracing) Enabled() bool { return t != nil && t.provider != nil }

// Shutdown sends the spans still buffered; with tracing off it does
// nothing.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.shutdown == nil {
		return nil
	}
	if err := t.shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("flush traces: %w", err)
	}
	return nil
}

// TemporalInterceptors are the Temporal client's interceptors: the SDK's
// OpenTelemetry tracing interceptor when tracing is on (workers made from
// the client use it too), none when off.
func (t *Tracing) TemporalInterceptors() ([]interceptor.ClientInterceptor, error) {
	if !t.Enabled() {
		return nil, nil
	}
	i, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            t.provider.Tracer("temporal-sdk-go"),
		TextMapPropagator: propagator,
	})
	if err != nil {
		return nil, fmt.Errorf("tracing interceptor for Temporal: %w", err)
	}
	return []interceptor.ClientInterceptor{i}, nil
}

// HTTPHandler wraps h so that each request is a span (continuing a
// caller's W3C trace context); with tracing off it is h itself. The API's
// own middleware names the span by its route.
func (t *Tracing) HTTPHandler(h http.Handler) http.Handler {
	if !t.Enabled() {
		return h
	}
	return otelhttp.NewHandler(h, "http",
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithPropagators(propagator),
		// Probes and scrapes are not worth a trace each.
		otelhttp.WithFilter(func(r *http.Request) bool {
			switch r.URL.Path {
			case "/healthz", "/readyz", "/metrics":
				return false
			}
			return true
		}))
}
