package tabular

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// countingWriter counts what an export writes and keeps none of it.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(b []byte) (int, error) { w.n += int64(len(b)); return len(b), nil }

// BenchmarkExport exports 2,000 active activities of 4 milestones each
// (8,000 rows) from the read model, as each format: time and memory per
// export, and the bytes of the file per row.
func BenchmarkExport(b *testing.B) {
	st := seeded(b)
	const activities = 2000
	ms := []lifecycle.MilestoneSpec{
		{ID: "m1", Title: both("First cohort trained", "Primera cohorte formada"), Owner: "PA", Due: "P30D",
			Indicator: &lifecycle.Indicator{Baseline: ptr(2.5), Target: 40, Unit: both("officials", "funcionarios")}},
		{ID: "m2", Title: both("Handbook published", "Manual publicado"), Owner: "US", Due: "P6M"},
		{ID: "m3", Title: both("Second cohort trained", "Segunda cohorte formada"), Owner: "PA", Due: "P1Y"},
		{ID: "m4", Title: both("Evaluation", "Evaluación"), Owner: "US", Due: "P2Y"},
	}
	for i := range activities {
		record(b, st, t0.Add(time.Duration(i)*time.Minute), append([]lifecycle.Command{proposal(fmt.Sprintf("act-%05d", i), ms...)}, approvals()...)...)
	}
	o := Options{Lang: "es", Zone: time.UTC, Now: t0.Add(48 * time.Hour)}
	for _, format := range []struct {
		name  string
		write func(context.Context, io.Writer, *Source, Options) error
	}{{"csv", WriteCSV}, {"xlsx", WriteXLSX}} {
		b.Run(format.name, func(b *testing.B) {
			var w countingWriter
			for b.Loop() {
				w.n = 0
				if err := format.write(context.Background(), &w, NewSource(st, store.Filter{Now: o.Now}), o); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(w.n)/(activities*4), "file-bytes/row")
		})
	}
}

func ptr[T any](v T) *T { return &v }
