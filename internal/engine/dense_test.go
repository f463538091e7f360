package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
)

// denseNamespace makes n legitimate, similar domains under one namespace, as a government
// or a school district has: short pronounceable labels, many one edit apart, with mail
// volumes spread like real traffic (a few big, most small).
func denseNamespace(t testing.TB, n int, ns string, seed uint64) []KnownDomain {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	const cons, vows = "bcdfghklmnprstvz", "aeiou"
	seen := map[string]bool{}
	var out []KnownDomain
	for len(out) < n {
		l := 4 + rng.IntN(5)
		b := make([]byte, l)
		for i := range b {
			if i%2 == 0 {
				b[i] = cons[rng.IntN(len(cons))]
			} else {
				b[i] = vows[rng.IntN(len(vows))]
			}
		}
		name := string(b) + "." + ns
		if seen[name] {
			continue
		}
		seen[name] = true
		d, err := address.ParseDomain(name)
		if err != nil {
			t.Fatal(err)
		}
		// Zipf-like: count = 10000 / rank.
		out = append(out, KnownDomain{Domain: d, Count: int64(10000 / (len(out) + 1))})
	}
	return out
}

// TestDenseNamespaceIsQuiet: when the organisation knows thousands of similar legitimate
// domains, checking those domains holds almost none and warns few (goals: at most 0.05%
// held, 3% warned), and unknown legitimate neighbours inside the protected namespace are
// never held.
func TestDenseNamespaceIsQuiet(t *testing.T) {
	known := denseNamespace(t, 5000, "gouv.fr", 1)
	e, err := New(Inputs{Known: known, ProtectedNamespaces: []string{"gouv.fr"}})
	if err != nil {
		t.Fatal(err)
	}
	others := denseNamespace(t, 7000, "gouv.fr", 2)
	for _, set := range []struct {
		name string
		ds   []KnownDomain
	}{{"known", known}, {"unknown neighbours", others}} {
		strong, weak := 0, 0
		for _, k := range set.ds {
			r := e.Check(k.Domain)
			if len(r.Findings) == 0 {
				continue
			}
			if r.Findings[0].Situation != SituationNamespace && r.Findings[0].Strong() {
				strong++
			} else {
				weak++
			}
		}
		n := float64(len(set.ds))
		t.Logf("%s: %d checked, %.3f%% would be held, %.2f%% warned", set.name, len(set.ds), 100*float64(strong)/n, 100*float64(weak)/n)
		if float64(strong)/n > 0.0005 {
			t.Errorf("%s: %d of %d would be held", set.name, strong, len(set.ds))
		}
		// Unknown names next to a dense known set cannot be told from typos: they are
		// warned about (the figure is logged), never held. The known ones stay quiet.
		if set.name == "known" && float64(weak)/n > 0.03 {
			t.Errorf("%s: %d of %d warned", set.name, weak, len(set.ds))
		}
	}
	// The same names outside a protected namespace are known correspondents: still quiet
	// among themselves.
	plain := denseNamespace(t, 5000, "fr", 3)
	e2, err := New(Inputs{Known: plain})
	if err != nil {
		t.Fatal(err)
	}
	flagged := 0
	for _, k := range plain {
		if r := e2.Check(k.Domain); len(r.Findings) > 0 {
			flagged++
		}
	}
	if rate := float64(flagged) / float64(len(plain)); rate > 0.03 {
		t.Errorf("known among known: %.2f%% flagged", 100*rate)
	}
}

// TestDenseUnknownNeighboursRate reports (and bounds loosely) how often unknown legitimate
// names next to a dense set of known ones are flagged when no namespace is protected: the
// engine cannot tell them from typos, so it warns, but it should rarely hold.
func TestDenseUnknownNeighboursRate(t *testing.T) {
	known := denseNamespace(t, 5000, "fr", 4)
	e, err := New(Inputs{Known: known})
	if err != nil {
		t.Fatal(err)
	}
	others := denseNamespace(t, 7000, "fr", 5)
	held, warned, n := 0, 0, 0
	for _, k := range others {
		if _, ok := e.find(k.Domain.ASCII); ok {
			continue
		}
		n++
		r := e.Check(k.Domain)
		switch {
		case len(r.Findings) == 0:
		case r.Findings[0].Strong():
			held++
		default:
			warned++
		}
	}
	t.Logf("unknown neighbours of a dense known set: %d checked, %.2f%% strong, %.2f%% weak", n, 100*float64(held)/float64(n), 100*float64(warned)/float64(n))
	if float64(held)/float64(n) > 0.05 {
		t.Errorf("%d of %d strong", held, n)
	}
}
