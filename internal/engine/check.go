package engine

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/confusables"
)

// maxFindings bounds the findings reported for one domain.
const maxFindings = 4

// knownRatio: a known suspect is still flagged as a lookalike of a known candidate only
// when the candidate received at least this many times more mail.
const knownRatio = 50

// providerWeight is the message count a provider stands for when a known suspect is
// compared with it: big, because everybody writes to providers.
const providerWeight = 1000

// check is the state of one Check: the result and the raw hits, deduplicated per candidate.
type check struct {
	e    *Engine
	reg  string // the query's registrable domain
	sink uint32 // keeps the prefetching loads alive
	r    Result
	hits [8]Finding
	n    int
}

// Check looks for the domains d is likely a mistyping or lookalike of.
func (e *Engine) Check(d address.Domain) Result {
	c := check{e: e, r: Result{Domain: d}, reg: d.Registrable()}
	if (len(e.allow) > 0 || len(e.allowNS) > 0) && e.allowed(d.ASCII) {
		c.r.Allowed = true
		return c.r
	}
	c.r.Blocked = len(e.block) > 0 && e.block[d.ASCII] || underAny(d.ASCII, e.blockNS)
	// Hash the label part's neighbourhood and the name now and touch their slots
	// together, so that the memory loads of the lookups below overlap instead of waiting
	// for one another.
	pre := d.DisplayPre()
	var buf nearHashes
	var near []uint64
	if pre != "" {
		if n, ok := buf.of(pre); ok {
			near = buf[:n]
		}
	}
	self := hashKey(kindName, d.ASCII)
	c.sink += e.ix.touch(near) + e.ix.touch([]uint64{self})
	// The domain itself, or a parent up to its registrable domain: news.yahoo.com belongs
	// to yahoo.com, and mail.fabrikam.com to the fabrikam.com the organisation knows.
	reg := c.reg
	for name := d.ASCII; ; {
		if id, ok := e.findHashed(name, self); ok {
			c.r.Self, c.r.Count = e.cands[id].class, e.cands[id].count
			if c.r.Self&(Own|Protect|Provider) != 0 {
				if name != d.ASCII {
					c.dotInside(d, name)
					c.finish()
				}
				return c.r
			}
			break
		}
		i := strings.IndexByte(name, '.')
		if name == reg || reg == "" || i < 0 {
			break
		}
		name = name[i+1:]
		self = hashKey(kindName, name)
	}
	for _, ns := range e.namespaces {
		if d.Under(ns) {
			c.r.Namespace = ns
			break
		}
	}
	c.otherSuffix(d)
	if pre != "" {
		c.appended(d)
		reg := pre[strings.LastIndexByte(pre, '.')+1:]
		c.label(d, pre, near)
		if reg != pre {
			c.label(d, reg, nil)
		}
	}
	c.namespaceTypos(d)
	if c.n == 0 && !d.Listed && !c.r.Blocked {
		c.nonexistentSuffix(d)
	}
	if c.n == 0 && !c.r.Blocked && c.r.Self == 0 && !confusables.IsASCII(pre) {
		c.mixedScript(d, pre)
	}
	c.finish()
	return c.r
}

func (e *Engine) allowed(name string) bool {
	return e.allow[name] || underAny(name, e.allowNS)
}

// strongCount is the number of messages to a known correspondent from which a slip of
// its suffix between two nested real namespaces is strong evidence: where the history's
// weight in score (log10(count+1)/2) passes 0.85.
const strongCount = 50

// nestedSuffixes reports whether one of the public suffixes a and b is the other with
// labels added on either side: edu and edu.au, com.au and com, edu.kh and edu.
func nestedSuffixes(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	return a != b && (strings.HasPrefix(a, b+".") || strings.HasSuffix(a, "."+b))
}

// inListedSuffix reports whether position i of d's name (the dot before a label) lies
// inside d's public suffix when that suffix is a listed one of several labels: the labels
// right of i were typed as a whole real suffix ("co.il", "mil.pl").
func inListedSuffix(d address.Domain, i int) bool {
	return d.Listed && strings.IndexByte(d.Suffix, '.') >= 0 && i >= len(d.ASCII)-len(d.Suffix)-1
}

// foreignNamespace reports whether right, the suffix typed, is a listed public suffix of
// several labels that begins with ns, a protected namespace: army.mil.ng and agency.gov.uk
// are under Nigeria's and the UK's own namespaces, not army.mil or agency.gov with a
// suffix appended.
func foreignNamespace(d address.Domain, right, ns string, namespaces []string) bool {
	return d.Listed && right == d.Suffix && strings.HasPrefix(right, ns+".") && slices.Contains(namespaces, ns)
}

// dotInside finds g.mail.com and hot.mail.com: a dot typed inside a provider's, an own
// or a protected label that leaves a name under another such domain (parent, the
// registrable part found). Providers give no addresses under their sub-domains, so the
// joined name is the one meant.
func (c *check) dotInside(d address.Domain, parent string) {
	left := d.ASCII[:len(d.ASCII)-len(parent)-1]
	joined := left + parent
	if id, ok := c.e.find(joined); ok && c.e.cands[id].class&(Own|Protect|Provider) != 0 {
		cd := &c.e.cands[id]
		i := strings.LastIndexByte(left, '.') + 1
		query := left[i:] + "." + parent[:strings.IndexByte(parent, '.')]
		c.add(id, edit{tech: Doppelganger, pos: len(left) - i, to: "."}, query, cd.pre, 1)
	}
}

// appended finds "army.mil.ml" and "gmail.com.co": a candidate name, or a name inside a
// protected namespace, with more labels appended.
func (c *check) appended(d address.Domain) {
	name := d.ASCII
	for i := strings.IndexByte(name, '.'); i >= 0; {
		next := strings.IndexByte(name[i+1:], '.')
		if next < 0 {
			break
		}
		prefix := name[:i+1+next]
		rest := name[len(prefix):]
		if underAny(prefix, c.e.namespaces) && inListedSuffix(d, strings.LastIndexByte(prefix, '.')) {
			// army.mil.ng, student.akademia.mil.pl: under a real foreign namespace ("mil.ng"
			// is a public suffix), not a protected name with a suffix appended.
		} else if id, ok := c.e.find(prefix); ok {
			c.add(id, edit{tech: AppendedSuffix, to: rest}, d.Display, prefix, 1)
		} else if underAny(prefix, c.e.namespaces) && !slices.Contains(c.e.namespaces, prefix) && !inListedSuffix(d, len(prefix)) {
			if pd, err := address.ParseDomain(prefix); err == nil {
				c.addUnknown(pd, edit{tech: AppendedSuffix, to: rest}, d.Display, prefix)
			}
		}
		i += 1 + next
	}
}

// otherSuffix finds a candidate's label part under a mistyped suffix: army.ml, cba.com,
// partner.uk, cba.om.au. The query is split at every dot, not only where the public suffix
// list splits it, because a mistyped suffix is rarely a listed one.
func (c *check) otherSuffix(d address.Domain) {
	e := c.e
	try := func(left, right string) {
		e.ix.lookup(hashKey(kindNear, left), func(g uint32) bool {
			if e.groups[g].pre != left {
				return true
			}
			first := e.groups[g].first
			for i, cd := range e.members(g) {
				if cd.suffix == right || foreignNamespace(d, right, cd.suffix, e.namespaces) {
					continue
				}
				if se, ok := suffixEdit(cd.suffix, right); ok {
					c.add(first+uint32(i), se, right, cd.suffix, 1)
				} else if cd.class&(Own|Protect) != 0 && c.r.Self&Known == 0 && genericSwap(cd.suffix, right) {
					c.add(first+uint32(i), edit{tech: SuffixSwap, from: cd.suffix, to: right}, right, cd.suffix, 1)
				}
			}
			return true
		})
	}
	labels := strings.Count(d.ASCII, ".") + 1
	disp := d.Display
	for i, k := 0, 1; k < labels && k <= 4; k++ {
		j := strings.IndexByte(disp[i:], '.')
		if j < 0 {
			break
		}
		i += j
		left := disp[:i]
		right := d.ASCII[len(d.ASCII)-asciiTailLen(d.ASCII, labels-k):]
		try(left, right)
		i++
	}
	// A sub-domain in front: mail.army.ml.
	if pre := d.DisplayPre(); strings.Contains(pre, ".") {
		try(pre[strings.LastIndexByte(pre, '.')+1:], d.Suffix)
	}
}

// genericTLDs are the generic top-level domains people swap for one another from memory
// (contoso.net for contoso.com).
var genericTLDs = []string{"com", "net", "org", "info", "biz", "edu", "gov", "mil", "int"}

// genericSwap reports whether a and b are two different generic top-level domains.
func genericSwap(a, b string) bool {
	return a != b && slices.Contains(genericTLDs, a) && slices.Contains(genericTLDs, b)
}

// asciiTailLen is the length of the last n labels of name.
func asciiTailLen(name string, n int) int {
	i := len(name)
	for ; n > 0; n-- {
		j := strings.LastIndexByte(name[:i], '.')
		if j < 0 {
			return len(name)
		}
		i = j
	}
	return len(name) - i - 1
}

// label looks for candidates whose label part is key, one edit from key, or looks like key.
//
// hs are the hashes of key's neighbourhood when the caller has them (already touched), or
// nil.
func (c *check) label(d address.Domain, key string, hs []uint64) {
	e := c.e
	// One edit: the candidate's deletions hold key (key lacks a character), key's
	// deletions hold the candidate (key has one more), or both share a deletion
	// (replacement, transposition).
	verify := func(g uint32) bool {
		pre := e.groups[g].pre
		if pre == key {
			return true
		}
		ed, ok := classify(pre, key)
		if !ok {
			return true
		}
		c.addGroup(g, d, key, ed)
		return true
	}
	if hs == nil {
		var buf nearHashes
		if n, ok := buf.of(key); ok {
			hs = buf[:n]
			c.sink += e.ix.touch(hs)
		} else {
			// More characters than the buffer holds (rare): look up as we hash.
			e.ix.lookup(hashKey(kindNear, key), verify)
			deletions(kindNear, key, func(h uint64) { e.ix.lookup(h, verify) })
		}
	}
	for _, h := range hs {
		e.ix.lookup(h, verify)
	}
	// Looks the same: the skeletons match, or the query's loose skeleton ("nn" for "m":
	// fabrikann.com) matches a candidate's skeleton.
	sk := confusables.Skeleton(key)
	var want string
	seen := func(g uint32) bool {
		pre := e.groups[g].pre
		if pre == key || confusables.Skeleton(pre) != want {
			return true
		}
		t := Visual
		if !confusables.IsASCII(key) {
			t = Homoglyph
		}
		c.addGroup(g, d, key, edit{tech: t, from: pre, to: key})
		return true
	}
	look := func(skel string, near bool) {
		want = skel
		e.ix.lookup(hashKey(kindSkel, skel), seen)
		if near {
			// A candidate whose skeleton is its own label is indexed by the label only.
			e.ix.lookup(hashKey(kindNear, skel), seen)
		}
	}
	look(sk, sk != key)
	if loose := confusables.LooseSkeleton(key); loose != "" && loose != sk {
		look(loose, true)
	}
}

// addGroup records a label-part finding for each candidate of group g whose suffix agrees
// (or is one slip apart).
func (c *check) addGroup(g uint32, d address.Domain, key string, ed edit) {
	first := c.e.groups[g].first
	for i, cd := range c.e.members(g) {
		factor, ed := 1.0, ed
		if cd.suffix != d.Suffix {
			se, ok := suffixEdit(cd.suffix, d.Suffix)
			if !ok {
				continue
			}
			ed.sfxFrom, ed.sfxTo, ed.sfx = cd.suffix, d.Suffix, se.tech
			if !d.Listed {
				ed.sfx = NonexistentSuffix
			}
			factor = 0.7 // two mistakes at once: less likely
			if !d.Listed {
				// gnail.con, yahooo.cmo: the suffix typed does not exist, so the mail
				// could only bounce; two slips toward the same candidate are stronger
				// evidence than one, never weaker.
				factor = 1
			}
		}
		c.add(first+uint32(i), ed, key, cd.pre, factor)
	}
}

// namespaceTypos finds xyz.ml when .mil is protected: a suffix typo of a protected
// namespace, suspicious for every label.
func (c *check) namespaceTypos(d address.Domain) {
	if len(c.e.nsTypos) == 0 || c.r.Namespace != "" {
		// Inside a protected namespace already: not a typo of its suffix.
		return
	}
	name := d.ASCII
	for k, i := 0, len(name); k < 3; k++ {
		j := strings.LastIndexByte(name[:i], '.')
		if j < 0 {
			return
		}
		tail := name[j+1:]
		if inListedSuffix(d, j) {
			// kdror.co.il is not kdror.co.mil: "co.il" is a public suffix typed in full,
			// a deliberate name, not a slip of one letter.
			return
		}
		if underAny(name[:j], c.e.namespaces) {
			// army.mil.ml is army.mil with a suffix appended, not a typo of army.mil.mil.
			i = j
			continue
		}
		for _, ns := range c.e.nsTypos[tail] {
			intended := name[:j+1] + ns
			ed := edit{tech: SuffixTypo}
			if se, ok := suffixEdit(ns, tail); ok {
				ed = se
			}
			if id, ok := c.e.find(intended); ok {
				c.add(id, ed, tail, ns, 1)
			} else if pd, err := address.ParseDomain(intended); err == nil {
				ed.tech = NamespaceTypo
				c.addUnknown(pd, ed, tail, ns)
			}
		}
		i = j
	}
}

// add scores a finding against candidate id and keeps the best one per candidate.
func (c *check) add(id uint32, ed edit, query, target string, factor float64) {
	cd := &c.e.cands[id]
	if sameOwner(cd.name, c.reg) {
		// uk.ibm.com next to us.ibm.com: the same registrable domain, the same owner.
		return
	}
	if cd.class&(Own|Protect|Provider) == 0 && cd.count < strongCount && (ed.tech == SuffixTypo || ed.tech == AppendedSuffix) &&
		c.r.Domain.Listed && nestedSuffixes(c.r.Domain.Suffix, cd.suffix) {
		// aie.edu next to the known aie.edu.au, aeu.edu.kh next to the known aeu.edu: two
		// real namespaces, one inside the other, where different parties often have the
		// same label. Against a correspondent with little mail (not an own, protected or
		// provider name, nor one with strongCount messages or more: cba.com next to
		// cba.com.au with 80 stays strong) that is a warning.
		ed.weaker = true
	}
	if ed.weaker {
		factor *= 0.7
	}
	score, sit := c.score(cd, ed, target, factor)
	if score < MinScore {
		return
	}
	c.keep(Finding{
		Intended: cd.name, IntendedDisplay: cd.display, Technique: ed.tech, Situation: sit,
		Class: cd.class, Count: cd.count, Score: score - ed.tieBreak(), Query: query, Target: target,
		edit: ed, pre: cd.pre,
	})
}

// commonTLDs are the top-level domains suggested for a suffix that does not exist, in the
// order they are preferred when several are one slip away (.cmo is .com before .cm).
var commonTLDs = []string{"com", "net", "org", "edu", "gov", "mil", "info", "biz", "io", "co", "uk", "de", "fr",
	"nl", "be", "ch", "at", "it", "es", "se", "no", "dk", "fi", "pl", "eu", "us", "ca", "au", "nz", "jp", "cn", "in", "br", "ru"}

// nonexistentSuffix finds example.cmo: a name under a top-level domain that does not
// exist, one slip from a common one. Mail to it can only bounce; the finding names the
// likely suffix. A suffix no common one is a slip of (a private .corp or .lan) is left
// alone.
func (c *check) nonexistentSuffix(d address.Domain) {
	pre := d.Pre()
	if pre == "" || strings.IndexByte(d.Suffix, '.') >= 0 {
		return
	}
	for _, tld := range commonTLDs {
		ed, ok := suffixEdit(tld, d.Suffix)
		if !ok {
			continue
		}
		intended, err := address.ParseDomain(pre + "." + tld)
		if err != nil {
			return
		}
		ed.tech = NonexistentSuffix
		sev, _ := NonexistentSuffix.severity()
		c.keep(Finding{
			Intended: intended.ASCII, IntendedDisplay: intended.Display, Technique: NonexistentSuffix,
			Situation: SituationNonexistent, Score: sev, Query: d.Suffix, Target: tld, edit: ed,
		})
		return
	}
}

// mixedScript finds раypal.com: a label that mixes scripts the way the UTS #39 highly
// restrictive profile refuses (Cyrillic or Greek letters among Latin ones), lookalike of
// no candidate. The finding names what the name passes for when every foreign letter looks
// like a Latin one; a label with a foreign letter that looks like none is visibly foreign
// and is left alone.
func (c *check) mixedScript(d address.Domain, pre string) {
	mixed := false
	for label := range strings.SplitSeq(pre, ".") {
		mixed = mixed || confusables.MixedScript(label)
	}
	if !mixed {
		return
	}
	// What it passes for: each foreign letter read as the Latin one it looks like (only
	// those: learn stays learn, not leam).
	var b strings.Builder
	for _, r := range pre {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		sk := confusables.Skeleton(string(r))
		if !confusables.IsASCII(sk) {
			return
		}
		b.WriteString(sk)
	}
	intended, err := address.ParseDomain(b.String() + "." + d.Suffix)
	if err != nil || intended.ASCII == d.ASCII {
		return
	}
	sev, _ := MixedScript.severity()
	c.keep(Finding{
		Intended: intended.ASCII, IntendedDisplay: intended.Display, Technique: MixedScript,
		Situation: SituationMixedScript, Score: sev, Query: pre, Target: intended.DisplayPre(),
		edit: edit{tech: MixedScript, from: intended.DisplayPre(), to: pre},
	})
}

// addUnknown records a finding whose intended domain is not a candidate: a name inside a
// protected namespace that nobody writes to yet.
func (c *check) addUnknown(intended address.Domain, ed edit, query, target string) {
	sev, _ := ed.tech.severity()
	c.keep(Finding{
		Intended: intended.ASCII, IntendedDisplay: intended.Display, Technique: ed.tech,
		Situation: SituationNamespace, Score: sev * 0.7, Query: query, Target: target, edit: ed,
	})
}

func (c *check) keep(f Finding) {
	for i := 0; i < c.n; i++ {
		if c.hits[i].Intended == f.Intended {
			if f.Score > c.hits[i].Score {
				c.hits[i] = f
			}
			return
		}
	}
	if c.n < len(c.hits) {
		c.hits[c.n] = f
		c.n++
		return
	}
	// Full: replace the weakest if this one is stronger.
	w := 0
	for i := 1; i < c.n; i++ {
		if c.hits[i].Score < c.hits[w].Score {
			w = i
		}
	}
	if f.Score > c.hits[w].Score {
		c.hits[w] = f
	}
}

func (c *check) finish() {
	if c.n == 0 {
		return
	}
	hits := c.hits[:c.n]
	slices.SortFunc(hits, func(a, b Finding) int {
		switch {
		case a.Score != b.Score:
			return cmp.Compare(b.Score, a.Score)
		case a.Class.Has(Major) != b.Class.Has(Major):
			// cmail.com is one bit from email.com and from gmail.com: the base rate
			// says gmail.com.
			if a.Class.Has(Major) {
				return -1
			}
			return 1
		case a.Situation != b.Situation:
			return cmp.Compare(a.Situation, b.Situation)
		case a.Count != b.Count:
			return cmp.Compare(b.Count, a.Count)
		case len(a.Intended) != len(b.Intended):
			// mail.army.mil before army.mil for mail.army.ml: the more specific name.
			return cmp.Compare(len(b.Intended), len(a.Intended))
		}
		return strings.Compare(a.Intended, b.Intended)
	})
	// The same label under several suffixes (outlook.com, outlook.cl, outlook.co.id) is
	// one organisation: keep its most likely domain only.
	out := make([]Finding, 0, min(len(hits), maxFindings))
next:
	for _, f := range hits {
		for _, o := range out {
			if f.pre != "" && f.pre == o.pre {
				continue next
			}
		}
		if out = append(out, f); len(out) == maxFindings {
			break
		}
	}
	c.r.Findings = out
}

// nearHashes holds the hashes of a key and its one-character deletions.
type nearHashes [maxRunes + 1]uint64

// of hashes key and its deletions; ok is false when they do not fit.
func (b *nearHashes) of(key string) (n int, ok bool) {
	b[0], n = hashKey(kindNear, key), 1
	deletions(kindNear, key, func(h uint64) {
		if n < len(b) {
			b[n] = h
		}
		n++
	})
	return min(n, len(b)), n <= len(b)
}
