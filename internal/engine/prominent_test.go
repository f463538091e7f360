package engine

import (
	"fmt"
	"testing"
)

func TestProminenceIsRelativeToTheMedian(t *testing.T) {
	cands := func(counts ...int64) []candidate {
		var out []candidate
		for _, n := range counts {
			out = append(out, candidate{class: Known, count: n})
		}
		return out
	}
	many := func(n int, count int64) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = count
		}
		return out
	}
	spread := func(n int) []int64 { // 1, 2, ..., n: the lower median is (n+1)/2 rounded down
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(n - i)
		}
		return out
	}
	for _, c := range []struct {
		name   string
		counts []int64
		want   int64
	}{
		{"none", nil, strongCount},
		{"too few to say", []int64{9, 15, 52, 80, 230, 340, 1200}, strongCount},
		{"all 20", many(3000, 20), 80},
		{"all 1", many(500, 1), strongCount},
		{"1..1001", spread(1001), 4 * 501},
		{"1..1000", spread(1000), 4 * 500},
	} {
		if got := prominence(cands(c.counts...)); got != c.want {
			t.Errorf("%s: prominence = %d, want %d", c.name, got, c.want)
		}
	}
	// Own, protected and provider names do not count, whatever their class bits.
	cs := cands(many(200, 30)...)
	for range 1000 {
		cs = append(cs, candidate{class: Provider | Known, count: 1}, candidate{class: Protect | Known, count: 1})
	}
	if got := prominence(cs); got != 120 {
		t.Errorf("with providers and protected names: %d, want 120", got)
	}
}

// TestOrdinaryCorrespondentsNeighboursAreNotHeld: in a namespace where the organisation
// knows many similar names with similar mail (the dense benchmark: 3,000 universities,
// 20 messages each), a new name one slip from one of them is another real party more
// often than a typo: a warning at most; no finding at all for a slip of an acronym of up
// to three characters or for a label slip under another real suffix. A homoglyph is
// still held, and a prominent correspondent (far more mail than the median) keeps the
// full weight.
func TestOrdinaryCorrespondentsNeighboursAreNotHeld(t *testing.T) {
	var known []KnownDomain
	for i := range 300 {
		known = append(known, KnownDomain{Domain: parseDomains(t, fmt.Sprintf("college%03d.edu", i))[0], Count: 20})
	}
	for name, n := range map[string]int64{"ensat.fr": 20, "csusm.edu": 20, "gwu.edu": 20, "mnsu.edu": 20, "fabrikam.com": 5000} {
		known = append(known, KnownDomain{Domain: parseDomains(t, name)[0], Count: n})
	}
	e := newEngine(t, Inputs{Known: known})
	for q, want := range map[string]string{
		"enst.fr":      "weak",   // omission, ensat.fr is ordinary
		"csum.edu":     "weak",   // omission
		"gsu.edu":      "none",   // a slip of a three-letter acronym
		"ensot.fr":     "none",   // a vowel swapped: weak, and ensat.fr is ordinary
		"fabrikom.com": "weak",   // a vowel swapped next to a prominent name: a warning
		"nsu.edu.pk":   "none",   // a label slip under another real suffix
		"cѕusm.edu":    "strong", // a Cyrillic ѕ: deliberate
		"fabrikm.com":  "strong", // prominent: 5,000 messages
		"fabrikam.con": "strong", // a suffix typo of a prominent name
	} {
		r := checkName(t, e, q)
		got := "none"
		if len(r.Findings) > 0 {
			got = "weak"
			if r.Findings[0].Strong() {
				got = "strong"
			}
		}
		if got != want {
			t.Errorf("%s: %s (%s), want %s", q, got, describeResult(r), want)
		}
	}
}
