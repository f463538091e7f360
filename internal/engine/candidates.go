package engine

import (
	"fmt"
	"math"

	"github.com/rcptguard/rcptguard/internal/address"
)

// Collecting the candidates from the inputs, for a million of them: each name is looked
// up in a table of ids by its hash (no map of strings), and every candidate is written
// once, straight to its place in its group.

// distinct is a name of the inputs, given once or more, before it becomes a candidate.
type distinct struct {
	count int64
	at    uint32 // where the name is first given, for inputDomain
	class Class
}

// inputDomain is domain number at of in's own, protected, provider, major provider and
// known domains, counted in that order.
func inputDomain(in *Inputs, at uint32) address.Domain {
	d, _, _ := input(in, at)
	return d
}

// input is inputDomain with the class and count that come with it.
func input(in *Inputs, at uint32) (address.Domain, Class, int64) {
	i := int(at)
	for _, src := range [...]struct {
		ds []address.Domain
		c  Class
	}{{in.Own, Own | Protect}, {in.Protected, Protect}, {in.Providers, Provider}, {in.MajorProviders, Provider | Major}} {
		if i < len(src.ds) {
			return src.ds[i], src.c, 0
		}
		i -= len(src.ds)
	}
	return in.Known[i].Domain, Known, in.Known[i].Count
}

// touchBatch is how many hashes are made, and their slots touched, before they are
// added to a table, so that the cache misses of a batch overlap.
const touchBatch = 32

// candidates sets e.cands and e.groups from in: each name once, with every class it is
// given in and the sum of its counts; the candidates ordered by label part, one group for
// each in the order of their first candidates (a candidate that is itself a public suffix
// has no label part and its group is empty). It returns the hash of each candidate's name
// and of each group's label part, as keys of the index.
func (e *Engine) candidates(in *Inputs) (nameHash, nearHash []uint64, err error) {
	total := len(in.Own) + len(in.Protected) + len(in.Providers) + len(in.MajorProviders) + len(in.Known)
	if int64(total) >= math.MaxUint32 {
		return nil, nil, fmt.Errorf("too many candidate domains (%d)", total)
	}
	names := make([]distinct, 0, total)
	nameHash = make([]uint64, 0, total) // of names[i] until the candidates are made
	byName := newIDTable(total)
	var hs [touchBatch]uint64
	for lo := 0; lo < total; lo += touchBatch {
		hi := min(total, lo+touchBatch)
		for at := lo; at < hi; at++ {
			hs[at-lo] = hashKey(kindName, inputDomain(in, uint32(at)).ASCII)
		}
		e.sink += byName.touch(hs[:hi-lo])
		for at := lo; at < hi; at++ {
			d, c, count := input(in, uint32(at))
			if count < 0 {
				return nil, nil, fmt.Errorf("known domain %s has a negative count", d.ASCII)
			}
			h := hs[at-lo]
			i, found := byName.add(h, uint32(len(names)), func(i uint32) bool {
				return inputDomain(in, names[i].at).ASCII == d.ASCII
			})
			if found {
				names[i].class |= c
				names[i].count = satAdd(names[i].count, count)
			} else {
				names = append(names, distinct{count: count, at: uint32(at), class: c})
				nameHash = append(nameHash, h)
			}
		}
	}
	byName = idTable{}
	if int64(len(names)) > maxIDs {
		return nil, nil, fmt.Errorf("too many candidate domains (%d)", len(names))
	}

	// The groups, and the group of each name.
	gid := make([]uint32, len(names))
	e.groups = make([]group, 0, len(names))
	nearHash = make([]uint64, 0, len(names))
	byPre := newIDTable(len(names))
	var pres [touchBatch]string
	for lo := 0; lo < len(names); lo += touchBatch {
		hi := min(len(names), lo+touchBatch)
		for i := lo; i < hi; i++ {
			pres[i-lo] = lowerPre(inputDomain(in, names[i].at))
			hs[i-lo] = hashKey(kindNear, pres[i-lo])
		}
		e.sink += byPre.touch(hs[:hi-lo])
		for i := lo; i < hi; i++ {
			pre, h := pres[i-lo], hs[i-lo]
			g, found := byPre.add(h, uint32(len(e.groups)), func(g uint32) bool { return e.groups[g].pre == pre })
			if !found {
				e.groups = append(e.groups, group{pre: pre})
				nearHash = append(nearHash, h)
			}
			gid[i] = g
			e.groups[g].size++
		}
	}
	byPre = idTable{}

	// Each candidate goes to its group's range, in the order of the names; the group's
	// first field serves as the cursor and is set back afterwards.
	var first uint32
	for g := range e.groups {
		e.groups[g].first = first
		first += e.groups[g].size
	}
	e.cands = make([]candidate, len(names))
	hashes := make([]uint64, len(names))
	for i, n := range names {
		gr := &e.groups[gid[i]]
		d := inputDomain(in, n.at)
		e.cands[gr.first] = candidate{
			name: d.ASCII, display: d.Display, pre: gr.pre, suffix: d.Suffix, class: n.class, count: n.count,
		}
		hashes[gr.first] = nameHash[i]
		gr.first++
	}
	for g := range e.groups {
		e.groups[g].first -= e.groups[g].size
		if e.groups[g].pre == "" {
			// The candidate without a label part (a bare public suffix) never matches a
			// label.
			e.groups[g].size = 0
		}
	}
	return hashes, nearHash, nil
}
