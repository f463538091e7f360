package squat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// armyZone holds lookalikes of army.mil: three at one catch-all farm's MX hosts, one with
// an address only, one with a null MX (RFC 7505); amy.mil is answered SERVFAIL.
const armyZone = `
mil. 300 IN SOA ns.mil. hostmaster.mil. 1 3600 600 86400 300
arny.mil. 300 IN MX 10 mx1.farm.example.
arny.mil. 300 IN MX 20 mx2.farm.example.
arny.mil. 300 IN NS ns1.farm.example.
armv.mil. 300 IN MX 10 mx1.farm.example.
armyy.mil. 300 IN MX 0 .
armyy.mil. 300 IN A 192.0.2.9
ml. 300 IN SOA ns.ml. hostmaster.ml. 1 3600 600 86400 300
army.ml. 300 IN MX 10 mx2.farm.example.
com. 300 IN SOA ns.com. hostmaster.com. 1 3600 600 86400 300
army.com. 300 IN A 192.0.2.8
`

func resolverFor(t testing.TB, addr string, c dnsq.Config) *dnsq.Resolver {
	t.Helper()
	c.Servers = []string{addr}
	r, err := dnsq.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRunAgainstDNS(t *testing.T) {
	srv := testenv.StartDNS(t, testenv.DNSOptions{Zone: armyZone, ServFail: []string{"amy.mil"}})
	of := domain(t, "army.mil")
	var mu sync.Mutex
	var seen []Result
	r, err := Run(context.Background(), []Target{{Domain: of, Why: "argument"}}, resolverFor(t, srv.Addr(), dnsq.Config{}),
		Options{OnResult: func(res Result) { mu.Lock(); seen = append(seen, res); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(engine.Permute(of, nil)))
	if r.Totals.Generated != n || int64(len(seen)) != n {
		t.Errorf("generated %d, %d results, want %d", r.Totals.Generated, len(seen), n)
	}
	want := Totals{Domains: 1, Generated: n, Registered: 5, CanReceive: 4, NotRegistered: n - 6, Unknown: 1}
	if r.Totals != want {
		t.Errorf("totals %+v, want %+v", r.Totals, want)
	}
	mail := map[string]string{}
	for _, l := range r.Lookalikes {
		mail[l.Domain] = MailText(l) + " " + l.Farm
	}
	for name, m := range map[string]string{"arny.mil": "yes farm.example", "armv.mil": "yes farm.example",
		"army.ml": "yes farm.example", "army.com": "yes (address, no MX) ", "armyy.mil": "no (null MX) "} {
		if mail[name] != m {
			t.Errorf("%s: %q, want %q", name, mail[name], m)
		}
	}
	if len(r.Farms) != 1 || r.Farms[0].Host != "farm.example" || r.Farms[0].Lookalikes != 3 {
		t.Errorf("farms %+v", r.Farms)
	}
	if r.Unknown.Total != 1 || r.Unknown.First[0].Domain != "amy.mil" || !strings.Contains(strings.ToLower(r.Unknown.First[0].Error), "servfail") {
		t.Errorf("unknown %+v", r.Unknown)
	}
}

// A farm MX serving many lookalikes of several domains is found and counted once per
// lookalike.
func TestRunFindsFarm(t *testing.T) {
	var zone strings.Builder
	zone.WriteString("mil. 300 IN SOA ns.mil. h.mil. 1 3600 600 86400 300\nml. 300 IN SOA ns.ml. h.ml. 1 3600 600 86400 300\n")
	of := domain(t, "army.mil")
	var names []string
	for _, v := range engine.Permute(of, nil) {
		if strings.HasSuffix(v.Domain.ASCII, ".mil") && len(names) < 12 {
			fmt.Fprintf(&zone, "%s. 300 IN MX 10 mx%d.catchall.example.\n", v.Domain.ASCII, len(names)%2)
			names = append(names, v.Domain.ASCII)
		}
	}
	srv := testenv.StartDNS(t, testenv.DNSOptions{Zone: zone.String()})
	r, err := Run(context.Background(), []Target{{Domain: of}}, resolverFor(t, srv.Addr(), dnsq.Config{}), Options{FarmMin: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Farms) != 1 || r.Farms[0].Host != "catchall.example" || r.Farms[0].Lookalikes != len(names) ||
		!slices.Equal(r.Farms[0].MXHosts, []string{"mx0.catchall.example", "mx1.catchall.example"}) {
		t.Fatalf("farms %+v, want catchall.example serving %d", r.Farms, len(names))
	}
	slices.Sort(names)
	if !slices.Equal(r.Farms[0].Domains, names) {
		t.Errorf("farm domains %v, want %v", r.Farms[0].Domains, names)
	}
}

// A resolver that never answers ends the run with ErrNoAnswer, after a bounded number of
// lookups rather than every timeout of every lookalike.
func TestRunResolverUnreachable(t *testing.T) {
	of := domain(t, "army.mil")
	var names []string
	for _, v := range engine.Permute(of, nil) {
		names = append(names, v.Domain.ASCII)
	}
	// One server is not there (connection refused); the other drops every name asked: it
	// is there but never answers.
	dropping := testenv.StartDNS(t, testenv.DNSOptions{Zone: armyZone, Drop: names})
	for _, addr := range []string{fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), dropping.Addr()} {
		res := resolverFor(t, addr, dnsq.Config{Timeout: 50 * time.Millisecond, Attempts: 1})
		start := time.Now()
		r, err := Run(context.Background(), []Target{{Domain: of}}, res, Options{Concurrency: 8})
		if !errors.Is(err, ErrNoAnswer) {
			t.Fatalf("%s: err %v, want ErrNoAnswer", addr, err)
		}
		if r.Totals.Unknown > giveUpAfter(8)+8 {
			t.Errorf("%s: %d lookups before giving up, want at most %d", addr, r.Totals.Unknown, giveUpAfter(8)+8)
		}
		t.Logf("%s: %v after %v", addr, err, time.Since(start))
	}
}

// Cancelling (SIGINT in the command) stops the run with an error, not a partial "all
// clear".
func TestRunCancelled(t *testing.T) {
	srv := testenv.StartDNS(t, testenv.DNSOptions{Zone: armyZone})
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := Run(ctx, []Target{{Domain: domain(t, "army.mil")}}, resolverFor(t, srv.Addr(), dnsq.Config{}),
		Options{Concurrency: 2, OnResult: func(Result) {
			if n++; n == 10 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

// --wide looks up engine.PermuteWide's set: more names than the detector's generator.
func TestRunWide(t *testing.T) {
	srv := testenv.StartDNS(t, testenv.DNSOptions{Zone: armyZone})
	of := domain(t, "army.mil")
	r, err := Run(context.Background(), []Target{{Domain: of}}, resolverFor(t, srv.Addr(), dnsq.Config{}), Options{Wide: true})
	if err != nil {
		t.Fatal(err)
	}
	wide, narrow := len(engine.PermuteWide(of)), len(engine.Permute(of, nil))
	if r.Totals.Generated != int64(wide) || wide <= narrow {
		t.Errorf("generated %d with --wide (PermuteWide %d, Permute %d)", r.Totals.Generated, wide, narrow)
	}
	if r.Totals.Registered == 0 {
		t.Errorf("nothing registered found in the wide set: %+v", r.Totals)
	}
}
