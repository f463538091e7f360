package engine

import (
	"fmt"
	"math"
	"strings"

	"github.com/rcptguard/rcptguard/internal/address"
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

	total := len(in.Own) + len(in.Protected) + len(in.Providers) + len(in.MajorProviders) + len(in.Known)
	if int64(total) > maxIDs {
		return nil, fmt.Errorf("too many candidate domains (%d)", total)
	}
	e.cands = make([]candidate, 0, total)
	nameHash := make([]uint64, 0, total) // nameHash[i] is the hash of cands[i].name
	byName := newIDTable(total)
	add := func(d address.Domain, c Class, count int64) {
		h := hashKey(kindName, d.ASCII)
		i, found := byName.add(h, uint32(len(e.cands)), func(i uint32) bool {
			return nameHash[i] == h && e.cands[i].name == d.ASCII
		})
		if found {
			e.cands[i].class |= c
			e.cands[i].count = satAdd(e.cands[i].count, count)
			return
		}
		e.cands = append(e.cands, candidate{
			name: d.ASCII, display: d.Display, pre: lowerPre(d), suffix: d.Suffix, class: c, count: count,
		})
		nameHash = append(nameHash, h)
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
	byName = idTable{}

	nearHash := e.group(nameHash)
	for i := range e.cands {
		e.maxCount = max(e.maxCount, e.cands[i].count)
	}
	e.prominent = prominence(e.cands)
	// The keys are counted first, so that no list of all keys is ever held: that list
	// would be the largest thing in memory during the build.
	e.ix = newIndex(e.countKeys(), len(e.cands))
	e.fillIndex(&e.ix, nameHash, nearHash)
	return e, nil
}

// group orders the candidates by label part and makes one group for each, in the order
// of their first candidates (a candidate that is itself a public suffix has no label part
// and its group is empty). nameHash, the hashes of the candidates' names, is reordered
// with them. It returns the hash of each group's label part as a near key.
func (e *Engine) group(nameHash []uint64) (nearHash []uint64) {
	// dest[i] is first the group of candidate i, then where it goes.
	dest := make([]uint32, len(e.cands))
	e.groups = make([]group, 0, len(e.cands))
	nearHash = make([]uint64, 0, len(e.cands))
	byPre := newIDTable(len(e.cands))
	for i := range e.cands {
		pre := e.cands[i].pre
		h := hashKey(kindNear, pre)
		g, found := byPre.add(h, uint32(len(e.groups)), func(g uint32) bool {
			return nearHash[g] == h && e.groups[g].pre == pre
		})
		if !found {
			e.groups = append(e.groups, group{pre: pre})
			nearHash = append(nearHash, h)
		}
		dest[i] = g
		e.groups[g].size++
	}
	byPre = idTable{}
	var at uint32
	for g := range e.groups {
		e.groups[g].first = at
		at += e.groups[g].size
	}
	// Each group's members go to its range, in their order; the first field serves as
	// the cursor and is set back afterwards.
	for i, g := range dest {
		dest[i] = e.groups[g].first
		e.groups[g].first++
	}
	for g := range e.groups {
		e.groups[g].first -= e.groups[g].size
	}
	// Move every candidate to its place by following the cycles of the permutation.
	for i := range dest {
		for j := dest[i]; j != uint32(i); j = dest[i] {
			e.cands[i], e.cands[j] = e.cands[j], e.cands[i]
			nameHash[i], nameHash[j] = nameHash[j], nameHash[i]
			dest[i], dest[j] = dest[j], j
		}
	}
	// The candidate without a label part (a bare public suffix) never matches a label.
	for i := range e.groups {
		if e.groups[i].pre == "" {
			e.groups[i].size = 0
		}
	}
	return nearHash
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
