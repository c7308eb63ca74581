package api

import (
	"regexp"

	"pacto/internal/lifecycle"
)

// The bounds the API's own validators enforce, beyond the core's. Lengths
// count characters (runes), as JSON Schema's maxLength does.
const (
	// maxName bounds the names of parties, dialogues and principals, like
	// an activity's title.
	maxName = 200
	// maxTimeZone is ample for any IANA zone name (the longest are about
	// 32 characters).
	maxTimeZone = 64
	// maxEmail is the longest address SMTP can carry (RFC 5321 §4.5.3.1.3).
	maxEmail = 254
	// maxTokenName bounds a token's label.
	maxTokenName = 200
	// maxWebhookURL matches the limit on evidence links.
	maxWebhookURL = 2048
	// Pages of lists hold minPageLimit to maxPageLimit items.
	minPageLimit     = 1
	maxPageLimit     = 200
	defaultPageLimit = 50
	// maxIdempotencyKey bounds the Idempotency-Key header.
	maxIdempotencyKey = 200
	// A daily digest is sent at a whole hour of the reader's day.
	minDigestHour = 0
	maxDigestHour = 23
	// maxIssuer bounds an OpenID Connect issuer URL, like a webhook's.
	maxIssuer = 2048
	// maxSubject is OpenID Connect's own bound on a subject (Core §2).
	maxSubject = 255
)

// The patterns of the ids the API checks. Each is also a CHECK in the
// database, so the text must stay the same there; the tests compare both
// with the OpenAPI document.
const (
	partyCodeRE   = `^[A-Z][A-Z0-9_-]{0,15}$`
	principalIDRE = `^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$`
	// emailRE asks only for one '@' with something on either side and no
	// spaces: the mail server is the judge of the rest. The classes are
	// spelled out because \s differs between Go and JSON Schema's regexps.
	emailRE = `^[^@ \t\r\n]+@[^@ \t\r\n]+$`
	// localTimeRE is a meeting's local time; time.Parse then checks the
	// date is real.
	localTimeRE = `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$`
)

var (
	partyCodePattern   = regexp.MustCompile(partyCodeRE)
	dialogueIDPattern  = regexp.MustCompile(lifecycle.IDPattern())
	principalIDPattern = regexp.MustCompile(principalIDRE)
	emailPattern       = regexp.MustCompile(emailRE)
)

// SchemaLimits returns every bound the server enforces on a request, keyed
// by where the OpenAPI document states it: "Schema.property" for a
// component schema's property ("[]" for a list's items, ".sub" for an
// inline object's property), "parameters.Name" for a component parameter
// and "METHOD /path name" for a parameter declared on an operation. The
// values come from the validators' own constants, the core's included, so
// a test can hold the document to exactly these.
func SchemaLimits() map[string]lifecycle.Limit {
	core := lifecycle.Limits()
	out := map[string]lifecycle.Limit{}
	from := func(schema string, fields map[string]string) {
		for prop, field := range fields {
			l, ok := core[field]
			if !ok {
				panic("lifecycle.Limits has no " + field) // a typo in the table below
			}
			out[schema+"."+prop] = l
		}
	}
	content := map[string]string{
		"title": "title", "summary": "summary", "objectives": "objectives", "objectives[]": "objectives[]",
		"milestones": "milestones",
	}
	// Texts are a string (the caller's language) or an object keyed by
	// language: "{}" is each language's text, "{key}" the language tag.
	for prop, field := range map[string]string{"title": "title", "summary": "summary", "objectives[]": "objectives[]"} {
		content[prop+"{}"] = field + "{}"
		content[prop+"{key}"] = "languages[]"
	}
	from("ProposeRequest", content)
	from("ProposeRequest", map[string]string{"dialogue": "dialogue", "parties": "parties"})
	from("AmendRequest", content)
	classification := map[string]string{"sector": "sector", "recipient_countries": "recipient_countries", "recipient_countries[]": "recipient_countries[]"}
	from("ProposeRequest", classification)
	from("AmendRequest", classification)
	from("MilestoneInput", map[string]string{
		"id": "milestones[].id", "title": "milestones[].title", "owner": "milestones[].owner", "due": "milestones[].due",
	})
	from("MilestoneInput", map[string]string{"title{}": "milestones[].title{}", "title{key}": "languages[]"})
	from("IndicatorInput", map[string]string{"unit": "milestones[].indicator.unit",
		"unit{}": "milestones[].indicator.unit{}", "unit{key}": "languages[]"})
	from("PolicyInput", map[string]string{"overdue_reminders": "policy.overdue_reminders"})
	from("DecisionRequest", map[string]string{"comment": "comment"})
	from("ExtensionDecisionRequest", map[string]string{"comment": "comment"})
	from("ReasonRequest", map[string]string{"reason": "reason"})
	from("ExtensionRequest", map[string]string{"reason": "reason", "new_due": "new_due"})
	from("ProgressRequest", map[string]string{"evidence": "evidence", "evidence[]": "evidence[]", "note": "note"})

	name := lifecycle.Limit{MinLength: 1, MaxLength: maxName}
	for k, l := range map[string]lifecycle.Limit{
		"Party.code":                                  {Pattern: partyCodeRE},
		"Party.name":                                  name,
		"Party.time_zone":                             {MinLength: 1, MaxLength: maxTimeZone},
		"Dialogue.id":                                 {Pattern: dialogueIDPattern.String()},
		"Dialogue.name":                               name,
		"Dialogue.parties":                            {MinItems: 2},
		"PrincipalInput.id":                           {Pattern: principalIDRE},
		"PrincipalInput.name":                         name,
		"PrincipalInput.email":                        {MaxLength: maxEmail, Pattern: emailRE},
		"PrincipalInput.roles":                        {MinItems: 1},
		"TokenRequest.principal":                      {MinLength: 1},
		"IdentityRequest.issuer":                      {MinLength: 1, MaxLength: maxIssuer},
		"IdentityRequest.subject":                     {MinLength: 1, MaxLength: maxSubject},
		"TokenRequest.name":                           {MaxLength: maxTokenName},
		"WebhookRequest.id":                           {Pattern: dialogueIDPattern.String()},
		"WebhookRequest.url":                          {MaxLength: maxWebhookURL},
		"WebhookRequest.parties[]":                    {Pattern: partyCodeRE},
		"DecisionRequest.version":                     {Minimum: ptr64(1)},
		"PublicationRequest.version":                  {Minimum: ptr64(1)},
		"PartyIATIRequest.org_ref":                    {MaxLength: maxOrgRef, Pattern: orgRefRE},
		"Party.iati_org_ref":                          {MaxLength: maxOrgRef, Pattern: orgRefRE},
		"DialogueIATIRequest.reporting_party":         {Pattern: partyCodeRE},
		"DialogueIATIRequest.sector":                  {Pattern: sectorRE},
		"DialogueIATIRequest.recipient_countries":     {MaxItems: maxCountry},
		"DialogueIATIRequest.recipient_countries[]":   {Pattern: countryRE},
		"Dialogue.iati_reporting_party":               {Pattern: partyCodeRE},
		"Dialogue.iati_sector":                        {Pattern: sectorRE},
		"Dialogue.iati_recipient_countries":           {MaxItems: maxCountry},
		"Dialogue.iati_recipient_countries[]":         {Pattern: countryRE},
		"Calendar.first":                              {Pattern: localTimeRE},
		"Calendar.every":                              {Minimum: ptr64(minMeetingEvery), Maximum: ptr64(maxMeetingEvery)},
		"Calendar.hosts":                              {MinItems: 1},
		"Calendar.dates":                              {MaxItems: maxMeetingDates},
		"Calendar.dates[]":                            {Pattern: localTimeRE},
		"Calendar.moved{}":                            {Pattern: localTimeRE},
		"GET /v1/dialogues/{dialogue}/meetings limit": {Minimum: ptr64(1), Maximum: ptr64(maxMeetingDates)},
		"MeetingMove.local":                           {Pattern: localTimeRE},
		"SignRequest.version":                         {Minimum: ptr64(1)},
		"MinutesContent.decisions":                    {MaxItems: lifecycle.MaxMinutesItems},
		"MinutesContent.follow_ups":                   {MaxItems: lifecycle.MaxMinutesItems},
		"MinutesContent.new_activities":               {MaxItems: lifecycle.MaxMinutesItems},
		"NotificationPreferences.digest_hour":         {Minimum: ptr64(minDigestHour), Maximum: ptr64(maxDigestHour)},
		"parameters.Limit":                            {Minimum: ptr64(minPageLimit), Maximum: ptr64(maxPageLimit)},
		"parameters.IdempotencyKey":                   {MaxLength: maxIdempotencyKey},
		"parameters.IdempotencyKeyCreate":             {MaxLength: maxIdempotencyKey},
		"GET /v1/activities/{id}/audit after":         {Minimum: ptr64(0)},
	} {
		out[k] = l
	}
	return out
}

func ptr64(n int64) *int64 { return &n }

// IsPartyCode reports whether s has the form of a party's code.
func IsPartyCode(s string) bool { return partyCodePattern.MatchString(s) }
