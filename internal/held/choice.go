package held

import (
	"context"

	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// Choice is what a sender or an administrator chose about a held message.
type Choice string

// The three choices; their values are the validation page's "choice" field.
const (
	// Release: send the message to the recipients as addressed.
	Release Choice = "release"
	// Correct: send it with the flagged recipients' domains replaced by the suggested one.
	Correct Choice = "correct"
	// Discard: do not send it.
	Discard Choice = "discard"
)

// State is the quarantine state the choice moves a held message to, or
// quarantine.None for an unknown choice.
func (c Choice) State() quarantine.State {
	switch c {
	case Release:
		return quarantine.ReleasedAsAddressed
	case Correct:
		return quarantine.ReleasedCorrected
	case Discard:
		return quarantine.Discarded
	}
	return quarantine.None
}

// Decider carries out a choice about a held message, for the validation page, the admin
// pages and the CLI alike: it records the new state in the quarantine (for a release, with
// the recipients to send to) and has the message re-injected in the background. The
// Service is the one Decider; the pages take the interface so that their tests can make
// it fail.
//
// An error that wraps quarantine.ErrConflict means the message was no longer held:
// someone acted first. quarantine.ErrNotFound means there is no such message.
type Decider interface {
	Decide(ctx context.Context, id string, choice Choice, actor, remote string) error
	// Retry asks for another re-injection of a released message whose delivery failed
	// for good or whose outcome is unknown (rcptguard stopped during it).
	Retry(ctx context.Context, id, actor, remote string) error
}

var _ Decider = (*Service)(nil)

// Suggested is the domain a corrected release sends to, as the pages offer it: the first
// likely intended domain of the flagged recipients; "" when there is none (and Correct is
// not offered).
func Suggested(m quarantine.Message) string {
	for _, r := range m.Recipients {
		if r.Flagged() && len(r.Intended) > 0 {
			return r.Intended[0]
		}
	}
	return ""
}
