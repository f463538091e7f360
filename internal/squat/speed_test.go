package squat

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// BenchmarkRun: against a local server that answers every name (each lookalike is
// registered with an MX and an address: four questions a lookup), how many lookups a
// second squat makes (issue 12's goal: at least 5,000 on this machine; docs/squat.md).
// The heap after the run holds the report (every lookalike is registered), not the work.
func BenchmarkRun(b *testing.B) {
	srv := testenv.StartDNS(b, testenv.DNSOptions{AnswerAll: true, Zone: "example. 300 IN SOA ns.example. h.example. 1 3600 600 86400 300\n"})
	var targets []Target
	for i := range 20 {
		targets = append(targets, Target{Domain: domain(b, fmt.Sprintf("company%02d.com", i))})
	}
	res := resolverFor(b, srv.Addr(), dnsq.Config{})
	var lookups int64
	for b.Loop() {
		r, err := Run(context.Background(), targets, res, Options{Concurrency: 64, FarmMin: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		if r.Totals.Registered != r.Totals.Generated {
			b.Fatalf("%d registered of %d", r.Totals.Registered, r.Totals.Generated)
		}
		lookups += r.Totals.Generated
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(lookups)/b.Elapsed().Seconds(), "lookups/s")
	b.ReportMetric(float64(ms.HeapAlloc>>20), "heap-MB")
}

// TestRunHonoursRate: with a rate limit, the questions sent take the time the rate says,
// not less (and not much more).
func TestRunHonoursRate(t *testing.T) {
	srv := testenv.StartDNS(t, testenv.DNSOptions{Zone: armyZone})
	const rate = 600.0
	start := time.Now()
	_, err := Run(context.Background(), []Target{{Domain: domain(t, "army.mil")}},
		resolverFor(t, srv.Addr(), dnsq.Config{Rate: rate}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	q := srv.Queries()
	least := time.Duration(float64(q-1) / rate * float64(time.Second))
	t.Logf("%d queries in %v at --rate %g (at least %v)", q, took, rate, least)
	if took < least || took > least*3/2+300*time.Millisecond {
		t.Errorf("%d queries took %v, want about %v", q, took, least)
	}
}
