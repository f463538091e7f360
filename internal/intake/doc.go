// Package intake is the quarantine intake behind Postfix: the SMTP server that Postfix
// delivers a message to after the policy service answered it "FILTER" (the classic
// content-filter pattern). Postfix has accepted and queued the message already, so the
// intake refuses nothing for a verdict; it holds the message, or hands it back to
// Postfix's re-injection smtpd when nothing in it needs holding.
//
// It decides nothing of its own when it can help it: the policy service recorded a
// hand-over in the quarantine's database (quarantine.Handover: the decisions made at
// RCPT, the SASL user, the client) keyed by Postfix's queue ID, which the intake finds in
// the Received field Postfix's smtpd added on top of the message. So a message is held
// with the decision and the submitter the policy service saw, even when rcptguard was
// restarted, or its guard reloaded, while Postfix kept the message queued. Without a
// hand-over (purged after Postfix's maximal_queue_lifetime, or a FILTER configured in
// Postfix without the policy service) it asks the guard itself, logs a warning saying
// why, and reports it (Event.Fallback) for the metrics.
//
// A hand-over is deleted once the message is held or handed back. A crash in between
// leaves it for Postfix's retry, which holds the same message again: the quarantine
// finds it by its dedupe key and returns the first hold's ID, so it is held once.
package intake
