package dnsq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

const fixtureZone = `
ml.              300 IN SOA  ns.ml. hostmaster.ml. 1 3600 600 86400 90
army.ml.         300 IN MX   10 mx.farm.example.
army.ml.         300 IN MX   5 MX2.Farm.Example.
army.ml.         300 IN NS   ns2.army.ml.
army.ml.         300 IN NS   NS1.army.ml.
army.ml.         120 IN A    192.0.2.7
army.ml.         300 IN AAAA 2001:db8::7
nomail.example.  300 IN MX   0 .
nomail.example.  300 IN A    192.0.2.8
webonly.example. 200 IN A    192.0.2.9
`

func newResolver(t testing.TB, c Config) *Resolver {
	t.Helper()
	r, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestLookupRegisteredWithMX(t *testing.T) {
	d := testenv.StartDNS(t, testenv.DNSOptions{Zone: fixtureZone})
	r := newResolver(t, Config{Servers: []string{d.Addr()}})
	f := r.Lookup(t.Context(), "Army.ML.")
	want := Facts{
		Domain: "army.ml",
		Status: Registered,
		NS:     []string{"ns1.army.ml", "ns2.army.ml"},
		MX:     []MX{{"mx2.farm.example", 5}, {"mx.farm.example", 10}},
		A:      []netip.Addr{netip.MustParseAddr("192.0.2.7")},
		AAAA:   []netip.Addr{netip.MustParseAddr("2001:db8::7")},
		TTL:    120 * time.Second,
	}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("Lookup =\n%+v\nwant\n%+v", f, want)
	}
	if !f.CanReceive() {
		t.Error("a domain with an MX cannot receive mail")
	}
	if s := r.Stats(); s.Queries != 4 || s.Retries != 0 {
		t.Errorf("stats %+v, want 4 queries and no retry", s)
	}
}

func TestLookupUnregistered(t *testing.T) {
	d := testenv.StartDNS(t, testenv.DNSOptions{Zone: fixtureZone})
	r := newResolver(t, Config{Servers: []string{d.Addr()}})
	f := r.Lookup(t.Context(), "bank-army.ml")
	if f.Status != NotRegistered || f.Err != nil || f.CanReceive() {
		t.Fatalf("Lookup = %+v, want not registered", f)
	}
	if f.TTL != 90*time.Second {
		t.Errorf("TTL %v, want the SOA minimum 90s", f.TTL)
	}
	if n := d.Queries(); n != 1 {
		t.Errorf("%d queries for a name that does not exist, want 1 (MX only)", n)
	}
	// Without an SOA in the zone the server makes one up with a negative TTL of 60s.
	if f := r.Lookup(t.Context(), "nothing.test"); f.Status != NotRegistered || f.TTL != 60*time.Second {
		t.Errorf("Lookup(nothing.test) = %+v, want not registered for 60s", f)
	}
}

func TestLookupNullMX(t *testing.T) {
	d := testenv.StartDNS(t, testenv.DNSOptions{Zone: fixtureZone})
	r := newResolver(t, Config{Servers: []string{d.Addr()}})
	f := r.Lookup(t.Context(), "nomail.example")
	if f.Status != Registered || !f.NullMX || len(f.MX) != 0 || len(f.A) != 1 {
		t.Fatalf("Lookup = %+v, want registered with a null MX and an address", f)
	}
	if f.CanReceive() {
		t.Error("a null MX domain can receive mail")
	}
}

func TestLookupAddressOnlyCanReceive(t *testing.T) {
	d := testenv.StartDNS(t, testenv.DNSOptions{Zone: fixtureZone})
	r := newResolver(t, Config{Servers: []string{d.Addr()}})
	f := r.Lookup(t.Context(), "webonly.example")
	if f.Status != Registered || f.NullMX || len(f.MX) != 0 {
		t.Fatalf("Lookup = %+v", f)
	}
	// The empty MX answer holds as long as its SOA says (RFC 2308), 60s here, less than the A.
	if f.TTL != 60*time.Second {
		t.Errorf("TTL %v, want the negative TTL of the empty answers, 60s", f.TTL)
	}
	if got := f.MailHosts(); len(got) != 1 || got[0] != "webonly.example" {
		t.Errorf("MailHosts = %v, want the domain itself (implicit MX)", got)
	}
}

func TestLookupServFailGivesUp(t *testing.T) {
	d := testenv.StartDNS(t, testenv.DNSOptions{Zone: fixtureZone, ServFail: []string{"army.ml"}})
	r := newResolver(t, Config{Servers: []string{d.Addr()}, Attempts: 3})
	f := r.Lookup(t.Context(), "army.ml")
	if f.Status != Unknown || !errors.Is(f.Err, ErrServFail) {
		t.Fatalf("Lookup = %+v, want unknown with SERVFAIL", f)
	}
	if want := "dns: " + d.Addr() + ": SERVFAIL after 3 attempts"; f.Err.Error() != want {
		t.Errorf("Err = %q, want %q", f.Err, want)
	}
	if s := r.Stats(); s.ServFails != 3 || s.Retries != 2 || s.Queries != 3 {
		t.Errorf("stats %+v, want 3 SERVFAILs, 2 retries, 3 queries", s)
	}
	if n := d.Queries(); n != 3 {
		t.Errorf("server saw %d queries, want 3", n)
	}
}

func TestLookupServFailOnFirstServerOnly(t *testing.T) {
	bad := testenv.StartDNS(t, testenv.DNSOptions{Zone: fixtureZone, ServFail: []string{"army.ml"}})
	good := testenv.StartDNS(t, testenv.DNSOptions{Zone: fixtureZone})
	r := newResolver(t, Config{Servers: []string{bad.Addr(), good.Addr()}})
	f := r.Lookup(t.Context(), "army.ml")
	if f.Status != Registered || len(f.MX) != 2 || f.Err != nil {
		t.Fatalf("Lookup = %+v, want the second server's answer", f)
	}
	// Each of the 4 questions went to the first server, then to the second.
	if s := r.Stats(); s.ServFails != 4 || s.Retries != 4 {
		t.Errorf("stats %+v, want 4 SERVFAILs and 4 retries", s)
	}
	if bad.Queries() != 4 || good.Queries() != 4 {
		t.Errorf("queries: first server %d, second %d; want 4 each", bad.Queries(), good.Queries())
	}
}

func TestLookupTimeout(t *testing.T) {
	d := testenv.StartDNS(t, testenv.DNSOptions{Zone: fixtureZone, Drop: []string{"army.ml"}})
	r := newResolver(t, Config{Servers: []string{d.Addr()}, Timeout: 100 * time.Millisecond, Attempts: 2})
	start := time.Now()
	f := r.Lookup(t.Context(), "army.ml")
	took := time.Since(start)
	if f.Status != Unknown || !errors.Is(f.Err, ErrTimeout) {
		t.Fatalf("Lookup = %+v, want unknown with a timeout", f)
	}
	if want := "dns: " + d.Addr() + ": timeout after 2 attempts"; f.Err.Error() != want {
		t.Errorf("Err = %q, want %q", f.Err, want)
	}
	if took < 200*time.Millisecond {
		t.Errorf("gave up after %v, before two attempts of 100ms", took)
	}
	if s := r.Stats(); s.Timeouts != 2 || s.Retries != 1 {
		t.Errorf("stats %+v, want 2 timeouts and 1 retry", s)
	}
}

func TestLookupStopsWithTheContext(t *testing.T) {
	d := testenv.StartDNS(t, testenv.DNSOptions{Zone: fixtureZone, Drop: []string{"army.ml"}})
	r := newResolver(t, Config{Servers: []string{d.Addr()}, Timeout: 10 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	f := r.Lookup(ctx, "army.ml")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Lookup took %v; the context's deadline was 150ms", took)
	}
	if f.Status != Unknown || !errors.Is(f.Err, context.DeadlineExceeded) {
		t.Fatalf("Lookup = %+v, want unknown with the context's deadline", f)
	}
}

func TestLookupTruncatedRetriedOverTCP(t *testing.T) {
	d := testenv.StartDNS(t, testenv.DNSOptions{Zone: fixtureZone, TruncateUDP: true})
	r := newResolver(t, Config{Servers: []string{d.Addr()}})
	f := r.Lookup(t.Context(), "army.ml")
	if f.Status != Registered || len(f.MX) != 2 || len(f.NS) != 2 {
		t.Fatalf("Lookup = %+v, want the full answer over TCP", f)
	}
	if s := r.Stats(); s.TCPFallbacks != 4 || s.Queries != 8 {
		t.Errorf("stats %+v, want 4 TCP fallbacks and 8 queries", s)
	}
}

// TestLookupServerWithoutEDNS: a server from before EDNS answers FORMERR to a question
// with an OPT record; the question is asked again without it and answered.
func TestLookupServerWithoutEDNS(t *testing.T) {
	d := testenv.StartDNS(t, testenv.DNSOptions{Zone: fixtureZone, NoEDNS: true})
	r := newResolver(t, Config{Servers: []string{d.Addr()}})
	f := r.Lookup(t.Context(), "army.ml")
	if f.Status != Registered || len(f.MX) != 2 || len(f.NS) != 2 || f.Err != nil {
		t.Fatalf("Lookup = %+v, want the full answer without EDNS", f)
	}
	if s := r.Stats(); s.NoEDNS != 4 || s.Queries != 8 || s.Retries != 0 {
		t.Errorf("stats %+v, want 4 questions asked again without EDNS, 8 queries, no retries", s)
	}
}

func TestLookupLargeAnswerFallsBackToTCP(t *testing.T) {
	var zone strings.Builder
	for i := range 120 {
		fmt.Fprintf(&zone, "big.example. 300 IN MX %d mx%03d.a-rather-long-mail-host-name.example.\n", i, i)
	}
	d := testenv.StartDNS(t, testenv.DNSOptions{Zone: zone.String()})
	r := newResolver(t, Config{Servers: []string{d.Addr()}})
	f := r.Lookup(t.Context(), "big.example")
	if f.Status != Registered || len(f.MX) != 120 {
		t.Fatalf("Lookup: %v, %d MX, want 120", f.Err, len(f.MX))
	}
	if s := r.Stats(); s.TCPFallbacks != 1 {
		t.Errorf("stats %+v, want 1 TCP fallback (the MX answer is over 1232 bytes)", s)
	}
}

func TestLookupUnreachableResolver(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nothing listens there now: the kernel answers "port unreachable"
	r := newResolver(t, Config{Servers: []string{addr}, Timeout: 2 * time.Second})
	start := time.Now()
	f := r.Lookup(t.Context(), "army.ml")
	if f.Status != Unknown || !errors.Is(f.Err, ErrUnreachable) {
		t.Fatalf("Lookup = %+v, want unknown: resolver unreachable", f)
	}
	if want := "dns: resolver " + addr + " cannot be reached (connection refused) after 3 attempts"; f.Err.Error() != want {
		t.Errorf("Err = %q, want %q", f.Err, want)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %v to see a closed port: it waited for timeouts", took)
	}
}

func TestLookupRejectsBadDomain(t *testing.T) {
	d := testenv.StartDNS(t, testenv.DNSOptions{Zone: fixtureZone})
	r := newResolver(t, Config{Servers: []string{d.Addr()}})
	for _, name := range []string{"", "a b.example", "bücher.example", "a..example", `a\046b.example`, strings.Repeat("a", 64) + ".example"} {
		f := r.Lookup(t.Context(), name)
		if f.Status != Unknown || f.Err == nil {
			t.Errorf("Lookup(%q) = %+v, want an error", name, f)
		}
	}
	if n := d.Queries(); n != 0 {
		t.Errorf("%d queries sent for names that are not host names", n)
	}
}

// TestLookupHonoursRate sends 200 questions at 100 a second: the last cannot leave before
// 1.99s, and at no moment has the server seen more than 1 + 100/s * elapsed.
func TestLookupHonoursRate(t *testing.T) {
	d := testenv.StartDNS(t, testenv.DNSOptions{})
	const rate, n = 100.0, 200
	r := newResolver(t, Config{Servers: []string{d.Addr()}, Rate: rate})
	names := make(chan string, n)
	for i := range n {
		names <- fmt.Sprintf("n%d.test", i) // NXDOMAIN: one question each
	}
	close(names)
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for name := range names {
				if f := r.Lookup(t.Context(), name); f.Status != NotRegistered {
					t.Errorf("Lookup(%s) = %+v", name, f)
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
		}
		seen := d.Queries()
		elapsed := time.Since(start)
		if limit := 1 + rate*elapsed.Seconds(); float64(seen) > limit {
			t.Fatalf("after %v the server saw %d queries, over 1 + %v/s", elapsed, seen, rate)
		}
	}
	took := time.Since(start)
	if min := time.Duration(float64(n-1) / rate * float64(time.Second)); took < min {
		t.Errorf("%d questions at %v/s took %v, under %v", n, rate, took, min)
	}
	if took > 6*time.Second {
		t.Errorf("%d questions at %v/s took %v: the limiter is far slower than the rate", n, rate, took)
	}
	if s := r.Stats(); s.Queries != n || d.Queries() != n {
		t.Errorf("stats %+v, server %d; want %d queries", s, d.Queries(), n)
	}
	t.Logf("%d questions at %v/s in %v", n, rate, took)
}

// TestLookupConcurrent runs many lookups of different kinds at once (run it with -race).
func TestLookupConcurrent(t *testing.T) {
	d := testenv.StartDNS(t, testenv.DNSOptions{Zone: fixtureZone, AnswerAll: true})
	r := newResolver(t, Config{Servers: []string{d.Addr()}, Timeout: 5 * time.Second})
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := range 20 {
				switch i % 3 {
				case 0:
					if f := r.Lookup(t.Context(), "army.ml"); len(f.MX) != 2 {
						t.Errorf("army.ml: %+v", f)
					}
				case 1:
					if f := r.Lookup(t.Context(), "nomail.example"); !f.NullMX {
						t.Errorf("nomail.example: %+v", f)
					}
				default:
					name := fmt.Sprintf("x%d-%d.example", g, i)
					f := r.Lookup(t.Context(), name)
					if len(f.MX) != 1 || f.MX[0].Host != "mx."+name {
						t.Errorf("%s: %+v", name, f)
					}
				}
			}
		})
	}
	wg.Wait()
	// On a starved machine an answer may come after the timeout: then it was asked again.
	if s := r.Stats(); s.Queries != 64*20*4+s.Retries || s.Retries != s.Timeouts || d.Queries() != int64(s.Queries) {
		t.Errorf("stats %+v, server %d; want %d queries and one retry per timeout", s, d.Queries(), 64*20*4)
	}
}

func TestNewChecksConfig(t *testing.T) {
	for _, c := range []Config{
		{Servers: []string{"127.0.0.1:53"}, Timeout: -1},
		{Servers: []string{"127.0.0.1:53"}, Attempts: -1},
		{Servers: []string{"127.0.0.1:53"}, Rate: -5},
		{Servers: []string{"no port here"}},
		{Servers: []string{":53"}},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	r := newResolver(t, Config{Servers: []string{"192.0.2.53", "2001:db8::53", "[::1]:5353"}})
	if want := []string{"192.0.2.53:53", "[2001:db8::53]:53", "[::1]:5353"}; !reflect.DeepEqual(r.servers, want) {
		t.Errorf("servers %v, want %v", r.servers, want)
	}
	if r.timeout != 2*time.Second || r.attempts != 3 || r.limit != nil {
		t.Errorf("defaults: timeout %v, attempts %d, limiter %v", r.timeout, r.attempts, r.limit)
	}
}

func TestLookupStopsWhenCancelled(t *testing.T) {
	d := testenv.StartDNS(t, testenv.DNSOptions{Zone: fixtureZone, Drop: []string{"army.ml"}})
	r := newResolver(t, Config{Servers: []string{d.Addr()}, Timeout: 30 * time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		// Cancel once the question has reached the server, not after a guessed delay.
		for d.Queries() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	f := r.Lookup(ctx, "army.ml")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Lookup took %v after the cancel; the attempt's timeout was 30s", took)
	}
	if f.Status != Unknown || !errors.Is(f.Err, context.Canceled) {
		t.Fatalf("Lookup = %+v, want unknown: cancelled", f)
	}
}
