package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"pacto/activities"
	"pacto/internal/lifecycle"
	"pacto/internal/review"
	"pacto/internal/store"
	"pacto/workflows"
)

// MeetingDetail is GET /v1/dialogues/{dialogue}/meetings/{number}: where
// a meeting's cycle stands, its agenda, statements and minutes.
type MeetingDetail struct {
	MeetingView
	Dialogue string `json:"dialogue"`
	// Phase is scheduled (no run yet), waiting, draft (statements open),
	// frozen (report frozen; minutes open), closed (minutes adopted) or
	// cancelled.
	Phase         string    `json:"phase"`
	DraftAt       time.Time `json:"draft_at"`
	StatementsDue time.Time `json:"statements_due"`
	// Previous is the number of the meeting before, 0 for the first.
	Previous int `json:"previous,omitempty"`
	// Agenda lists the activities the meeting reviews, titles in the
	// reader's language.
	Agenda     []AgendaView              `json:"agenda"`
	Statements []review.Statement        `json:"statements"`
	Missing    []review.MissingStatement `json:"missing_statements"`
	// Owed lists the activities the reader's party owes a statement on.
	Owed    []string           `json:"owed,omitempty"`
	Minutes *lifecycle.Minutes `json:"minutes,omitempty"`
	// Unsigned lists the parties yet to sign the current minutes.
	Unsigned []string `json:"unsigned,omitempty"`
	// ReportSHA256 is the frozen report's digest, once frozen.
	ReportSHA256 string `json:"report_sha256,omitempty"`
}

// AgendaView is one activity on a meeting's agenda.
type AgendaView struct {
	Activity  string         `json:"activity"`
	Title     lifecycle.Text `json:"title"`
	TitleText string         `json:"title_text"`
}

// StatementRequest is POST .../meetings/{number}/statements.
type StatementRequest struct {
	Activity string `json:"activity"`
	Body     string `json:"body"`
}

// SignRequest is POST .../meetings/{number}/minutes/signatures.
type SignRequest struct {
	Version int `json:"version"`
}

// MeetingMove is PATCH .../meetings/{number} and POST .../meetings: a
// meeting's local time on the calendar zone's clock.
type MeetingMove struct {
	Local string `json:"local"`
}

// meetingOf is meeting number of dialogue id as principal p may see it,
// with the calendar's policy and every meeting.
func (s *Server) meetingOf(ctx context.Context, p store.Principal, id string, number int) (review.Meeting, []review.Meeting, workflows.ReviewInput, Calendar, error) {
	c, err := s.DialogueCalendar(ctx, p, id)
	if err != nil {
		return review.Meeting{}, nil, workflows.ReviewInput{}, c, err
	}
	d, err := s.dialogueOf(ctx, p, id)
	if err != nil {
		return review.Meeting{}, nil, workflows.ReviewInput{}, c, err
	}
	cal, err := calendarOf(c, d)
	if err != nil {
		return review.Meeting{}, nil, workflows.ReviewInput{}, c, fmt.Errorf("the stored calendar of dialogue %s: %w", id, err)
	}
	policy, err := reviewPolicy(c)
	if err != nil {
		return review.Meeting{}, nil, workflows.ReviewInput{}, c, fmt.Errorf("the stored calendar of dialogue %s: %w", id, err)
	}
	all, err := cal.Meetings(time.Time{}, maxMeetingDates)
	if err != nil {
		return review.Meeting{}, nil, policy, c, err
	}
	i := slices.IndexFunc(all, func(m review.Meeting) bool { return m.Number == number })
	if i < 0 {
		// A cancelled meeting whose run began is still shown.
		run, rerr := s.store.Meeting(ctx, id, number)
		if rerr != nil {
			return review.Meeting{}, all, policy, c, fail(probNotFound, fmt.Sprintf("dialogue %s has no meeting %d", id, number))
		}
		return review.Meeting{Number: number, At: run.At}, all, policy.Defaults(), c, nil
	}
	return all[i], all, policy.Defaults(), c, nil
}

// Meeting is GET /v1/dialogues/{dialogue}/meetings/{number}.
func (s *Server) Meeting(ctx context.Context, p store.Principal, id string, number int) (MeetingDetail, error) {
	m, all, policy, c, err := s.meetingOf(ctx, p, id, number)
	if err != nil {
		return MeetingDetail{}, err
	}
	loc, _ := lifecycle.LoadZone(c.Zone)
	out := MeetingDetail{
		MeetingView: MeetingView{Number: m.Number, At: m.At, Local: m.At.In(loc).Format(localTimeLayout), Zone: c.Zone, Host: string(m.Host)},
		Dialogue:    id, Phase: "scheduled",
		DraftAt: m.At.Add(-policy.DraftBefore), StatementsDue: m.At.Add(-policy.StatementsBefore),
		Agenda: []AgendaView{}, Statements: []review.Statement{}, Missing: []review.MissingStatement{},
	}
	i := slices.IndexFunc(all, func(x review.Meeting) bool { return x.Number == number })
	if i > 0 {
		out.Previous = all[i-1].Number
	}
	run, err := s.store.Meeting(ctx, id, number)
	switch {
	case err == nil:
		out.Phase = run.Phase
		if run.Minutes != nil {
			out.Minutes = run.Minutes
			if !run.Minutes.Adopted() {
				frame, err := s.store.DialogueFrame(ctx, id)
				if err != nil {
					return MeetingDetail{}, err
				}
				codes := make([]lifecycle.PartyCode, len(frame.Parties))
				for i, party := range frame.Parties {
					codes[i] = party.Code
				}
				out.Unsigned = lifecycle.Codes(run.Minutes.UnsignedParties(codes))
			}
		}
	case !errors.Is(err, store.ErrNotFound):
		return MeetingDetail{}, err
	}
	if i < 0 {
		// Off the calendar, it is cancelled, whether or not its run has
		// ended yet.
		out.Phase = store.MeetingCancelled
	}
	if out.Phase == "scheduled" || out.Phase == store.MeetingWaiting || out.Phase == store.MeetingCancelled {
		return out, nil
	}
	rep, err := s.MeetingReport(ctx, p, id, number)
	if err != nil {
		return MeetingDetail{}, err
	}
	// The report served is the frozen one, or the draft with the
	// statements made so far.
	if frozen, err := s.store.MeetingReport(ctx, id, number, store.ReportFrozen); err == nil {
		out.ReportSHA256 = frozen.SHA256
	} else if !errors.Is(err, store.ErrNotFound) {
		return MeetingDetail{}, err
	}
	lang := readerLanguage(p)
	for _, a := range rep.Activities {
		out.Agenda = append(out.Agenda, AgendaView{Activity: a.ID, Title: a.Title, TitleText: a.Title.In(lang, a.Title.Languages()...)})
		if slices.Contains(a.StatementOwners(), lifecycle.PartyCode(p.Party)) && out.Phase == store.MeetingDraft {
			out.Owed = append(out.Owed, a.ID)
		}
	}
	out.Statements = append(out.Statements, rep.Statements...)
	out.Missing = append(out.Missing, rep.Missing...)
	return out, nil
}

// reviewRun is the workflow ID of the run that holds a meeting, or a
// problem saying why the meeting takes nothing yet.
func (s *Server) reviewRun(ctx context.Context, id string, number int, what string) (string, error) {
	run, err := s.store.Meeting(ctx, id, number)
	if errors.Is(err, store.ErrNotFound) {
		return "", fail(probTransition, fmt.Sprintf("meeting %d takes %s once its draft report is out", number, what))
	}
	if err != nil {
		return "", err
	}
	return run.WorkflowID, nil
}

// reviewUpdate sends a meeting's run one update and decodes its answer.
func (s *Server) reviewUpdate(ctx context.Context, workflowID, name string, arg, into any) error {
	h, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, WaitForStage: client.WorkflowUpdateStageCompleted, Args: []any{arg},
	})
	if err == nil {
		err = h.Get(ctx, into)
	}
	if ce, ok := workflows.CoreError(err); ok {
		return coreProblem(ce)
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fail(probTransition, "the meeting's cycle has ended and takes no more changes")
	}
	if err != nil {
		return fmt.Errorf("%s of review %s: %w", name, workflowID, err)
	}
	return nil
}

// MakeStatement is POST .../meetings/{number}/statements: a coordinator's
// statement on an activity whose milestones their party owns.
func (s *Server) MakeStatement(ctx context.Context, p store.Principal, id string, number int, req StatementRequest) (store.MeetingStatement, error) {
	if _, _, _, _, err := s.meetingOf(ctx, p, id, number); err != nil {
		return store.MeetingStatement{}, err
	}
	if !hasRole(p, "coordinator") {
		return store.MeetingStatement{}, fail(probForbidden, "only a coordinator may make a statement for their party")
	}
	run, err := s.reviewRun(ctx, id, number, "statements")
	if err != nil {
		return store.MeetingStatement{}, err
	}
	var made store.MeetingStatement
	err = s.reviewUpdate(ctx, run, workflows.UpdateStatement, workflows.Statement{By: p.Actor(), Activity: req.Activity, Body: req.Body}, &made)
	return made, err
}

// RecordMinutes is PUT .../meetings/{number}/minutes: a coordinator
// records the minutes, or changes them, which resets every signature.
// Each new activity's proposal is checked as a proposal now, so that it
// can be made once the minutes are adopted.
func (s *Server) RecordMinutes(ctx context.Context, p store.Principal, id string, number int, content lifecycle.MinutesContent) (lifecycle.Minutes, error) {
	if _, _, _, _, err := s.meetingOf(ctx, p, id, number); err != nil {
		return lifecycle.Minutes{}, err
	}
	if !hasRole(p, "coordinator") {
		return lifecycle.Minutes{}, fail(probForbidden, "only a coordinator may record the minutes")
	}
	frame, err := s.store.DialogueFrame(ctx, id)
	if err != nil {
		return lifecycle.Minutes{}, err
	}
	for i, a := range content.NewActivities {
		if a.Activity != "" {
			return lifecycle.Minutes{}, failField(probInvalid, fmt.Sprintf("new_activities[%d].activity", i),
				"an agreed activity's id is its proposal's, made once the minutes are adopted")
		}
		if err := s.checkAgreed(p, frame, id, a.Proposal); err != nil {
			var ae *apiError
			if errors.As(err, &ae) {
				ae.field = fmt.Sprintf("new_activities[%d].proposal", i) + dotted(ae.field)
				ae.detail = fmt.Sprintf("new activity %d: %s", i+1, ae.detail)
			}
			return lifecycle.Minutes{}, err
		}
	}
	run, err := s.reviewRun(ctx, id, number, "minutes")
	if err != nil {
		return lifecycle.Minutes{}, err
	}
	lang := ""
	if party, ok := frameParty(frame, p.Party); ok {
		lang = party.Language
	}
	var m lifecycle.Minutes
	err = s.reviewUpdate(ctx, run, workflows.UpdateMinutes, workflows.RecordMinutes{By: p.Actor(), Language: lang, Content: content}, &m)
	return m, err
}

// SignMinutes is POST .../meetings/{number}/minutes/signatures: an
// approver signs the version of the minutes they read for their party.
func (s *Server) SignMinutes(ctx context.Context, p store.Principal, id string, number int, req SignRequest) (lifecycle.Minutes, error) {
	if _, _, _, _, err := s.meetingOf(ctx, p, id, number); err != nil {
		return lifecycle.Minutes{}, err
	}
	if !hasRole(p, "approver") {
		return lifecycle.Minutes{}, fail(probForbidden, "only an approver may sign the minutes for their party")
	}
	if req.Version < 1 {
		return lifecycle.Minutes{}, failField(probInvalid, "version", "give the version of the minutes you read, from 1")
	}
	run, err := s.reviewRun(ctx, id, number, "signatures")
	if err != nil {
		return lifecycle.Minutes{}, err
	}
	var m lifecycle.Minutes
	err = s.reviewUpdate(ctx, run, workflows.UpdateSignMinutes, workflows.SignMinutes{By: p.Actor(), Version: req.Version}, &m)
	return m, err
}

// checkAgreed checks an agreed activity's proposal as the API would take
// it from p in dialogue id, without making it.
func (s *Server) checkAgreed(p store.Principal, frame store.DialogueFrame, id string, raw json.RawMessage) error {
	req, err := agreedProposal(raw, id)
	if err != nil {
		return err
	}
	cmd, err := proposeCommand(req, frame)
	if err != nil {
		return err
	}
	cmd.ActivityID, cmd.Rules = "agreed", workflows.InputVersion
	if _, err := lifecycle.Decide(lifecycle.State{}, cmd, p.Actor(), s.now()); err != nil {
		var ce *lifecycle.Error
		if errors.As(err, &ce) {
			return coreProblem(ce)
		}
		return err
	}
	return nil
}

// agreedProposal decodes an agreed activity's proposal for dialogue id.
func agreedProposal(raw json.RawMessage, id string) (ProposeRequest, error) {
	var req ProposeRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fail(probInvalid, fmt.Sprintf("the proposal is not one the API takes: %v", err))
	}
	if req.Dialogue != "" && req.Dialogue != id {
		return req, failField(probInvalid, "dialogue", "an agreed activity is proposed in the meeting's own dialogue")
	}
	req.Dialogue = id
	return req, nil
}

// ProposeAgreed makes an agreed activity of adopted minutes a proposal,
// as the coordinator who recorded them; key makes it once. It serves the
// Review workflow's activity (activities.Proposer).
func (s *Server) ProposeAgreed(ctx context.Context, principal, dialogue, key string, raw json.RawMessage) (string, error) {
	p, err := s.store.Principal(ctx, principal)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.Disabled != nil) {
		return "", &activities.RefusedError{Reason: fmt.Sprintf("%s, who recorded the minutes, can no longer propose", principal)}
	}
	if err != nil {
		return "", err
	}
	req, err := agreedProposal(raw, dialogue)
	if err == nil {
		var st lifecycle.State
		st, err = s.Propose(ctx, p, req, key)
		if err == nil {
			return st.ID, nil
		}
	}
	var ae *apiError
	if errors.As(err, &ae) && ae.class.status < 500 {
		return "", &activities.RefusedError{Reason: ae.detail}
	}
	return "", err
}

// mayKeepCalendar refuses those who may not keep a dialogue's calendar.
func mayKeepCalendar(p store.Principal) error {
	if !hasRole(p, "admin") && !hasRole(p, "coordinator") {
		return fail(probForbidden, "only an admin or a coordinator of the dialogue's parties may keep its calendar")
	}
	return nil
}

// editCalendar changes dialogue id's calendar with edit, which is given
// the calendar's meetings now and its zone, and sets it as PUT
// .../calendar would.
func (s *Server) editCalendar(ctx context.Context, p store.Principal, id string, edit func(c *Calendar, all []review.Meeting, loc *time.Location) error) (Calendar, error) {
	if _, err := s.DialogueCalendar(ctx, p, id); err != nil {
		return Calendar{}, err
	}
	if err := mayKeepCalendar(p); err != nil {
		return Calendar{}, err
	}
	// Two edits at once: the second finds the calendar changed, and is
	// made again on the calendar as the first left it.
	for range calendarEditTries - 1 {
		c, err := s.editCalendarOnce(ctx, p, id, edit)
		if !errors.Is(err, store.ErrChanged) {
			return c, err
		}
	}
	c, err := s.editCalendarOnce(ctx, p, id, edit)
	if errors.Is(err, store.ErrChanged) {
		return c, fail(probConflict, "the calendar kept changing while this change was made; try again")
	}
	return c, err
}

// calendarEditTries bounds how often an edit is made again on a calendar
// others are changing.
const calendarEditTries = 5

// editCalendarOnce makes edit on the calendar as stored now, and keeps
// it unless someone changed the calendar meanwhile (store.ErrChanged).
func (s *Server) editCalendarOnce(ctx context.Context, p store.Principal, id string, edit func(c *Calendar, all []review.Meeting, loc *time.Location) error) (Calendar, error) {
	read, err := s.store.DialogueCalendar(ctx, id)
	if err != nil {
		return Calendar{}, err
	}
	var c Calendar
	if err := json.Unmarshal(read, &c); err != nil {
		return c, fmt.Errorf("decode the calendar of dialogue %s: %w", id, err)
	}
	d, err := s.dialogueOf(ctx, p, id)
	if err != nil {
		return c, err
	}
	cal, err := calendarOf(c, d)
	if err != nil {
		return c, fmt.Errorf("the stored calendar of dialogue %s: %w", id, err)
	}
	all, err := cal.Meetings(time.Time{}, maxMeetingDates)
	if err != nil {
		return c, err
	}
	loc, err := lifecycle.LoadZone(c.Zone)
	if err != nil {
		return c, fmt.Errorf("the stored calendar of dialogue %s: %w", id, err)
	}
	if err := edit(&c, all, loc); err != nil {
		return c, err
	}
	return s.setCalendar(ctx, p, id, c, read)
}

// aheadAt is local, a meeting's local time on loc's clock, as an instant
// that must be ahead of now and no other meeting's than number's.
func (s *Server) aheadAt(local string, loc *time.Location, all []review.Meeting, number int) (time.Time, error) {
	t, err := localTime("local", local)
	if err != nil {
		return t, err
	}
	at := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, loc)
	if !at.After(s.now()) {
		return at, failField(probInvalid, "local", fmt.Sprintf("%s has passed on the calendar's clock; give a time ahead", local))
	}
	// Two meetings at one time would be one review run.
	for _, m := range all {
		if m.Number != number && m.At.Equal(at) {
			return at, fail(probConflict, fmt.Sprintf("meeting %d is at %s already", m.Number, local))
		}
	}
	return at, nil
}

// AddMeeting is POST .../meetings: a meeting at a local time, for a
// calendar of dates. It takes the next number, whatever its date, so
// that no meeting's number changes; the number is returned with the
// calendar.
func (s *Server) AddMeeting(ctx context.Context, p store.Principal, id string, req MeetingMove) (Calendar, int, error) {
	number := 0
	c, err := s.editCalendar(ctx, p, id, func(c *Calendar, all []review.Meeting, loc *time.Location) error {
		if c.First != "" {
			return fail(probTransition, "the calendar meets by a rule; move its meetings, or give the calendar as dates to add one")
		}
		if _, err := s.aheadAt(req.Local, loc, all, 0); err != nil {
			return err
		}
		c.Dates = append(c.Dates, req.Local)
		number = len(c.Dates)
		return nil
	})
	return c, number, err
}

// MoveMeeting is PATCH .../meetings/{number}: the meeting, not yet held,
// at another local time ahead.
func (s *Server) MoveMeeting(ctx context.Context, p store.Principal, id string, number int, req MeetingMove) (Calendar, error) {
	if err := s.changeable(ctx, p, id, number); err != nil {
		return Calendar{}, err
	}
	return s.editCalendar(ctx, p, id, func(c *Calendar, all []review.Meeting, loc *time.Location) error {
		if _, err := s.aheadAt(req.Local, loc, all, number); err != nil {
			return err
		}
		if c.Moved == nil {
			c.Moved = map[string]string{}
		}
		c.Moved[strconv.Itoa(number)] = req.Local
		return nil
	})
}

// CancelMeeting is DELETE .../meetings/{number}: the meeting, not yet
// held, off the calendar; its run, if it began, ends as cancelled.
func (s *Server) CancelMeeting(ctx context.Context, p store.Principal, id string, number int) (Calendar, error) {
	if err := s.changeable(ctx, p, id, number); err != nil {
		return Calendar{}, err
	}
	return s.editCalendar(ctx, p, id, func(c *Calendar, _ []review.Meeting, _ *time.Location) error {
		if !slices.Contains(c.Cancelled, number) {
			c.Cancelled = append(c.Cancelled, number)
		}
		return nil
	})
}

// changeable refuses to move or cancel a meeting p may not change, one
// held (its time passed, or its report frozen) or one cancelled.
func (s *Server) changeable(ctx context.Context, p store.Principal, id string, number int) error {
	m, _, _, c, err := s.meetingOf(ctx, p, id, number)
	if err != nil {
		return err
	}
	if err := mayKeepCalendar(p); err != nil {
		return err
	}
	if slices.Contains(c.Cancelled, number) {
		return fail(probTransition, fmt.Sprintf("meeting %d is cancelled", number))
	}
	held := fail(probTransition, fmt.Sprintf("meeting %d has been held and stays on the record", number))
	run, err := s.store.Meeting(ctx, id, number)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	case run.Phase == store.MeetingCancelled:
		return fail(probTransition, fmt.Sprintf("meeting %d is cancelled", number))
	case run.Phase != store.MeetingWaiting && run.Phase != store.MeetingDraft:
		return held
	}
	if !m.At.After(s.now()) {
		return held
	}
	return nil
}

// MeetingMinutes is GET .../meetings/{number}/minutes: the current
// version of the minutes, once recorded.
func (s *Server) MeetingMinutes(ctx context.Context, p store.Principal, id string, number int) (lifecycle.Minutes, error) {
	if _, _, _, _, err := s.meetingOf(ctx, p, id, number); err != nil {
		return lifecycle.Minutes{}, err
	}
	run, err := s.store.Meeting(ctx, id, number)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return lifecycle.Minutes{}, err
	}
	if err != nil || run.Minutes == nil {
		return lifecycle.Minutes{}, fail(probNotFound, fmt.Sprintf("no minutes of meeting %d have been recorded", number))
	}
	return *run.Minutes, nil
}

// StatementList is GET .../meetings/{number}/statements: the statements
// made on the activities the reader's party takes part in, the parties
// that owe some and have made none, and what the reader's party owes.
type StatementList struct {
	StatementsDue time.Time                 `json:"statements_due"`
	Statements    []review.Statement        `json:"statements"`
	Missing       []review.MissingStatement `json:"missing_statements"`
	Owed          []string                  `json:"owed,omitempty"`
}

// Statements is GET .../meetings/{number}/statements.
func (s *Server) Statements(ctx context.Context, p store.Principal, id string, number int) (StatementList, error) {
	m, err := s.Meeting(ctx, p, id, number)
	if err != nil {
		return StatementList{}, err
	}
	return StatementList{StatementsDue: m.StatementsDue, Statements: m.Statements, Missing: m.Missing, Owed: m.Owed}, nil
}

func frameParty(f store.DialogueFrame, code string) (lifecycle.Party, bool) {
	for _, p := range f.Parties {
		if string(p.Code) == code {
			return p, true
		}
	}
	return lifecycle.Party{}, false
}

func dotted(field string) string {
	if field == "" {
		return ""
	}
	return "." + field
}

// meetingNumber is the path's meeting number.
func meetingNumber(r *http.Request) (int, error) {
	n, err := strconv.Atoi(chi.URLParam(r, "number"))
	if err != nil {
		return 0, fail(probNotFound, "no such meeting")
	}
	return n, nil
}

func (s *Server) addMeeting(w http.ResponseWriter, r *http.Request) error {
	var req MeetingMove
	if err := decode(w, r, &req); err != nil {
		return err
	}
	id := chi.URLParam(r, "dialogue")
	c, number, err := s.AddMeeting(r.Context(), principalOf(r), id, req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/v1/dialogues/%s/meetings/%d", id, number))
	return writeJSON(w, http.StatusCreated, c)
}

func (s *Server) getMeeting(w http.ResponseWriter, r *http.Request) error {
	number, err := meetingNumber(r)
	if err != nil {
		return err
	}
	m, err := s.Meeting(r.Context(), principalOf(r), chi.URLParam(r, "dialogue"), number)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Server) moveMeeting(w http.ResponseWriter, r *http.Request) error {
	number, err := meetingNumber(r)
	if err != nil {
		return err
	}
	var req MeetingMove
	if err := decode(w, r, &req); err != nil {
		return err
	}
	c, err := s.MoveMeeting(r.Context(), principalOf(r), chi.URLParam(r, "dialogue"), number, req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) cancelMeeting(w http.ResponseWriter, r *http.Request) error {
	number, err := meetingNumber(r)
	if err != nil {
		return err
	}
	c, err := s.CancelMeeting(r.Context(), principalOf(r), chi.URLParam(r, "dialogue"), number)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) listStatements(w http.ResponseWriter, r *http.Request) error {
	number, err := meetingNumber(r)
	if err != nil {
		return err
	}
	l, err := s.Statements(r.Context(), principalOf(r), chi.URLParam(r, "dialogue"), number)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, l)
}

func (s *Server) makeStatement(w http.ResponseWriter, r *http.Request) error {
	number, err := meetingNumber(r)
	if err != nil {
		return err
	}
	var req StatementRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	made, err := s.MakeStatement(r.Context(), principalOf(r), chi.URLParam(r, "dialogue"), number, req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, made)
}

func (s *Server) getMinutes(w http.ResponseWriter, r *http.Request) error {
	number, err := meetingNumber(r)
	if err != nil {
		return err
	}
	m, err := s.MeetingMinutes(r.Context(), principalOf(r), chi.URLParam(r, "dialogue"), number)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Server) putMinutes(w http.ResponseWriter, r *http.Request) error {
	number, err := meetingNumber(r)
	if err != nil {
		return err
	}
	var content lifecycle.MinutesContent
	if err := decode(w, r, &content); err != nil {
		return err
	}
	m, err := s.RecordMinutes(r.Context(), principalOf(r), chi.URLParam(r, "dialogue"), number, content)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Server) signMinutes(w http.ResponseWriter, r *http.Request) error {
	number, err := meetingNumber(r)
	if err != nil {
		return err
	}
	var req SignRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	m, err := s.SignMinutes(r.Context(), principalOf(r), chi.URLParam(r, "dialogue"), number, req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}
