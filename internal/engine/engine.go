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
	prominent  int64  // see prominence
	sink       uint64 // keeps the prefetching loads of the build alive
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

	nameHash, nearHash, err := e.candidates(&in)
	if err != nil {
		return nil, err
	}
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
