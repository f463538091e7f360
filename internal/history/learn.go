package history

import (
	"context"
	"errors"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
)

// Learner records observations of mail that went out, except those that must not teach
// the store anything: mail to a lookalike is not evidence that the lookalike is meant.
type Learner struct {
	Store Store
	// Check is the engine's check (engine.(*Engine).Check of the current engine).
	Check func(address.Domain) engine.Result
}

// Learn records the observations whose recipient domain may be learned (see Learnable) in
// one batch, and refuses the others: they are counted, never stored in the organisation's
// history. An observation whose domain is not a valid domain name is refused too. The
// counts are of observations, not of messages. The sender domain is kept when it is a
// valid domain and dropped otherwise.
//
// An observation with a sender address counts in that sender's own history too when
// SenderLearnable allows it, even when the organisation's history refuses it (a sender's
// own mail to fabrikam.co, next to the much more frequent fabrikam.com); one with
// SenderOnly counts there only. A sender that is not an address (NormalSender) is dropped.
// learned and refused are about the organisation's history.
//
// The rule holds however often a domain is observed, but it is only as good as Check:
// the caller rebuilds the engine from Store.Known as the history grows.
func (l *Learner) Learn(ctx context.Context, obs []Observation) (learned, refused int, err error) {
	if l.Store == nil || l.Check == nil {
		return 0, 0, errors.New("history: Learner needs a Store and a Check")
	}
	keep := make([]Observation, 0, len(obs))
	type rule struct{ org, own bool }
	verdicts := map[string]rule{}
	senders, addrs := map[string]string{}, map[string]string{}
	for _, o := range obs {
		d, err := address.ParseDomain(o.Domain)
		if err != nil {
			refused++
			continue
		}
		ok, seen := verdicts[d.ASCII]
		if !seen {
			r := l.Check(d)
			ok = rule{org: Learnable(r), own: SenderLearnable(r)}
			verdicts[d.ASCII] = ok
		}
		o.Domain = d.ASCII
		o.Sender = normalAddress(addrs, o.Sender)
		if !ok.own {
			o.Sender = ""
		}
		if !ok.org || o.SenderOnly {
			refused++
			if o.Sender == "" {
				continue
			}
			o.SenderOnly = true
		} else {
			learned++
		}
		o.SenderDomain = normalSender(senders, o.SenderDomain)
		keep = append(keep, o)
	}
	if len(keep) == 0 {
		return 0, refused, nil
	}
	if err := l.Store.Record(ctx, keep); err != nil {
		return 0, refused, err
	}
	return learned, refused, nil
}

// Learnable reports whether mail to the domain that r is about may teach the history:
// not when the domain is blocked, is a lookalike of a protected domain or a typo inside
// (or of) a protected namespace, or is a strong lookalike of a known domain with far more
// traffic or of a major mailbox provider.
func Learnable(r engine.Result) bool {
	if r.Blocked {
		return false
	}
	for _, f := range r.Findings {
		switch f.Situation {
		case engine.SituationProtected, engine.SituationNamespace:
			if f.Technique == engine.SuffixSwap {
				// contoso.net next to the own contoso.com is no slip, only a warning
				// until the organisation is seen writing to it.
				continue
			}
			return false
		case engine.SituationKnown, engine.SituationProvider:
			// A domain that is itself known is reported next to another only when that one
			// has far more mail and the evidence is strong (its score is then capped below
			// strong, to a warning): that is exactly the case not to learn.
			if f.Strong() || r.Self.Has(engine.Known) {
				return false
			}
		}
	}
	return true
}

// normalSender is the normalised form of a sender domain, or "" when it is not a valid
// domain; cache holds the answers for a batch.
func normalSender(cache map[string]string, s string) string {
	if s == "" {
		return ""
	}
	if n, ok := cache[s]; ok {
		return n
	}
	var n string
	if d, err := address.ParseDomain(s); err == nil {
		n = d.ASCII
	}
	cache[s] = n
	return n
}

// normalAddress is the normalised form of a sender's address (NormalSender), or "" when it
// has none; cache holds the answers for a batch.
func normalAddress(cache map[string]string, s string) string {
	if s == "" {
		return ""
	}
	if n, ok := cache[s]; ok {
		return n
	}
	n, err := NormalSender(s)
	if err != nil {
		n = ""
	} else if again, err := NormalSender(n); err != nil || again != n {
		n = "" // not a form Record accepts: drop the sender rather than fail the batch
	}
	cache[s] = n
	return n
}
