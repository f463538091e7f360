package guard

import (
	"context"
	"errors"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
)

// Resolver asks DNS what a domain is; *dnsq.Resolver is one. Lookup never returns an
// error: a failure is Facts with Status Unknown and Err.
type Resolver interface {
	Lookup(ctx context.Context, domain string) dnsq.Facts
}

// Cache keeps DNS answers for their TTL, bounded; *dnsq.Cache is one. It must be safe for
// concurrent use.
type Cache interface {
	Get(domain string, now time.Time) (dnsq.Facts, bool)
	Put(f dnsq.Facts, now time.Time)
}

// LiveRule is live evidence (dns.evidence): for a recipient the engine flagged, and only
// then, CheckFrom looks its domain up in DNS within the message's budget. A domain that
// does not exist or accepts no mail gets policy.undeliverable; one whose mail host is a
// known farm, or that squat saw registered (Evidence), gets policy.registered_lookalike.
// When DNS fails, is slow or the budget is spent, the engine's verdict stands.
type LiveRule struct {
	Resolver Resolver
	// Cache, if set, keeps answers for their TTL; a cached answer costs no budget.
	Cache Cache
	// Budget is the DNS time one message may spend in all; DefaultDNSBudget when 0.
	Budget time.Duration
	// OnLookup, if set, is told what became of each lookup the guard wanted (metrics).
	OnLookup func(LookupResult)
	// Now is the cache's clock; time.Now when nil.
	Now func() time.Time
}

// DefaultDNSBudget is the DNS time one message may spend on live evidence by default.
const DefaultDNSBudget = 150 * time.Millisecond

// LookupResult is what became of one lookup the guard wanted.
type LookupResult uint8

// The lookup results.
const (
	LookupAnswered        LookupResult = iota + 1 // DNS answered (exists or not)
	LookupCacheHit                                // the cache had a fresh answer
	LookupTimeout                                 // no answer in time (the budget ran out while waiting)
	LookupFailed                                  // SERVFAIL, refused, unreachable resolver...
	LookupBudgetExhausted                         // the message's budget was spent: not asked
)

// LookupResults are every result, for metrics created at zero.
var LookupResults = []LookupResult{LookupAnswered, LookupCacheHit, LookupTimeout, LookupFailed, LookupBudgetExhausted}

var lookupNames = [...]string{"", "answered", "cache_hit", "timeout", "failed", "budget_exhausted"}

func (r LookupResult) String() string {
	if int(r) < len(lookupNames) && r > 0 {
		return lookupNames[r]
	}
	return "unknown"
}

// WithLive returns a copy of g whose CheckFrom (and Inspect) asks DNS under r; a rule
// without a Resolver turns live evidence off.
func (g *Guard) WithLive(r LiveRule) *Guard {
	c := *g
	c.live = nil
	if r.Resolver != nil {
		if r.Budget <= 0 {
			r.Budget = DefaultDNSBudget
		}
		if r.Now == nil {
			r.Now = time.Now
		}
		c.live = &r
	}
	return &c
}

// liveFacts is what a lookup tells a decision.
type liveFacts struct {
	canReceive bool
	why        string   // why it cannot receive mail: "does not exist"
	hosts      []string // where it receives mail
}

func factsOf(f dnsq.Facts) *liveFacts {
	switch {
	case f.Status == dnsq.NotRegistered:
		return &liveFacts{why: "does not exist"}
	case f.NullMX:
		return &liveFacts{why: "accepts no mail (its DNS publishes a null MX)"}
	case !f.CanReceive():
		return &liveFacts{why: "has no mail server"}
	}
	return &liveFacts{canReceive: true, hosts: normHosts(f.MailHosts())}
}

// lookup asks DNS about d's domain when live evidence is on and the engine flagged d,
// within what is left of the budget ctx carries. nil: no lookup, or no answer.
func (g *Guard) lookup(ctx context.Context, d Decision) *liveFacts {
	l := g.live
	if l == nil || d.Verdict == Invalid || d.Verdict >= Reject || len(d.Findings) == 0 {
		return nil
	}
	name := d.Address.Domain.ASCII
	tell := func(r LookupResult) {
		if l.OnLookup != nil {
			l.OnLookup(r)
		}
	}
	if l.Cache != nil {
		if f, ok := l.Cache.Get(name, l.Now()); ok {
			tell(LookupCacheHit)
			return factsOf(f)
		}
	}
	b := budgetOf(ctx)
	left := b.left(l.Budget)
	if left <= 0 {
		tell(LookupBudgetExhausted)
		return nil
	}
	start := time.Now()
	lctx, cancel := context.WithTimeout(ctx, left)
	f := l.Resolver.Lookup(lctx, name)
	took := time.Since(start)
	late := lctx.Err() != nil
	cancel()
	if late || took >= left {
		// Cut by the budget (or the transaction ended): the budget is spent, exactly, so
		// that the next recipient is not asked with a few microseconds left.
		b.spend(left)
	} else {
		b.spend(took)
	}
	if f.Status == dnsq.Unknown || f.Err != nil {
		if late || errors.Is(f.Err, context.DeadlineExceeded) || errors.Is(f.Err, dnsq.ErrTimeout) {
			tell(LookupTimeout)
		} else {
			tell(LookupFailed)
		}
		return nil
	}
	tell(LookupAnswered)
	if l.Cache != nil {
		l.Cache.Put(f, l.Now())
	}
	return factsOf(f)
}
