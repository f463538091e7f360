package guard

import (
	"errors"
	"slices"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
)

// Policy maps each situation to a verdict. A strong finding gets the situation's verdict;
// a weaker one gets a warning at most.
type Policy struct {
	Protected, Provider, Known, Namespace, Blocked Verdict
	// Nonexistent is for a suffix that is no top-level domain (example.cmo): the mail
	// could only bounce, so by default it is refused at once with the suggestion.
	Nonexistent Verdict
	// MixedScript is for a name that mixes scripts (Cyrillic letters among Latin ones)
	// and is the lookalike of nothing the organisation knows: a common disguise, warned
	// about by default.
	MixedScript Verdict
	// RegisteredLookalike is the least verdict of a flagged recipient whose domain is
	// registered and accepts mail, as squat saw it or at a known farm host (evidence.go).
	RegisteredLookalike Verdict
	// ChangedOwner is the verdict of a known correspondent that seems to have changed
	// hands (its mail servers moved to a farm host, or it came back after being gone).
	ChangedOwner Verdict
	// Undeliverable is the least verdict of a flagged recipient whose domain, looked up at
	// decision time (live.go), does not exist or accepts no mail; Allow keeps the verdict.
	Undeliverable Verdict
	// Monitor: decide, log and count, but let mail pass.
	Monitor bool
}

// DefaultPolicy is the policy of DESIGN section 5.
func DefaultPolicy() Policy {
	return Policy{Protected: Hold, Provider: Hold, Known: Hold, Namespace: Warn, Blocked: Reject, Nonexistent: Reject, MixedScript: Warn,
		RegisteredLookalike: Hold, ChangedOwner: Warn, Undeliverable: Allow}
}

// Guard decides about recipients with one engine and one policy.
type Guard struct {
	eng     *engine.Engine
	policy  Policy
	senders *SenderRule     // nil: no sender's history is asked (sender.go)
	trusted map[string]bool // trusted by the administrators (trusted.go)
	// evidence is what squat --watch found (evidence.go); live asks DNS at decision
	// time (live.go), nil when off.
	evidence Evidence
	live     *LiveRule
}

// New returns a guard. The engine must not be nil.
func New(eng *engine.Engine, p Policy) *Guard {
	return &Guard{eng: eng, policy: p}
}

// Engine is the guard's engine.
func (g *Guard) Engine() *engine.Engine { return g.eng }

// Policy is the guard's policy.
func (g *Guard) Policy() Policy { return g.policy }

// Decision is the guard's answer for one recipient.
type Decision struct {
	Input   string
	Address address.Address // zero when the input is invalid
	Verdict Verdict
	// Monitor: the verdict is only recorded, not enforced (policy monitor mode).
	Monitor bool
	// Findings are the engine's, best first; Intended and Techniques summarise them.
	Findings []engine.Finding
	Blocked  bool
	Score    float64
	Reason   string
	Err      error
	// Familiar is set when the sender's own history let a flagged recipient pass
	// (CheckFrom): Verdict is then Allow (Warn for a lookalike that DNS evidence says is
	// registered and accepts mail), and the Findings stay.
	Familiar *Familiarity
	// Evidence is the DNS evidence that added to the decision (evidence.go); nil when
	// none did.
	Evidence *Evident
}

// Enforced is the verdict that the mail path applies: Allow in monitor mode.
func (d Decision) Enforced() Verdict {
	if d.Monitor && d.Verdict != Invalid {
		return Allow
	}
	return d.Verdict
}

// Intended lists the likely intended domains (display form), the most likely first.
func (d Decision) Intended() []string {
	out := make([]string, 0, len(d.Findings))
	for _, f := range d.Findings {
		out = append(out, f.IntendedDisplay)
	}
	return out
}

// Techniques lists the kinds of mistake found, without repeats, strongest finding first
// (both slips of a compound finding: gnail.con is a replacement and a suffix typo).
func (d Decision) Techniques() []engine.Technique {
	out := make([]engine.Technique, 0, len(d.Findings))
	for _, f := range d.Findings {
		for _, s := range f.Slips() {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// Check decides about one recipient as written by a person or an MTA: an address or a
// bare domain.
func (g *Guard) Check(input string) Decision {
	d, allowed := g.check(input)
	g.strengthen(&d, allowed, nil)
	return d
}

// check is Check without the evidence; allowed says the administrators allowed the domain.
func (g *Guard) check(input string) (Decision, bool) {
	a, err := address.Parse(input)
	if err != nil {
		return invalid(input, err), false
	}
	d, allowed := g.decide(a.Domain)
	d.Input, d.Address = input, a
	return d, allowed
}

func invalid(input string, err error) Decision {
	msg := err.Error()
	if errors.Is(err, address.ErrInvalid) {
		msg = trimInvalid(msg)
	}
	return Decision{Input: input, Verdict: Invalid, Err: err, Reason: "Not a valid address: " + msg + "."}
}

func trimInvalid(s string) string {
	const p = "invalid: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// Decide decides about a normalised domain, with the evidence of WithEvidence (never
// with live evidence: only CheckFrom asks DNS).
func (g *Guard) Decide(dom address.Domain) Decision {
	d, allowed := g.decide(dom)
	g.strengthen(&d, allowed, nil)
	return d
}

// decide is Decide without the evidence; allowed says the administrators allowed dom.
func (g *Guard) decide(dom address.Domain) (Decision, bool) {
	r := g.eng.Check(dom)
	d := Decision{Input: dom.ASCII, Address: address.Address{Domain: dom}, Monitor: g.policy.Monitor}
	if r.Allowed {
		d.Reason = g.allowReason(dom)
		return d, true
	}
	d.Findings, d.Blocked = r.Findings, r.Blocked
	if r.Blocked {
		d.Verdict, d.Score = g.policy.Blocked, 1
	}
	family := familyOfKnown(r.Findings)
	for _, f := range r.Findings {
		v := g.verdictFor(f)
		if family && v > Warn {
			v = Warn
		}
		if v > d.Verdict {
			d.Verdict = v
		}
		d.Score = max(d.Score, f.Score)
	}
	d.Reason = reason(r, d.Verdict)
	return d, false
}

// familyOfKnown reports whether every finding is against a known correspondent only
// (not an own, protected or provider name) and there are two or more: a new domain close
// to several names the organisation writes to is usually one more of a family of real
// names (towns, agencies, universities), not a typo of one of them, so it is warned about
// at most.
func familyOfKnown(fs []engine.Finding) bool {
	if len(fs) < 2 {
		return false
	}
	for _, f := range fs {
		if f.Situation != engine.SituationKnown || f.Class.Has(engine.Own) || f.Class.Has(engine.Protect) || f.Class.Has(engine.Provider) {
			return false
		}
	}
	return true
}

func (g *Guard) verdictFor(f engine.Finding) Verdict {
	var v Verdict
	switch f.Situation {
	case engine.SituationProtected:
		v = g.policy.Protected
	case engine.SituationProvider:
		v = g.policy.Provider
	case engine.SituationKnown:
		v = g.policy.Known
	case engine.SituationNonexistent:
		v = g.policy.Nonexistent
	case engine.SituationMixedScript:
		v = g.policy.MixedScript
	default:
		v = g.policy.Namespace
	}
	if !f.Strong() && v > Warn {
		v = Warn
	}
	return v
}
