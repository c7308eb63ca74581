package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"pacto/internal/lifecycle"
	"pacto/internal/store/db"
)

// NotificationPreferences say how a principal hears of notices besides the
// inbox, which is always on.
type NotificationPreferences struct {
	// Email sends notices to the principal's address, if it has one.
	Email bool
	// DigestHour, when set, gathers the mails into one a day, sent at that
	// hour (0 to 23) of the principal's party's time zone, instead of one
	// per notice.
	DigestHour *int
}

// NotificationPreferences returns a principal's choices.
func (s *Store) NotificationPreferences(ctx context.Context, principal string) (NotificationPreferences, error) {
	r, err := s.q.NotificationPreferences(ctx, principal)
	if err != nil {
		return NotificationPreferences{}, fmt.Errorf("read notification preferences of %s: %w", principal, notFound(err))
	}
	p := NotificationPreferences{Email: r.EmailNotifications}
	if r.DigestHour != nil {
		h := int(*r.DigestHour)
		p.DigestHour = &h
	}
	return p, nil
}

// SetNotificationPreferences stores a principal's choices, made at at.
// Choosing the digest, or another hour for it, starts it from at: the
// first digest comes at the hour's next stroke, not at once for an hour
// already past today. Turning email off drops what the digest had
// collected (the inbox keeps it all); leaving the digest for a mail per
// notice sends what it had collected in one last digest, within the hour.
func (s *Store) SetNotificationPreferences(ctx context.Context, principal string, p NotificationPreferences, at time.Time) error {
	if h := p.DigestHour; h != nil && (*h < 0 || *h > 23) {
		return fmt.Errorf("digest hour %d is not 0 to 23: %w", *h, ErrInvalid)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		cur, err := q.LockNotificationPreferences(ctx, principal)
		if err != nil {
			return fmt.Errorf("read notification preferences of %s: %w", principal, notFound(err))
		}
		set := db.SetNotificationPreferencesParams{ID: principal, Email: p.Email}
		if p.DigestHour != nil {
			h := int16(*p.DigestHour)
			set.DigestHour = &h
		}
		wasDigest := cur.EmailNotifications && cur.DigestHour != nil
		if p.Email && set.DigestHour != nil && (!wasDigest || *cur.DigestHour != *set.DigestHour) {
			set.DigestedThrough = &at
		}
		if err := q.SetNotificationPreferences(ctx, set); err != nil {
			return fmt.Errorf("set notification preferences of %s: %w", principal, err)
		}
		if !p.Email {
			if err := q.ClearDigestPending(ctx, principal); err != nil {
				return fmt.Errorf("drop the digest of %s: %w", principal, err)
			}
		}
		return nil
	})
}

// SetEmailNotifications turns a principal's email on or off, keeping the
// choice between a mail per notice and a digest.
func (s *Store) SetEmailNotifications(ctx context.Context, principal string, on bool) error {
	p, err := s.NotificationPreferences(ctx, principal)
	if err != nil {
		return err
	}
	p.Email = on
	return s.SetNotificationPreferences(ctx, principal, p, time.Now())
}

// EmailNotifications reports whether a principal has email notices on.
func (s *Store) EmailNotifications(ctx context.Context, principal string) (bool, error) {
	p, err := s.NotificationPreferences(ctx, principal)
	return p.Email, err
}

// DigestTime is the latest time, at or before at, when the clock in loc
// struck hour: when a digest sent at that hour was last due. The day is
// the calendar's, so it follows daylight saving time.
func DigestTime(hour int, loc *time.Location, at time.Time) time.Time {
	y, m, d := at.In(loc).Date()
	t := time.Date(y, m, d, hour, 0, 0, 0, loc)
	if t.After(at) {
		t = time.Date(y, m, d-1, hour, 0, 0, 0, loc)
	}
	return t
}

// MaxDigestNotices bounds the notices one digest lists; it counts the
// rest, which the inbox has.
const MaxDigestNotices = 100

// DigestContent is what a digest mail tells its reader: the notices
// collected since their last digest, oldest first.
type DigestContent struct {
	// Through is the digest's time: its hour on its day.
	Through time.Time             `json:"through"`
	Notices []NotificationContent `json:"notices"`
	// More counts the notices collected beyond MaxDigestNotices.
	More int `json:"more,omitempty"`
}

// DigestRun is what one round of digests did.
type DigestRun struct {
	// Due counts the principals whose digest time had come.
	Due int `json:"due"`
	// Queued counts the digests queued; the others had nothing new.
	Queued int `json:"queued"`
	// Notices counts the notices in them.
	Notices int `json:"notices"`
}

// QueueDigests queues every digest due at at: for each principal reading a
// digest whose hour has struck (in their party's zone) since their last,
// and for each who left the digest with notices still collected. Each
// principal's digest is one transaction (see QueueDigest), so a round
// repeated or retried after a failure queues nothing twice, and a failing
// principal does not hold up the others.
func (s *Store) QueueDigests(ctx context.Context, at time.Time) (DigestRun, error) {
	var run DigestRun
	cands, err := s.q.DigestCandidates(ctx)
	if err != nil {
		return run, fmt.Errorf("find the digests due: %w", err)
	}
	var errs []error
	for _, c := range cands {
		through := at // one last digest for a principal who left it
		if c.DigestHour != nil {
			loc, err := lifecycle.LoadZone(c.TimeZone)
			if err != nil {
				loc = time.UTC // as the mail itself would then write the times
			}
			through = DigestTime(int(*c.DigestHour), loc, at)
		}
		if c.DigestedThrough != nil && !c.DigestedThrough.Before(through) {
			continue
		}
		run.Due++
		n, err := s.QueueDigest(ctx, c.ID, through)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if n > 0 {
			run.Queued++
			run.Notices += n
		}
	}
	return run, errors.Join(errs...)
}

// QueueDigest queues principal's digest through the given time, unless
// its watermark says one was queued through then or later: in one
// transaction it takes every notice collected for the principal, queues
// one mail listing them (none if there are none), clears their marks and
// advances the watermark to through. Running it again queues nothing. It
// returns how many notices the digest holds.
func (s *Store) QueueDigest(ctx context.Context, principal string, through time.Time) (int, error) {
	queued := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		// Queueings of one principal's digest take turns here.
		last, err := q.LockDigestWatermark(ctx, principal)
		if err != nil {
			return fmt.Errorf("lock the digest watermark of %s: %w", principal, notFound(err))
		}
		if last != nil && !last.Before(through) {
			return nil
		}
		rows, err := q.PendingDigest(ctx, principal)
		if err != nil {
			return fmt.Errorf("read the digest of %s: %w", principal, err)
		}
		if err := q.AdvanceDigestWatermark(ctx, db.AdvanceDigestWatermarkParams{ID: principal, Through: &through}); err != nil {
			return fmt.Errorf("advance the digest watermark of %s: %w", principal, err)
		}
		if len(rows) == 0 {
			return nil
		}
		d := DigestContent{Through: through, Notices: make([]NotificationContent, 0, min(len(rows), MaxDigestNotices))}
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
			if i >= MaxDigestNotices {
				d.More++
				continue
			}
			var n NotificationContent
			if err := json.Unmarshal(r.Content, &n); err != nil {
				return fmt.Errorf("decode notification %d of %s: %w", r.ID, principal, err)
			}
			d.Notices = append(d.Notices, n)
		}
		content, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("encode the digest of %s: %w", principal, err)
		}
		if err := q.MarkDigested(ctx, ids); err != nil {
			return fmt.Errorf("mark the digest of %s taken: %w", principal, err)
		}
		// Each notice is digested once, so the last one's id names the
		// digest for good (and, being digits, suits a path and a
		// Message-ID).
		if err := q.InsertDigestDelivery(ctx, db.InsertDigestDeliveryParams{
			ID: fmt.Sprintf("digest-%d", ids[len(ids)-1]), PrincipalID: &principal, Content: content,
		}); err != nil {
			return fmt.Errorf("queue the digest of %s: %w", principal, err)
		}
		queued = len(rows)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return queued, nil
}
