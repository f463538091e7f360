package squat

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
)

// Target is a domain whose lookalikes are looked up, and why it is one.
type Target struct {
	Domain address.Domain
	Why    string // "argument", "own domain", "protected", "known (N messages)"
}

// ConfigTargets are the targets a configuration names: its own domains, its protected
// domains (namespaces have no lookalikes to look up) and, when knownTop > 0, the knownTop
// known correspondents with the most messages (in.Known, counts of a domain listed twice
// added), each domain once.
func ConfigTargets(in engine.Inputs, knownTop int) []Target {
	var ts []Target
	seen := map[string]bool{}
	add := func(d address.Domain, why string) {
		if !seen[d.ASCII] {
			seen[d.ASCII] = true
			ts = append(ts, Target{Domain: d, Why: why})
		}
	}
	for _, d := range in.Own {
		add(d, "own domain")
	}
	for _, d := range in.Protected {
		add(d, "protected")
	}
	for _, k := range TopKnown(in.Known, knownTop, seen) {
		add(k.Domain, "known ("+strconv.FormatInt(k.Count, 10)+" messages)")
	}
	return ts
}

// TopKnown is the n known domains with the most messages, leaving out those in skip; a
// domain listed more than once counts the sum of its counts. Ties go in name order.
func TopKnown(known []engine.KnownDomain, n int, skip map[string]bool) []engine.KnownDomain {
	if n <= 0 {
		return nil
	}
	sum := map[string]int{}
	var out []engine.KnownDomain
	for _, k := range known {
		if skip[k.Domain.ASCII] {
			continue
		}
		if i, ok := sum[k.Domain.ASCII]; ok {
			if out[i].Count += k.Count; out[i].Count < 0 { // saturate
				out[i].Count = 1<<63 - 1
			}
			continue
		}
		sum[k.Domain.ASCII] = len(out)
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b engine.KnownDomain) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Domain.ASCII, b.Domain.ASCII))
	})
	return out[:min(n, len(out))]
}
