package delivery

import (
	"bytes"
	"cmp"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// Recipient is the person a notification is delivered to.
type Recipient struct {
	ID       string // principal ID
	Name     string // display name, used in the greeting and the To header
	Email    string // bare address, e.g. "ana@example.gob.pa"
	Language string // BCP 47 tag of the recipient's party, e.g. "es" or "en-US"
	TimeZone string // IANA zone of the recipient's party, e.g. "America/Panama"
}

// Message is a rendered notification, ready to be mailed.
type Message struct {
	Subject string // one line, no trailing newline
	Text    string // the plain-text body
	HTML    string // the HTML alternative of the same content
}

// events are the event types notify.AudienceOf and notify.MeetingAudienceOf
// tell someone about, in the order of an activity's life and then of a
// meeting's; each has a template in every language.
var events = []lifecycle.EventType{
	lifecycle.EventProposed,
	lifecycle.EventAmended,
	lifecycle.EventApprovalReminder,
	lifecycle.EventApproved,
	lifecycle.EventChangesRequested,
	lifecycle.EventDeclined,
	lifecycle.EventActivated,
	lifecycle.EventExpired,
	lifecycle.EventMilestoneDueSoon,
	lifecycle.EventMilestoneOverdue,
	lifecycle.EventMilestoneEscalated,
	lifecycle.EventMilestoneCompleted,
	lifecycle.EventCompleted,
	lifecycle.EventExtensionRequested,
	lifecycle.EventExtensionApproved,
	lifecycle.EventExtensionDeclined,
	lifecycle.EventSuspended,
	lifecycle.EventResumed,
	lifecycle.EventCancelled,
	lifecycle.EventMeetingDrafted,
	lifecycle.EventStatementReminder,
	lifecycle.EventMeetingMoved,
	lifecycle.EventMeetingCancelled,
	lifecycle.EventReportFrozen,
	lifecycle.EventMinutesRecorded,
	lifecycle.EventMinutesAdopted,
}

// meetingEvents are the events of a dialogue meeting's cycle, sent or not:
// their notices are about a meeting, not an activity.
var meetingEvents = []lifecycle.EventType{
	lifecycle.EventMeetingDrafted, lifecycle.EventStatementMade, lifecycle.EventStatementReminder,
	lifecycle.EventMeetingMoved, lifecycle.EventMeetingCancelled, lifecycle.EventReportFrozen,
	lifecycle.EventMinutesRecorded, lifecycle.EventMinutesSigned, lifecycle.EventMinutesAdopted,
}

// IsMeetingNotice reports whether notice n is about a dialogue meeting
// (its Title the dialogue's name, its page the meeting's) rather than an
// activity.
func IsMeetingNotice(n store.NotificationContent) bool {
	return n.Dialogue != "" || slices.Contains(meetingEvents, n.Event)
}

// Events returns the event types Render has templates for.
func Events() []lifecycle.EventType { return slices.Clone(events) }

// Supported reports whether Render has a template for event type t.
func Supported(t lifecycle.EventType) bool { return slices.Contains(events, t) }

// languages are the languages with templates; the first is the fallback.
var languages = []string{"en", "es"}

//go:embed templates/*.tmpl
var templateFS embed.FS

// templateSet is one language's templates. Each holds the language's
// wording (templates/<lang>.tmpl: each event's "<event>.subject" and
// "<event>.intro", a meeting's name, the greeting, labels and footer, and
// the daily digest's "digest.*") with one shared layout: the text set with
// "text" and "digest.text" (layout.txt.tmpl, text/template), the HTML set with "html"
// and "digest.html" (layout.html.tmpl, html/template, which escapes). Keeping the
// wording in one file per language means a translator edits one file and
// the plain-text and HTML parts cannot drift apart.
type templateSet struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// loadTemplates parses the embedded templates once. It returns an error
// rather than panicking so that a broken template fails the render (and
// the tests) instead of the whole worker at start-up.
var loadTemplates = sync.OnceValues(func() (map[string]templateSet, error) {
	sets := make(map[string]templateSet, len(languages))
	var missing []string
	for _, lang := range languages {
		words := "templates/" + lang + ".tmpl"
		tt, err := texttemplate.ParseFS(templateFS, words, "templates/layout.txt.tmpl")
		if err != nil {
			return nil, fmt.Errorf("parse %s text templates: %w", lang, err)
		}
		ht, err := htmltemplate.ParseFS(templateFS, words, "templates/layout.html.tmpl")
		if err != nil {
			return nil, fmt.Errorf("parse %s HTML templates: %w", lang, err)
		}
		for _, e := range events {
			for _, part := range []string{".subject", ".intro"} {
				if tt.Lookup(string(e)+part) == nil {
					missing = append(missing, lang+":"+string(e)+part)
				}
			}
		}
		for _, name := range []string{"text", "digest.subject", "digest.intro", "digest.more", "digest.footer", "digest.text",
			"meeting", "the meeting", "meeting.when", "label.dialogue", "label.meeting", "label.agenda"} {
			if tt.Lookup(name) == nil {
				missing = append(missing, lang+":"+name)
			}
		}
		for _, name := range []string{"html", "digest.html"} {
			if ht.Lookup(name) == nil {
				missing = append(missing, lang+":"+name)
			}
		}
		sets[lang] = templateSet{text: tt, html: ht}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("templates missing: %s", strings.Join(missing, ", "))
	}
	return sets, nil
})

// view is what the templates see. Times are already formatted in the
// recipient's zone, so the templates never touch a time.Time.
type view struct {
	Event      string
	Lang       string // "en" or "es"
	Name       string // recipient's name, for the greeting
	ActivityID string
	Title      string // the activity's title, or a meeting's dialogue's name
	Actor      string // the actor's name (or ID); empty when the clock caused the event
	// InTemporal is set when an operator acted in Temporal itself (the
	// Temporal actor): no person of Pacto's to name.
	InTemporal bool
	Party      string // the party's name (or code)
	Version    int
	Milestone  string // the milestone's title (or ID)
	Extension  string
	Due        string // empty when the event has no due time
	At         string
	Notice     int
	Parties    string // "Panamá, United States"
	Comment    string
	Link       string // empty without a baseURL
	Subject    string // filled before the bodies are rendered
	Intro      string // filled before the bodies are rendered

	// A dialogue meeting's notice: Title is the dialogue's name and Due,
	// when set, when statements close.
	IsMeeting  bool
	Dialogue   string
	Meeting    int    // the meeting's number; 0 when unknown
	MeetingAt  string // the meeting's time, in the reader's zone
	MeetingDay string // its date alone, for a subject
	DueDay     string // Due's date alone, for a subject
	Digest     string // the report's SHA-256
	Agenda     []agendaLine
}

// agendaLine is one activity a meeting reviews, titled in the reader's
// language.
type agendaLine struct {
	ActivityID string
	Title      string
	Link       string // empty without a baseURL
}

// Render turns notification n into the message recipient r reads: in r's
// language (Spanish or English, English for anything else), with every
// time in r's zone and the zone named, and, when baseURL is set (for
// example "https://pacto.example.org"), a link to the activity's page in
// the console, <baseURL>/activities/<id>, or for a meeting's notice to
// the meeting's, <baseURL>/dialogues/<dialogue>/meetings/<n>. A meeting's
// agenda lists each activity with its title in r's language (another it
// has when it lacks r's). An event type without a
// template returns an error wrapping ErrUnsupportedEvent; like a bad
// baseURL, it is permanent.
func Render(n store.NotificationContent, r Recipient, baseURL string) (Message, error) {
	sets, err := loadTemplates()
	if err != nil {
		return Message{}, permanent(fmt.Errorf("render %s/%d: %w", noticeOf(n), n.Seq, err))
	}
	lang := language(r.Language)
	set := sets[lang]
	v, err := noticeView(set, n, r, lang, location(r.TimeZone), baseURL)
	if err != nil {
		return Message{}, err
	}
	text, err := execText(set, "text", v)
	if err != nil {
		return Message{}, permanent(fmt.Errorf("render %s/%d: %w", noticeOf(n), n.Seq, err))
	}
	html, err := execHTML(set, "html", v)
	if err != nil {
		return Message{}, permanent(fmt.Errorf("render %s/%d: %w", noticeOf(n), n.Seq, err))
	}
	return Message{Subject: v.Subject, Text: text, HTML: html}, nil
}

// noticeView is what the templates say of notice n to reader r, with its
// subject and intro written in lang.
func noticeView(set templateSet, n store.NotificationContent, r Recipient, lang string, loc *time.Location, baseURL string) (view, error) {
	if !Supported(n.Event) {
		return view{}, permanent(fmt.Errorf("render %s/%d: %w: %q", noticeOf(n), n.Seq, ErrUnsupportedEvent, n.Event))
	}
	v := view{
		Event:      string(n.Event),
		Lang:       lang,
		Name:       oneLine(r.Name),
		ActivityID: n.Activity,
		// The texts in the reader's language, where the activity has it.
		Title:     oneLine(n.Title.In(r.Language, lang)),
		Party:     oneLine(cmp.Or(n.PartyName, string(n.Party))),
		Version:   n.Version,
		Milestone: oneLine(cmp.Or(n.MilestoneTitle.In(r.Language, lang), n.Milestone)),
		Extension: n.Extension,
		Notice:    n.Notice,
		Parties:   strings.Join(lifecycle.Codes(n.Parties), ", "),
		Comment:   strings.TrimSpace(n.Comment),
	}
	if len(n.PartyNames) == len(n.Parties) && len(n.Parties) > 0 {
		v.Parties = oneLine(strings.Join(n.PartyNames, ", "))
	}
	switch n.Actor {
	case lifecycle.ClockActor:
	case lifecycle.TemporalActor:
		v.InTemporal = true
	default:
		// People are named as people read them: "Ana Pérez (Panamá)",
		// not "PA (pa-coordinator)".
		v.Actor = oneLine(cmp.Or(n.ActorName, n.Actor))
	}
	if !n.At.IsZero() {
		v.At = formatTime(n.At, loc, lang)
	}
	if n.Due != nil && !n.Due.IsZero() {
		v.Due = formatTime(*n.Due, loc, lang)
	}
	var err error
	if IsMeetingNotice(n) {
		if err = meetingView(&v, n, r, lang, loc, baseURL); err != nil {
			return view{}, permanent(fmt.Errorf("render %s/%d: %w", noticeOf(n), n.Seq, err))
		}
	}
	if baseURL != "" {
		path, err := ConsolePath(n)
		if err == nil {
			v.Link, err = consoleLink(baseURL, path)
		}
		if err != nil {
			return view{}, permanent(fmt.Errorf("render %s/%d: %w", noticeOf(n), n.Seq, err))
		}
	}
	if v.Subject, err = execText(set, string(n.Event)+".subject", v); err != nil {
		return view{}, permanent(fmt.Errorf("render %s/%d: %w", noticeOf(n), n.Seq, err))
	}
	v.Subject = oneLine(v.Subject)
	if v.Intro, err = execText(set, string(n.Event)+".intro", v); err != nil {
		return view{}, permanent(fmt.Errorf("render %s/%d: %w", noticeOf(n), n.Seq, err))
	}
	v.Intro = strings.TrimSpace(v.Intro)
	return v, nil
}

// noticeOf names what notice n is about, for errors: its activity, or its
// meeting's audit chain.
func noticeOf(n store.NotificationContent) string {
	if IsMeetingNotice(n) {
		return lifecycle.MeetingChain(n.Dialogue, n.Meeting)
	}
	return n.Activity
}

// meetingView fills in what v says of meeting notice n.
func meetingView(v *view, n store.NotificationContent, r Recipient, lang string, loc *time.Location, baseURL string) error {
	v.IsMeeting, v.Dialogue, v.Meeting, v.Digest = true, n.Dialogue, n.Meeting, oneLine(n.Digest)
	at, due := n.MeetingAt, n.Due
	if at == nil && n.Event == lifecycle.EventMeetingMoved {
		// A move may carry the new time as its Due only.
		at, due = due, nil
	}
	if at != nil && due != nil && at.Equal(*due) {
		// Due is when statements close; the meeting's own time is not.
		due = nil
	}
	v.Due = ""
	if at != nil && !at.IsZero() {
		v.MeetingAt, v.MeetingDay = formatTime(*at, loc, lang), formatDate(*at, loc, lang)
	}
	if due != nil && !due.IsZero() {
		v.Due, v.DueDay = formatTime(*due, loc, lang), formatDate(*due, loc, lang)
	}
	for _, a := range n.Agenda {
		line := agendaLine{ActivityID: a.Activity, Title: oneLine(cmp.Or(a.Title.In(r.Language, lang), a.Activity))}
		if baseURL != "" && a.Activity != "" {
			var err error
			if line.Link, err = consoleLink(baseURL, pagePath("activities", a.Activity)); err != nil {
				return err
			}
		}
		v.Agenda = append(v.Agenda, line)
	}
	return nil
}

// digestView is what the digest's templates see.
type digestView struct {
	Lang    string
	Name    string // recipient's name, for the greeting
	Count   int    // every notice the digest covers, More included
	Through string // the digest's time, in the reader's zone
	Notices []digestItem
	More    int // notices left out of the list; the inbox has them
	Subject string
	Intro   string
}

// digestItem is one notice of a digest, numbered from 1.
type digestItem struct {
	view
	Number int
}

// RenderDigest turns digest d into the one message recipient r reads,
// listing each notice as its own mail would say it (its subject and
// sentence, in r's language, with the people's names, the activity's title
// in r's language and every time in r's zone, named) with the time it
// happened and, when baseURL is set, a link to its activity. Its errors
// are permanent, as Render's.
func RenderDigest(d store.DigestContent, r Recipient, baseURL string) (Message, error) {
	sets, err := loadTemplates()
	if err != nil {
		return Message{}, permanent(fmt.Errorf("render digest: %w", err))
	}
	lang := language(r.Language)
	set := sets[lang]
	loc := location(r.TimeZone)
	v := digestView{Lang: lang, Name: oneLine(r.Name), Count: len(d.Notices) + d.More, More: d.More}
	if !d.Through.IsZero() {
		v.Through = formatTime(d.Through, loc, lang)
	}
	for i, n := range d.Notices {
		item, err := noticeView(set, n, r, lang, loc, baseURL)
		if err != nil {
			return Message{}, err
		}
		v.Notices = append(v.Notices, digestItem{view: item, Number: i + 1})
	}
	if v.Subject, err = execText(set, "digest.subject", v); err != nil {
		return Message{}, permanent(fmt.Errorf("render digest: %w", err))
	}
	v.Subject = oneLine(v.Subject)
	if v.Intro, err = execText(set, "digest.intro", v); err != nil {
		return Message{}, permanent(fmt.Errorf("render digest: %w", err))
	}
	v.Intro = strings.TrimSpace(v.Intro)
	text, err := execText(set, "digest.text", v)
	if err != nil {
		return Message{}, permanent(fmt.Errorf("render digest: %w", err))
	}
	html, err := execHTML(set, "digest.html", v)
	if err != nil {
		return Message{}, permanent(fmt.Errorf("render digest: %w", err))
	}
	return Message{Subject: v.Subject, Text: text, HTML: html}, nil
}

func execText(set templateSet, name string, data any) (string, error) {
	var buf bytes.Buffer
	if err := set.text.ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return buf.String(), nil
}

func execHTML(set templateSet, name string, data any) (string, error) {
	var buf bytes.Buffer
	if err := set.html.ExecuteTemplate(&buf, name, data); err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return buf.String(), nil
}

// language picks the template language for a BCP 47 tag ("es", "es-PA",
// "es_419", "EN"): its primary subtag if there are templates for it,
// English otherwise.
func language(tag string) string {
	primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	primary, _, _ = strings.Cut(primary, "_")
	if slices.Contains(languages, primary) {
		return primary
	}
	return languages[0]
}

// location loads zone name from the core's pinned zone database, so a
// mail names the same local time the core resolved the due time in,
// falling back to UTC for an empty or unknown name. A bad zone in a party's
// settings should not stop its people from being told; UTC is named in the
// message, so the time stays unambiguous.
func location(name string) *time.Location {
	loc, err := lifecycle.LoadZone(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

var (
	spanishWeekdays = [...]string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}
	spanishMonths   = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
)

// formatTime writes t in zone loc as each reader's locale writes it
// (CLDR's long date and 12-hour time for es-PA and en-US, which both use
// it), followed by the zone's name: "Monday, March 15, 2027, 5:00 PM
// (America/New_York)" or "lunes, 15 de marzo de 2027, 4:00 p. m.
// (America/Panama)". Spelling out the weekday and month avoids the 03/04
// day-month ambiguity between the two audiences; the Spanish names are
// written here rather than pulled from a locale library.
// FormatTime writes t as a reader of lang (es or en) reads it, in zone,
// named: "lunes, 15 de marzo de 2027, 4:00 p. m. (America/Panama)". An
// unknown zone is UTC, and a language other than es is en.
func FormatTime(t time.Time, zone, lang string) string {
	return formatTime(t, location(zone), language(lang))
}

// formatDate writes t's date in zone loc, as formatTime does without the
// time: "lunes, 15 de marzo de 2027", "Monday, March 15, 2027".
func formatDate(t time.Time, loc *time.Location, lang string) string {
	t = t.In(loc)
	if lang == "es" {
		return fmt.Sprintf("%s, %d de %s de %d", spanishWeekdays[t.Weekday()], t.Day(), spanishMonths[t.Month()-1], t.Year())
	}
	return t.Format("Monday, January 2, 2006")
}

func formatTime(t time.Time, loc *time.Location, lang string) string {
	t = t.In(loc)
	zone := loc.String()
	hour := t.Hour() % 12
	if hour == 0 {
		hour = 12
	}
	if lang == "es" {
		half := "a. m."
		if t.Hour() >= 12 {
			half = "p. m."
		}
		return fmt.Sprintf("%s, %d de %s de %d, %d:%02d %s (%s)",
			spanishWeekdays[t.Weekday()], t.Day(), spanishMonths[t.Month()-1], t.Year(), hour, t.Minute(), half, zone)
	}
	return t.Format("Monday, January 2, 2006, 3:04 PM") + " (" + zone + ")"
}

// ConsolePath is the path of the console's page for what notice n is
// about, each id escaped as one path segment so that no id can point it
// anywhere else: /activities/<id>, or for a dialogue meeting's notice
// /dialogues/<dialogue>/meetings/<n>. It is what a person opens from a
// mail or the inbox (the API's JSON needs a token). A notice without the
// ids its page needs is an error wrapping ErrInvalidInput.
func ConsolePath(n store.NotificationContent) (string, error) {
	if IsMeetingNotice(n) {
		if n.Dialogue == "" || n.Meeting <= 0 {
			return "", fmt.Errorf("%w: a meeting's notification needs its dialogue and meeting number for a link", ErrInvalidInput)
		}
		return pagePath("dialogues", n.Dialogue, "meetings", strconv.Itoa(n.Meeting)), nil
	}
	if n.Activity == "" {
		return "", fmt.Errorf("%w: notification has no activity id", ErrInvalidInput)
	}
	return pagePath("activities", n.Activity), nil
}

// pagePath joins segments, none empty, into an absolute path, each
// escaped as one segment.
func pagePath(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		seg := url.PathEscape(s)
		// "." and ".." survive PathEscape but would be resolved by a browser.
		if seg == "." || seg == ".." {
			seg = strings.ReplaceAll(seg, ".", "%2E")
		}
		b.WriteString("/" + seg)
	}
	return b.String()
}

// consoleLink is path on the console at baseURL.
func consoleLink(baseURL, path string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return "", fmt.Errorf("%w: base URL: %v", ErrInvalidInput, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: base URL %q must be an absolute http or https URL", ErrInvalidInput, baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%w: base URL %q must not carry a query, fragment or user", ErrInvalidInput, baseURL)
	}
	return strings.TrimRight(u.String(), "/") + path, nil
}

// oneLine collapses runs of whitespace, line breaks included, so that a
// title can sit in a subject or a sentence without breaking it.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
