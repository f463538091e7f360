package engine

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/rcptguard/rcptguard/internal/confusables"
)

// TestIndexHoldsEveryKeyInOrder builds engines small enough for a sequential build and
// big enough for a parallel one, with one, three and eight workers, and checks the index
// against a plain map of the same keys: a lookup returns every id that has the key, in the
// order of a sequential build (the candidates' names in order, then each group's keys in
// group order).
func TestIndexHoldsEveryKeyInOrder(t *testing.T) {
	known := syntheticKnown(t, 20000)
	for _, k := range known[:3000] { // groups of several candidates
		known = append(known, KnownDomain{Domain: domain(t, k.Domain.Pre()+".net"), Count: 1})
	}
	for _, run := range []struct{ known, procs int }{{2000, 2}, {len(known), 1}, {len(known), 3}, {len(known), 8}} {
		procs := run.procs
		prev := runtime.GOMAXPROCS(procs)
		e, err := New(Inputs{Known: known[:run.known]})
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		if parallel := len(e.ix.slots) >= 1<<16; parallel != (run.known > 2000) {
			t.Fatalf("%d slots for %d domains: parallel %v", len(e.ix.slots), run.known, parallel)
		}
		want := map[uint64][]uint32{}
		has := map[key]bool{}
		add := func(h uint64, id uint32) {
			want[h] = append(want[h], id)
			has[key{h, id}] = true
		}
		for i, c := range e.cands {
			add(hashKey(kindName, c.name), uint32(i))
		}
		for g, gr := range e.groups {
			id := uint32(g)
			add(hashKey(kindNear, gr.pre), id)
			deletions(kindNear, gr.pre, func(h uint64) { add(h, id) })
			if sk := confusables.Skeleton(gr.pre); sk != gr.pre {
				add(hashKey(kindSkel, sk), id)
			}
		}
		used := 0
		for _, s := range e.ix.slots {
			if s != 0 {
				used++
			}
		}
		if used != len(has) || e.countKeys() != len(has) {
			t.Errorf("GOMAXPROCS %d: %d slots used, %d keys counted, want %d", procs, used, e.countKeys(), len(has))
		}
		for h, ids := range want {
			var got []uint32
			e.ix.lookup(h, func(id uint32) bool {
				if has[key{h, id}] { // not a fingerprint collision
					got = append(got, id)
				}
				return true
			})
			if !slices.Equal(got, ids) {
				t.Fatalf("GOMAXPROCS %d: hash %x: ids %v, want %v", procs, h, got, ids)
			}
		}
	}
}

// TestIndexKindsStayApart: with so many ids that the fingerprint keeps four bits, a
// lookup of a label key still never returns the id of a name (which could be past the
// last group).
func TestIndexKindsStayApart(t *testing.T) {
	ix := newIndex(1000, 1<<28)
	in := inserter{ix: &ix, hi: uint64(len(ix.slots)), wrap: true}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 700 {
		in.put(key{finish(kindName, rng.Uint64()), uint32(i)})
	}
	for range 100000 {
		ix.lookup(finish(kindNear, rng.Uint64()), func(id uint32) bool {
			t.Fatalf("a label key found name id %d", id)
			return false
		})
	}
}

func TestCountDeletions(t *testing.T) {
	for _, s := range []string{"", "a", "aa", "ab", "abba", "mississippi", "bücher", "ääb", "bää", "aaa-bbb", "xn--bcher-kva"} {
		n := 0
		deletions(kindNear, s, func(uint64) { n++ })
		if got := countDeletions(s); got != n {
			t.Errorf("countDeletions(%q) = %d, want %d", s, got, n)
		}
	}
}
