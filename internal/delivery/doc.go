// Package delivery turns an inbox notification into something that leaves
// Pacto: an email (rendered in the recipient's language and time zone, sent
// over SMTP or written as an .eml file) or a signed webhook following the
// Standard Webhooks convention.
//
// It is called from a Temporal activity, one per notification, which the
// Temporal retry policy repeats on failure; the package itself knows nothing
// of Temporal. Two things make those retries safe: every send carries a
// caller-chosen idempotency key (the email's Message-ID, the webhook's
// webhook-id) that stays the same on every attempt, so a receiver can drop
// duplicates; and every error can be asked Permanent(err), so the activity
// stops retrying what can never succeed (a 5xx reply, a bad address, a 4xx
// from a webhook receiver) and keeps retrying what may (a refused
// connection, a 4xx reply, a timeout).
package delivery
