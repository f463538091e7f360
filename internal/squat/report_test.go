package squat

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/providers"
)

func domain(t testing.TB, name string) address.Domain {
	t.Helper()
	d, err := address.ParseDomain(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// factsReport is a report built from the facts DNS could give about lookalikes of
// army.mil: three at one farm's MX hosts, a null MX, an address only, one free, one failed.
func factsReport(t testing.TB) Report {
	t.Helper()
	of := domain(t, "army.mil")
	c := newCollector([]Target{{Domain: of, Why: "argument"}}, 3)
	c.generated(of, 7)
	mx := func(hosts ...string) []dnsq.MX {
		var ms []dnsq.MX
		for i, h := range hosts {
			ms = append(ms, dnsq.MX{Host: h, Pref: uint16(10 * (i + 1))})
		}
		return ms
	}
	reg := func(name string, f dnsq.Facts) Result {
		f.Domain, f.Status = name, dnsq.Registered
		return Result{Of: of, Lookalike: engine.Variant{Domain: domain(t, name), Technique: engine.Substitution}, Facts: f}
	}
	for _, r := range []Result{
		reg("arny.mil", dnsq.Facts{MX: mx("mx1.farm.example", "mx2.farm.example"), NS: []string{"ns1.farm.example"}}),
		reg("army.ml", dnsq.Facts{MX: mx("mx2.farm.example")}),
		reg("armv.mil", dnsq.Facts{MX: mx("mx1.farm.example")}),
		reg("aarmy.mil", dnsq.Facts{NullMX: true, A: []netip.Addr{netip.MustParseAddr("192.0.2.7")}}),
		reg("army.com", dnsq.Facts{A: []netip.Addr{netip.MustParseAddr("192.0.2.8")}}),
		{Of: of, Lookalike: engine.Variant{Domain: domain(t, "armyy.mil"), Technique: engine.Addition}, Facts: dnsq.Facts{Domain: "armyy.mil", Status: dnsq.NotRegistered}},
		{Of: of, Lookalike: engine.Variant{Domain: domain(t, "amy.mil"), Technique: engine.Omission}, Facts: dnsq.Facts{Domain: "amy.mil", Err: errors.New("SERVFAIL from 127.0.0.1:53")}},
	} {
		c.add(r)
	}
	return c.report()
}

func TestCollectorCountsAndFarms(t *testing.T) {
	r := factsReport(t)
	want := Totals{Domains: 1, Generated: 7, Registered: 5, CanReceive: 4, NotRegistered: 1, Unknown: 1}
	if r.Totals != want {
		t.Errorf("totals %+v, want %+v", r.Totals, want)
	}
	if d := r.Domains[0]; d.Registered != 5 || d.CanReceive != 4 || d.Unknown != 1 || d.Generated != 7 {
		t.Errorf("domain row %+v", d)
	}
	if len(r.Farms) != 1 || r.Farms[0].Host != "farm.example" || r.Farms[0].Lookalikes != 3 ||
		!slices.Equal(r.Farms[0].MXHosts, []string{"mx1.farm.example", "mx2.farm.example"}) {
		t.Fatalf("farms %+v", r.Farms)
	}
	var order []string
	for _, l := range r.Lookalikes {
		order = append(order, l.Domain)
		inFarm := l.Domain == "arny.mil" || l.Domain == "army.ml" || l.Domain == "armv.mil"
		if (l.Farm == "farm.example") != inFarm {
			t.Errorf("%s: farm %q", l.Domain, l.Farm)
		}
	}
	// Those that can receive mail first, then by name.
	if want := []string{"armv.mil", "army.com", "army.ml", "arny.mil", "aarmy.mil"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	if r.Unknown.Total != 1 || r.Unknown.First[0].Domain != "amy.mil" || r.Unknown.First[0].Error != "SERVFAIL from 127.0.0.1:53" {
		t.Errorf("unknown %+v", r.Unknown)
	}
}

// A farm needs FarmMin lookalikes: two at one host are not one, and an address-only
// lookalike is its own mail host.
func TestFarmNeedsMinimum(t *testing.T) {
	ls := []Lookalike{
		{Domain: "a.example", CanReceive: true, MX: []MX{{Host: "mx.one.example"}}},
		{Domain: "b.example", CanReceive: true, MX: []MX{{Host: "mx.one.example"}}},
		{Domain: "c.example", CanReceive: true},
		{Domain: "d.example", NullMX: true},
	}
	if fs := farms(ls, 3, providers.Shared{}); len(fs) != 0 {
		t.Errorf("farms %+v, want none", fs)
	}
	if fs := farms(ls, 2, providers.Shared{}); len(fs) != 1 || fs[0].Host != "one.example" || fs[0].Lookalikes != 2 {
		t.Errorf("farms %+v, want one.example with 2", fs)
	}
}

// A shared mail host is never a farm, however many lookalikes it receives mail for:
// Microsoft 365 gives each domain a host of its own under outlook.com, Google Workspace
// one host for all; the administrators may name more (dns.shared_mail_hosts).
func TestSharedMailHostIsNoFarm(t *testing.T) {
	var ls []Lookalike
	for _, d := range []string{"a.example", "b.example", "c.example"} {
		ls = append(ls,
			Lookalike{Domain: "m" + d, CanReceive: true, MX: []MX{{Host: "m" + strings.ReplaceAll(d, ".", "-") + ".mail.protection.outlook.com"}}},
			Lookalike{Domain: "g" + d, CanReceive: true, MX: []MX{{Host: "aspmx.l.google.com"}, {Host: "alt1.aspmx.l.google.com"}}},
			Lookalike{Domain: "h" + d, CanReceive: true, MX: []MX{{Host: "mx.hoster.example"}}},
			// A lookalike at a shared host and a farm counts for the farm.
			Lookalike{Domain: "f" + d, CanReceive: true, MX: []MX{{Host: "aspmx.l.google.com"}, {Host: "mx.farm.example"}}})
	}
	fs := farms(slices.Clone(ls), 3, providers.Shared{})
	var hosts []string
	for _, f := range fs {
		hosts = append(hosts, f.Host)
	}
	if !slices.Equal(hosts, []string{"farm.example", "hoster.example"}) {
		t.Errorf("farms %v, want farm.example and hoster.example", hosts)
	}
	fs = farms(ls, 3, providers.NewShared([]string{"hoster.example"}))
	if len(fs) != 1 || fs[0].Host != "farm.example" || fs[0].Lookalikes != 3 {
		t.Errorf("farms with hoster.example shared %+v, want farm.example alone", fs)
	}
	for _, l := range ls {
		if want := map[byte]string{'f': "farm.example"}[l.Domain[0]]; l.Farm != want {
			t.Errorf("%s: farm %q, want %q", l.Domain, l.Farm, want)
		}
	}
}

func TestTopKnown(t *testing.T) {
	k := func(name string, n int64) engine.KnownDomain {
		return engine.KnownDomain{Domain: domain(t, name), Count: n}
	}
	known := []engine.KnownDomain{k("a.com", 5), k("b.com", 9), k("a.com", 6), k("c.com", 12), k("d.com", 1)}
	got := TopKnown(known, 2, map[string]bool{"c.com": true})
	if len(got) != 2 || got[0].Domain.ASCII != "a.com" || got[0].Count != 11 || got[1].Domain.ASCII != "b.com" {
		t.Errorf("top %+v", got)
	}
	in := engine.Inputs{Own: []address.Domain{domain(t, "corp.com")}, Protected: []address.Domain{domain(t, "army.mil"), domain(t, "corp.com")}, Known: known}
	ts := ConfigTargets(in, 1)
	var names []string
	for _, t := range ts {
		names = append(names, t.Domain.ASCII+"/"+t.Why)
	}
	if want := []string{"corp.com/own domain", "army.mil/protected", "c.com/known (12 messages)"}; !slices.Equal(names, want) {
		t.Errorf("targets %v, want %v", names, want)
	}
}
