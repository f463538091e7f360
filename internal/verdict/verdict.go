// Package verdict is what happens to a recipient, or to a whole message: allow, warn, hold,
// reject, or invalid for an input that is no address. It is the one typed value the guard
// decides, the doors enforce, the quarantine stores and the pages show, with the two
// questions asked of it defined once: does it stop the mail (Stops), and did the guard find
// anything (Suspect).
package verdict

import (
	"database/sql/driver"
	"fmt"
)

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

var names = [...]string{"allow", "warn", "hold", "reject", "invalid"}

func (v Verdict) String() string {
	if int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("verdict(%d)", v)
}

// Stops reports whether a recipient with this verdict stops the mail: hold, reject or
// invalid. Such a recipient is "flagged": it is why a message is held or refused.
func (v Verdict) Stops() bool { return v == Hold || v == Reject || v == Invalid }

// Suspect reports whether the verdict says the guard found a lookalike: warn, hold or
// reject (not invalid, which is no lookalike).
func (v Verdict) Suspect() bool { return v == Warn || v == Hold || v == Reject }

// Parse reads any verdict's name, as String gives it.
func Parse(s string) (Verdict, error) {
	for i, n := range names {
		if s == n {
			return Verdict(i), nil
		}
	}
	return 0, fmt.Errorf("unknown verdict %q (want allow, warn, hold, reject or invalid)", s)
}

// ParsePolicy reads the name of a verdict that a policy may assign: allow, warn, hold or
// reject.
func ParsePolicy(s string) (Verdict, error) {
	for i, n := range names[:Invalid] {
		if s == n {
			return Verdict(i), nil
		}
	}
	return 0, fmt.Errorf("unknown verdict %q (want allow, warn, hold or reject)", s)
}

// Names lists the names of the verdicts for which keep is true, in order of severity: the
// SQL of the statistics is built from the same questions as the code.
func Names(keep func(Verdict) bool) []string {
	var out []string
	for i, n := range names {
		if keep(Verdict(i)) {
			out = append(out, n)
		}
	}
	return out
}

// MarshalText implements encoding.TextMarshaler.
func (v Verdict) MarshalText() ([]byte, error) {
	if int(v) >= len(names) {
		return nil, fmt.Errorf("verdict: no name for %d", v)
	}
	return []byte(v.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler for the verdicts a policy may assign,
// so that config files name them.
func (v *Verdict) UnmarshalText(b []byte) error {
	p, err := ParsePolicy(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// Value implements driver.Valuer: a verdict is stored as its name.
func (v Verdict) Value() (driver.Value, error) {
	if int(v) >= len(names) {
		return nil, fmt.Errorf("verdict: cannot store %d", v)
	}
	return v.String(), nil
}

// Scan implements sql.Scanner: it reads a stored name and refuses anything else, so that a
// row with a verdict that does not exist is an error, never a recipient that passes.
func (v *Verdict) Scan(src any) error {
	var s string
	switch x := src.(type) {
	case string:
		s = x
	case []byte:
		s = string(x)
	default:
		return fmt.Errorf("verdict: cannot read %T", src)
	}
	p, err := Parse(s)
	if err != nil {
		return err
	}
	*v = p
	return nil
}
