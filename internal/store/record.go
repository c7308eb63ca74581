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
		q := s.q.WithTx(tx)
		// Writers of one activity queue here, so the hash chain and the
		// sequence guard see each other's work.
		if err := q.LockActivity(ctx, snap.ID); err != nil {
			return fmt.Errorf("lock activity %s: %w", snap.ID, err)
		}
		return record(ctx, q, snap, events)
	})
}

// record is Record's work inside its transaction, the activity locked.
func record(ctx context.Context, q *db.Queries, snap lifecycle.State, events []lifecycle.Event) error {
	appended, err := appendAudit(ctx, q, snap.ID, events)
	if err != nil {
		return err
	}
	if err := upsertActivity(ctx, q, snap); err != nil {
		return err
	}
	names := &displayNames{q: q, snap: snap, events: appended}
	if err := insertNotifications(ctx, q, snap, appended, names); err != nil {
		return err
	}
	if err := enqueueDeliveries(ctx, q, snap, appended, names); err != nil {
		return err
	}
	if err := q.ClearRecordFailure(ctx, db.ClearRecordFailureParams{ActivityID: snap.ID, Seq: snap.Seq}); err != nil {
		return fmt.Errorf("clear record failure of %s: %w", snap.ID, err)
	}
	if err := q.ResolveDivergence(ctx, db.ResolveDivergenceParams{ActivityID: snap.ID, Seq: snap.Seq}); err != nil {
		return fmt.Errorf("resolve divergence of %s: %w", snap.ID, err)
	}
	if err := q.NotifyRecorded(ctx, snap.ID); err != nil {
		return fmt.Errorf("announce record of %s: %w", snap.ID, err)
	}
	return nil
}

// appendAudit appends the events past the last one stored and returns them.
func appendAudit(ctx context.Context, q *db.Queries, id string, events []lifecycle.Event) ([]lifecycle.Event, error) {
	lastSeq, prev := int64(0), genesis
	last, err := q.LastAuditEvent(ctx, id)
	switch err = notFound(err); err {
	case nil:
		lastSeq, prev = last.Seq, last.Hash
	case ErrNotFound:
	default:
		return nil, fmt.Errorf("read audit tail of %s: %w", id, err)
	}
	var appended []lifecycle.Event
	for _, e := range events {
		if e.Seq <= lastSeq {
			continue // already recorded by an earlier attempt
		}
		if e.Seq != lastSeq+1 {
			return nil, fmt.Errorf("audit of %s: event %d would leave a gap after %d", id, e.Seq, lastSeq)
		}
		content, err := canonical(id, e)
		if err != nil {
			return nil, err
		}
		hash := chainHash(prev, content)
		if err := q.InsertAuditEvent(ctx, db.InsertAuditEventParams{
			ActivityID: id, Seq: e.Seq, Type: string(e.Type), Actor: e.Actor, Party: string(e.Party),
			At: e.At, Content: string(content), PrevHash: prev, Hash: hash,
		}); err != nil {
			return nil, fmt.Errorf("append audit event %s/%d: %w", id, e.Seq, err)
		}
		appended = append(appended, e)
		lastSeq, prev = e.Seq, hash
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

func upsertActivity(ctx context.Context, q *db.Queries, snap lifecycle.State) error {
	raw, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("encode snapshot of %s: %w", snap.ID, err)
	}
	parties := make([]string, len(snap.Parties))
	for i, p := range snap.Parties {
		parties[i] = string(p.Code)
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
		Parties: parties, PendingParties: pending, Horizons: nonNil(horizons), Snapshot: raw,
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
	n, err := q.UpsertActivity(ctx, p)
	if err != nil {
		return fmt.Errorf("upsert activity %s: %w", snap.ID, err)
	}
	if n == 0 {
		return nil // what is stored is as new or newer
	}
	if err := q.DeleteChildren(ctx, snap.ID); err != nil {
		return fmt.Errorf("replace children of %s: %w", snap.ID, err)
	}
	return insertChildren(ctx, q, snap)
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

// insertChildren writes milestones, approvals and extensions, one
// statement each, from JSON record sets.
func insertChildren(ctx context.Context, q *db.Queries, snap lifecycle.State) error {
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
	for _, step := range []struct {
		what string
		rows any
		run  func([]byte) error
	}{
		{"milestones", ms, func(b []byte) error {
			return q.InsertMilestones(ctx, db.InsertMilestonesParams{ActivityID: snap.ID, Milestones: b})
		}},
		{"approvals", as, func(b []byte) error {
			return q.InsertApprovals(ctx, db.InsertApprovalsParams{ActivityID: snap.ID, Approvals: b})
		}},
		{"extensions", xs, func(b []byte) error {
			return q.InsertExtensions(ctx, db.InsertExtensionsParams{ActivityID: snap.ID, Extensions: b})
		}},
	} {
		b, err := json.Marshal(step.rows)
		if err != nil {
			return fmt.Errorf("encode %s of %s: %w", step.what, snap.ID, err)
		}
		if err := step.run(b); err != nil {
			return fmt.Errorf("insert %s of %s: %w", step.what, snap.ID, err)
		}
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

// displayNames are the names of a Record's actors and of its activity's
// parties, keyed "principal:<id>" and "party:<code>", looked up in one
// query the first time the inbox or a webhook needs them, and only then.
type displayNames struct {
	q      *db.Queries
	snap   lifecycle.State
	events []lifecycle.Event
	names  map[string]string
}

func (d *displayNames) get(ctx context.Context) (map[string]string, error) {
	if d.names != nil {
		return d.names, nil
	}
	snap := d.snap
	var actors []string
	for _, e := range d.events {
		if e.Actor != lifecycle.ClockActor && !slices.Contains(actors, e.Actor) {
			actors = append(actors, e.Actor)
		}
	}
	parties := make([]string, len(snap.Parties))
	for i, p := range snap.Parties {
		parties[i] = string(p.Code)
	}
	rows, err := d.q.DisplayNames(ctx, db.DisplayNamesParams{Principals: actors, Parties: parties})
	if err != nil {
		return nil, fmt.Errorf("read the names for %s's notifications: %w", snap.ID, err)
	}
	d.names = make(map[string]string, len(rows))
	for _, r := range rows {
		d.names[r.Kind+":"+r.Key] = r.Name
	}
	return d.names, nil
}

// insertNotifications puts each appended event in the inbox of everyone
// who should hear of it, except its own actor. The key makes a retried
// Record insert nothing twice.
func insertNotifications(ctx context.Context, q *db.Queries, snap lifecycle.State, events []lifecycle.Event, dn *displayNames) error {
	for _, e := range events {
		aud, ok := notify.AudienceOf(snap, e)
		if !ok || len(aud.Parties) == 0 {
			continue
		}
		roles := make([]string, len(aud.Roles))
		for i, r := range aud.Roles {
			roles[i] = string(r)
		}
		who, err := q.PrincipalsFor(ctx, db.PrincipalsForParams{Parties: lifecycle.Codes(aud.Parties), Roles: roles})
		if err != nil {
			return fmt.Errorf("find recipients of %s/%d: %w", snap.ID, e.Seq, err)
		}
		names, err := dn.get(ctx)
		if err != nil {
			return err
		}
		content, err := json.Marshal(notificationContent(snap, e, names))
		if err != nil {
			return fmt.Errorf("encode notification %s/%d: %w", snap.ID, e.Seq, err)
		}
		for _, p := range who {
			if p.ID == e.Actor {
				continue
			}
			if _, err := q.InsertNotification(ctx, db.InsertNotificationParams{
				Key: fmt.Sprintf("%s/%d/%s", snap.ID, e.Seq, p.ID), PrincipalID: p.ID,
				ActivityID: snap.ID, Seq: e.Seq, Kind: string(e.Type), Content: content,
			}); err != nil {
				return fmt.Errorf("notify %s of %s/%d: %w", p.ID, snap.ID, e.Seq, err)
			}
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
