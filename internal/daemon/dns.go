package daemon

import (
	"slices"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/setup"
)

// liveDNS is the resolver and cache of live evidence (dns.evidence), kept across reloads
// while dns.resolver and dns.cache_size stay the same (the cache's answers with them).
type liveDNS struct {
	servers   []string
	cacheSize int
	res       *dnsq.Resolver
	cache     *dnsq.Cache
}

// SetEvidence hands the guard what `rcptguard squat --watch` found (registered lookalikes
// that accept mail, farm hosts, known correspondents that changed hands: build ev with
// guard.Evidence's Add methods from the watch store). The guard in use is swapped at once
// for a copy with it, without rebuilding the engine, and every guard built later (reload,
// history, trust) keeps it until the next SetEvidence. Call it at start and after each
// watch run; safe from any goroutine.
func (d *Daemon) SetEvidence(ev guard.Evidence) {
	d.buildMu.Lock()
	defer d.buildMu.Unlock()
	d.evidence = ev
	if g := d.Guard.Load(); g != nil {
		d.Guard.Store(g.WithEvidence(ev))
	}
}

// withDNS gives g the evidence of SetEvidence and, with dns.evidence, live evidence under
// cfg. Every dns key applies on reload (SIGHUP); a new resolver and cache are made only
// when dns.resolver or dns.cache_size changed. Called under buildMu.
func (d *Daemon) withDNS(g *guard.Guard, cfg config.Config) (*guard.Guard, error) {
	g = g.WithEvidence(d.evidence)
	c := cfg.DNS
	if !c.Evidence {
		return g, nil
	}
	l := d.liveDNS
	if l == nil || !slices.Equal(l.servers, c.Resolvers) || l.cacheSize != c.CacheSize {
		res, cache, err := setup.Resolver(c)
		if err != nil {
			return nil, err
		}
		l = &liveDNS{servers: slices.Clone(c.Resolvers), cacheSize: c.CacheSize, res: res, cache: cache}
	}
	d.liveDNS = l // reused by the next build while its settings stay
	var count func(guard.LookupResult)
	if d.Metrics != nil {
		count = d.Metrics.DNSLookup
	}
	return g.WithLive(setup.Live(c, l.res, l.cache, count)), nil
}
