package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"pacto/internal/lifecycle"
	"pacto/internal/store/db"
)

// SearchText is what Record writes in an activity's search column.
func SearchText(title, summary lifecycle.Text) string { return searchText(title, summary) }

// SetWatchPoll changes how often waiters look without a notification, so a
// test can prove that notifications alone wake them.
func SetWatchPoll(d time.Duration) (restore func()) {
	old := watchPoll
	watchPoll = d
	return func() { watchPoll = old }
}

// MigrateTo brings the schema at url to a given version, reverting newer
// migrations, so a test can write rows as an older schema held them.
func MigrateTo(ctx context.Context, url string, version int32) error {
	return migrateTo(ctx, url, version)
}

// SetReplayBatch changes how many activities ReplayDialogue reads at a
// time, so a test can cross batch boundaries with a few activities.
func SetReplayBatch(n int) (restore func()) {
	old := replayBatch
	replayBatch = n
	return func() { replayBatch = old }
}

// ListActivitiesOn is ListActivities on one connection of the pool, so a
// test can read the statistics that connection's queries left.
func ListActivitiesOn(ctx context.Context, conn *pgxpool.Conn, f Filter) ([]lifecycle.State, *Cursor, error) {
	return (&Store{q: db.New(conn)}).ListActivities(ctx, f)
}
