package main

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"pacto/internal/app"
	"pacto/internal/telemetry"
)

// tracingHelp ends the server commands' --help.
const tracingHelp = `
Tracing is off unless the standard OpenTelemetry variables ask for it:
OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or
OTEL_TRACES_EXPORTER=otlp) exports spans over OTLP, http/protobuf or, with
OTEL_EXPORTER_OTLP_PROTOCOL=grpc, gRPC; OTEL_SERVICE_NAME,
OTEL_TRACES_SAMPLER and OTEL_EXPORTER_OTLP_HEADERS as usual.
`

// dialTemporal connects to Temporal with the SDK's metrics going to reg
// and, when tracing is on, the SDK's tracing interceptor.
func dialTemporal(cfg app.TemporalConfig, reg prometheus.Registerer, tracing *telemetry.Tracing, log *slog.Logger) (client.Client, error) {
	var err error
	if cfg.Metrics, err = telemetry.TemporalMetrics(reg, log); err != nil {
		return nil, err
	}
	if cfg.Interceptors, err = tracing.TemporalInterceptors(); err != nil {
		return nil, err
	}
	return app.DialTemporal(cfg, log)
}
