package store_test

import (
	"context"
	"testing"

	"pacto/internal/store"
)

// A list whose status and pending party match nothing together, though
// each matches thousands alone, reads a few pages of the table rather
// than walking all of it in list order looking for a first match; a
// worklist whose first matches lie past many others reads little more.
func TestListMatchingNothingReadsLittle(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	const n = 20_000
	copies(t, st, n)
	// The newest two thousand are active, as when many proposals were
	// approved lately: a worklist read in list order meets them first.
	if _, err := st.Pool().Exec(ctx, `UPDATE activities SET status = 'active', pending_parties = '{}'
		WHERE id LIKE 'copy-%' AND substr(id, 6)::int <= 2000`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, "VACUUM ANALYZE activities"); err != nil {
		t.Fatal(err)
	}
	// One connection, so the statistics read after the list are those the
	// list's own connection flushed.
	pool := st.Pool()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	blocks := func() int64 {
		t.Helper()
		if _, err := conn.Exec(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
			t.Fatal(err)
		}
		var b int64
		if err := conn.QueryRow(ctx, `SELECT heap_blks_hit + heap_blks_read + coalesce(idx_blks_hit, 0) + coalesce(idx_blks_read, 0)
			FROM pg_statio_user_tables WHERE relname = 'activities'`).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	var pages int64
	if err := conn.QueryRow(ctx, "SELECT relpages FROM pg_class WHERE relname = 'activities'").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    store.Filter
		want int
	}{
		{"matching nothing", store.Filter{Status: "active", PendingParty: "US", Text: "training", VisibleTo: "US", Limit: 20}, 0},
		{"worklist", store.Filter{Status: "proposed", PendingParty: "US", Text: "training", VisibleTo: "US", Limit: 20}, 20},
	} {
		// Past the first five runs, where a prepared statement may switch
		// to a generic plan.
		for range 7 {
			before := blocks()
			got, _, err := store.ListActivitiesOn(ctx, conn, c.f)
			if err != nil {
				t.Fatal(err)
			}
			read := blocks() - before
			if len(got) != c.want {
				t.Fatalf("%s: %d activities, want %d", c.name, len(got), c.want)
			}
			if read > pages/40 {
				t.Fatalf("%s: read %d blocks of activities and its indexes; the table has %d", c.name, read, pages)
			}
		}
	}
}
