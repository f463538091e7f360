package history

import (
	"errors"
	"fmt"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
)

// SenderStat is what the store knows about one sender's own mail to one recipient
// domain.
type SenderStat struct {
	Sender, Domain      string
	Count               int64
	FirstSeen, LastSeen time.Time // UTC, to the microsecond
}

// Days reports whether the mail went on at least two different days (UTC calendar days).
func (s SenderStat) Days() bool {
	return !sameDay(s.FirstSeen, s.LastSeen)
}

func sameDay(a, b time.Time) bool {
	ya, ma, da := a.UTC().Date()
	yb, mb, db := b.UTC().Date()
	return ya == yb && ma == mb && da == db
}

// NormalSender is the one form in which the history keeps a sender's address: the local
// part as address.Parse gives it (as written, quotes kept) and the domain in normalised
// ASCII, "alice@xn--mnchen-3ya.de" for "<alice@MÜNCHEN.de>". The null sender ("" or "<>"),
// a bare domain and anything that is not an address are refused: they are nobody's
// history.
func NormalSender(s string) (string, error) {
	if s == "" || s == "<>" {
		return "", errors.New("the null sender has no history")
	}
	a, err := address.Parse(s)
	if err != nil {
		return "", err
	}
	if a.IsDomain() {
		return "", fmt.Errorf("%q is a domain, not a sender's address", s)
	}
	return a.String(), nil
}

// checkSender accepts an empty sender or one in the form NormalSender gives; valid caches
// the answers for a batch.
func checkSender(valid map[string]bool, s string) error {
	if s == "" || valid["@"+s] {
		return nil
	}
	n, err := NormalSender(s)
	if err != nil {
		return err
	}
	if n != s {
		return fmt.Errorf("%q is not in normalised form (%q)", s, n)
	}
	valid["@"+s] = true
	return nil
}

// SenderLearnable reports whether mail to the domain that r is about may count in the
// sender's own history. It is wider than Learnable: a lookalike of a known correspondent
// or of a mailbox provider counts (a sender who really writes to fabrikam.co must be able
// to show it), but never a blocked domain, a lookalike of a protected domain or of one of
// the organisation's own, a typo inside a protected namespace, or a suffix that does not
// exist: no sender's habit may make those pass.
func SenderLearnable(r engine.Result) bool {
	if r.Blocked {
		return false
	}
	for _, f := range r.Findings {
		if f.Class.Has(engine.Own) || f.Class.Has(engine.Protect) {
			return false
		}
		switch f.Situation {
		case engine.SituationKnown, engine.SituationProvider:
		default:
			return false
		}
	}
	return true
}
