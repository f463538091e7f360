package quarantine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Organisation-wide trust: an administrator marks a recipient domain legitimate for every
// sender. The store keeps the trusted domains, an audit log of every change (trusted,
// withdrawn: who, when, from where, with a note) and answers which domains several
// senders confirmed (the proposals). It decides nothing: whether a domain may be trusted
// (a lookalike of a protected domain may not, silently) is the trust package's.

// Trusted is a domain trusted organisation-wide.
type Trusted struct {
	Domain string // ASCII, lower case
	At     time.Time
	Actor  string // who trusted it ("admin:NAME", "cli:USER")
	Remote string // where from (an IP address, "cli")
	Note   string
	// Forced: it was trusted although it looked like a protected or blocked domain (the
	// administrator confirmed it explicitly).
	Forced bool
}

// TrustAction is what a trust event did.
type TrustAction string

const (
	// TrustAdded: the domain became trusted.
	TrustAdded TrustAction = "trust"
	// TrustRemoved: its trust was withdrawn.
	TrustRemoved TrustAction = "untrust"
)

// TrustEvent is one entry of the trust audit log. Events are never deleted.
type TrustEvent struct {
	At     time.Time
	Domain string
	Action TrustAction
	Actor  string
	Remote string
	Note   string
	Forced bool
}

// Proposal is a domain that distinct senders confirmed on the validation page ("send as
// addressed"), not trusted yet.
type Proposal struct {
	Domain  string
	Senders int       // how many distinct senders confirmed it
	First   time.Time // the earliest first confirmation of one of them
	Last    time.Time // the latest confirmation
}

// TrustStore keeps the organisation-wide trust. Both stores implement it.
type TrustStore interface {
	// Trust records t (Domain required; At is set to now) and its audit event in one
	// transaction. A domain trusted already fails with ErrAlreadyTrusted, unchanged.
	Trust(ctx context.Context, t Trusted) error
	// Untrust withdraws the trust of domain, with its audit event; ErrNotTrusted when
	// it is not trusted.
	Untrust(ctx context.Context, domain, actor, remote, note string) error
	// TrustedDomains lists the trusted domains in name order.
	TrustedDomains(ctx context.Context) ([]Trusted, error)
	// TrustVersion changes whenever the trusted set changes, on any node: it is the
	// number of trust events (never deleted), one cheap query for a periodic check.
	TrustVersion(ctx context.Context) (int64, error)
	// TrustEvents is the trust audit log, newest first: limit events (at most
	// MaxListLimit; 0 or less: DefaultListLimit) after skipping offset.
	TrustEvents(ctx context.Context, limit, offset int) ([]TrustEvent, error)
	// Proposals lists the domains confirmed by at least minSenders distinct senders
	// that are not trusted, most senders first, at most limit (0: DefaultListLimit).
	Proposals(ctx context.Context, minSenders, limit int) ([]Proposal, error)
}

var (
	// ErrAlreadyTrusted: Trust of a domain trusted already.
	ErrAlreadyTrusted = errors.New("quarantine: the domain is trusted already")
	// ErrNotTrusted: Untrust of a domain that is not trusted.
	ErrNotTrusted = errors.New("quarantine: the domain is not trusted")
)

// trustDomain checks and lower-cases a domain for the trust table.
func trustDomain(d string) (string, error) {
	d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
	if d == "" || len(d) > 253 || strings.ContainsAny(d, " \t\r\n@/") {
		return "", fmt.Errorf("quarantine: %q is not a domain name", d)
	}
	return d, nil
}

// scanTrusted reads rows of domain, at, actor, remote, note, forced.
func scanTrusted(r rows) ([]Trusted, error) {
	out := []Trusted{}
	for r.Next() {
		var t Trusted
		var at int64
		if err := r.Scan(&t.Domain, &at, &t.Actor, &t.Remote, &t.Note, &t.Forced); err != nil {
			return nil, err
		}
		t.At = fromMicro(at)
		out = append(out, t)
	}
	return out, r.Err()
}

// scanTrustEvents reads rows of at, domain, action, actor, remote, note, forced.
func scanTrustEvents(r rows) ([]TrustEvent, error) {
	out := []TrustEvent{}
	for r.Next() {
		var e TrustEvent
		var at int64
		var action string
		if err := r.Scan(&at, &e.Domain, &action, &e.Actor, &e.Remote, &e.Note, &e.Forced); err != nil {
			return nil, err
		}
		e.At, e.Action = fromMicro(at), TrustAction(action)
		out = append(out, e)
	}
	return out, r.Err()
}

// scanProposals reads rows of domain, senders, first, last.
func scanProposals(r rows) ([]Proposal, error) {
	out := []Proposal{}
	for r.Next() {
		var p Proposal
		var first, last int64
		if err := r.Scan(&p.Domain, &p.Senders, &first, &last); err != nil {
			return nil, err
		}
		p.First, p.Last = fromMicro(first), fromMicro(last)
		out = append(out, p)
	}
	return out, r.Err()
}

// collect runs query with q and reads its rows with scan.
func collect[T any](ctx context.Context, q queryFunc, scan func(rows) ([]T, error), query string, args ...any) ([]T, error) {
	r, err := q(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return scan(r)
}

// wrapTrust wraps err with what failed, unless it is ErrAlreadyTrusted or ErrNotTrusted,
// which say enough.
func wrapTrust(err error, what string) error {
	if errors.Is(err, ErrAlreadyTrusted) || errors.Is(err, ErrNotTrusted) {
		return err
	}
	return fmt.Errorf("quarantine: %s: %w", what, err)
}
