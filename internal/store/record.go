package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"pacto/internal/lifecycle"
	"pacto/internal/notify"
	"pacto/internal/store/db"
)

// genesis is the prev_hash of an activity's first audit event.
var genesis = make([]byte, sha256.Size)

// Record writes one change of an activity in a single transaction: the
// snapshot and its children (only if newer than what is stored), the audit
// events not yet appended (each chained to the one before), and an inbox
// notification per recipient of each of those events. Repeating a Record,
// or replaying an older one, changes nothing.
func (s *Store) Record(ctx context.Context, snap lifecycle.State, events []lifecycle.Event) error {
	if snap.ID == "" {
		return fmt.Errorf("record: snapshot has no activity id")
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return record(ctx, tx, snap, events)
	})
}

// record is Record's work inside transaction tx. A decision waits on it,
// so it makes two round trips besides the transaction's own: one locks
// the activity and reads what the writes depend on, the other sends every
// write.
func record(ctx context.Context, tx pgx.Tx, snap lifecycle.State, events []lifecycle.Event) error {
	up, err := upsertParams(snap)
	if err != nil {
		return err
	}
	var reads pipeline
	// Writers of one activity queue here, so the hash chain and the
	// sequence guard see each other's work: the statements after it in the
	// batch run only once it is granted, and see what the writer before
	// committed. A caller that holds the lock already takes it again, which
	// costs nothing (the locks stack).
	reads.queue("lock activity "+snap.ID, func(q *db.Queries) error { return q.LockActivity(ctx, snap.ID) })
	var tail auditTail
	reads.queue("read audit tail of "+snap.ID, func(q *db.Queries) (err error) {
		tail, err = readAuditTail(ctx, q, snap.ID)
		return err
	})
	// The upsert goes first because whether it wrote (the snapshot was
	// newer) decides whether the children are replaced.
	var upserted int64
	reads.queue("upsert activity "+snap.ID, func(q *db.Queries) (err error) {
		upserted, err = q.UpsertActivity(ctx, up)
		return err
	})
	heard := queueAudiences(ctx, &reads, snap, events)
	if err := reads.send(ctx, tx); err != nil {
		return err
	}

	rows, appended, err := chainAudit(snap.ID, tail, events)
	if err != nil {
		return err
	}
	var writes pipeline
	for _, r := range rows {
		writes.queue(fmt.Sprintf("append audit event %s/%d", snap.ID, r.Seq), func(q *db.Queries) error {
			return q.InsertAuditEvent(ctx, r)
		})
	}
	if upserted > 0 { // else what is stored is as new or newer
		if err := queueChildren(ctx, &writes, snap); err != nil {
			return err
		}
	}
	if err := queueNotifications(ctx, &writes, snap, events, appended, heard); err != nil {
		return err
	}
	if err := queueDeliveries(ctx, &writes, snap, events, appended, heard); err != nil {
		return err
	}
	writes.queue("clear record failure of "+snap.ID, func(q *db.Queries) error {
		return q.ClearRecordFailure(ctx, db.ClearRecordFailureParams{ActivityID: snap.ID, Seq: snap.Seq})
	})
	writes.queue("resolve divergence of "+snap.ID, func(q *db.Queries) error {
		return q.ResolveDivergence(ctx, db.ResolveDivergenceParams{ActivityID: snap.ID, Seq: snap.Seq})
	})
	writes.queue("announce record of "+snap.ID, func(q *db.Queries) error { return q.NotifyRecorded(ctx, snap.ID) })
	return writes.send(ctx, tx)
}

// auditTail is the last stored event of an audit chain: its sequence and
// hash, or 0 and genesis for an empty chain.
type auditTail struct {
	seq  int64
	hash []byte
}

func readAuditTail(ctx context.Context, q *db.Queries, id string) (auditTail, error) {
	last, err := q.LastAuditEvent(ctx, id)
	switch err = notFound(err); err {
	case nil:
		return auditTail{seq: last.Seq, hash: last.Hash}, nil
	case ErrNotFound:
		return auditTail{seq: 0, hash: genesis}, nil
	}
	return auditTail{}, err
}

// chainAudit makes the audit rows of the events past tail, each chained to
// the one before, and returns them with the positions in events of the
// events they hold.
func chainAudit(id string, tail auditTail, events []lifecycle.Event) ([]db.InsertAuditEventParams, []int, error) {
	lastSeq, prev := tail.seq, tail.hash
	var rows []db.InsertAuditEventParams
	var at []int
	for i, e := range events {
		if e.Seq <= lastSeq {
			continue // already recorded by an earlier attempt
		}
		if e.Seq != lastSeq+1 {
			return nil, nil, fmt.Errorf("audit of %s: event %d would leave a gap after %d", id, e.Seq, lastSeq)
		}
		content, err := canonical(id, e)
		if err != nil {
			return nil, nil, err
		}
		hash := chainHash(prev, content)
		rows = append(rows, db.InsertAuditEventParams{
			ActivityID: id, Seq: e.Seq, Type: string(e.Type), Actor: e.Actor, Party: string(e.Party),
			At: e.At, Content: string(content), PrevHash: prev, Hash: hash,
		})
		at = append(at, i)
		lastSeq, prev = e.Seq, hash
	}
	return rows, at, nil
}

// appendAudit appends the events past the last one stored and returns them.
func appendAudit(ctx context.Context, q *db.Queries, id string, events []lifecycle.Event) ([]lifecycle.Event, error) {
	tail, err := readAuditTail(ctx, q, id)
	if err != nil {
		return nil, fmt.Errorf("read audit tail of %s: %w", id, err)
	}
	rows, at, err := chainAudit(id, tail, events)
	if err != nil {
		return nil, err
	}
	var appended []lifecycle.Event
	for k, r := range rows {
		if err := q.InsertAuditEvent(ctx, r); err != nil {
			return nil, fmt.Errorf("append audit event %s/%d: %w", id, r.Seq, err)
		}
		appended = append(appended, events[at[k]])
	}
	return appended, nil
}

// auditContent is what an audit row's hash covers.
type auditContent struct {
	Activity string          `json:"activity"`
	Event    lifecycle.Event `json:"event"`
}

// canonical is the exact JSON an audit row stores and hashes. Go encodes
// structs in field order, so the same event always gives the same bytes.
func canonical(id string, e lifecycle.Event) ([]byte, error) {
	b, err := json.Marshal(auditContent{Activity: id, Event: e})
	if err != nil {
		return nil, fmt.Errorf("encode audit event %s/%d: %w", id, e.Seq, err)
	}
	return b, nil
}

func chainHash(prev, content []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(content)
	return h.Sum(nil)
}

// upsertParams is the activities row of snap.
func upsertParams(snap lifecycle.State) (db.UpsertActivityParams, error) {
	raw, err := json.Marshal(snap)
	if err != nil {
		return db.UpsertActivityParams{}, fmt.Errorf("encode snapshot of %s: %w", snap.ID, err)
	}
	pending := lifecycle.Codes(lifecycle.PendingParties(snap))
	// The title and summary columns hold the proposer's language's text
	// (the snapshot has every language); search reads every language.
	lang, _ := snap.LanguageOf(snap.ProposerParty)
	var horizons []string
	for _, m := range snap.Milestones {
		if h := string(m.Term); h != "" && !slices.Contains(horizons, h) {
			horizons = append(horizons, h)
		}
	}
	p := db.UpsertActivityParams{
		ID: snap.ID, DialogueID: snap.Dialogue, Title: snap.Title.In(lang), Summary: snap.Summary.In(lang),
		Status: string(snap.Status), Version: int32(snap.Version), Seq: snap.Seq,
		Proposer: snap.Proposer, ProposerParty: string(snap.ProposerParty),
		Parties: partyCodes(snap), PendingParties: pending, Horizons: nonNil(horizons), Snapshot: raw,
		ProposedAt: snap.ProposedAt, ActivatedAt: timePtr(snap.ActivatedAt), ClosedAt: timePtr(snap.ClosedAt),
		Search: searchText(snap.Title, snap.Summary), Published: lifecycle.Published(snap),
	}
	if due, ok := lifecycle.NextDue(snap); ok {
		amber := due.Add(-snap.Policy.DueSoonLead)
		p.NextDue, p.AmberFrom = &due, &amber
	}
	if wake, ok := lifecycle.NextWake(snap); ok {
		p.NextWake = &wake
	}
	return p, nil
}

// partyCodes are the codes of snap's parties.
func partyCodes(snap lifecycle.State) []string {
	parties := make([]string, len(snap.Parties))
	for i, p := range snap.Parties {
		parties[i] = string(p.Code)
	}
	return parties
}

type milestoneRow struct {
	ID          string               `json:"id"`
	Position    int                  `json:"position"`
	Title       string               `json:"title"`
	OwnerParty  string               `json:"owner_party"`
	Term        string               `json:"term"`
	DueSpec     string               `json:"due_spec"`
	DueAt       *time.Time           `json:"due_at"`
	Status      string               `json:"status"`
	CompletedAt *time.Time           `json:"completed_at"`
	Indicator   *lifecycle.Indicator `json:"indicator"`
	Evidence    []string             `json:"evidence"`
}

type approvalRow struct {
	Party     string     `json:"party"`
	Decision  string     `json:"decision"`
	Version   int        `json:"version"`
	DecidedBy string     `json:"decided_by"`
	DecidedAt *time.Time `json:"decided_at"`
	Comment   string     `json:"comment"`
}

type extensionRow struct {
	ID          string               `json:"id"`
	MilestoneID string               `json:"milestone_id"`
	NewDueAt    time.Time            `json:"new_due_at"`
	Reason      string               `json:"reason"`
	Status      string               `json:"status"`
	RequestedBy string               `json:"requested_by"`
	RequestedAt time.Time            `json:"requested_at"`
	Decisions   []lifecycle.Approval `json:"decisions"`
}

// queueChildren replaces the activity's milestones, approvals and
// extensions: it deletes them, then inserts each kind in one statement
// from a JSON record set.
func queueChildren(ctx context.Context, p *pipeline, snap lifecycle.State) error {
	lang, _ := snap.LanguageOf(snap.ProposerParty)
	ms := make([]milestoneRow, len(snap.Milestones))
	for i, m := range snap.Milestones {
		ms[i] = milestoneRow{
			ID: m.ID, Position: i, Title: m.Title.In(lang), OwnerParty: string(m.Owner), Term: string(m.Term),
			DueSpec: m.Due, DueAt: timePtr(m.DueAt), Status: string(m.Status), CompletedAt: timePtr(m.CompletedAt),
			Indicator: m.Indicator, Evidence: nonNil(m.Evidence),
		}
	}
	as := make([]approvalRow, len(snap.Approvals))
	for i, a := range snap.Approvals {
		as[i] = approvalRow{Party: string(a.Party), Decision: string(a.Decision), Version: a.Version, DecidedBy: a.By, DecidedAt: timePtr(a.At), Comment: a.Comment}
	}
	xs := make([]extensionRow, len(snap.Extensions))
	for i, x := range snap.Extensions {
		xs[i] = extensionRow{ID: x.ID, MilestoneID: x.MilestoneID, NewDueAt: x.NewDueAt, Reason: x.Reason, Status: string(x.Status), RequestedBy: x.RequestedBy, RequestedAt: x.RequestedAt, Decisions: x.Decisions}
	}
	p.queue("replace children of "+snap.ID, func(q *db.Queries) error { return q.DeleteChildren(ctx, snap.ID) })
	for _, step := range []struct {
		what string
		rows any
		run  func(*db.Queries, []byte) error
	}{
		{"milestones", ms, func(q *db.Queries, b []byte) error {
			return q.InsertMilestones(ctx, db.InsertMilestonesParams{ActivityID: snap.ID, Milestones: b})
		}},
		{"approvals", as, func(q *db.Queries, b []byte) error {
			return q.InsertApprovals(ctx, db.InsertApprovalsParams{ActivityID: snap.ID, Approvals: b})
		}},
		{"extensions", xs, func(q *db.Queries, b []byte) error {
			return q.InsertExtensions(ctx, db.InsertExtensionsParams{ActivityID: snap.ID, Extensions: b})
		}},
	} {
		b, err := json.Marshal(step.rows)
		if err != nil {
			return fmt.Errorf("encode %s of %s: %w", step.what, snap.ID, err)
		}
		p.queue(fmt.Sprintf("insert %s of %s", step.what, snap.ID), func(q *db.Queries) error { return step.run(q, b) })
	}
	return nil
}

// NotificationContent is what an inbox row says about its event. Title and
// MilestoneTitle carry every language they are written in (a plain string
// for an activity without languages); each reader reads their own.
type NotificationContent struct {
	Activity  string                `json:"activity"`
	Title     lifecycle.Text        `json:"title"`
	Event     lifecycle.EventType   `json:"event"`
	Seq       int64                 `json:"seq"`
	At        time.Time             `json:"at"`
	Actor     string                `json:"actor"`
	Party     lifecycle.PartyCode   `json:"party,omitempty"`
	Version   int                   `json:"version,omitempty"`
	Milestone string                `json:"milestone,omitempty"`
	Extension string                `json:"extension,omitempty"`
	Due       *time.Time            `json:"due,omitempty"`
	Notice    int                   `json:"notice,omitempty"`
	Parties   []lifecycle.PartyCode `json:"parties,omitempty"`
	Comment   string                `json:"comment,omitempty"`
	// The names people read, as they stood when the event was recorded:
	// the actor's, the party's, the milestone's title and each of Parties'.
	ActorName      string         `json:"actor_name,omitempty"`
	PartyName      string         `json:"party_name,omitempty"`
	MilestoneTitle lifecycle.Text `json:"milestone_title,omitempty"`
	PartyNames     []string       `json:"party_names,omitempty"`
	// A meeting's notice is about Dialogue's meeting number Meeting, held
	// at MeetingAt; its Activity is empty, its Title the dialogue's name,
	// and Due, when set, is when statements close. Agenda lists the
	// activities the meeting reviews, their titles in every language.
	Dialogue  string       `json:"dialogue,omitempty"`
	Meeting   int          `json:"meeting,omitempty"`
	MeetingAt *time.Time   `json:"meeting_at,omitempty"`
	Digest    string       `json:"digest,omitempty"`
	Agenda    []AgendaItem `json:"agenda,omitempty"`
}

// AgendaItem is one activity a meeting reviews, as a notice lists it.
type AgendaItem struct {
	Activity string         `json:"activity"`
	Title    lifecycle.Text `json:"title"`
}

func notificationContent(snap lifecycle.State, e lifecycle.Event, names map[string]string) NotificationContent {
	n := NotificationContent{
		Activity: snap.ID, Title: snap.Title, Event: e.Type, Seq: e.Seq, At: e.At, Actor: e.Actor,
		Party: e.Party, Version: e.Version, Milestone: e.Milestone, Extension: e.Extension,
		Due: timePtr(e.Due), Notice: e.Notice, Parties: e.Parties, Comment: e.Comment,
		ActorName: names["principal:"+e.Actor], PartyName: names["party:"+string(e.Party)],
	}
	for _, m := range snap.Milestones {
		if m.ID == e.Milestone {
			n.MilestoneTitle = m.Title
		}
	}
	for _, p := range e.Parties {
		name := names["party:"+string(p)]
		if name == "" {
			name = string(p)
		}
		n.PartyNames = append(n.PartyNames, name)
	}
	return n
}

// audience is who hears of each event of a Record, by its position in
// the events: the recipients of its inbox rows and the webhooks
// subscribed to it; and the names its notices carry, of its actor and of
// the activity's parties, keyed "principal:<id>" and "party:<code>".
type audience struct {
	recipients [][]db.Principal
	webhooks   [][]string
	names      map[string]string
}

// queueAudiences queues the reads of who hears of each of events. It reads
// for every event, not only those not yet recorded: which those are is
// known only from the audit tail, read in the same round trip.
func queueAudiences(ctx context.Context, p *pipeline, snap lifecycle.State, events []lifecycle.Event) *audience {
	a := &audience{recipients: make([][]db.Principal, len(events)), webhooks: make([][]string, len(events))}
	parties := partyCodes(snap)
	var actors []string
	heard := false
	for i, e := range events {
		aud, ok := notify.AudienceOf(snap, e)
		if !ok {
			continue // neither the inbox nor webhooks carry it
		}
		heard = true
		if e.Actor != lifecycle.ClockActor && !slices.Contains(actors, e.Actor) {
			actors = append(actors, e.Actor)
		}
		if len(aud.Parties) > 0 {
			roles := make([]string, len(aud.Roles))
			for j, r := range aud.Roles {
				roles[j] = string(r)
			}
			p.queue(fmt.Sprintf("find recipients of %s/%d", snap.ID, e.Seq), func(q *db.Queries) (err error) {
				a.recipients[i], err = q.PrincipalsFor(ctx, db.PrincipalsForParams{Parties: lifecycle.Codes(aud.Parties), Roles: roles})
				return err
			})
		}
		p.queue(fmt.Sprintf("match webhooks for %s/%d", snap.ID, e.Seq), func(q *db.Queries) (err error) {
			a.webhooks[i], err = q.MatchingSubscriptions(ctx, db.MatchingSubscriptionsParams{EventType: string(e.Type), Parties: parties})
			return err
		})
	}
	if heard {
		p.queue(fmt.Sprintf("read the names for %s's notifications", snap.ID), func(q *db.Queries) error {
			rows, err := q.DisplayNames(ctx, db.DisplayNamesParams{Principals: actors, Parties: parties})
			if err != nil {
				return err
			}
			a.names = make(map[string]string, len(rows))
			for _, r := range rows {
				a.names[r.Kind+":"+r.Key] = r.Name
			}
			return nil
		})
	}
	return a
}

// queueNotifications puts each appended event (by its position in events)
// in the inbox of everyone who should hear of it, except its own actor.
// The key makes a retried Record insert nothing twice.
func queueNotifications(ctx context.Context, p *pipeline, snap lifecycle.State, events []lifecycle.Event, appended []int, a *audience) error {
	for _, i := range appended {
		e, who := events[i], a.recipients[i]
		if len(who) == 0 {
			continue
		}
		content, err := json.Marshal(notificationContent(snap, e, a.names))
		if err != nil {
			return fmt.Errorf("encode notification %s/%d: %w", snap.ID, e.Seq, err)
		}
		for _, r := range who {
			if r.ID == e.Actor {
				continue
			}
			p.queue(fmt.Sprintf("notify %s of %s/%d", r.ID, snap.ID, e.Seq), func(q *db.Queries) error {
				_, err := q.InsertNotification(ctx, db.InsertNotificationParams{
					Key: fmt.Sprintf("%s/%d/%s", snap.ID, e.Seq, r.ID), PrincipalID: r.ID,
					ActivityID: snap.ID, Seq: e.Seq, Kind: string(e.Type), Content: content,
				})
				return err
			})
		}
	}
	return nil
}

// AuditVerification is the outcome of checking an activity's hash chain.
type AuditVerification struct {
	Valid  bool   `json:"valid"`
	Events int    `json:"events"`
	Head   []byte `json:"head,omitempty"` // hash of the last event
	// BrokenAt is the first sequence whose row does not match the chain.
	BrokenAt int64  `json:"broken_at,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// VerifyAudit recomputes the hash chain of an activity's audit log from
// the stored content and reports the first row that does not match.
func (s *Store) VerifyAudit(ctx context.Context, id string) (AuditVerification, error) {
	var v AuditVerification
	prev, after := genesis, int64(0)
	for {
		rows, err := s.q.ListAuditEvents(ctx, db.ListAuditEventsParams{ActivityID: id, AfterSeq: after, MaxRows: 1000})
		if err != nil {
			return v, fmt.Errorf("read audit of %s: %w", id, err)
		}
		for _, r := range rows {
			problem := ""
			var c auditContent
			switch {
			case r.Seq != after+1:
				problem = fmt.Sprintf("sequence %d follows %d", r.Seq, after)
			case !bytes.Equal(r.PrevHash, prev):
				problem = "prev_hash does not match the previous event's hash"
			case !bytes.Equal(r.Hash, chainHash(prev, []byte(r.Content))):
				problem = "hash does not match the content"
			case json.Unmarshal([]byte(r.Content), &c) != nil:
				problem = "content is not valid JSON"
			case c.Activity != id || c.Event.Seq != r.Seq || string(c.Event.Type) != r.Type || c.Event.Actor != r.Actor || !c.Event.At.Truncate(time.Microsecond).Equal(r.At):
				problem = "columns disagree with the hashed content"
			}
			if problem != "" {
				v.BrokenAt, v.Problem = r.Seq, problem
				return v, nil
			}
			prev, after = r.Hash, r.Seq
			v.Events++
		}
		if len(rows) < 1000 {
			break
		}
	}
	v.Valid = true
	if v.Events > 0 {
		v.Head = prev
	}
	return v, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
