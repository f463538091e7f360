package engine

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
)

// dnstwistFixtures are the files of testdata/dnstwist (see its README) and the domain
// each lists the lookalikes of.
var dnstwistFixtures = []struct{ file, domain string }{
	{"army.mil.txt", "army.mil"},
	{"gmail.com.txt", "gmail.com"},
	{"example.com.txt", "example.com"},
	{"us.ibm.com.txt", "us.ibm.com"},
	{"cba.com.au.txt", "cba.com.au"},
	{"example.com-tld-common.txt", "example.com"},
	{"gmail.com-tld-abused.txt", "gmail.com"},
}

func mustDomain(t testing.TB, s string) address.Domain {
	t.Helper()
	d, err := address.ParseDomain(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestWideCoversDnstwist: every name dnstwist generates for the fixture domains is among
// PermuteWide's, unless it is d itself, is under d's registrable domain (dnstwist does not
// leave those out) or is not a valid domain for address.ParseDomain (none is today). No
// exception is needed: PermuteWide covers every one.
func TestWideCoversDnstwist(t *testing.T) {
	t.Parallel()
	wide := map[string]map[string]bool{}
	for _, fx := range dnstwistFixtures {
		d := mustDomain(t, fx.domain)
		set := wide[fx.domain]
		if set == nil {
			set = map[string]bool{}
			for _, v := range PermuteWide(d) {
				set[v.Domain.ASCII] = true
			}
			wide[fx.domain] = set
		}
		f, err := os.Open(filepath.Join("testdata", "dnstwist", fx.file))
		if err != nil {
			t.Fatal(err)
		}
		var total, covered, own, invalid int
		var missing []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			name := strings.ToLower(strings.TrimSpace(sc.Text()))
			if name == "" {
				continue
			}
			total++
			v, err := address.ParseDomain(name)
			switch {
			case err != nil:
				invalid++
				t.Logf("%s: dnstwist's %s is not a valid domain: %v", fx.file, name, err)
			case v.ASCII == d.ASCII || v.Registrable() == d.Registrable():
				own++
			case set[v.ASCII]:
				covered++
			default:
				missing = append(missing, v.ASCII+" ("+v.Display+")")
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		t.Logf("%-28s dnstwist %5d: covered %5d, own name or under it %d, invalid %d, missing %d; PermuteWide %d",
			fx.file, total, covered, own, invalid, len(missing), len(set))
		if total < 20 {
			t.Errorf("%s: only %d names: not dnstwist's output?", fx.file, total)
		}
		if len(missing) > 0 {
			if len(missing) > 30 {
				missing = missing[:30]
			}
			t.Errorf("%s: dnstwist has names PermuteWide lacks, such as:\n%s", fx.file, strings.Join(missing, "\n"))
		}
	}
}

// TestWideVariants: PermuteWide's names are unique, valid, exactly what ParseDomain makes
// of them, outside d's registrable domain, under a listed suffix, with a technique; and
// Permute's are all there.
func TestWideVariants(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"army.mil", "gmail.com", "us.ibm.com", "cba.com.au", "t-online.de", "münchen.de", "a.b.example.co.uk", "xn--80ak6aa92e.com", "www.ck"} {
		d := mustDomain(t, name)
		vs := PermuteWide(d)
		seen := map[string]bool{}
		for _, v := range vs {
			p, err := address.ParseDomain(v.Domain.ASCII)
			if err != nil {
				t.Errorf("%s: %s: %v", name, v.Domain.ASCII, err)
				continue
			}
			if p != v.Domain {
				t.Errorf("%s: variant %+v, ParseDomain gives %+v", name, v.Domain, p)
			}
			if seen[p.ASCII] {
				t.Errorf("%s: %s twice", name, p.ASCII)
			}
			seen[p.ASCII] = true
			if p.ASCII == d.ASCII || p.Registrable() == d.Registrable() {
				t.Errorf("%s: %s is its own name or under it", name, p.ASCII)
			}
			if v.Technique <= 0 || v.Technique >= numTechniques {
				t.Errorf("%s: %s has no technique", name, p.ASCII)
			}
		}
		for _, v := range Permute(d, nil) {
			if !seen[v.Domain.ASCII] {
				t.Errorf("%s: Permute's %s (%s) is not in PermuteWide", name, v.Domain.ASCII, v.Technique)
			}
		}
		if len(vs) <= len(Permute(d, nil)) {
			t.Errorf("%s: PermuteWide gives %d, no more than Permute", name, len(vs))
		}
	}
}

// TestWideExamples: a few names of each kind, checked by hand.
func TestWideExamples(t *testing.T) {
	t.Parallel()
	want := map[string][]string{
		"army.mil":   {"armymil.mil", "army-mil.com", "armymil.com", "arny.mil", "аrmy.mil", "army.xyz", "army.de"},
		"gmail.com":  {"gmaiil.com", "gmial.com", "gmails.com", "gmall.com", "grnail.com", "gmаil.com", "gmai1.com", "gmaik.com", "gmáíl.com", "ԍмаіӏ.com"},
		"us.ibm.com": {"usibm.com", "us-ibm.com", "us.ibn.com", "us.ibm.co.uk", "us.ibmcom.com"},
		"cba.com.au": {"cba.au", "cbacom.au", "cba.co.uk", "cbaa.com.au"},
	}
	for name, names := range want {
		set := map[string]bool{}
		for _, v := range PermuteWide(mustDomain(t, name)) {
			set[v.Domain.ASCII] = true
		}
		for _, n := range names {
			if !set[mustDomain(t, n).ASCII] {
				t.Errorf("PermuteWide(%s) lacks %s", name, n)
			}
		}
	}
}

// BenchmarkPermuteWide generates the wide lookalikes of a five- and a ten-letter domain,
// or of $PERMUTE_DOMAIN alone when it is set (scripts/bench-permute.sh sets it).
func BenchmarkPermuteWide(b *testing.B) {
	names := []string{"gmail.com", "wingtiptoy.com"}
	if env := os.Getenv("PERMUTE_DOMAIN"); env != "" {
		names = []string{env}
	}
	for _, name := range names {
		d := mustDomain(b, name)
		b.Run(name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				n = len(PermuteWide(d))
			}
			b.ReportMetric(float64(n), "lookalikes")
		})
	}
}
