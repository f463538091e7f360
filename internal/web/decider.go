package web

import "context"

// Decider carries out a choice about a held message, for the validation page, the admin
// pages and the CLI alike: it records the new state in the quarantine (for a release, with
// the recipients to send to) and has the message re-injected in the background.
//
// An error that wraps quarantine.ErrConflict means the message was no longer held:
// someone acted first. quarantine.ErrNotFound means there is no such message.
type Decider interface {
	Decide(ctx context.Context, id string, choice Choice, actor, remote string) error
	// Retry asks for another re-injection of a released message whose delivery failed
	// for good or whose outcome is unknown (rcptguard stopped during it).
	Retry(ctx context.Context, id, actor, remote string) error
}
