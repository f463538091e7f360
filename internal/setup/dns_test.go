package setup

import (
	"context"
	"testing"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// The resolver and cache that setup makes from a config ask the configured resolver, and
// the guard's live rule uses them.
func TestResolverAndLiveFromConfig(t *testing.T) {
	srv := testenv.StartDNS(t, testenv.DNSOptions{Zone: "gmial.com. 300 IN MX 0 .\n"})
	cfg, err := config.Parse([]byte("dns:\n  evidence: true\n  resolver: "+srv.Addr()+"\n  budget: 500ms\n  cache_size: 10\npolicy:\n  undeliverable: reject\n"), "rg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, cache, err := Resolver(cfg.DNS)
	if err != nil || cache == nil {
		t.Fatalf("Resolver: %v, cache %v", err, cache)
	}
	eng, err := engine.New(engine.Inputs{Providers: testenv.Domains(t, "gmail.com")})
	if err != nil {
		t.Fatal(err)
	}
	var results []guard.LookupResult
	g := guard.New(eng, cfg.Policy).WithLive(Live(cfg.DNS, res, cache, func(r guard.LookupResult) { results = append(results, r) }))
	for range 2 {
		if d := g.CheckFrom(context.Background(), "", "bob@gmial.com"); d.Verdict != guard.Reject {
			t.Errorf("%s %q; want reject: the domain accepts no mail", d.Verdict, d.Reason)
		}
	}
	if len(results) != 2 || results[0] != guard.LookupAnswered || results[1] != guard.LookupCacheHit {
		t.Errorf("lookups %v; want answered, then cache_hit", results)
	}
	// cache_size 0: no cache, and no nil *dnsq.Cache hidden in the rule's interface.
	cfg.DNS.CacheSize = 0
	_, cache, err = Resolver(cfg.DNS)
	if err != nil || cache != nil {
		t.Fatalf("cache_size 0: %v, cache %v", err, cache)
	}
	if r := Live(cfg.DNS, res, (*dnsq.Cache)(nil), nil); r.Cache != nil {
		t.Errorf("Live with no cache: %#v", r.Cache)
	}
}
