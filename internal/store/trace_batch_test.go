package store_test

import (
	"context"
	"slices"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// Record sends its queries in batches: each is a span under the caller's,
// its queries named in it, so a trace still shows what Record did.
func TestRecordIsTracedBatchByBatch(t *testing.T) {
	st := seeded(t)
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())
	ctx, parent := tp.Tracer("test").Start(context.Background(), "record")
	changes := history(t)
	if err := st.Record(ctx, snapshotAfter(changes, 1), changes[0]); err != nil {
		t.Fatal(err)
	}
	parent.End()
	var queries []string
	batches := 0
	for _, s := range spans.GetSpans() {
		if s.Name != "BATCH" {
			continue
		}
		batches++
		if s.Parent.SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("a batch's span is not under the caller's")
		}
		for _, e := range s.Events {
			queries = append(queries, e.Name)
		}
	}
	if batches != 2 {
		t.Errorf("%d batch spans, want 2", batches)
	}
	for _, q := range []string{"LockActivity", "UpsertActivity", "InsertAuditEvent", "InsertNotification", "NotifyRecorded"} {
		if !slices.Contains(queries, q) {
			t.Errorf("no %s in the batches' spans: %v", q, queries)
		}
	}
}
