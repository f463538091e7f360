package setup

import (
	"fmt"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/guard"
)

// Resolver makes the resolver and the cache that live evidence (dns.evidence) asks, for
// c: the resolvers of dns.resolver, or the system's (/etc/resolv.conf). The cache is nil
// when dns.cache_size is 0. Nothing is sent yet.
func Resolver(c config.DNS) (*dnsq.Resolver, *dnsq.Cache, error) {
	// Two tries (the second at the next resolver) within the message's budget: the
	// guard's deadline ends whatever is left.
	res, err := dnsq.New(dnsq.Config{Servers: c.Resolvers, Timeout: max(c.Budget/2, 1), Attempts: 2})
	if err != nil {
		return nil, nil, fmt.Errorf("dns.evidence: %w", err)
	}
	var cache *dnsq.Cache
	if c.CacheSize > 0 {
		cache = dnsq.NewCache(c.CacheSize)
	}
	return res, cache, nil
}

// Live is the guard's live evidence rule for c, asking res through cache (nil: none);
// onLookup (may be nil) is told what became of each lookup, for metrics.
func Live(c config.DNS, res guard.Resolver, cache *dnsq.Cache, onLookup func(guard.LookupResult)) guard.LiveRule {
	r := guard.LiveRule{Resolver: res, Budget: c.Budget, OnLookup: onLookup}
	if cache != nil {
		r.Cache = cache // never a nil *dnsq.Cache in the interface
	}
	return r
}
