package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
	"pacto/workflows"
)

// canSee reports whether a principal may see an activity: admins see all,
// everyone else the activities their party takes part in.
func canSee(p store.Principal, st lifecycle.State) bool {
	if hasRole(p, "admin") {
		return true
	}
	_, ok := st.Party(lifecycle.PartyCode(p.Party))
	return ok && p.Party != ""
}

var errNoActivity = fail(probNotFound, "no such activity")

// visible returns an activity the principal may see, from the read model,
// or from the workflow if the read model has not caught up yet. An
// activity the principal may not see is reported as not found, so its
// existence does not leak.
func (s *Server) visible(ctx context.Context, p store.Principal, id string) (lifecycle.State, error) {
	st, err := s.store.Activity(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		st, err = s.queryState(ctx, id)
	}
	if err != nil {
		return lifecycle.State{}, err
	}
	if !canSee(p, st) {
		return lifecycle.State{}, errNoActivity
	}
	return st, nil
}

// queryState asks the activity's workflow for its current state.
func (s *Server) queryState(ctx context.Context, id string) (lifecycle.State, error) {
	v, err := s.temporal.QueryWorkflow(ctx, id, "", workflows.QueryState)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return lifecycle.State{}, errNoActivity
	}
	if err != nil {
		return lifecycle.State{}, fmt.Errorf("query activity %s: %w", id, err)
	}
	var st lifecycle.State
	if err := v.Get(&st); err != nil {
		return lifecycle.State{}, fmt.Errorf("decode state of %s: %w", id, err)
	}
	return st, nil
}

// queryUntilAnswered asks a just-started workflow for its state, trying
// again while the answer is only late (its first task may sit with a
// worker that has died, until Temporal hands it to another), within ctx.
func (s *Server) queryUntilAnswered(ctx context.Context, id string) (lifecycle.State, error) {
	for {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := s.queryState(attempt, id)
		cancel()
		if err == nil || !unavailable(err) || ctx.Err() != nil {
			return st, err
		}
	}
}

// waitRecorded waits, for a bounded time, until the read model holds the
// activity at seq or later, so the caller's next GET or list sees its own
// write, and reports whether it does. On timeout it gives up quietly: the
// response carries the workflow's new state and the read model will catch
// up. Updates are answered only once their change is recorded, so for them
// the first look succeeds; for a new activity the store is told the moment
// its first record commits.
func (s *Server) waitRecorded(ctx context.Context, id string, seq int64) bool {
	if s.store.WaitRecorded(ctx, id, seq, s.recordWait) {
		return true
	}
	if ctx.Err() == nil {
		s.log.WarnContext(ctx, "read model behind the workflow", "activity", id, "want_seq", seq)
	}
	return false
}

// respondActivity writes an activity with its ETag; a GET whose
// If-None-Match names that ETag is answered 304 without a body.
func (s *Server) respondActivity(w http.ResponseWriter, r *http.Request, status int, st lifecycle.State) error {
	behind, err := s.readModelBehind(r.Context(), st)
	if err != nil {
		return err
	}
	return s.writeActivity(w, r, status, st, behind)
}

// writeActivity is respondActivity once whether the read model is behind
// is known.
func (s *Server) writeActivity(w http.ResponseWriter, r *http.Request, status int, st lifecycle.State, behind *ReadModelView) error {
	st, err := s.withLanguages(r.Context(), st, nil)
	if err != nil {
		return err
	}
	v := viewOf(st, s.now(), readerLanguage(principalOf(r)))
	v.ReadModel = behind
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode activity %s: %w", st.ID, err)
	}
	body = append(body, '\n')
	tag := etag(st, body)
	w.Header().Set("ETag", tag)
	if status == http.StatusOK && (r.Method == http.MethodGet || r.Method == http.MethodHead) && noneMatch(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}

// etag names one representation of an activity: "<version>.<seq>.<digest>".
// The proposal version leads because it is what If-Match on an amendment
// is checked against; the sequence changes with every recorded change
// (approvals, status); the digest of the body changes too when only the
// clock moved (colours, overdue milestones).
func etag(st lifecycle.State, body []byte) string {
	sum := sha256.Sum256(body)
	return fmt.Sprintf(`"%d.%d.%x"`, st.Version, st.Seq, sum[:4])
}

// noneMatch reports whether an If-None-Match header names the ETag, or is
// "*", with the weak comparison RFC 9110 asks of it.
func noneMatch(header, tag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == tag {
			return true
		}
	}
	return false
}

// readModelBehind says whether the read model is behind an activity's
// workflow because it refused a change, or nil.
func (s *Server) readModelBehind(ctx context.Context, st lifecycle.State) (*ReadModelView, error) {
	f, err := s.store.RecordFailureOf(ctx, st.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return behindView(&f), nil
}

// behindView says what a record failure means to a reader; nil for none.
func behindView(f *store.RecordFailure) *ReadModelView {
	if f == nil {
		return nil
	}
	return &ReadModelView{Behind: true, RecordedSeq: f.RecordedSeq, Since: f.FirstFailedAt,
		Detail: "the read model refused this activity's change " + strconv.FormatInt(f.Seq, 10) +
			"; an administrator has been told, and the activity takes no further change until it is recorded"}
}

func (s *Server) getActivity(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	id := chi.URLParam(r, "id")
	// The activity and whether the read model is behind it come in one
	// round trip when the read model has it, as it nearly always has;
	// otherwise (not yet, or it refused the first change) the workflow
	// answers.
	rec, err := s.readRecorded(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		st, err := s.visible(r.Context(), p, id)
		if err != nil {
			return err
		}
		rec = recorded{state: st}
	case err != nil:
		return err
	case !canSee(p, rec.state):
		return errNoActivity
	}
	switch r.URL.Query().Get("consistent") {
	case "", "false":
	case "true":
		q, err := s.queryState(r.Context(), id)
		if err != nil {
			return err
		}
		// The read model of an ended activity may hold publication
		// decisions made after its run closed.
		if q.Seq >= rec.state.Seq {
			rec.state = q
		}
	default:
		return failField(probInvalid, "consistent", "consistent must be true or false")
	}
	return s.respondRecorded(w, r, http.StatusOK, rec)
}

// checkIdempotencyKey refuses a key that is too long, or is not text that
// PostgreSQL and Temporal can hold (net/http lets bytes of any value
// through in a header).
func checkIdempotencyKey(key string) error {
	if utf8.RuneCountInString(key) > maxIdempotencyKey {
		return failField(probInvalid, "Idempotency-Key", fmt.Sprintf("the Idempotency-Key header is longer than %d characters", maxIdempotencyKey))
	}
	if !isText(key) {
		return failField(probInvalid, "Idempotency-Key", "the Idempotency-Key header must be UTF-8 text")
	}
	return nil
}

// newActivityID returns a random, URL-safe activity ID.
func newActivityID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random id: %w", err)
	}
	return "act_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

func (s *Server) propose(w http.ResponseWriter, r *http.Request) error {
	if !hasRole(principalOf(r), "coordinator") {
		return fail(probForbidden, "only a coordinator may propose an activity")
	}
	var req ProposeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	rec, err := s.proposeRecorded(r.Context(), principalOf(r), req, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/activities/"+rec.state.ID)
	return s.respondRecorded(w, r, http.StatusCreated, rec)
}

// Propose starts an activity proposed by principal p and returns it as
// recorded; key is an idempotency key, or empty.
func (s *Server) Propose(ctx context.Context, p store.Principal, req ProposeRequest, key string) (lifecycle.State, error) {
	rec, err := s.proposeRecorded(ctx, p, req, key)
	return rec.state, err
}

// recorded is an activity as a proposal or a command left it and, when it
// was read from the read model, whether the read model is behind it, read
// in the same query.
type recorded struct {
	state  lifecycle.State
	behind *ReadModelView
	known  bool // behind was read with state
}

// readRecorded reads an activity and whether the read model is behind it
// in one round trip.
func (s *Server) readRecorded(ctx context.Context, id string) (recorded, error) {
	st, f, err := s.store.ActivityAndFailure(ctx, id)
	return recorded{state: st, behind: behindView(f), known: err == nil}, err
}

// respondRecorded writes rec as respondActivity does, reading whether the
// read model is behind only if that is not known yet.
func (s *Server) respondRecorded(w http.ResponseWriter, r *http.Request, status int, rec recorded) error {
	if !rec.known {
		return s.respondActivity(w, r, status, rec.state)
	}
	return s.writeActivity(w, r, status, rec.state, rec.behind)
}

// proposeRecorded is Propose, answering what it read of the read model too.
func (s *Server) proposeRecorded(ctx context.Context, p store.Principal, req ProposeRequest, key string) (recorded, error) {
	if !hasRole(p, "coordinator") {
		return recorded{}, fail(probForbidden, "only a coordinator may propose an activity")
	}
	if req.Dialogue == "" {
		return recorded{}, failField(probInvalid, "dialogue", "dialogue is required")
	}
	frame, err := s.store.DialogueFrame(ctx, req.Dialogue)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !includes(frame.Parties, p.Party)) {
		return recorded{}, failField(probInvalid, "dialogue", fmt.Sprintf("no dialogue %q that your party takes part in", req.Dialogue))
	}
	if err != nil {
		return recorded{}, err
	}
	cmd, err := proposeCommand(req, frame)
	if err != nil {
		return recorded{}, err
	}
	if err := checkClassification(&req.Sector, &req.RecipientCountries); err != nil {
		return recorded{}, err
	}
	id, err := newActivityID()
	if err != nil {
		return recorded{}, err
	}
	if key != "" {
		if err := checkIdempotencyKey(key); err != nil {
			return recorded{}, err
		}
		body, _ := json.Marshal(req)
		sum := sha256.Sum256(body)
		existing, hash, existed, err := s.store.IdempotentCreate(ctx, p.ID, key, sum[:], id)
		if err != nil {
			return recorded{}, err
		}
		if existed && string(hash) != string(sum[:]) {
			return recorded{}, fail(probConflict, "this Idempotency-Key was used with a different request body")
		}
		id = existing
	}
	cmd.ActivityID = id
	cmd.Rules = workflows.InputVersion
	// Check with the core first, so a bad proposal gets a 4xx naming the
	// field instead of a workflow that fails.
	events, err := lifecycle.Decide(lifecycle.State{}, cmd, p.Actor(), s.now())
	if err != nil {
		var ce *lifecycle.Error
		if errors.As(err, &ce) {
			return recorded{}, coreProblem(ce)
		}
		return recorded{}, err
	}
	var proposed lifecycle.State
	for _, e := range events {
		proposed = lifecycle.Apply(proposed, e)
	}
	summary, details := workflowSummary(proposed)
	_, err = s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.taskQueue,
		TypedSearchAttributes: workflows.StartSearchAttributes(proposed), StaticSummary: summary, StaticDetails: details},
		workflows.WorkflowName, workflows.Proposal(p.Actor(), cmd))
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return recorded{}, fmt.Errorf("start activity %s: %w", id, err)
	}
	// The first record carries the proposal's state; read it from the read
	// model, and ask the workflow only if that is slow (its first task may
	// sit with a worker that died until Temporal hands it to another).
	var rec recorded
	if s.waitRecorded(ctx, id, 1) {
		// On a failed read known stays false, and the workflow answers.
		rec, _ = s.readRecorded(ctx, id)
	}
	if !rec.known {
		st, err := s.queryUntilAnswered(ctx, id)
		if err != nil {
			return recorded{}, err
		}
		rec = recorded{state: st}
	}
	return rec, nil
}

func includes(ps []lifecycle.Party, code string) bool {
	for _, p := range ps {
		if string(p.Code) == code {
			return true
		}
	}
	return false
}

func proposeCommand(req ProposeRequest, frame store.DialogueFrame) (lifecycle.Propose, error) {
	cmd := lifecycle.Propose{
		Dialogue: req.Dialogue, DialogueParties: frame.Parties, Languages: frame.Languages, Title: req.Title, Summary: req.Summary,
		Objectives: req.Objectives, Milestones: milestoneSpecs(req.Milestones),
		Sector: req.Sector, RecipientCountries: req.RecipientCountries,
	}
	for _, c := range req.Parties {
		cmd.Parties = append(cmd.Parties, lifecycle.PartyCode(c))
	}
	if req.Policy != nil {
		pol, err := policyOverrides(*req.Policy)
		if err != nil {
			return cmd, err
		}
		cmd.Policy = pol
	}
	return cmd, nil
}

func milestoneSpecs(in []MilestoneInput) []lifecycle.MilestoneSpec {
	out := make([]lifecycle.MilestoneSpec, len(in))
	for i, m := range in {
		out[i] = lifecycle.MilestoneSpec{ID: m.ID, Title: m.Title, Horizon: lifecycle.Horizon(m.Horizon), Owner: lifecycle.PartyCode(m.Owner), Due: m.Due}
		if m.Indicator != nil {
			out[i].Indicator = &lifecycle.Indicator{Baseline: m.Indicator.Baseline, Target: m.Indicator.Target, Unit: m.Indicator.Unit}
		}
	}
	return out
}

func policyOverrides(in PolicyInput) (lifecycle.PolicyOverrides, error) {
	var out lifecycle.PolicyOverrides
	for _, f := range []struct {
		name string
		v    string
		dst  **time.Duration
	}{
		{"approval_window", in.ApprovalWindow, &out.ApprovalWindow},
		{"approval_reminder_every", in.ApprovalReminderEvery, &out.ApprovalReminderEvery},
		{"due_soon_lead", in.DueSoonLead, &out.DueSoonLead},
		{"overdue_reminder_every", in.OverdueReminderEvery, &out.OverdueReminderEvery},
	} {
		if f.v == "" {
			continue
		}
		d, err := lifecycle.ParseDuration(f.v)
		if err != nil {
			return out, failField(probInvalid, "policy."+f.name, err.Error())
		}
		*f.dst = &d
	}
	out.OverdueReminders = in.OverdueReminders
	return out, nil
}

// update sends one command to an activity's workflow as an Update and
// answers with the workflow's new state. role is the role the API demands
// before asking the core, which checks again.
func update[C lifecycle.Command](s *Server, w http.ResponseWriter, r *http.Request, name, role string, build func(st lifecycle.State) (C, error)) error {
	next, err := commandRecorded(s, r.Context(), principalOf(r), chi.URLParam(r, "id"), name, role, r.Header.Get("Idempotency-Key"), build)
	if err != nil {
		return err
	}
	return s.respondRecorded(w, r, http.StatusOK, next)
}

// command sends one command of principal p to activity id's workflow and
// returns the activity as it stands after it; every way in (the API, the
// console) goes through here. key is an idempotency key, or empty.
func command[C lifecycle.Command](s *Server, ctx context.Context, p store.Principal, id, name, role, key string, build func(st lifecycle.State) (C, error)) (lifecycle.State, error) {
	rec, err := commandRecorded(s, ctx, p, id, name, role, key, build)
	return rec.state, err
}

// commandRecorded is command, answering what it read of the read model too.
func commandRecorded[C lifecycle.Command](s *Server, ctx context.Context, p store.Principal, id, name, role, key string, build func(st lifecycle.State) (C, error)) (recorded, error) {
	if !hasRole(p, role) {
		return recorded{}, fail(probForbidden, fmt.Sprintf("only %s %s may do this", article(role), role))
	}
	if !idPattern.MatchString(id) {
		return recorded{}, errNoActivity
	}
	st, err := s.visible(ctx, p, id)
	if err != nil {
		return recorded{}, err
	}
	if err := s.assignLanguages(ctx, st); err != nil {
		return recorded{}, err
	}
	cmd, err := build(st)
	if err != nil {
		return recorded{}, err
	}
	opts := client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: name, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{workflows.Request[C]{Actor: p.Actor(), Command: cmd}},
	}
	if key != "" {
		if err := checkIdempotencyKey(key); err != nil {
			return recorded{}, err
		}
		// Temporal keeps one result per update ID: a retried request with
		// the same key and command gets the first answer instead of acting
		// twice. The command is part of the ID, so reusing a key for a
		// different command is a new request, not a stale answer.
		b, _ := json.Marshal(cmd)
		sum := sha256.Sum256(b)
		opts.UpdateID = fmt.Sprintf("%s/%s/%s/%x", p.ID, name, key, sum[:8])
	}
	// A command too large to be a legal change of one activity is refused
	// here, before it becomes a Temporal payload.
	if n := lifecycle.EncodedSize(opts.Args[0]); n > lifecycle.StateBudget {
		return recorded{}, fail(probInvalid, fmt.Sprintf("the request is %d KiB once encoded, more than an activity may hold (%d KiB)", n>>10, lifecycle.StateBudget>>10))
	}
	res, err := s.sendUpdate(ctx, id, opts)
	if err != nil {
		return recorded{}, s.updateError(ctx, id, err)
	}
	// Runs of version 2 answer once the change is recorded (or refused);
	// older runs answer at once with the whole state.
	done := res.IsRecorded()
	if res.Recorded == nil {
		done = s.waitRecorded(ctx, id, res.Seq)
	}
	var next recorded
	if done {
		// On a failed read known stays false, and the workflow answers.
		next, _ = s.readRecorded(ctx, id)
	}
	if !next.known || next.state.Seq < res.Seq {
		// Not in the read model: answer with the workflow's own state.
		st, err := s.queryState(ctx, id)
		if err != nil {
			return recorded{}, err
		}
		next = recorded{state: st}
	}
	return next, nil
}

// readerLanguage is the language a principal reads texts in.
func readerLanguage(p store.Principal) string { return p.Language }

// withLanguages shows an activity proposed before texts had languages as
// it reads once moved to them: its texts keyed by its proposer's
// language. frames caches dialogues across a list (nil: no cache).
func (s *Server) withLanguages(ctx context.Context, st lifecycle.State, frames map[string]store.DialogueFrame) (lifecycle.State, error) {
	if len(st.Languages) > 0 || st.Dialogue == "" {
		return st, nil
	}
	frame, ok := frames[st.Dialogue]
	if !ok {
		var err error
		frame, err = s.store.DialogueFrame(ctx, st.Dialogue)
		if errors.Is(err, store.ErrNotFound) {
			return st, nil // shown with its texts undetermined
		}
		if err != nil {
			return st, err
		}
		if frames != nil {
			frames[st.Dialogue] = frame
		}
	}
	return st.WithLanguages(frame.Parties, frame.Languages), nil
}

// assignLanguages moves an activity proposed before texts had languages
// to its dialogue's before a command reaches it, so the command is decided
// under the rules of languages: a coordinator may add their party's text,
// and no party approves what it cannot read.
func (s *Server) assignLanguages(ctx context.Context, st lifecycle.State) error {
	if len(st.Languages) > 0 || st.Status.Terminal() {
		return nil
	}
	frame, err := s.store.DialogueFrame(ctx, st.Dialogue)
	if err != nil {
		return fmt.Errorf("languages of dialogue %s: %w", st.Dialogue, err)
	}
	cmd := lifecycle.AssignLanguages{Parties: frame.Parties, Languages: frame.Languages}
	_, err = s.sendUpdate(ctx, st.ID, client.UpdateWorkflowOptions{
		WorkflowID: st.ID, UpdateName: workflows.UpdateAssignLanguages, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{workflows.Request[lifecycle.AssignLanguages]{Actor: lifecycle.Principal{ID: lifecycle.SystemActor}, Command: cmd}},
	})
	if _, core := workflows.CoreError(err); err != nil && !core {
		return s.updateError(ctx, st.ID, err)
	}
	return nil
}

// busyRetryEvery paces retries of a command refused while its activity
// hands over to a new run, which takes a moment.
const busyRetryEvery = 50 * time.Millisecond

// sendUpdate sends one Update in the activity's queue and returns its
// result, trying again while the workflow is briefly busy.
func (s *Server) sendUpdate(ctx context.Context, id string, opts client.UpdateWorkflowOptions) (workflows.UpdateResult, error) {
	release, err := s.queue(ctx, id)
	if err != nil {
		return workflows.UpdateResult{}, err
	}
	defer release()
	for {
		var res workflows.UpdateResult
		h, err := s.temporal.UpdateWorkflow(ctx, opts)
		if err == nil {
			err = h.Get(ctx, &res)
		}
		var ae *temporal.ApplicationError
		if !errors.As(err, &ae) || ae.Type() != workflows.ErrBusy {
			return res, err
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("activity %s stayed busy: %w", id, ctx.Err())
		case <-time.After(busyRetryEvery):
		}
	}
}

// updateError explains why an Update failed.
func (s *Server) updateError(ctx context.Context, id string, err error) error {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.Type() == workflows.ErrRecordBlocked {
		return &apiError{class: probUnavailable, detail: ae.Message(), retryAfter: 3600}
	}
	if errors.As(err, &ae) && ae.Type() == workflows.ErrEnded {
		return &apiError{class: probTransition, detail: ae.Message(), cause: errEnded}
	}
	if ce, ok := workflows.CoreError(err); ok {
		return coreProblem(ce)
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		// The workflow has ended: the activity is in a final state, or
		// its workflow was ended in Temporal before it was.
		st, serr := s.store.Activity(ctx, id)
		switch {
		case serr != nil:
			return errNoActivity
		case !st.Status.Terminal():
			return fail(probTransition, fmt.Sprintf("the activity is %s, but its workflow no longer runs in Temporal: "+
				"it takes no commands until an administrator restarts it (see /v1/admin/diverged)", st.Status))
		}
		return &apiError{class: probTransition, detail: fmt.Sprintf("the activity is %s and takes no more commands", st.Status), cause: errEnded}
	}
	return fmt.Errorf("update activity %s: %w", id, err)
}

// article is the indefinite article for a role's name.
func article(role string) string {
	if role != "" && strings.ContainsRune("aeiou", rune(role[0])) {
		return "an"
	}
	return "a"
}

// ifMatchVersion reads the version an amendment is based on from If-Match
// or from the body. If-Match may be the activity's ETag ("3.17.9f2c1a0b")
// or, as before ETags named the whole representation, the bare version
// ("3", W/"3" or 3): either way only the version is checked, since that is
// what an amendment replaces.
func ifMatchVersion(r *http.Request, body *int) (int, error) {
	if h := strings.TrimSpace(r.Header.Get("If-Match")); h != "" {
		version, _, _ := strings.Cut(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), ".")
		v, err := strconv.Atoi(version)
		if err != nil {
			return 0, failField(probInvalid, "If-Match", "If-Match must be the activity's ETag, e.g. \"3.17.9f2c1a0b\", or its version, e.g. \"3\"")
		}
		return v, nil
	}
	if body != nil {
		return *body, nil
	}
	return 0, fail(probPrecondition, "send If-Match with the version you are amending (the ETag of GET), or a version in the body")
}

func (s *Server) amend(w http.ResponseWriter, r *http.Request) error {
	var req AmendRequest
	return update(s, w, r, workflows.UpdateAmend, "coordinator", func(lifecycle.State) (lifecycle.Amend, error) {
		if err := decode(w, r, &req); err != nil {
			return lifecycle.Amend{}, err
		}
		version, err := ifMatchVersion(r, req.Version)
		if err != nil {
			return lifecycle.Amend{}, err
		}
		if err := checkClassification(req.Sector, req.RecipientCountries); err != nil {
			return lifecycle.Amend{}, err
		}
		cur, err := s.queryState(r.Context(), chi.URLParam(r, "id"))
		if err != nil {
			return lifecycle.Amend{}, err
		}
		return amendCommand(cur, version, req), nil
	})
}

// amendCommand is the amendment req makes of cur, the workflow's current
// state: fields left out keep their value.
func amendCommand(cur lifecycle.State, version int, req AmendRequest) lifecycle.Amend {
	cmd := lifecycle.Amend{BaseVersion: version, Title: cur.Title, Summary: cur.Summary, Objectives: cur.Objectives,
		Sector: cur.Sector, RecipientCountries: cur.RecipientCountries}
	for _, m := range cur.Milestones {
		cmd.Milestones = append(cmd.Milestones, m.MilestoneSpec)
	}
	// A text given replaces the languages it is written in (a plain
	// string is the caller's); the core keeps the others.
	if req.Title != nil {
		cmd.Title = req.Title
	}
	if req.Summary != nil {
		cmd.Summary = req.Summary
	}
	if req.Objectives != nil {
		cmd.Objectives = *req.Objectives
	}
	if req.Milestones != nil {
		cmd.Milestones = milestoneSpecs(*req.Milestones)
	}
	if req.Sector != nil {
		cmd.Sector = *req.Sector
	}
	if req.RecipientCountries != nil {
		cmd.RecipientCountries = *req.RecipientCountries
	}
	return cmd
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request) error {
	return update(s, w, r, workflows.UpdateDecide, "approver", func(lifecycle.State) (lifecycle.DecideProposal, error) {
		var req DecisionRequest
		if err := decode(w, r, &req); err != nil {
			return lifecycle.DecideProposal{}, err
		}
		return decisionCommand(req)
	})
}

func decisionCommand(req DecisionRequest) (lifecycle.DecideProposal, error) {
	// Versions start at 1: a missing version (0) or a negative one is a
	// malformed decision, not one about an older version.
	if req.Version < 1 {
		return lifecycle.DecideProposal{}, failField(probInvalid, "version", "version is required: the version you decide on, from 1")
	}
	return lifecycle.DecideProposal{Version: req.Version, Party: lifecycle.PartyCode(req.Party), Decision: lifecycle.Decision(req.Decision), Comment: req.Comment}, nil
}

func (s *Server) reportProgress(w http.ResponseWriter, r *http.Request) error {
	return update(s, w, r, workflows.UpdateReportProgress, "coordinator", func(lifecycle.State) (lifecycle.ReportProgress, error) {
		var req ProgressRequest
		if err := decode(w, r, &req); err != nil {
			return lifecycle.ReportProgress{}, err
		}
		return lifecycle.ReportProgress{MilestoneID: chi.URLParam(r, "mid"), Evidence: req.Evidence, Actual: req.Actual, Note: req.Note}, nil
	})
}

func (s *Server) completeMilestone(w http.ResponseWriter, r *http.Request) error {
	return update(s, w, r, workflows.UpdateCompleteMilestone, "coordinator", func(lifecycle.State) (lifecycle.CompleteMilestone, error) {
		// The body is optional here: no body, or an empty one, completes
		// the milestone without a final report.
		var req ProgressRequest
		if err := decode(w, r, &req); err != nil && !emptyBody(err) {
			return lifecycle.CompleteMilestone{}, err
		}
		return lifecycle.CompleteMilestone{MilestoneID: chi.URLParam(r, "mid"), Evidence: req.Evidence, Actual: req.Actual, Note: req.Note}, nil
	})
}

func (s *Server) requestExtension(w http.ResponseWriter, r *http.Request) error {
	return update(s, w, r, workflows.UpdateRequestExtension, "coordinator", func(lifecycle.State) (lifecycle.RequestExtension, error) {
		var req ExtensionRequest
		if err := decode(w, r, &req); err != nil {
			return lifecycle.RequestExtension{}, err
		}
		return lifecycle.RequestExtension{MilestoneID: chi.URLParam(r, "mid"), NewDue: req.NewDue, Reason: req.Reason}, nil
	})
}

func (s *Server) decideExtension(w http.ResponseWriter, r *http.Request) error {
	return update(s, w, r, workflows.UpdateDecideExtension, "approver", func(lifecycle.State) (lifecycle.DecideExtension, error) {
		var req ExtensionDecisionRequest
		if err := decode(w, r, &req); err != nil {
			return lifecycle.DecideExtension{}, err
		}
		return lifecycle.DecideExtension{MilestoneID: chi.URLParam(r, "mid"), ExtensionID: chi.URLParam(r, "eid"),
			Party: lifecycle.PartyCode(req.Party), Decision: lifecycle.Decision(req.Decision), Comment: req.Comment}, nil
	})
}

func reasonOf(w http.ResponseWriter, r *http.Request) (string, error) {
	var req ReasonRequest
	if err := decode(w, r, &req); err != nil {
		return "", err
	}
	return req.Reason, nil
}

func (s *Server) suspend(w http.ResponseWriter, r *http.Request) error {
	return update(s, w, r, workflows.UpdateSuspend, "approver", func(lifecycle.State) (lifecycle.Suspend, error) {
		reason, err := reasonOf(w, r)
		return lifecycle.Suspend{Reason: reason}, err
	})
}

func (s *Server) resume(w http.ResponseWriter, r *http.Request) error {
	return update(s, w, r, workflows.UpdateResume, "approver", func(lifecycle.State) (lifecycle.Resume, error) {
		reason, err := reasonOf(w, r)
		return lifecycle.Resume{Reason: reason}, err
	})
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) error {
	return update(s, w, r, workflows.UpdateCancel, "approver", func(lifecycle.State) (lifecycle.Cancel, error) {
		reason, err := reasonOf(w, r)
		return lifecycle.Cancel{Reason: reason}, err
	})
}

// ActivityList is a page of activities.
type ActivityList struct {
	Activities []ActivityView `json:"activities"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

var (
	statuses = []string{"proposed", "active", "suspended", "declined", "expired", "cancelled", "completed"}
	horizons = []string{"short", "medium", "long"}
)

func (s *Server) listActivities(w http.ResponseWriter, r *http.Request) error {
	out, err := s.List(r.Context(), principalOf(r), r.URL.Query())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// List is GET /v1/activities for principal p with query parameters q.
func (s *Server) List(ctx context.Context, p store.Principal, q url.Values) (ActivityList, error) {
	f, none, err := ListFilter(p, q, s.now())
	if err != nil {
		return ActivityList{}, err
	}
	if none {
		return ActivityList{Activities: []ActivityView{}}, nil
	}
	states, next, err := s.store.ListActivities(ctx, f)
	if err != nil {
		return ActivityList{}, err
	}
	out := ActivityList{Activities: make([]ActivityView, len(states))}
	now, lang := s.now(), readerLanguage(p)
	frames := map[string]store.DialogueFrame{}
	for i, st := range states {
		if st, err = s.withLanguages(ctx, st, frames); err != nil {
			return ActivityList{}, err
		}
		out.Activities[i] = viewOf(st, now, lang)
	}
	if next != nil {
		out.NextCursor = encodeCursor(next)
	}
	return out, nil
}

// ListFilter reads the filters of GET /v1/activities from q for principal
// p, as the list, the exports and the command line take them, judged at
// now. none is true when p may see no activity at all (a principal of no
// party who is not an admin); the other filters are not read then.
func ListFilter(p store.Principal, q url.Values, now time.Time) (f store.Filter, none bool, err error) {
	f = store.Filter{
		Status: q.Get("status"), Party: q.Get("party"), PendingParty: q.Get("pending_party"),
		Horizon: q.Get("horizon"), Dialogue: q.Get("dialogue"), Text: q.Get("q"), Now: now,
	}
	if !hasRole(p, "admin") {
		f.VisibleTo = p.Party
		if f.VisibleTo == "" {
			return store.Filter{}, true, nil
		}
	}
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		return f, false, failField(probInvalid, "status", "status must be one of "+strings.Join(statuses, ", "))
	}
	if f.Horizon != "" && !slices.Contains(horizons, f.Horizon) {
		return f, false, failField(probInvalid, "horizon", "horizon must be one of "+strings.Join(horizons, ", "))
	}
	switch q.Get("overdue") {
	case "", "false":
	case "true":
		f.Overdue = true
	default:
		return f, false, failField(probInvalid, "overdue", "overdue must be true or false")
	}
	if f.DueBefore, err = timeParam(q.Get("due_before"), "due_before"); err != nil {
		return f, false, err
	}
	if f.DueAfter, err = timeParam(q.Get("due_after"), "due_after"); err != nil {
		return f, false, err
	}
	if f.Limit, err = limitParam(q.Get("limit")); err != nil {
		return f, false, err
	}
	if c := q.Get("cursor"); c != "" {
		f.After = &store.Cursor{}
		if err := decodeCursor(c, f.After); err != nil {
			return f, false, err
		}
		// A cursor names an activity; anything else (a NUL, say) was not
		// made here and must not reach the database.
		if !idPattern.MatchString(f.After.ID) {
			return f, false, failField(probInvalid, "cursor", "cursor is not one this API returned")
		}
	}
	return f, false, nil
}

// timeParam reads an RFC 3339 timestamp or a date (midnight UTC).
func timeParam(v, name string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return &t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return &t, nil
	}
	return nil, failField(probInvalid, name, name+" must be an RFC 3339 timestamp or a date (YYYY-MM-DD)")
}

func limitParam(v string) (int, error) {
	if v == "" {
		return defaultPageLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < minPageLimit || n > maxPageLimit {
		return 0, failField(probInvalid, "limit", fmt.Sprintf("limit must be a whole number from %d to %d", minPageLimit, maxPageLimit))
	}
	return n, nil
}

// pageLimit checks a page size given as a number; 0 is the default.
func pageLimit(n int) (int, error) {
	if n == 0 {
		return defaultPageLimit, nil
	}
	return limitParam(strconv.Itoa(n))
}

func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || json.Unmarshal(b, v) != nil {
		return failField(probInvalid, "cursor", "cursor is not one this API returned")
	}
	return nil
}

// AuditPage is a page of an activity's audit log.
type AuditPage struct {
	Events    []store.AuditEvent `json:"events"`
	NextAfter *int64             `json:"next_after,omitempty"`
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	if _, err := s.visible(r.Context(), principalOf(r), id); err != nil {
		return err
	}
	after := int64(0)
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return failField(probInvalid, "after", "after must be a sequence number (0 or more)")
		}
		after = n
	}
	limit, err := limitParam(r.URL.Query().Get("limit"))
	if err != nil {
		return err
	}
	events, err := s.store.Audit(r.Context(), id, after, limit)
	if err != nil {
		return err
	}
	page := AuditPage{Events: events}
	if len(events) == limit {
		last := events[len(events)-1].Seq
		page.NextAfter = &last
	}
	return writeJSON(w, http.StatusOK, page)
}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	if _, err := s.visible(r.Context(), principalOf(r), id); err != nil {
		return err
	}
	v, err := s.store.VerifyAudit(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

// perActivityUpdates bounds the Updates this process has in flight on one
// activity. Temporal refuses more than a handful per workflow at once; a
// burst beyond that waits its turn here instead of failing.
const perActivityUpdates = 4

// updateSlots are one activity's turns, and how many requests hold or
// wait for one.
type updateSlots struct {
	turns chan struct{}
	users int
}

// queue waits for a turn to update an activity, within ctx.
func (s *Server) queue(ctx context.Context, id string) (release func(), err error) {
	s.inflightMu.Lock()
	q := s.inflight[id]
	if q == nil {
		q = &updateSlots{turns: make(chan struct{}, perActivityUpdates)}
		s.inflight[id] = q
	}
	q.users++
	s.inflightMu.Unlock()
	leave := func() {
		s.inflightMu.Lock()
		defer s.inflightMu.Unlock()
		if q.users--; q.users == 0 {
			delete(s.inflight, id)
		}
	}
	select {
	case q.turns <- struct{}{}:
		return func() { <-q.turns; leave() }, nil
	case <-ctx.Done():
		leave()
		return nil, fmt.Errorf("wait for a turn on activity %s: %w", id, ctx.Err())
	}
}
