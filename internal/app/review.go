package app

import (
	"go.temporal.io/sdk/activity"

	"pacto/activities"
	"pacto/internal/store"
)

// RegisterReviewActivities registers the Review workflow's activities,
// over st, on w (a worker, or a test environment); proposer makes the
// proposals of adopted minutes.
func RegisterReviewActivities(w interface {
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}, st *store.Store, proposer activities.Proposer) {
	rev := &activities.Reviewing{Store: st, Proposer: proposer}
	w.RegisterActivityWithOptions(rev.DraftReport, activity.RegisterOptions{Name: activities.DraftReportName})
	w.RegisterActivityWithOptions(rev.FreezeReport, activity.RegisterOptions{Name: activities.FreezeReportName})
	w.RegisterActivityWithOptions(rev.KeepStatement, activity.RegisterOptions{Name: activities.KeepStatementName})
	w.RegisterActivityWithOptions(rev.ClaimMeeting, activity.RegisterOptions{Name: activities.ClaimMeetingName})
	w.RegisterActivityWithOptions(rev.RecordMeeting, activity.RegisterOptions{Name: activities.RecordMeetingName})
	w.RegisterActivityWithOptions(rev.ProposeAgreed, activity.RegisterOptions{Name: activities.ProposeAgreedName})
}
