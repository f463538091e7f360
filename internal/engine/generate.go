package engine

import (
	"strings"
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/confusables"
)

// Variant is one lookalike of a domain that a technique generates.
type Variant struct {
	Domain    address.Domain
	Technique Technique
}

// appendTLDs are the suffixes most often added after a complete domain by mistake or by
// a squatter.
var appendTLDs = [...]string{"com", "net", "org", "co", "ml", "io", "us", "uk", "de", "cm", "info"}

// ownSkeletonGlyphs are the homoglyphs whose skeleton is not their letter's: Greek χ looks
// like x but is its own prototype. PermuteWide uses it; Permute, whose names must have the
// original's skeleton, does not.
const ownSkeletonGlyphs = "χ"

// homoglyphs are letters of other scripts that look like an ASCII letter. Permute keeps only
// the names whose skeleton equals the original's, so the detector and the generator agree;
// all but ownSkeletonGlyphs have their letter's skeleton, and IDNA keeps every one as it is
// (TestHomoglyphsReadAsTheirLetter: Greek lunate sigma ϲ, which IDNA makes σ, is not one).
var homoglyphs = map[byte]string{
	'a': "аɑα", 'c': "с", 'd': "ԁ", 'e': "еҽ", 'g': "ɡ", 'h': "һ", 'i': "іɩ", 'j': "ј",
	'k': "κ", 'l': "ӏ", 'n': "ո", 'o': "оοօ", 'p': "рρ", 'q': "ԛ", 's': "ѕ", 'u': "սυ",
	'v': "νѵ", 'w': "ԝ", 'x': "хχ", 'y': "уү",
}

// Permute generates the lookalikes of d that the given techniques make (all when ts is
// empty) and that the detector would flag for a protected d: techniques that do not count
// on a label as short as d's are left out. Each domain is reported once, with the first
// technique that made it; d itself and names under d's own registrable domain are left out.
func Permute(d address.Domain, ts []Technique) []Variant {
	want := func(t Technique) bool {
		if len(ts) == 0 {
			return true
		}
		for _, x := range ts {
			if x == t {
				return true
			}
		}
		return false
	}
	var out []Variant
	seen := make(map[string]bool, 64+48*len(d.ASCII))
	seen[d.ASCII] = true
	reg := d.Registrable()
	skeleton := ""
	emit := func(name string, t Technique) {
		if !want(t) {
			return
		}
		v, err := address.ParseDomain(name)
		if err != nil || seen[v.ASCII] || registrableIs(v, reg) {
			return
		}
		if skeleton == "" && (t == Homoglyph || t == Visual) {
			skeleton = confusables.Skeleton(d.DisplayPre())
		}
		// A homoglyph that IDNA kept as it is reads as its letter (TestHomoglyphsReadAsTheirLetter):
		// only a name IDNA changed needs its skeleton, and the confusables table that takes
		// milliseconds to build.
		if (t == Visual || t == Homoglyph && v.Display != name) && confusables.Skeleton(v.DisplayPre()) != skeleton {
			// Not a lookalike any more.
			return
		}
		seen[v.ASCII] = true
		out = append(out, Variant{Domain: v, Technique: t})
	}
	pre := d.DisplayPre()
	if pre == "" {
		return nil
	}
	// countsAt says whether technique t counts for an edit at rune pos of pre (-1: the
	// whole of it); counts finds the edit that makes q.
	countsAt := func(t Technique, pos int) bool {
		_, str := t.severity()
		return lengthFactor(str, effectiveLen(t, pre, pos), false) > 0
	}
	// In a single label the edit's place does not matter (effectiveLen): no need to find it.
	multiLabel := strings.Contains(pre, ".")
	counts := func(q string, t Technique) bool {
		if !multiLabel {
			return countsAt(t, -1)
		}
		pos := -1
		if e, ok := classify(pre, q); ok {
			pos = e.pos
		}
		return countsAt(t, pos)
	}

	// The suffix: typos of it, and suffixes appended.
	suffixTypos(d.Suffix, func(q string) { emit(pre+"."+q, SuffixTypo) })
	for _, tld := range appendTLDs {
		emit(d.ASCII+"."+tld, AppendedSuffix)
	}
	for _, tld := range genericTLDs {
		if genericSwap(d.Suffix, tld) {
			emit(pre+"."+tld, SuffixSwap)
		}
	}
	if !confusables.IsASCII(pre) {
		return out
	}
	suffix := "." + d.Suffix
	label := func(q string, t Technique) {
		if counts(q, t) {
			emit(q+suffix, t)
		}
	}
	// The label part: the edits, dots and hyphens.
	oneEdits(pre, label)
	for i := 1; i < len(pre); i++ {
		if pre[i-1] != '.' && pre[i] != '.' && pre[i-1] != '-' && pre[i] != '-' {
			label(pre[:i]+"."+pre[i:], Doppelganger)
			label(pre[:i]+"-"+pre[i:], Hyphenation)
		}
		if pre[i] == '.' {
			label(pre[:i]+"-"+pre[i+1:], Doppelganger)
		}
	}
	for i := 0; i < len(pre); i++ {
		c := pre[i]
		if c == '.' || c == '-' {
			continue
		}
		for x := byte('0'); x <= 'z'; x++ {
			if !ldh(x) || x == c || x == '-' {
				continue
			}
			q := pre[:i] + string(x) + pre[i+1:]
			switch t := substitution(rune(c), rune(x)); t {
			case VowelSwap, Bitsquat, Substitution:
				label(q, t)
			}
		}
		for _, h := range homoglyphs[c] {
			// A glyph with a skeleton of its own makes no name the skeleton check keeps.
			// The edit is at i (pre is ASCII): classify would find it there, after looking
			// up h's skeleton in the confusables table, which takes milliseconds to build.
			if !strings.ContainsRune(ownSkeletonGlyphs, h) && countsAt(Homoglyph, i) {
				emit(pre[:i]+string(h)+pre[i+1:]+suffix, Homoglyph)
			}
		}
	}
	for _, run := range visualRuns {
		for _, pair := range [2][2]string{{run[0], run[1]}, {run[1], run[0]}} {
			for i := strings.Index(pre, pair[0]); i >= 0; {
				label(pre[:i]+pair[1]+pre[i+len(pair[0]):], Visual)
				j := strings.Index(pre[i+1:], pair[0])
				if j < 0 {
					break
				}
				i += 1 + j
			}
		}
	}
	if !strings.HasSuffix(pre, "s") {
		label(pre+"s", Plural)
	}
	for x := byte('a'); x <= 'z'; x++ {
		label(pre+string(x), Addition)
	}
	return out
}

// effectiveLen is the label length that decides whether a technique counts. For a single
// label it is its length. For "us.ibm" it is the length of the label the edit is in (at
// rune pos; pos < 0 for the whole string), plus one: the other labels make the name more
// distinctive than that label alone.
func effectiveLen(t Technique, target string, pos int) int {
	n := utf8.RuneCountInString(target)
	if pos < 0 || t == SuffixTypo || t == AppendedSuffix || !strings.Contains(target, ".") {
		return n
	}
	// Walk the labels by rune index; a label [start, end) is touched by an edit at pos
	// when start <= pos <= end (pos == end: its dot, or an insertion at its end).
	best, start, i := n, 0, 0
	for _, r := range target + "." {
		if r == '.' {
			if start <= pos && pos <= i {
				best = min(best, i-start+1)
			}
			start = i + 1
		}
		i++
	}
	return best
}
