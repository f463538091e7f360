package confusables

import "strings"

// ASCII visual folding, the last step of every skeleton.
//
// Single characters first (fold1):
//
//	'A'..'Z' -> 'a'..'z', except 'I' -> 'l'
//	'0' -> 'o'
//	'1' -> 'l'
//
// then, scanning left to right over the result, the pairs
//
//	"rn" -> "m"   "vv" -> "w"   "cl" -> "d"
//
// Plain 'i' and 'l' are deliberately NOT folded together (that would make
// mail/mall, pail/pall, ... collide); '1', 'I' and the non-ASCII 'ı', 'ӏ',
// 'ⅼ' fold to 'l', while 'і', 'ι', 'ɩ' fold to 'i' as in UTS #39.
//
// The folding is idempotent: fold1 maps into its own fixed points, and the
// pair outputs 'm', 'w', 'd' can neither start nor end a pair, so the
// greedy scan never leaves a pair behind. UTS #39 itself goes the other way
// ('m' -> "rn", 'd' -> "cl"); the direction does not matter for equality,
// and the short form keeps skeletons readable.

// fold1 is the single-byte map; bytes >= 0x80 (parts of UTF-8 sequences)
// map to themselves.
var fold1 = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c) + 'a' - 'A'
	}
	t['I'] = 'l'
	t['0'] = 'o'
	t['1'] = 'l'
	return t
}()

// foldPair returns the replacement for the already fold1-mapped pair a, b,
// or 0 if the pair stays.
func foldPair(a, b byte) byte {
	switch {
	case a == 'r' && b == 'n':
		return 'm'
	case a == 'v' && b == 'v':
		return 'w'
	case a == 'c' && b == 'l':
		return 'd'
	}
	return 0
}

// foldASCII applies the ASCII folding to s. It returns s itself, without
// allocating, when nothing changes.
func foldASCII(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !attention[c] {
			continue
		}
		if f := fold1[c]; f != c || i+1 < len(s) && foldPair(f, fold1[s[i+1]]) != 0 {
			return foldASCIIFrom(s, i)
		}
	}
	return s
}

// attention marks the bytes that fold1 changes or that can start a pair.
var attention = func() (t [256]bool) {
	for i := range t {
		t[i] = fold1[i] != byte(i)
	}
	t['r'], t['v'], t['c'] = true, true, true
	return t
}()

// foldASCIIFrom folds s, whose prefix s[:i] is known to stay unchanged, with
// a single allocation.
func foldASCIIFrom(s string, i int) string {
	var sb strings.Builder
	sb.Grow(len(s))
	sb.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := fold1[s[i]]
		if i+1 < len(s) {
			if d := foldPair(c, fold1[s[i+1]]); d != 0 {
				sb.WriteByte(d)
				i++
				continue
			}
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// foldASCIIBytes applies the ASCII folding to b in place and returns the
// (possibly shorter) result. Non-ASCII bytes are copied unchanged; they
// never form a pair.
func foldASCIIBytes(b []byte) []byte {
	w := 0
	for i := 0; i < len(b); i++ {
		c := fold1[b[i]]
		if i+1 < len(b) {
			if d := foldPair(c, fold1[b[i+1]]); d != 0 {
				b[w] = d
				w++
				i++
				continue
			}
		}
		b[w] = c
		w++
	}
	return b[:w]
}

// LooseSkeleton is the skeleton of s read with the pairs that pass for one letter only at
// small sizes or at a glance ("nn" for "m": arnny, fabrikann), or "" when s has none. It
// is for the query side of a comparison only: a name with "nn" is compared with names
// with "m", never the other way, so that penn and anna keep their own skeletons.
func LooseSkeleton(s string) string {
	if !strings.Contains(s, "nn") {
		return ""
	}
	return Skeleton(strings.ReplaceAll(s, "nn", "m"))
}
