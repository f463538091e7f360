package guard

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// liveZone: contoso.co (a lookalike of the own contoso.com) does not exist; gmial.com
// accepts no mail (null MX); fabrikam.co receives at a farm; contosso.com at its own host.
const liveZone = `
gmial.com. 300 IN MX 0 .
gmal.com. 300 IN TXT "v=spf1 -all"
contoso.cm. 300 IN A 192.0.2.1
fabrikam.co. 300 IN MX 10 mx.farm.example.
contosso.com. 300 IN MX 10 mx.contosso.com.
bank-army.ml. 300 IN MX 10 mx.example.ml.
fabrikam.com. 300 IN MX 10 mx.fabrikam.com.
`

// lookups records what became of the lookups a guard wanted.
type lookups struct {
	mu  sync.Mutex
	got []LookupResult
}

func (l *lookups) add(r LookupResult) { l.mu.Lock(); l.got = append(l.got, r); l.mu.Unlock() }

func (l *lookups) take() []LookupResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	got := l.got
	l.got = nil
	return got
}

// liveGuard is a guard with live evidence asking a real DNS server on loopback, through a
// real resolver and cache, as the daemon makes them.
func liveGuard(t testing.TB, o testenv.DNSOptions, p Policy, budget time.Duration) (*Guard, *testenv.DNS, *lookups) {
	t.Helper()
	srv := testenv.StartDNS(t, o)
	res, err := dnsq.New(dnsq.Config{Servers: []string{srv.Addr()}, Timeout: budget / 2, Attempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	rec := &lookups{}
	var e Evidence
	e.AddFarm("mx.farm.example", 12)
	g := New(evidenceEngine(t), p).WithEvidence(e).WithLive(LiveRule{Resolver: res, Cache: dnsq.NewCache(100), Budget: budget, OnLookup: rec.add})
	return g, srv, rec
}

func sameResults(got []LookupResult, want ...LookupResult) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// NXDOMAIN and a null MX: the reason says the mail cannot be delivered; the verdict stays,
// or is policy.undeliverable.
func TestLiveUndeliverable(t *testing.T) {
	ctx := context.Background()
	for _, undeliverable := range []Verdict{Allow, Reject} {
		p := DefaultPolicy()
		p.Undeliverable = undeliverable
		g, _, rec := liveGuard(t, testenv.DNSOptions{Zone: liveZone}, p, 300*time.Millisecond)
		want := max(Hold, undeliverable)
		for _, c := range []struct{ rcpt, sentence string }{
			{"bob@contoso.co", "contoso.co does not exist: the mail cannot be delivered."},
			{"bob@gmial.com", "gmial.com accepts no mail (its DNS publishes a null MX): the mail cannot be delivered."},
			{"bob@gmal.com", "gmal.com has no mail server: the mail cannot be delivered."},
		} {
			d := g.CheckFrom(ctx, "alice@contoso.com", c.rcpt)
			if d.Verdict != want || !strings.HasPrefix(d.Reason, "Did you mean") || !strings.HasSuffix(d.Reason, " "+c.sentence) {
				t.Errorf("undeliverable %s: %s: %s %q; want %s ending %q", undeliverable, c.rcpt, d.Verdict, d.Reason, want, c.sentence)
			}
			if ev := d.Evidence; ev == nil || ev.Kind != Undeliverable || !ev.Live || ev.Verdict != Hold {
				t.Errorf("%s: evidence %+v", c.rcpt, d.Evidence)
			}
			// Check (the CLI, without a context) never asks DNS.
			if d := g.Check(c.rcpt); d.Evidence != nil {
				t.Errorf("Check used live evidence: %q", d.Reason)
			}
		}
		if got := rec.take(); !sameResults(got, LookupAnswered, LookupAnswered, LookupAnswered) {
			t.Errorf("lookups %v", got)
		}
	}
}

// An MX on a known farm raises the verdict to policy.registered_lookalike; an MX elsewhere
// is said, and the verdict stays.
func TestLiveMailHosts(t *testing.T) {
	p := DefaultPolicy()
	p.Known, p.Protected = Warn, Warn
	g, _, _ := liveGuard(t, testenv.DNSOptions{Zone: liveZone}, p, 300*time.Millisecond)
	d := g.CheckFrom(context.Background(), "", "bob@fabrikam.co")
	if d.Verdict != Hold || !strings.HasSuffix(d.Reason, " fabrikam.co is registered and accepts mail at mx.farm.example, which serves 12 lookalike domains.") ||
		d.Evidence == nil || d.Evidence.Kind != Registered || !d.Evidence.Live {
		t.Errorf("farm: %s %q %+v", d.Verdict, d.Reason, d.Evidence)
	}
	d = g.CheckFrom(context.Background(), "", "bob@contosso.com")
	if d.Verdict != Warn || !strings.HasSuffix(d.Reason, " contosso.com is registered and accepts mail at mx.contosso.com.") ||
		d.Evidence == nil || d.Evidence.Kind != Receives {
		t.Errorf("own host: %s %q %+v", d.Verdict, d.Reason, d.Evidence)
	}
	d = g.CheckFrom(context.Background(), "", "bob@contoso.cm")
	if !strings.HasSuffix(d.Reason, " contoso.cm is registered and accepts mail at its own address.") {
		t.Errorf("address only: %s %q", d.Verdict, d.Reason)
	}
	// Squat saw it: the live answer confirms the registration and raises.
	var e Evidence
	e.AddRegistered("contosso.com", []string{"mx.contosso.com"})
	e.AddFarm("mx.farm.example", 12)
	if d := g.WithEvidence(e).CheckFrom(context.Background(), "", "bob@contosso.com"); d.Verdict != Hold || d.Evidence.Kind != Registered {
		t.Errorf("registered by squat: %s %q", d.Verdict, d.Reason)
	}
}

// SERVFAIL and a server that never answers leave the engine's verdict, within the budget:
// never allow because DNS failed, never wait past the budget.
func TestLiveFailureKeepsTheVerdictWithinTheBudget(t *testing.T) {
	const budget = 120 * time.Millisecond
	g, _, rec := liveGuard(t, testenv.DNSOptions{Zone: liveZone, ServFail: []string{"contoso.co"}, Drop: []string{"gmial.com"}}, DefaultPolicy(), budget)
	plain := New(evidenceEngine(t), DefaultPolicy())
	for _, c := range []struct {
		rcpt string
		want LookupResult
	}{{"bob@contoso.co", LookupFailed}, {"bob@gmial.com", LookupTimeout}} {
		start := time.Now()
		d := g.CheckFrom(context.Background(), "", c.rcpt)
		took := time.Since(start)
		engine := plain.Check(c.rcpt)
		if d.Verdict != engine.Verdict || d.Reason != engine.Reason || d.Evidence != nil {
			t.Errorf("%s: %s %q; want the engine's %s %q", c.rcpt, d.Verdict, d.Reason, engine.Verdict, engine.Reason)
		}
		if took > budget+slack {
			t.Errorf("%s took %s; the budget is %s", c.rcpt, took, budget)
		}
		if got := rec.take(); !sameResults(got, c.want) {
			t.Errorf("%s: lookups %v, want %v", c.rcpt, got, c.want)
		}
	}
}

// slack is how much later than its budget a lookup may return on a loaded machine (the
// race detector, other tests on two cores): the scheduling, not the DNS. That a budget is
// shared is asserted by the lookups' results (LookupBudgetExhausted), not by time alone.
const slack = 400 * time.Millisecond

// One budget for a whole message: once the first recipient spent it, the next ones are not
// looked up, and the message waited no longer than the budget.
func TestLiveBudgetIsPerMessage(t *testing.T) {
	const budget = 100 * time.Millisecond
	g, srv, rec := liveGuard(t, testenv.DNSOptions{Zone: liveZone, Drop: []string{"gmial.com", "gmai.com", "gmal.com"}}, DefaultPolicy(), budget)
	b := NewBudget()
	ctx := WithBudget(context.Background(), b)
	start := time.Now()
	for _, rcpt := range []string{"a@gmial.com", "b@gmai.com", "c@gmal.com"} {
		if d := g.CheckFrom(ctx, "", rcpt); d.Verdict != Hold {
			t.Errorf("%s: %s %q", rcpt, d.Verdict, d.Reason)
		}
	}
	took := time.Since(start)
	if took > budget+slack || b.Spent() < budget {
		t.Errorf("three recipients took %s, budget spent %s; want the budget %s once", took, b.Spent(), budget)
	}
	if got := rec.take(); !sameResults(got, LookupTimeout, LookupBudgetExhausted, LookupBudgetExhausted) {
		t.Errorf("lookups %v", got)
	}
	// A new message has a new budget; Inspect makes one per message.
	q := srv.Queries()
	start = time.Now()
	md := g.Inspect(Envelope{Recipients: []string{"a@gmai.com", "b@gmal.com", "c@contoso.co"}})
	if took := time.Since(start); md.Verdict != Hold || took > budget+slack || srv.Queries() == q {
		t.Errorf("Inspect: %s in %s, queries %d -> %d", md.Verdict, took, q, srv.Queries())
	}
	if got := rec.take(); !sameResults(got, LookupTimeout, LookupBudgetExhausted, LookupBudgetExhausted) {
		t.Errorf("Inspect lookups %v", got)
	}
}

// A lookup that the budget cuts short spends all of it, exactly: the next recipient is not
// asked with the few microseconds that measuring the lookup left over (a lookup sure to
// time out, counted as a timeout instead of an exhausted budget).
func TestLiveLookupCutByTheBudgetSpendsItAll(t *testing.T) {
	const budget = 50 * time.Millisecond
	srv := testenv.StartDNS(t, testenv.DNSOptions{Zone: liveZone, Drop: []string{"gmial.com", "gmai.com"}})
	// The resolver would wait far longer: only the budget ends the lookup.
	res, err := dnsq.New(dnsq.Config{Servers: []string{srv.Addr()}, Timeout: 20 * budget, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	rec := &lookups{}
	g := New(evidenceEngine(t), DefaultPolicy()).WithLive(LiveRule{Resolver: res, Budget: budget, OnLookup: rec.add})
	for range 5 {
		b := NewBudget()
		ctx := WithBudget(context.Background(), b)
		g.CheckFrom(ctx, "", "a@gmial.com")
		if b.Spent() != budget {
			t.Errorf("a lookup cut by the budget spent %s of %s", b.Spent(), budget)
		}
		g.CheckFrom(ctx, "", "b@gmai.com")
		if got := rec.take(); !sameResults(got, LookupTimeout, LookupBudgetExhausted) {
			t.Errorf("lookups %v, want a timeout then the budget exhausted", got)
		}
	}
}

// The second message to a domain is answered from the cache: DNS is not asked again. A
// domain the engine did not flag, or one already refused, is never looked up.
func TestLiveCacheAndOnlyFlaggedRecipients(t *testing.T) {
	g, srv, rec := liveGuard(t, testenv.DNSOptions{Zone: liveZone}, DefaultPolicy(), 300*time.Millisecond)
	ctx := context.Background()
	first := g.CheckFrom(ctx, "", "bob@contoso.co")
	q := srv.Queries()
	second := g.CheckFrom(ctx, "", "carol@contoso.co")
	if srv.Queries() != q || second.Reason != first.Reason || second.Evidence == nil {
		t.Errorf("second message: queries %d -> %d, reason %q (first %q)", q, srv.Queries(), second.Reason, first.Reason)
	}
	if got := rec.take(); !sameResults(got, LookupAnswered, LookupCacheHit) {
		t.Errorf("lookups %v", got)
	}
	// Known, own, provider, allowed, trusted, invalid, and refused anyway (example.cmo).
	for _, rcpt := range []string{"x@fabrikam.com", "x@contoso.com", "x@gmail.com", "x@bank-army.ml", "x@fabrikarn.com", "x@", "x@example.cmo"} {
		if d := g.WithTrusted([]string{"fabrikarn.com"}).CheckFrom(ctx, "", rcpt); d.Evidence != nil {
			t.Errorf("%s: evidence %+v", rcpt, d.Evidence)
		}
	}
	if srv.Queries() != q {
		t.Errorf("DNS was asked about recipients the engine did not flag: queries %d -> %d", q, srv.Queries())
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("lookups %v", got)
	}
}

// Monitor mode asks DNS and records the verdict, and lets the mail pass; a sender's history
// does not let pass a recipient DNS says cannot receive mail.
func TestLiveMonitorAndSenderHistory(t *testing.T) {
	p := DefaultPolicy()
	p.Monitor, p.Undeliverable = true, Reject
	g, _, _ := liveGuard(t, testenv.DNSOptions{Zone: liveZone}, p, 300*time.Millisecond)
	d := g.CheckFrom(context.Background(), "", "bob@contoso.co")
	if d.Verdict != Reject || d.Enforced() != Allow {
		t.Errorf("monitor: %s enforced %s", d.Verdict, d.Enforced())
	}
	h := &fakeHistory{rows: map[string]fakeRow{"alice@contoso.com gmial.com": familiar(40, 30), "alice@contoso.com fabrikam.co": familiar(40, 30)}}
	g, _, _ = liveGuard(t, testenv.DNSOptions{Zone: liveZone}, DefaultPolicy(), 300*time.Millisecond)
	g = g.WithSenders(SenderRule{History: h, Min: 5})
	if d := g.CheckFrom(context.Background(), "alice@contoso.com", "bob@gmial.com"); d.Verdict != Hold || d.Familiar != nil {
		t.Errorf("familiar but undeliverable: %s %q", d.Verdict, d.Reason)
	}
	d = g.CheckFrom(context.Background(), "alice@contoso.com", "bob@fabrikam.co")
	if d.Verdict != Warn || d.Familiar == nil || !strings.Contains(d.Reason, "You have written to fabrikam.co 40 times") || !strings.Contains(d.Reason, "which serves 12 lookalike domains") {
		t.Errorf("familiar, at a farm: %s %q", d.Verdict, d.Reason)
	}
}

// A live answer takes the place of squat's older one; a failed lookup leaves squat's.
func TestLiveAnswerReplacesSquatsAndFailureKeepsIt(t *testing.T) {
	p := DefaultPolicy()
	p.Protected = Warn
	g, _, _ := liveGuard(t, testenv.DNSOptions{Zone: liveZone, ServFail: []string{"contosso.com"}}, p, 300*time.Millisecond)
	var e Evidence
	e.AddRegistered("contoso.co", []string{"mx.gone.example"})
	e.AddRegistered("contosso.com", []string{"mx.contosso.com"})
	g = g.WithEvidence(e)
	d := g.CheckFrom(context.Background(), "", "bob@contoso.co")
	if d.Verdict != Warn || d.Evidence == nil || d.Evidence.Kind != Undeliverable || strings.Contains(d.Reason, "registered") {
		t.Errorf("gone since squat saw it: %s %q", d.Verdict, d.Reason)
	}
	d = g.CheckFrom(context.Background(), "", "bob@contosso.com")
	if d.Verdict != Hold || d.Evidence == nil || d.Evidence.Kind != Registered || d.Evidence.Live {
		t.Errorf("SERVFAIL: %s %q %+v; want squat's registration to stand", d.Verdict, d.Reason, d.Evidence)
	}
}

// BenchmarkCheckFromLive: a flagged recipient decided with live evidence answered from the
// cache, against the same decision without live evidence.
func BenchmarkCheckFromLive(b *testing.B) {
	g, _, _ := liveGuard(b, testenv.DNSOptions{Zone: liveZone}, DefaultPolicy(), time.Second)
	plain := New(evidenceEngine(b), DefaultPolicy())
	ctx := context.Background()
	g.CheckFrom(ctx, "", "bob@fabrikam.co") // fills the cache
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			g.CheckFrom(ctx, "", "bob@fabrikam.co")
		}
	})
	b.Run("uncached-loopback", func(b *testing.B) {
		nc := g.WithLive(LiveRule{Resolver: g.live.Resolver, Budget: time.Second})
		for b.Loop() {
			nc.CheckFrom(ctx, "", "bob@fabrikam.co")
		}
	})
	b.Run("off", func(b *testing.B) {
		for b.Loop() {
			plain.CheckFrom(ctx, "", "bob@fabrikam.co")
		}
	})
}
