package guard

import "github.com/rcptguard/rcptguard/internal/verdict"

// Verdict is what happens to one recipient (or to a whole message): the verdict package's
// type, named here so that the guard's users read guard.Hold.
type Verdict = verdict.Verdict

// The verdicts, in order of severity.
const (
	Allow   = verdict.Allow
	Warn    = verdict.Warn
	Hold    = verdict.Hold
	Reject  = verdict.Reject
	Invalid = verdict.Invalid
)

// ParseVerdict reads the name of a verdict that a policy may assign: allow, warn, hold or
// reject.
func ParseVerdict(s string) (Verdict, error) { return verdict.ParsePolicy(s) }
