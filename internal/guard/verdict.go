package guard

import "fmt"

// Verdict is what happens to one recipient (or to a whole message).
type Verdict uint8

// The verdicts, in order of severity: a message takes the most severe verdict of its
// recipients.
const (
	Allow   Verdict = iota // deliver
	Warn                   // deliver, add a header, optionally tell the sender afterwards
	Hold                   // quarantine the message and ask the sender
	Reject                 // refuse with an explanation
	Invalid                // the input is not a valid address or domain
)

var verdictNames = [...]string{"allow", "warn", "hold", "reject", "invalid"}

func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("verdict(%d)", v)
}

// ParseVerdict reads the name of a verdict that a policy may assign: allow, warn, hold or
// reject.
func ParseVerdict(s string) (Verdict, error) {
	for i, n := range verdictNames[:Invalid] {
		if s == n {
			return Verdict(i), nil
		}
	}
	return 0, fmt.Errorf("unknown verdict %q (want allow, warn, hold or reject)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler, so config files name verdicts.
func (v *Verdict) UnmarshalText(b []byte) error {
	p, err := ParseVerdict(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}
