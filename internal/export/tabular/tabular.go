// Package tabular writes cooperation activities as spreadsheets: CSV
// (RFC 4180, UTF-8) and Excel workbooks. Each milestone is a row carrying
// its activity's columns; an activity without milestones is one row with
// the milestone's columns empty. Headers and the words in cells are in the
// reader's language (Spanish or English), times in the reader's zone, and
// activities are read from the store a page at a time, so an export never
// holds more than one page of them.
package tabular

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// Options say for whom an export is written.
type Options struct {
	// Lang is the reader's language tag. Texts are given in it (else in
	// the proposer's language); headers and words are Spanish when it is
	// Spanish, else English.
	Lang string
	// Zone is the zone times are shown in (UTC when nil); headers name it.
	Zone *time.Location
	// Now is the time milestones are judged at (due soon, overdue).
	Now time.Time
	// Comma separates CSV fields: ',' (the default) or ';'.
	Comma rune
	// BOM starts a CSV with a UTF-8 byte-order mark, which spreadsheet
	// programs need to read its accents as UTF-8.
	BOM bool
}

func (o Options) zone() *time.Location {
	if o.Zone == nil {
		return time.UTC
	}
	return o.Zone
}

// words is the language of headers and cell words: es or en.
func (o Options) words() string { return language(o.Lang) }

// language is the language, es or en, an export is worded in for a reader
// of tag.
func language(tag string) string {
	if primary, _, _ := strings.Cut(strings.ToLower(tag), "-"); primary == "es" {
		return "es"
	}
	return "en"
}

// pageSize is how many activities a Source reads at a time (a variable so
// a test can cross pages with a few activities).
var pageSize = 200

// Source pages through the activities a filter selects, in the activity
// list's order (newest proposal first).
type Source struct {
	store  *store.Store
	filter store.Filter
	done   bool
	// frames caches dialogues, for activities proposed before texts had
	// languages.
	frames map[string]store.DialogueFrame
}

// NewSource reads the activities f selects from st; f's page size and
// cursor are the Source's own.
func NewSource(st *store.Store, f store.Filter) *Source {
	f.Limit, f.After = pageSize, nil
	return &Source{store: st, filter: f, frames: map[string]store.DialogueFrame{}}
}

// Nothing is a Source without activities, for a reader who may see none.
func Nothing() *Source { return &Source{done: true} }

// next returns the next page, or none once every page has been read.
func (s *Source) next(ctx context.Context) ([]lifecycle.State, error) {
	if s.done {
		return nil, nil
	}
	page, cursor, err := s.store.ListActivities(ctx, s.filter)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	s.filter.After, s.done = cursor, cursor == nil
	for i, st := range page {
		if page[i], err = s.withLanguages(ctx, st); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// withLanguages shows an activity proposed before texts had languages as
// the API does: its texts keyed by its proposer's language.
func (s *Source) withLanguages(ctx context.Context, st lifecycle.State) (lifecycle.State, error) {
	if len(st.Languages) > 0 || st.Dialogue == "" {
		return st, nil
	}
	frame, ok := s.frames[st.Dialogue]
	if !ok {
		var err error
		frame, err = s.store.DialogueFrame(ctx, st.Dialogue)
		if errors.Is(err, store.ErrNotFound) {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("export: languages of dialogue %s: %w", st.Dialogue, err)
		}
		s.frames[st.Dialogue] = frame
	}
	return st.WithLanguages(frame.Parties, frame.Languages), nil
}

// kind is what a column holds, which decides how a cell is written.
type kind uint8

const (
	kindText   kind = iota // written by people, or a word of ours
	kindNumber             // a number
	kindTime               // an instant, shown in the reader's zone
)

// column is one column of the export.
type column struct {
	key   string
	kind  kind
	width float64 // in characters, for the workbook
}

// columns are the export's columns, in order: the activity's, then the
// milestone's.
var columns = []column{
	{"activity", kindText, 34},
	{"dialogue", kindText, 14},
	{"parties", kindText, 10},
	{"proposer_party", kindText, 10},
	{"status", kindText, 12},
	{"title", kindText, 40},
	{"version", kindNumber, 9},
	{"pending", kindText, 12},
	{"proposed_at", kindTime, 22},
	{"activated_at", kindTime, 22},
	{"closed_at", kindTime, 22},
	{"milestone", kindText, 12},
	{"milestone_title", kindText, 40},
	{"owner", kindText, 10},
	{"term", kindText, 14},
	{"due", kindTime, 22},
	{"state", kindText, 12},
	{"completed_at", kindTime, 22},
	{"unit", kindText, 14},
	{"baseline", kindNumber, 10},
	{"target", kindNumber, 10},
	{"actual", kindNumber, 10},
}

// header is the header row for o: each column's name in o's language, a
// time column's with the zone its times are in.
func header(o Options) []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = word(o.words(), "col."+c.key)
		if c.kind == kindTime {
			out[i] += " (" + o.zone().String() + ")"
		}
	}
	return out
}

// cell is one value of a row; an unset cell is empty.
type cell struct {
	set  bool
	text string
	num  float64
	at   time.Time
}

func textCell(s string) cell { return cell{set: s != "", text: s} }

func numberCell(n float64) cell { return cell{set: true, num: n} }

func numberOf(n *float64) cell {
	if n == nil {
		return cell{}
	}
	return numberCell(*n)
}

func timeCell(t time.Time) cell { return cell{set: !t.IsZero(), at: t} }

// rows are the rows of one activity for o: one per milestone, or one
// with the milestone's columns empty when it has none.
func rows(st lifecycle.State, o Options) [][]cell {
	lang := o.words()
	// A reader whose language the activity lacks reads its proposer's.
	fallback, _ := st.LanguageOf(st.ProposerParty)
	parties := make([]string, len(st.Parties))
	for i, p := range st.Parties {
		parties[i] = string(p.Code)
	}
	activity := []cell{
		textCell(st.ID),
		textCell(st.Dialogue),
		textCell(strings.Join(parties, ", ")),
		textCell(string(st.ProposerParty)),
		textCell(word(lang, "status."+string(st.Status))),
		textCell(st.Title.In(o.Lang, fallback)),
		numberCell(float64(st.Version)),
		textCell(strings.Join(lifecycle.Codes(lifecycle.PendingParties(st)), ", ")),
		timeCell(st.ProposedAt),
		timeCell(st.ActivatedAt),
		timeCell(st.ClosedAt),
	}
	if len(st.Milestones) == 0 {
		return [][]cell{append(activity, make([]cell, len(columns)-len(activity))...)}
	}
	out := make([][]cell, 0, len(st.Milestones))
	for _, m := range st.Milestones {
		row := append(append(make([]cell, 0, len(columns)), activity...),
			textCell(m.ID),
			textCell(m.Title.In(o.Lang, fallback)),
			textCell(string(m.Owner)),
			termCell(lang, m.Term),
			timeCell(m.DueAt),
			textCell(word(lang, "state."+milestoneState(st.Policy, m, o.Now))),
			timeCell(m.CompletedAt),
		)
		if in := m.Indicator; in != nil {
			row = append(row, textCell(in.Unit.In(o.Lang, fallback)), numberOf(in.Baseline), numberCell(in.Target), numberOf(in.Actual))
		} else {
			row = append(row, cell{}, cell{}, cell{}, cell{})
		}
		out = append(out, row)
	}
	return out
}

func termCell(lang string, t lifecycle.Horizon) cell {
	if t == "" {
		return cell{}
	}
	return textCell(word(lang, "term."+string(t)))
}

// milestoneState is where a milestone stands at now, as the console
// says it: not started (its activity is not active yet), open, due soon,
// overdue or completed.
func milestoneState(p lifecycle.Policy, m lifecycle.Milestone, now time.Time) string {
	switch m.Status {
	case lifecycle.MilestonePending:
		return "not_started"
	case lifecycle.MilestoneCompleted:
		return "completed"
	}
	switch lifecycle.MilestoneColour(p, m, now) {
	case lifecycle.ColourRed:
		return "overdue"
	case lifecycle.ColourAmber:
		return "due_soon"
	}
	return "open"
}

// eachRow calls fn with every row of every activity src yields, a page at
// a time.
func eachRow(ctx context.Context, src *Source, o Options, fn func([]cell) error) error {
	for {
		page, err := src.next(ctx)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, st := range page {
			for _, row := range rows(st, o) {
				if err := fn(row); err != nil {
					return err
				}
			}
		}
	}
}
