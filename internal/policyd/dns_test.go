package policyd

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// The recipients of one Postfix instance (one message) share one DNS budget; the next
// instance on the same connection gets a new one.
func TestLiveEvidenceBudgetPerInstance(t *testing.T) {
	const budget = 100 * time.Millisecond
	srv := testenv.StartDNS(t, testenv.DNSOptions{Drop: []string{"army.ml", "navy.ml", "army.mi"}})
	res, err := dnsq.New(dnsq.Config{Servers: []string{srv.Addr()}, Timeout: budget / 2, Attempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var results []guard.LookupResult
	cur := testGuard(t, guard.DefaultPolicy())
	cur.Store(cur.Load().WithLive(guard.LiveRule{Resolver: res, Budget: budget, OnLookup: func(r guard.LookupResult) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}}))
	c := dial(t, start(t, &Server{Guard: cur}))
	for _, r := range []struct{ instance, rcpt string }{{"1.1.1.0", "a@army.ml"}, {"1.1.1.0", "b@navy.ml"}, {"1.1.1.1", "c@army.mi"}} {
		if a := c.ask(rcptReq(r.instance, r.rcpt)); a != "DUNNO" {
			t.Errorf("%s: %q, want DUNNO (held at END-OF-MESSAGE)", r.rcpt, a)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []guard.LookupResult{guard.LookupTimeout, guard.LookupBudgetExhausted, guard.LookupTimeout}; !slices.Equal(results, want) {
		t.Errorf("lookups %v, want %v", results, want)
	}
}
