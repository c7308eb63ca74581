package app

import (
	"go.temporal.io/sdk/activity"

	"pacto/activities"
	"pacto/internal/store"
)

// RegisterReviewActivities registers the Review workflow's activities,
// over st, on w (a worker, or a test environment).
func RegisterReviewActivities(w interface {
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}, st *store.Store) {
	rev := &activities.Reviewing{Store: st}
	w.RegisterActivityWithOptions(rev.DraftReport, activity.RegisterOptions{Name: activities.DraftReportName})
	w.RegisterActivityWithOptions(rev.FreezeReport, activity.RegisterOptions{Name: activities.FreezeReportName})
	w.RegisterActivityWithOptions(rev.KeepStatement, activity.RegisterOptions{Name: activities.KeepStatementName})
}
