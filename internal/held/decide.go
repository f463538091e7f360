package held

import (
	"context"
	"fmt"
	"strings"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// Decide carries out a choice about held message id: discard it, or release it as
// addressed or corrected (the delivery runs in the background). actor is who chose (the
// sender's address, "admin:NAME", "cli"), remote where from. When the sender released a
// message as addressed, the flagged domains become confirmed for the sender unless they
// must always be asked about.
func (s *Service) Decide(ctx context.Context, id string, choice Choice, actor, remote string) error {
	m, err := s.Store.Get(ctx, id)
	if err != nil {
		return err
	}
	if m.State != quarantine.Held {
		return conflict(m)
	}
	switch choice {
	case Discard:
		err = s.Store.Transition(ctx, id, quarantine.Held, quarantine.Discarded, actor, remote, "discarded")
	case Release:
		rcpts := make([]string, 0, len(m.Recipients))
		for _, r := range m.Recipients {
			rcpts = append(rcpts, r.Address)
		}
		err = s.Store.Release(ctx, id, quarantine.ReleasedAsAddressed, rcpts, actor, remote, "released as addressed")
		if err == nil && strings.EqualFold(actor, m.Sender) {
			s.confirm(ctx, m)
		}
	case Correct:
		rcpts, changes := Corrected(m)
		if !Correctable(m) || len(rcpts) == 0 {
			return errNoSuggestion
		}
		notes := make([]string, len(changes))
		for i, c := range changes {
			notes[i] = c.String()
		}
		err = s.Store.Release(ctx, id, quarantine.ReleasedCorrected, rcpts, actor, remote,
			"released corrected: "+strings.Join(notes, ", "))
	default:
		return fmt.Errorf("held: unknown choice %q", choice)
	}
	if err != nil {
		return err
	}
	s.count(map[Choice]string{Discard: "discarded", Release: "released_as_addressed",
		Correct: "released_corrected"}[choice])
	s.log().Info("choice recorded", "id", id, "choice", string(choice), "actor", actor, "remote", remote)
	s.wake()
	return nil
}

// confirm remembers the flagged domains the sender released to.
func (s *Service) confirm(ctx context.Context, m quarantine.Message) {
	var domains []string
	for _, r := range m.Recipients {
		if r.Flagged() && !s.alwaysAsk(r) {
			domains = append(domains, domainOf(r.Address))
		}
	}
	if len(domains) == 0 {
		return
	}
	if err := s.Store.Confirm(ctx, m.Sender, domains, m.ID); err != nil {
		s.log().Error("remember confirmed domains", "id", m.ID, "sender", m.Sender, "err", err)
	}
}

// Retry asks for another re-injection of a released message whose delivery failed or
// whose outcome is unknown.
func (s *Service) Retry(ctx context.Context, id, actor, remote string) error {
	if err := s.Store.RetryDelivery(ctx, id, actor, remote); err != nil {
		return err
	}
	s.wake()
	return nil
}

// Correctable reports whether a corrected release changes anything: some flagged
// recipient has a suggested domain.
func Correctable(m quarantine.Message) bool {
	_, changes := Corrected(m)
	for _, c := range changes {
		if c.To != "" {
			return true
		}
	}
	return false
}

// Change is one recipient changed by a corrected release: From as addressed, To as
// corrected, or "" when it is not sent at all (flagged, with no suggestion to correct it
// to).
type Change struct{ From, To string }

func (c Change) String() string {
	if c.To == "" {
		return c.From + " not sent"
	}
	return c.From + " -> " + c.To
}

// Corrected returns the recipients of m with each flagged one's domain replaced by its
// most likely intended domain (duplicates dropped, order kept), and the changes made. A
// flagged recipient without a suggestion is left out: "send to the suggested domain
// instead" never sends to a domain that was flagged.
func Corrected(m quarantine.Message) (rcpts []string, changes []Change) {
	seen := map[string]bool{}
	for _, r := range m.Recipients {
		addr := r.Address
		if r.Flagged() {
			i := strings.LastIndexByte(addr, '@')
			if len(r.Intended) == 0 || i <= 0 {
				changes = append(changes, Change{From: addr})
				continue
			}
			domain := strings.ToLower(r.Intended[0])
			if d, err := address.ParseDomain(domain); err == nil {
				domain = d.ASCII
			}
			fixed := addr[:i+1] + domain
			changes = append(changes, Change{From: addr, To: fixed})
			addr = fixed
		}
		if k := strings.ToLower(addr); !seen[k] {
			seen[k] = true
			rcpts = append(rcpts, addr)
		}
	}
	return rcpts, changes
}
