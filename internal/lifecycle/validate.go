package lifecycle

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on what a proposal may hold, generous for real use. They do not
// by themselves keep a workflow's state inside Temporal's payload limits
// (240 milestones of 200 characters each, written as JSON escapes, are
// already megabytes): the byte budgets in budget.go do that.
const (
	maxParties       = 12
	maxTitle         = 200
	maxSummary       = 20000
	maxObjectives    = 50
	maxObjective     = 1000
	maxMilestones    = 240
	maxComment       = 4000
	maxEvidence      = 20
	maxURL           = 2048
	maxUnit          = 32
	maxPolicyWindow  = 2 * 366 * 24 * time.Hour
	maxReminderCount = 20
	// maxIdentity and maxRunStatus bound what Temporal says of a run
	// (a client's identity, a run ID, a status) as the audit keeps it.
	maxIdentity  = 200
	maxRunStatus = 32
	// maxRecipientCountries bounds the countries an activity is for.
	maxRecipientCountries = 20
)

// sectorPattern is an OECD DAC 5-digit purpose code, countryPattern an
// ISO 3166-1 alpha-2 code; which codes exist is the API's to check
// against the code lists, so a history decided here replays whatever
// those lists later become.
var (
	sectorPattern  = regexp.MustCompile(`^([0-9]{5})?$`)
	countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$`)

func checkID(field, v string) error {
	if v == "" {
		return invalid(field, "is required")
	}
	if !idPattern.MatchString(v) {
		return invalid(field, "%q must be 1 to 100 letters, digits, '_', '.', ':' or '-', starting with a letter or digit", v)
	}
	return nil
}

// CheckText reports why v cannot be stored and shown as text, or nil.
// Refused: invalid UTF-8 and NUL, which PostgreSQL cannot store in a text
// column; the other C0 control characters but tab, line feed and carriage
// return, which no person types and which XML 1.0 (the IATI exports)
// cannot carry; and U+FFFE and U+FFFF, which XML cannot carry either.
func CheckText(v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("is not valid UTF-8")
	}
	for i, r := range v {
		switch {
		case r == 0:
			return fmt.Errorf("contains a NUL character (U+0000) at byte %d", i)
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r':
			return fmt.Errorf("contains the control character U+%04X at byte %d", r, i)
		case r == 0xFFFE || r == 0xFFFF:
			return fmt.Errorf("contains the non-character U+%04X at byte %d", r, i)
		}
	}
	return nil
}

// outsideText makes text that comes from outside any form (what Temporal
// recorded of a request) storable, as CheckText wants it, and at most max
// runes: invalid bytes and refused characters become U+FFFD, and a longer
// text is cut, marked.
func outsideText(v string, max int) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	v = strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0xFFFE || r == 0xFFFF {
			return '\uFFFD'
		}
		return r
	}, v)
	return summarise(strings.TrimSpace(v), max)
}

// checkText validates a free-text field: text that can be stored (see
// CheckText), within max runes, and present when required.
func checkText(field, v string, max int, required bool) error {
	if err := CheckText(v); err != nil {
		return invalid(field, "%v", err)
	}
	if required && strings.TrimSpace(v) == "" {
		return invalid(field, "is required")
	}
	if n := utf8.RuneCountInString(v); n > max {
		return invalid(field, "is %d characters long; the limit is %d", n, max)
	}
	return nil
}

func checkNumber(field string, f *float64) error {
	if f != nil && (math.IsNaN(*f) || math.IsInf(*f, 0)) {
		return invalid(field, "must be a finite number")
	}
	return nil
}

// draft is the material content a Propose or Amend gives.
type draft struct {
	Title              Text
	Summary            Text
	Objectives         []Text
	Milestones         []MilestoneSpec
	Sector             string
	RecipientCountries []string
}

// builder validates a draft for the activity s. lang is the language of
// the actor's party, in which a plain-string text is written; base, for an
// amendment of an activity with languages, is the content the draft's
// texts are merged into.
type builder struct {
	s    *State
	lang string
	base *State
	now  time.Time
}

// buildContent validates proposed content against the activity's parties
// and returns it normalised, with its milestones resolved as far as they can
// be before activation, and its hash.
func (b builder) buildContent(in draft) (*Content, error) {
	title, err := b.text("title", in.Title, b.baseTitle(), maxTitle, true)
	if err != nil {
		return nil, err
	}
	summary, err := b.text("summary", in.Summary, b.baseSummary(), maxSummary, false)
	if err != nil {
		return nil, err
	}
	if len(in.Objectives) > maxObjectives {
		return nil, invalid("objectives", "at most %d objectives", maxObjectives)
	}
	objs := make([]Text, 0, len(in.Objectives))
	for i, o := range in.Objectives {
		var cur Text
		if b.base != nil && i < len(b.base.Objectives) {
			cur = b.base.Objectives[i]
		}
		o, err := b.text(fmt.Sprintf("objectives[%d]", i), o, cur, maxObjective, true)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	specs := in.Milestones
	if len(specs) == 0 {
		return nil, invalid("milestones", "an activity needs at least one milestone")
	}
	if len(specs) > maxMilestones {
		return nil, invalid("milestones", "at most %d milestones", maxMilestones)
	}
	ms := make([]Milestone, 0, len(specs))
	for i, spec := range specs {
		m, err := b.buildMilestone(i, spec)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(ms, func(o Milestone) bool { return o.ID == m.ID }) {
			return nil, invalid(fmt.Sprintf("milestones[%d].id", i), "milestone id %q is used twice", m.ID)
		}
		ms = append(ms, m)
	}
	sector, countries, err := checkClassification(in.Sector, in.RecipientCountries)
	if err != nil {
		return nil, err
	}
	c := &Content{Title: title, Summary: summary, Objectives: objs, Sector: sector, RecipientCountries: countries, Milestones: ms}
	c.Hash = contentHash(c)
	return c, nil
}

// checkClassification validates an activity's sector and recipient
// countries as codes of the right shape, and returns them trimmed.
func checkClassification(sector string, countries []string) (string, []string, error) {
	sector = strings.TrimSpace(sector)
	if sector != "" && !sectorPattern.MatchString(sector) {
		return "", nil, invalid("sector", "%q is not a DAC 5-digit purpose code such as 15190", sector)
	}
	if len(countries) > maxRecipientCountries {
		return "", nil, invalid("recipient_countries", "at most %d recipient countries", maxRecipientCountries)
	}
	var out []string
	for i, c := range countries {
		field := fmt.Sprintf("recipient_countries[%d]", i)
		c = strings.TrimSpace(c)
		if !countryPattern.MatchString(c) {
			return "", nil, invalid(field, "%q is not an ISO 3166-1 alpha-2 country code such as PA", c)
		}
		if slices.Contains(out, c) {
			return "", nil, invalid(field, "country %q is listed twice", c)
		}
		out = append(out, c)
	}
	return sector, out, nil
}

func (b builder) baseTitle() Text {
	if b.base == nil {
		return nil
	}
	return b.base.Title
}

func (b builder) baseSummary() Text {
	if b.base == nil {
		return nil
	}
	return b.base.Summary
}

// text validates one material text. Before languages it is one plain
// string; with languages, a plain string is the actor's language's text,
// merged into cur (an amendment's current text) and checked per language.
func (b builder) text(field string, t, cur Text, max int, required bool) (Text, error) {
	if len(b.s.Languages) == 0 {
		if langs := sortedKeys(t); len(langs) > 1 || (len(langs) == 1 && langs[0] != legacy) {
			return nil, invalid(field, "this activity was proposed before texts had languages: give the text as a plain string")
		}
		v := t[legacy]
		if !strings.HasSuffix(field, ".unit") {
			v = strings.TrimSpace(v) // as first released: units kept as given
		}
		if err := checkText(field, v, max, required); err != nil {
			return nil, err
		}
		return Plain(v), nil
	}
	s, plain := t[legacy]
	if plain && required && strings.TrimSpace(s) == "" {
		// A plain string is the caller's text, which a required field
		// needs; a language's text is removed in the keyed form.
		return nil, invalid(field, "is required")
	}
	t, ok := t.keyed(b.lang)
	if !ok {
		return nil, invalid(field, "the text is given both without a language and in %s", b.lang)
	}
	if b.base != nil {
		t = t.merged(cur)
	}
	out, err := checkLanguageText(field, t, b.s.Languages, max, required)
	if e, ok := err.(*Error); ok && plain && e.Field == field+"."+b.lang {
		e.Field = field // name the field as it was given: a plain string
	}
	return out, err
}

func (b builder) buildMilestone(i int, spec MilestoneSpec) (Milestone, error) {
	s, now := b.s, b.now
	f := func(name string) string { return fmt.Sprintf("milestones[%d].%s", i, name) }
	spec.ID = strings.TrimSpace(spec.ID)
	if spec.ID == "" {
		spec.ID = fmt.Sprintf("m%d", i+1)
	}
	if err := checkID(f("id"), spec.ID); err != nil {
		return Milestone{}, err
	}
	var cur MilestoneSpec
	if b.base != nil {
		if j := b.base.milestoneIndex(spec.ID); j >= 0 {
			cur = b.base.Milestones[j].MilestoneSpec
		}
	}
	title, err := b.text(f("title"), spec.Title, cur.Title, maxTitle, true)
	if err != nil {
		return Milestone{}, err
	}
	spec.Title = title
	switch spec.Horizon {
	case "", HorizonShort, HorizonMedium, HorizonLong:
	default:
		return Milestone{}, invalid(f("horizon"), "horizon must be short, medium or long, not %q", spec.Horizon)
	}
	if spec.Owner == "" {
		return Milestone{}, invalid(f("owner"), "is required")
	}
	if !s.hasParty(spec.Owner) {
		return Milestone{}, invalid(f("owner"), "party %q is not a party of this activity", spec.Owner)
	}
	spec.Due = strings.TrimSpace(spec.Due)
	due, err := ParseDue(spec.Due)
	if err != nil {
		return Milestone{}, invalid(f("due"), "%v", err)
	}
	if in := spec.Indicator; in != nil {
		if err := checkNumber(f("indicator.target"), &in.Target); err != nil {
			return Milestone{}, err
		}
		if err := checkNumber(f("indicator.baseline"), in.Baseline); err != nil {
			return Milestone{}, err
		}
		if in.Actual != nil {
			return Milestone{}, invalid(f("indicator.actual"), "the actual value is reported as progress once the activity runs")
		}
		var curUnit Text
		if cur.Indicator != nil {
			curUnit = cur.Indicator.Unit
		}
		unit, err := b.text(f("indicator.unit"), in.Unit, curUnit, maxUnit, false)
		if err != nil {
			return Milestone{}, err
		}
		spec.Indicator = in.clone()
		spec.Indicator.Unit = unit
	}
	m := Milestone{MilestoneSpec: spec, Status: MilestonePending, Term: spec.Horizon}
	if at, ok := due.ResolveRules(s.ownerLocation(spec.Owner), time.Time{}, s.Rules); ok {
		if !at.After(now) {
			return Milestone{}, invalid(f("due"), "the due time %s is in the past", at.Format(time.RFC3339))
		}
		m.DueAt = at
		if m.Term == "" {
			m.Term = deriveHorizon(now, at, s.Rules) // provisional until activation
		}
	} else if m.Term == "" {
		m.Term = deriveHorizon(now, due.Offset.AddToRules(now, s.Rules), s.Rules)
	}
	return m, nil
}

// contentHash is the SHA-256 of the material fields, in a fixed JSON form,
// so a resubmission of identical content is recognised as such.
func contentHash(c *Content) string {
	specs := make([]MilestoneSpec, len(c.Milestones))
	for i, m := range c.Milestones {
		specs[i] = m.MilestoneSpec
	}
	// Texts recorded before languages encode as the strings they were, so
	// their hashes are unchanged; texts with languages encode every
	// language, so a change to any of them is a new version. The
	// classification is left out when absent, as in content recorded
	// before it existed.
	enc, _ := json.Marshal(struct {
		Title              Text            `json:"title"`
		Summary            Text            `json:"summary"`
		Objectives         []Text          `json:"objectives"`
		Milestones         []MilestoneSpec `json:"milestones"`
		Sector             string          `json:"sector,omitempty"`
		RecipientCountries []string        `json:"recipient_countries,omitempty"`
	}{c.Title, c.Summary, c.Objectives, specs, c.Sector, c.RecipientCountries})
	sum := sha256.Sum256(enc)
	return hex.EncodeToString(sum[:])
}

func checkProgress(m Milestone, p Progress, complete bool) error {
	if !complete && len(p.Evidence) == 0 && p.Actual == nil && strings.TrimSpace(p.Note) == "" {
		return invalid("evidence", "a progress report needs evidence, an indicator reading or a note")
	}
	if len(p.Evidence) > maxEvidence {
		return invalid("evidence", "at most %d evidence links per report", maxEvidence)
	}
	for i, link := range p.Evidence {
		if err := checkURL(fmt.Sprintf("evidence[%d]", i), link); err != nil {
			return err
		}
	}
	if p.Actual != nil && m.Indicator == nil {
		return invalid("actual", "milestone %q has no indicator to report an actual value on", m.ID)
	}
	if err := checkNumber("actual", p.Actual); err != nil {
		return err
	}
	return checkText("note", p.Note, maxComment, false)
}

func checkURL(field, link string) error {
	if err := CheckText(link); err != nil {
		return invalid(field, "%v", err)
	}
	if utf8.RuneCountInString(link) > maxURL {
		return invalid(field, "link is longer than %d characters", maxURL)
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return invalid(field, "%q is not an http or https link", link)
	}
	return nil
}

// apply returns base with the overrides set, or an error naming the field
// out of range.
func (o PolicyOverrides) apply(base Policy) (Policy, error) {
	set := func(field string, dst *time.Duration, v *time.Duration, min time.Duration) error {
		if v == nil {
			return nil
		}
		if *v < min || *v > maxPolicyWindow {
			return invalid("policy."+field, "must be between %s and %s", FormatDuration(min), FormatDuration(maxPolicyWindow))
		}
		*dst = *v
		return nil
	}
	p := base
	for _, err := range []error{
		set("approval_window", &p.ApprovalWindow, o.ApprovalWindow, time.Second),
		set("approval_reminder_every", &p.ApprovalReminderEvery, o.ApprovalReminderEvery, time.Second),
		set("due_soon_lead", &p.DueSoonLead, o.DueSoonLead, 0),
		set("overdue_reminder_every", &p.OverdueReminderEvery, o.OverdueReminderEvery, time.Second),
	} {
		if err != nil {
			return Policy{}, err
		}
	}
	if o.OverdueReminders != nil {
		if *o.OverdueReminders < 0 || *o.OverdueReminders > maxReminderCount {
			return Policy{}, invalid("policy.overdue_reminders", "must be between 0 and %d", maxReminderCount)
		}
		p.OverdueReminders = *o.OverdueReminders
	}
	return p, nil
}

// location loads an IANA zone from the pinned, embedded zone database
// (LoadZone), so the answer is the same on every machine.
func location(name string) (*time.Location, error) { return LoadZone(name) }
