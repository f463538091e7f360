package milter

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// The recipients of one message share one DNS budget, made at MAIL FROM; the next message
// on the connection gets a new one. A recipient whose domain does not exist is refused at
// RCPT when policy.undeliverable is reject.
func TestLiveEvidenceBudgetPerMessage(t *testing.T) {
	t.Parallel()
	const budget = 100 * time.Millisecond
	srv := testenv.StartDNS(t, testenv.DNSOptions{Drop: []string{"army.ml", "navy.ml"}})
	res, err := dnsq.New(dnsq.Config{Servers: []string{srv.Addr()}, Timeout: budget / 2, Attempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var results []guard.LookupResult
	p := holdPolicy()
	p.Undeliverable = guard.Reject
	g := testGuard(t, p).WithLive(guard.LiveRule{Resolver: res, Budget: budget, OnLookup: func(r guard.LookupResult) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}})
	c := dial(t, start(t, &Server{Guard: current(g)}), smtpClient)
	c.send("alice@contoso.com", []string{"a@army.ml", "b@navy.ml"}, plainHeader, true)
	r := c.send("alice@contoso.com", []string{"c@army.mi"}, plainHeader, true)
	if got, want := r.rcptReply("c@army.mi"), "550 5.7.1 "; len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("RCPT army.mi (NXDOMAIN) = %q, want 550", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []guard.LookupResult{guard.LookupTimeout, guard.LookupBudgetExhausted, guard.LookupAnswered}; !slices.Equal(results, want) {
		t.Errorf("lookups %v, want %v", results, want)
	}
}
