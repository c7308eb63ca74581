package lifecycle

// Limit is what the core accepts for one field of a command, stated in the
// terms of JSON Schema so that the API's OpenAPI document can say exactly
// the same thing. Lengths count characters (runes), as JSON Schema's
// maxLength does. A zero bound means none, except Minimum and Maximum,
// which are nil when there is none (zero is a real bound there).
type Limit struct {
	MinLength, MaxLength int
	MinItems, MaxItems   int
	Minimum, Maximum     *int64
	// Pattern is a regular expression (the same text in Go and in JSON
	// Schema) that the whole value must match.
	Pattern string
}

// IDPattern is the pattern of every id the core checks (dialogues,
// activities, milestones); the API and the database use it for the ids
// they check as well.
func IDPattern() string { return idPattern.String() }

// Limits returns the core's limits by field, named as in the API's request
// bodies: "title", "milestones[].title" for each milestone's title,
// "title{}" for each language's text of a title keyed by language,
// "policy.overdue_reminders". Fields shared by several commands (a
// decision's comment, a control's reason) appear once. The table is built
// from the same constants the validators use, so it cannot say something
// they do not do.
func Limits() map[string]Limit {
	bound := func(n int64) *int64 { return &n }
	// Required text is refused when blank, so it has at least one
	// character; the core trims surrounding spaces before it measures.
	return map[string]Limit{
		"dialogue":                    {Pattern: idPattern.String()},
		"parties":                     {MinItems: 2, MaxItems: maxParties},
		"title":                       {MinLength: 1, MaxLength: maxTitle},
		"summary":                     {MaxLength: maxSummary},
		"objectives":                  {MaxItems: maxObjectives},
		"objectives[]":                {MinLength: 1, MaxLength: maxObjective},
		"milestones":                  {MinItems: 1, MaxItems: maxMilestones},
		"milestones[].id":             {Pattern: idPattern.String()},
		"milestones[].title":          {MinLength: 1, MaxLength: maxTitle},
		"milestones[].owner":          {MinLength: 1},
		"milestones[].due":            {MinLength: 1},
		"milestones[].indicator.unit": {MaxLength: maxUnit},
		"policy.overdue_reminders":    {Minimum: bound(0), Maximum: bound(maxReminderCount)},
		"comment":                     {MaxLength: maxComment},
		"reason":                      {MinLength: 1, MaxLength: maxComment},
		"evidence":                    {MaxItems: maxEvidence},
		"evidence[]":                  {MaxLength: maxURL},
		"note":                        {MaxLength: maxComment},
		"new_due":                     {MinLength: 1},
		"sector":                      {Pattern: sectorPattern.String()},
		"recipient_countries":         {MaxItems: maxRecipientCountries},
		"recipient_countries[]":       {Pattern: countryPattern.String()},
		// A text keyed by language: each language's text ("{}"), and the
		// language tags, which dialogues name.
		"title{}":                       {MaxLength: maxTitle},
		"summary{}":                     {MaxLength: maxSummary},
		"objectives[]{}":                {MaxLength: maxObjective},
		"milestones[].title{}":          {MaxLength: maxTitle},
		"milestones[].indicator.unit{}": {MaxLength: maxUnit},
		"languages[]":                   {Pattern: languageTag.String()},
	}
}
