package store

import "time"

// SetWatchPoll changes how often waiters look without a notification, so a
// test can prove that notifications alone wake them.
func SetWatchPoll(d time.Duration) (restore func()) {
	old := watchPoll
	watchPoll = d
	return func() { watchPoll = old }
}
