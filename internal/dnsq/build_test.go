package dnsq

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func reply(qtype uint16, rcode int, rrs ...string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion("x.example.", qtype)
	m.Response = true
	m.Rcode = rcode
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		if _, ok := rr.(*dns.SOA); ok {
			m.Ns = append(m.Ns, rr)
		} else {
			m.Answer = append(m.Answer, rr)
		}
	}
	return m
}

func TestBuildReadsOnlyTheAnswersAboutTheDomain(t *testing.T) {
	f := build("x.example", map[uint16]*dns.Msg{
		dns.TypeMX: reply(dns.TypeMX, dns.RcodeSuccess,
			"x.example. 300 IN CNAME y.example.",
			"y.example. 200 IN MX 20 mx2.example.",
			"y.example. 200 IN MX 10 MX1.example.",
			"y.example. 200 IN MX 10 mx1.example.",   // a duplicate
			"other.example. 5 IN MX 1 evil.example.", // not about x.example
			"y.example. 1 IN A 192.0.2.66",           // not an MX
		),
		dns.TypeNS: reply(dns.TypeNS, dns.RcodeSuccess, "x.example. 300 IN NS ns.example."),
		dns.TypeA: reply(dns.TypeA, dns.RcodeSuccess,
			"x.example. 300 IN A 192.0.2.2", "x.example. 300 IN A 192.0.2.1", "x.example. 300 IN A 192.0.2.2"),
		dns.TypeAAAA: reply(dns.TypeAAAA, dns.RcodeSuccess, "x.example. 300 IN AAAA ::ffff:192.0.2.9"),
	})
	if f.Status != Registered || f.Err != nil {
		t.Fatalf("build = %+v", f)
	}
	if want := []MX{{"mx1.example", 10}, {"mx2.example", 20}}; !slices.Equal(f.MX, want) {
		t.Errorf("MX %v, want %v", f.MX, want)
	}
	if want := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")}; !slices.Equal(f.A, want) {
		t.Errorf("A %v, want %v", f.A, want)
	}
	if len(f.AAAA) != 0 {
		t.Errorf("AAAA %v: an IPv4-mapped address is not an IPv6 one", f.AAAA)
	}
	if f.TTL != 200*time.Second {
		t.Errorf("TTL %v, want the smallest of the answers about the domain, 200s", f.TTL)
	}
}

func TestBuildNullMX(t *testing.T) {
	for _, mx := range []string{"x.example. 300 IN MX 0 .", "x.example. 300 IN MX 10 ."} {
		f := build("x.example", map[uint16]*dns.Msg{dns.TypeMX: reply(dns.TypeMX, dns.RcodeSuccess, mx)})
		if !f.NullMX || len(f.MX) != 0 || f.CanReceive() {
			t.Errorf("%s: %+v, want a null MX", mx, f)
		}
	}
	// A root target next to a real host is dropped; the domain still takes mail.
	f := build("x.example", map[uint16]*dns.Msg{dns.TypeMX: reply(dns.TypeMX, dns.RcodeSuccess,
		"x.example. 300 IN MX 0 .", "x.example. 300 IN MX 10 mx.example.")})
	if f.NullMX || len(f.MX) != 1 || !f.CanReceive() {
		t.Errorf("null MX next to a host: %+v", f)
	}
}

func TestBuildEscapesBadHostNames(t *testing.T) {
	f := build("x.example", map[uint16]*dns.Msg{dns.TypeMX: reply(dns.TypeMX, dns.RcodeSuccess,
		`x.example. 300 IN MX 10 mx\010Injected:\032yes.example.`)})
	if len(f.MX) != 1 || f.MX[0].Host != `mx\010injected\058\032yes.example` {
		t.Fatalf("MX %+v", f.MX)
	}
	checkHost(t, "MX", f.MX[0].Host)
}

func TestBuildNegativeTTL(t *testing.T) {
	f := build("x.example", map[uint16]*dns.Msg{dns.TypeMX: reply(dns.TypeMX, dns.RcodeNameError,
		"example. 900 IN SOA ns.example. h.example. 1 2 3 4 30")})
	if f.Status != NotRegistered || f.TTL != 30*time.Second {
		t.Errorf("NXDOMAIN: %+v, want not registered for the SOA minimum, 30s", f)
	}
	f = build("x.example", map[uint16]*dns.Msg{dns.TypeMX: reply(dns.TypeMX, dns.RcodeNameError,
		"example. 10 IN SOA ns.example. h.example. 1 2 3 4 30")})
	if f.TTL != 10*time.Second {
		t.Errorf("TTL %v, want the SOA's own TTL when smaller, 10s", f.TTL)
	}
	f = build("x.example", map[uint16]*dns.Msg{dns.TypeMX: reply(dns.TypeMX, dns.RcodeNameError)})
	if f.TTL != defaultTTL {
		t.Errorf("TTL %v without an SOA, want %v", f.TTL, defaultTTL)
	}
	f = build("x.example", map[uint16]*dns.Msg{dns.TypeMX: reply(dns.TypeMX, dns.RcodeSuccess, "x.example. 2147483647 IN MX 1 mx.example.")})
	if f.TTL != maxTTL {
		t.Errorf("TTL %v, want the cap %v", f.TTL, maxTTL)
	}
}

func FuzzBuild(f *testing.F) {
	for _, m := range []*dns.Msg{
		reply(dns.TypeMX, dns.RcodeSuccess, "x.example. 300 IN CNAME y.example.", "y.example. 200 IN MX 20 mx2.example."),
		reply(dns.TypeMX, dns.RcodeSuccess, `x.example. 300 IN MX 10 a\032b.example.`, "x.example. 300 IN MX 0 ."),
		reply(dns.TypeMX, dns.RcodeNameError, "example. 900 IN SOA ns.example. h.example. 1 2 3 4 30"),
		reply(dns.TypeA, dns.RcodeSuccess, "x.example. 300 IN A 192.0.2.1"),
		reply(dns.TypeAAAA, dns.RcodeSuccess, "x.example. 300 IN AAAA 2001:db8::1"),
		reply(dns.TypeNS, dns.RcodeServerFailure),
	} {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, b)
	}
	f.Fuzz(func(t *testing.T, mx, other []byte) {
		first := new(dns.Msg)
		if first.Unpack(mx) != nil {
			return
		}
		replies := map[uint16]*dns.Msg{dns.TypeMX: first}
		if m := new(dns.Msg); m.Unpack(other) == nil {
			replies[dns.TypeNS], replies[dns.TypeA], replies[dns.TypeAAAA] = m, m, m
		}
		facts := build("x.example", replies)
		if (facts.Status == Unknown) != (facts.Err != nil) {
			t.Fatalf("status %v with error %v", facts.Status, facts.Err)
		}
		if facts.Status != Unknown && (facts.TTL < 0 || facts.TTL > maxTTL) {
			t.Fatalf("TTL %v", facts.TTL)
		}
		for _, m := range facts.MX {
			checkHost(t, "MX", m.Host)
		}
		for _, h := range facts.NS {
			checkHost(t, "NS", h)
		}
		if facts.NullMX && len(facts.MX) > 0 {
			t.Fatalf("null MX with hosts %v", facts.MX)
		}
		for _, a := range facts.A {
			if !a.Is4() {
				t.Fatalf("A %v", a)
			}
		}
		for _, a := range facts.AAAA {
			if !a.Is6() || a.Is4In6() {
				t.Fatalf("AAAA %v", a)
			}
		}
		if !slices.IsSortedFunc(facts.MX, func(a, b MX) int {
			if a.Pref != b.Pref {
				return int(a.Pref) - int(b.Pref)
			}
			return strings.Compare(a.Host, b.Host)
		}) || !slices.IsSorted(facts.NS) {
			t.Fatalf("not sorted: %v %v", facts.MX, facts.NS)
		}
	})
}
