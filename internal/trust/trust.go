// Package trust owns the organisation-wide trust of recipient domains: an administrator
// marks a flagged domain legitimate for every sender (from the CLI or the admin pages),
// withdraws that trust, and sees the domains that several distinct senders confirmed on
// the validation page, proposed for trust.
//
// It guards the one rule that learning must never break: a lookalike of a protected
// domain or namespace, or a blocked domain, is never trusted silently. Add refuses such
// a domain with a *RefusedError unless the administrator forces it, and Proposals never
// proposes one. It decides nothing about mail itself: the daemon adds the trusted
// domains to the engine's allow inputs when it builds the engine, and the guard says
// that an administrator trusted them. The trust, and its audit log, live in the
// quarantine store (quarantine.TrustStore), so that nodes sharing a PostgreSQL quarantine
// share it too.
package trust

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// DefaultProposeAfter is how many distinct senders must confirm a domain before it is
// proposed, when Service.ProposeAfter is 0.
const DefaultProposeAfter = 3

// Service is the trust workflow. Set its fields, then call its methods.
type Service struct {
	Store quarantine.TrustStore
	// Decide is the guard in use: what it says about a domain decides whether trusting
	// it needs force, and names the intended domain of a proposal.
	Decide func(address.Domain) guard.Decision
	// ProposeAfter is how many distinct senders must confirm a domain before it is
	// proposed (learning.propose_after); 0: DefaultProposeAfter.
	ProposeAfter int
	// Changed, if set, is called after the trusted set changed through this service (the
	// daemon rebuilds its engine).
	Changed func()
}

// Assessment is what the guard says about a domain someone wants to trust.
type Assessment struct {
	Domain address.Domain
	// Intended are the likely intended domains (display form), most likely first.
	Intended []string
	// Situation is the best finding's situation ("protected", "known", ...), "" when none.
	Situation string
	Verdict   string
	Reason    string
	// Dangerous: a lookalike of a protected domain or namespace, or a blocked domain:
	// trusting it needs force. Why says so in a sentence.
	Dangerous bool
	Why       string
}

// RefusedError is Add's error for a dangerous domain without force.
type RefusedError struct{ Assessment Assessment }

func (e *RefusedError) Error() string {
	return fmt.Sprintf("%s was not trusted: %s", e.Assessment.Domain.Display, e.Assessment.Why)
}

// ErrBadDomain is wrapped by the error for input that is not a domain name.
var ErrBadDomain = errors.New("not a domain name")

// parse reads a domain as an administrator types it (Unicode or ASCII, any case, a
// trailing dot); an address is refused, so that "bob@x.com" is not taken for x.com.
func parse(domain string) (address.Domain, error) {
	s := strings.TrimSpace(domain)
	if strings.ContainsAny(s, "@<> ") || s == "" {
		return address.Domain{}, fmt.Errorf("%w: %q (give a domain such as fabrikam.com)", ErrBadDomain, domain)
	}
	d, err := address.ParseDomain(s)
	if err != nil {
		return address.Domain{}, fmt.Errorf("%w: %v", ErrBadDomain, err)
	}
	return d, nil
}

// Assess says what the guard in use thinks of domain.
func (s *Service) Assess(domain string) (Assessment, error) {
	d, err := parse(domain)
	if err != nil {
		return Assessment{}, err
	}
	return s.assess(d), nil
}

func (s *Service) assess(d address.Domain) Assessment {
	dec := s.Decide(d)
	a := Assessment{Domain: d, Intended: dec.Intended(), Verdict: dec.Verdict.String(), Reason: dec.Reason}
	if len(dec.Findings) > 0 {
		a.Situation = dec.Findings[0].Situation.String()
	}
	for _, f := range dec.Findings {
		switch f.Situation {
		case engine.SituationProtected:
			a.Dangerous = true
			a.Why = fmt.Sprintf("it looks like %s, which is protected (%s)", f.IntendedDisplay, f.Detail())
		case engine.SituationNamespace:
			if !a.Dangerous {
				a.Dangerous = true
				a.Why = fmt.Sprintf("it looks like a name under a protected namespace (%s)", dec.Reason)
			}
		}
		if a.Dangerous {
			break
		}
	}
	if !a.Dangerous && dec.Blocked {
		a.Dangerous = true
		a.Why = "it is blocked by the configuration (block); trusting it would unblock it"
	}
	if a.Dangerous {
		a.Why += ". Mail meant for the protected name would go to it unasked: trust it only if it is really a correspondent"
	}
	return a
}

// Add trusts domain organisation-wide, as actor from remote with an optional note. A
// dangerous domain (see Assessment) is refused with a *RefusedError unless force is
// true; then it is recorded as forced. A domain trusted already fails with an error
// wrapping quarantine.ErrAlreadyTrusted. Held messages are not released by it.
func (s *Service) Add(ctx context.Context, domain, actor, remote, note string, force bool) (Assessment, error) {
	d, err := parse(domain)
	if err != nil {
		return Assessment{}, err
	}
	a := s.assess(d)
	if a.Dangerous && !force {
		return a, &RefusedError{Assessment: a}
	}
	note = strings.TrimSpace(note)
	if err := s.Store.Trust(ctx, quarantine.Trusted{Domain: d.ASCII, Actor: actor, Remote: remote, Note: note,
		Forced: a.Dangerous}); err != nil {
		return a, err
	}
	s.changed()
	return a, nil
}

// Remove withdraws the trust of domain; an error wrapping quarantine.ErrNotTrusted when
// it is not trusted.
func (s *Service) Remove(ctx context.Context, domain, actor, remote, note string) error {
	d, err := parse(domain)
	if err != nil {
		return err
	}
	if err := s.Store.Untrust(ctx, d.ASCII, actor, remote, strings.TrimSpace(note)); err != nil {
		return err
	}
	s.changed()
	return nil
}

func (s *Service) changed() {
	if s.Changed != nil {
		s.Changed()
	}
}

// Proposal is a domain proposed for trust: the senders' confirmations and what the guard
// says of it now.
type Proposal struct {
	quarantine.Proposal
	Assessment Assessment
}

// Proposals lists the domains that at least ProposeAfter distinct senders confirmed and
// that are not trusted, most senders first, at most limit. A domain the guard now
// finds dangerous (the configuration changed since the confirmations) is left out.
func (s *Service) Proposals(ctx context.Context, limit int) ([]Proposal, error) {
	n := s.ProposeAfter
	if n <= 0 {
		n = DefaultProposeAfter
	}
	ps, err := s.Store.Proposals(ctx, n, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Proposal, 0, len(ps))
	for _, p := range ps {
		d, err := address.ParseDomain(p.Domain)
		if err != nil {
			continue // stored by an older rcptguard or by hand: not a domain to propose
		}
		a := s.assess(d)
		if a.Dangerous {
			continue
		}
		out = append(out, Proposal{Proposal: p, Assessment: a})
	}
	return out, nil
}

// List is the trusted domains in name order.
func (s *Service) List(ctx context.Context) ([]quarantine.Trusted, error) {
	return s.Store.TrustedDomains(ctx)
}

// Events is the trust audit log, newest first.
func (s *Service) Events(ctx context.Context, limit, offset int) ([]quarantine.TrustEvent, error) {
	return s.Store.TrustEvents(ctx, limit, offset)
}
