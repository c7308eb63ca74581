// Package telemetry is how Pacto's processes are observed: a Prometheus
// registry per process carrying the Temporal SDK's metrics beside Pacto's
// own, and OpenTelemetry tracing from the standard OTEL_* environment
// across the API, Temporal and PostgreSQL.
package telemetry

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// NewRegistry returns a Prometheus registry with the Go runtime's and the
// process's collectors: the one registry a process serves on /metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// LatencyBuckets are the histogram bounds, in seconds, of the Temporal
// SDK's latencies: from a millisecond to about a minute. OpenTelemetry's
// default bounds (0 to 10000) assume milliseconds and would put every
// latency in the first bucket or two.
var LatencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// TemporalMetrics returns the Temporal SDK's metrics handler, for the
// client's options, exporting to reg. Names are the SDK's (see the
// SDK metrics reference): counters as they are, without a _total suffix,
// so that Temporal's published dashboards apply, and timers as
// histograms in seconds (temporal_workflow_task_execution_latency_seconds).
// The SDK counts through it from every worker and client made from that
// client.
func TemporalMetrics(reg prometheus.Registerer, log *slog.Logger) (client.MetricsHandler, error) {
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutCounterSuffixes(),
		otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, fmt.Errorf("export Temporal SDK metrics to Prometheus: %w", err)
	}
	seconds := sdkmetric.NewView(sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: LatencyBuckets}})
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithView(seconds), sdkmetric.WithResource(resource.Empty()))
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: mp.Meter("temporal-sdk-go"),
		// Counters only grow: exported as Prometheus counters, not gauges.
		UseMonotonicCounters: true,
		// The default panics; a metric the exporter refuses is not worth
		// stopping a worker for.
		OnError: func(err error) { log.Warn("a Temporal SDK metric cannot be exported", "err", err) },
	}), nil
}
