package engine

import (
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/confusables"
)

// edit describes how a query string differs from a candidate string by one edit.
type edit struct {
	tech Technique
	base Technique // for a suffix typo: the slip underneath (omission, ...)
	pos  int       // rune index in the candidate where the change is
	from string    // what the candidate has there ("" for an insertion)
	to   string    // what the query has there ("" for an omission)
	// weaker: evidence that counts less than the technique usually does (com -> com.br).
	weaker bool
	// sfxFrom and sfxTo: a compound slip, the label edited and the suffix too (gnail.con):
	// the candidate's suffix and the one typed. Empty for a single slip.
	sfxFrom, sfxTo string
	sfx            Technique // the suffix's slip: SuffixTypo, AppendedSuffix or NonexistentSuffix
}

// maxRunes bounds the strings classify compares on the stack; longer strings (rare: a
// label part of up to 253 octets) are compared on the heap.
const maxRunes = 64

// classify reports whether q is c with exactly one edit (Damerau: omission, insertion,
// substitution or transposition of neighbours) and which technique that edit is.
func classify(c, q string) (edit, bool) {
	var cb, qb [maxRunes]rune
	cr, qr := appendRunes(cb[:0], c), appendRunes(qb[:0], q)
	n, m := len(cr), len(qr)
	i := 0
	for i < n && i < m && cr[i] == qr[i] {
		i++
	}
	switch {
	case m == n-1: // the query lacks one character
		if !equalRunes(qr[i:], cr[i+1:]) {
			return edit{}, false
		}
		e := edit{pos: i, from: runeSlice(c, i, i+1)}
		switch cr[i] {
		case '.':
			e.tech = Doppelganger
		case '-':
			e.tech = Hyphenation
		default:
			e.tech = Omission
		}
		return e, true
	case m == n+1: // the query has one character more
		if !equalRunes(qr[i+1:], cr[i:]) {
			return edit{}, false
		}
		x := qr[i]
		e := edit{pos: i, to: runeSlice(q, i, i+1)}
		switch {
		case x == '.':
			e.tech = Doppelganger
		case x == '-':
			e.tech = Hyphenation
		case i > 0 && qr[i-1] == x || i+1 < m && qr[i+1] == x:
			e.tech = Repetition
		case x < utf8.RuneSelf && (i > 0 && isAdjacent(byte(x), byteOf(qr[i-1])) || i+1 < m && isAdjacent(byte(x), byteOf(qr[i+1]))):
			e.tech = Insertion
		case x == 's' && i == m-1:
			e.tech = Plural
		default:
			e.tech = Addition
		}
		return e, true
	case m == n && i < n:
		if equalRunes(qr[i+1:], cr[i+1:]) {
			return edit{pos: i, from: runeSlice(c, i, i+1), to: runeSlice(q, i, i+1), tech: substitution(cr[i], qr[i])}, true
		}
		if i+1 < n && cr[i] == qr[i+1] && cr[i+1] == qr[i] && equalRunes(qr[i+2:], cr[i+2:]) {
			return edit{pos: i, from: runeSlice(c, i, i+2), to: runeSlice(q, i, i+2), tech: Transposition}, true
		}
	}
	return edit{}, false
}

// substitution names the technique of replacing a with b.
func substitution(a, b rune) Technique {
	if a >= utf8.RuneSelf || b >= utf8.RuneSelf {
		if confusables.Skeleton(string(a)) == confusables.Skeleton(string(b)) {
			return Homoglyph
		}
		return Substitution
	}
	x, y := byte(a), byte(b)
	switch {
	case x == '.' && y == '-' || x == '-' && y == '.':
		return Doppelganger
	case isVisualPair(x, y):
		return Visual
	case isAdjacent(x, y):
		return Replacement
	case isVowel(x) && isVowel(y):
		return VowelSwap
	case isBitflip(x, y):
		return Bitsquat
	}
	return Substitution
}

func byteOf(r rune) byte {
	if r < utf8.RuneSelf {
		return byte(r)
	}
	return 0
}

func appendRunes(dst []rune, s string) []rune {
	for _, r := range s {
		dst = append(dst, r)
	}
	return dst
}

func equalRunes(a, b []rune) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// tieBreak is a small score deduction that orders otherwise equal findings: between the
// suffixes a typo could stand for, the commonest slips (a letter left out, repeated or
// swapped) are likelier than a neighbouring key or a label left out.
func (e edit) tieBreak() float64 {
	switch e.tech {
	case SuffixTypo, NamespaceTypo:
		switch e.base {
		case Omission, Repetition, Transposition:
			return 0
		case Visual:
			return 0.002
		case 0:
			return 0.004
		}
		return 0.006
	}
	return 0
}

// runeSlice is s from rune i to rune j, without copying.
func runeSlice(s string, i, j int) string {
	lo, hi, n := len(s), len(s), 0
	for b := range s {
		if n == i {
			lo = b
		}
		if n == j {
			hi = b
			break
		}
		n++
	}
	return s[lo:hi]
}
