package engine

import (
	"fmt"
	"math"
	"strings"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/confusables"
)

// Class says why the organisation means a candidate domain. A domain can be several.
type Class uint8

// The classes, as bits.
const (
	Own      Class = 1 << iota // one of the organisation's own domains
	Protect                    // listed as protected
	Provider                   // a major mailbox provider (built in)
	Known                      // a correspondent the organisation writes to
	Major                      // with Provider: one of the few biggest (see Inputs)
)

// Has reports whether c includes all of x.
func (c Class) Has(x Class) bool { return c&x == x }

// Inputs are the named sets an Engine is built from. Domains must be normalised
// (address.ParseDomain); namespaces are ASCII suffixes without a leading dot ("mil").
type Inputs struct {
	Own       []address.Domain
	Protected []address.Domain
	// ProtectedNamespaces are trusted inside: a typo that stays inside one bounces or
	// reaches another trusted party. Their suffix typos outside are suspicious for every
	// label.
	ProtectedNamespaces []string
	Providers           []address.Domain
	// MajorProviders are the few providers with a large share of all personal mail
	// (providers.Major): a slip of even a three-letter label of theirs is warned about.
	// Each should also be in Providers.
	MajorProviders  []address.Domain
	Known           []KnownDomain
	Allow           []address.Domain
	AllowNamespaces []string
	Block           []address.Domain
	BlockNamespaces []string
}

// KnownDomain is a correspondent with the number of messages sent to it.
type KnownDomain struct {
	Domain address.Domain
	Count  int64
}

// candidate is one domain the organisation means.
type candidate struct {
	name    string // ASCII
	display string
	pre     string // label part, display form, lowercase
	suffix  string // ASCII public suffix
	class   Class
	count   int64
}

// group is the candidates that share a label part (outlook.com, outlook.fr, ...): they are
// indexed once, so that forty variants of a provider cost one key, not forty.
type group struct {
	pre         string
	first, size uint32 // the group's candidates are cands[first:first+size]
}

// Engine is an immutable, indexed set of candidates. Build it with New.
type Engine struct {
	cands      []candidate // ordered by group
	groups     []group
	ix         index
	namespaces []string            // protected namespaces
	nsTypos    map[string][]string // typo suffix -> protected namespaces it is a typo of
	allow      map[string]bool
	allowNS    []string
	block      map[string]bool
	blockNS    []string
	maxCount   int64
	prominent  int64 // see prominence
}

// New builds an engine. It copies what it needs from in; in may be reused afterwards.
func New(in Inputs) (*Engine, error) {
	e := &Engine{
		allow:   make(map[string]bool, len(in.Allow)),
		block:   make(map[string]bool, len(in.Block)),
		nsTypos: map[string][]string{},
	}
	for _, d := range in.Allow {
		e.allow[d.ASCII] = true
	}
	for _, d := range in.Block {
		e.block[d.ASCII] = true
	}
	var err error
	if e.allowNS, err = cleanNamespaces(in.AllowNamespaces); err != nil {
		return nil, err
	}
	if e.blockNS, err = cleanNamespaces(in.BlockNamespaces); err != nil {
		return nil, err
	}
	if e.namespaces, err = cleanNamespaces(in.ProtectedNamespaces); err != nil {
		return nil, err
	}
	for _, ns := range e.namespaces {
		suffixTypos(ns, func(q string) {
			// A typo that lands in another protected namespace is not a leak.
			if !underAny(q, e.namespaces) {
				e.nsTypos[q] = append(e.nsTypos[q], ns)
			}
		})
	}

	byName := make(map[string]int, len(in.Own)+len(in.Protected)+len(in.Providers)+len(in.Known))
	add := func(d address.Domain, c Class, count int64) {
		if i, ok := byName[d.ASCII]; ok {
			e.cands[i].class |= c
			e.cands[i].count = satAdd(e.cands[i].count, count)
			return
		}
		byName[d.ASCII] = len(e.cands)
		e.cands = append(e.cands, candidate{
			name: d.ASCII, display: d.Display, pre: lowerPre(d), suffix: d.Suffix, class: c, count: count,
		})
	}
	for _, d := range in.Own {
		add(d, Own|Protect, 0)
	}
	for _, d := range in.Protected {
		add(d, Protect, 0)
	}
	for _, d := range in.Providers {
		add(d, Provider, 0)
	}
	for _, d := range in.MajorProviders {
		add(d, Provider|Major, 0)
	}
	for _, k := range in.Known {
		if k.Count < 0 {
			return nil, fmt.Errorf("known domain %s has a negative count", k.Domain.ASCII)
		}
		add(k.Domain, Known, k.Count)
	}
	byName = nil
	if len(e.cands) >= math.MaxUint32 {
		return nil, fmt.Errorf("too many candidate domains (%d)", len(e.cands))
	}

	e.group()
	for i := range e.cands {
		e.maxCount = max(e.maxCount, e.cands[i].count)
	}
	e.prominent = prominence(e.cands)
	// Two passes over the keys, counting then inserting, so that no list of all keys is
	// ever held: that list would be the largest thing in memory during the build.
	n := 0
	e.keys(func(uint64, uint32) { n++ })
	var b builder
	b.init(n)
	e.keys(b.add)
	e.ix = b.finish()
	return e, nil
}

// keys calls f with every key of the index and its id: each candidate's name, and each
// group's label part, its deletions and its skeleton.
func (e *Engine) keys(f func(h uint64, id uint32)) {
	for i := range e.cands {
		f(hashKey(kindName, e.cands[i].name), uint32(i))
	}
	for i, g := range e.groups {
		id := uint32(i)
		f(hashKey(kindNear, g.pre), id)
		deletions(kindNear, g.pre, func(h uint64) { f(h, id) })
		if sk := confusables.Skeleton(g.pre); sk != g.pre {
			f(hashKey(kindSkel, sk), id)
		}
	}
}

// group orders the candidates by label part and makes one group for each (a candidate
// that is itself a public suffix has no label part and no group).
func (e *Engine) group() {
	ids := make(map[string]uint32, len(e.cands))
	gid := make([]uint32, len(e.cands))
	var sizes []uint32
	for i, c := range e.cands {
		g, ok := ids[c.pre]
		if !ok {
			g = uint32(len(sizes))
			ids[c.pre] = g
			sizes = append(sizes, 0)
		}
		gid[i] = g
		sizes[g]++
	}
	ids = nil
	e.groups = make([]group, len(sizes))
	next := make([]uint32, len(sizes))
	var at uint32
	for g, n := range sizes {
		e.groups[g] = group{first: at, size: n}
		next[g] = at
		at += n
	}
	sorted := make([]candidate, len(e.cands))
	for i, c := range e.cands {
		g := gid[i]
		sorted[next[g]] = c
		next[g]++
		e.groups[g].pre = c.pre
	}
	e.cands = sorted
	// The candidate without a label part (a bare public suffix) never matches a label.
	for i := range e.groups {
		if e.groups[i].pre == "" {
			e.groups[i].size = 0
		}
	}
}

// members is the candidates of group g.
func (e *Engine) members(g uint32) []candidate {
	gr := e.groups[g]
	return e.cands[gr.first : gr.first+gr.size]
}

// lowerPre is the label part of d in display form.
func lowerPre(d address.Domain) string {
	return d.DisplayPre()
}

func cleanNamespaces(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, ns := range in {
		ns = strings.Trim(strings.ToLower(ns), ".")
		if ns == "" {
			return nil, fmt.Errorf("empty namespace")
		}
		out = append(out, ns)
	}
	return out, nil
}

func underAny(name string, nss []string) bool {
	for _, ns := range nss {
		if name == ns || strings.HasSuffix(name, "."+ns) {
			return true
		}
	}
	return false
}

func satAdd(a, b int64) int64 {
	if s := a + b; s >= a {
		return s
	}
	return math.MaxInt64
}

// Size is the number of candidate domains.
func (e *Engine) Size() int { return len(e.cands) }

// find returns the id of the candidate named name.
func (e *Engine) find(name string) (uint32, bool) {
	return e.findHashed(name, hashKey(kindName, name))
}

// findHashed is find with the name's hash already made.
func (e *Engine) findHashed(name string, h uint64) (uint32, bool) {
	var found uint32
	ok := false
	e.ix.lookup(h, func(id uint32) bool {
		if e.cands[id].name == name {
			found, ok = id, true
			return false
		}
		return true
	})
	return found, ok
}
