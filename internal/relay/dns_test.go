package relay

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// Live evidence through the relay: a recipient whose domain does not exist is refused at
// RCPT with the reason (policy.undeliverable: reject) while the others go through, and the
// recipients of one transaction share one DNS budget.
func TestLiveEvidenceThroughTheRelay(t *testing.T) {
	t.Parallel()
	const budget = 150 * time.Millisecond
	srv := testenv.StartDNS(t, testenv.DNSOptions{Drop: []string{"gmial.com", "gmai.com"}})
	res, err := dnsq.New(dnsq.Config{Servers: []string{srv.Addr()}, Timeout: budget / 2, Attempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var results []guard.LookupResult
	cur := newGuard(t, guard.Hold, false)
	g := cur.Load()
	p := g.Policy()
	p.Undeliverable = guard.Reject
	live := guard.LiveRule{Resolver: res, Cache: dnsq.NewCache(10), Budget: budget, OnLookup: func(r guard.LookupResult) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}}
	cur.Store(guard.New(g.Engine(), p).WithLive(live))
	r := startRelay(t, func(s *Server) { s.Guard = cur })

	sent, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"bob@army.ml", "amy@army.mil"}, message("nxdomain"))
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := sent.Rcpt("bob@army.ml")
	if rep.Code != 550 || !strings.Contains(rep.Text, "army.ml does not exist: the mail cannot be delivered.") {
		t.Errorf("RCPT army.ml = %v, want 550 saying the domain does not exist", rep)
	}
	if msgs := r.sink.Messages(); !sent.Delivered() || len(msgs) != 1 || !slices.Equal(msgs[0].Rcpts, []string{"amy@army.mil"}) {
		t.Errorf("DATA %v, sink %+v; want amy@army.mil delivered", sent.Data, msgs)
	}
	q := srv.Queries()

	// Two recipients DNS never answers about: the first spends the budget, the second is
	// not looked up; both keep the engine's hold, and the message is refused as held.
	start := time.Now()
	sent, err = testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"x@gmial.com", "y@gmai.com"}, message("slow"))
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if sent.Delivered() || len(r.sink.Messages()) != 1 {
		t.Errorf("a held message was delivered: %v", sent.Data)
	}
	if took > budget+2*time.Second {
		t.Errorf("the transaction took %s with a DNS budget of %s", took, budget)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []guard.LookupResult{guard.LookupAnswered, guard.LookupTimeout, guard.LookupBudgetExhausted}; !slices.Equal(results, want) {
		t.Errorf("lookups %v, want %v: army.ml answered, then one budget for the second message", results, want)
	}
	if srv.Queries() <= q {
		t.Errorf("the dropped names were not asked: queries %d -> %d", q, srv.Queries())
	}
}
