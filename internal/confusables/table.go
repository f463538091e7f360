package confusables

import (
	_ "embed" // for the confusables table
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// confusablesTxt is the reduced UTS #39 table written by internal/gen.
//
//go:embed confusables.txt
var confusablesTxt string

// overrides take precedence over the Unicode table. They fold the targets
// UTS #39 gives some Greek/Cyrillic lowercase letters (small capitals, kra)
// and the dotless/palochka i-forms to the Latin letter a reader would take
// them for inside a Latin domain name:
//
//	ĸ (kra, target of κ and к)   -> k
//	ᴛ (small T, target of τ, т)  -> t
//	ı (dotless i), ӏ (palochka)  -> l   (UTS #39 says i; they look like
//	                                     l, 1 and I, and we keep i and l apart)
var overrides = map[rune]string{
	'\u0138': "k",
	'\u1D1B': "t",
	'\u0131': "l",
	'\u04CF': "l",
}

var (
	tableOnce sync.Once
	tableMap  map[rune]string // read-only once built
	tableBad  int             // malformed lines, for the tests
)

// table returns the confusables map (source rune -> prototype), parsing the
// embedded data on first use.
func table() map[rune]string {
	tableOnce.Do(func() {
		tableMap, tableBad = parseTable(confusablesTxt)
		for r, t := range overrides {
			tableMap[r] = t
		}
	})
	return tableMap
}

// parseTable parses lines "SRC ; TARGET ; ..." (hex code points, TARGET
// space separated); '#' starts a comment. Malformed lines are skipped and
// counted.
func parseTable(data string) (m map[rune]string, bad int) {
	// All targets go into one string; m's values are slices of it. Both lists are sized
	// from the data, not grown by doubling: this table is built by every process that
	// checks a name, and memory touched once is most of a short process's cost.
	type entry struct {
		src        rune
		start, end int32
	}
	entries := make([]entry, 0, strings.Count(data, "\n")+1)
	all := make([]byte, 0, len(data)/6)
	for line := range strings.Lines(data) {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		srcField, rest, found := strings.Cut(line, ";")
		targetField, _, _ := strings.Cut(rest, ";")
		src, ok := parseRune(srcField)
		ok = ok && found
		start := len(all)
		for h := range strings.FieldsSeq(targetField) {
			r, ok2 := parseRune(h)
			ok = ok && ok2
			all = utf8.AppendRune(all, r)
		}
		if !ok || len(all) == start {
			all = all[:start]
			bad++
			continue
		}
		entries = append(entries, entry{src, int32(start), int32(len(all))})
	}
	targets := string(all)
	m = make(map[rune]string, len(entries))
	for _, e := range entries {
		m[e.src] = targets[e.start:e.end]
	}
	return m, bad
}

func parseRune(h string) (rune, bool) {
	v, err := strconv.ParseUint(strings.TrimSpace(h), 16, 32)
	if err != nil || !utf8.ValidRune(rune(v)) {
		return 0, false
	}
	return rune(v), true
}

// maxDepth bounds appendFold's recursion. Real chains are 3-4 steps deep
// (table -> decomposition -> lower case -> override); a rune that would go
// deeper (a cycle) folds to U+FFFD, which is a fixed point, so Skeleton stays
// idempotent even then.
const maxDepth = 8

// appendFold appends the fold of r (step 2 of Skeleton: table, else
// decomposition, else lower case, else drop decorations) to dst. Every rune
// it appends is a fixed point: ASCII (left to foldASCII), or a rune that
// is not in m, is its own lower case, is no decoration and does not
// decompose.
func appendFold(dst []byte, r rune, m map[rune]string, depth int) []byte {
	if r < utf8.RuneSelf {
		return append(dst, byte(r))
	}
	if depth > maxDepth {
		return utf8.AppendRune(dst, utf8.RuneError)
	}
	if t, ok := m[r]; ok {
		for _, c := range t {
			dst = appendFold(dst, c, m, depth+1)
		}
		return dst
	}
	if hangulBase <= r && r <= hangulLast {
		s := r - hangulBase
		dst = appendFold(dst, jamoLBase+s/jamoVTCount, m, depth+1)
		dst = appendFold(dst, jamoVBase+s%jamoVTCount/jamoTCount, m, depth+1)
		if t := s % jamoTCount; t != 0 {
			dst = appendFold(dst, jamoTBase+t, m, depth+1)
		}
		return dst
	}
	var b [utf8.UTFMax]byte
	n := utf8.EncodeRune(b[:], r)
	if dec := norm.NFD.Properties(b[:n]).Decomposition(); len(dec) > 0 {
		for len(dec) > 0 {
			c, size := utf8.DecodeRune(dec)
			dst = appendFold(dst, c, m, depth+1)
			dec = dec[size:]
		}
		return dst
	}
	if l := unicode.ToLower(r); l != r {
		return appendFold(dst, l, m, depth+1)
	}
	if isDecoration(r) {
		return dst
	}
	return utf8.AppendRune(dst, r)
}

// isDecoration reports whether r is a generic combining diacritic, dropped
// from skeletons ("é" -> "e"). These are the Combining Diacritical Marks
// blocks; script-specific marks (Devanagari vowel signs, Arabic harakat,
// ...) carry meaning and are kept.
func isDecoration(r rune) bool {
	switch {
	case 0x0300 <= r && r <= 0x036F, // Combining Diacritical Marks
		0x1AB0 <= r && r <= 0x1AFF, // ... Extended
		0x1DC0 <= r && r <= 0x1DFF, // ... Supplement
		0x20D0 <= r && r <= 0x20FF, // ... for Symbols
		0xFE20 <= r && r <= 0xFE2F: // Combining Half Marks
		return true
	}
	return false
}

// Hangul syllable decomposition (Unicode ch. 3.12); x/text's
// Properties.Decomposition does not cover it.
const (
	hangulBase  = 0xAC00
	hangulLast  = 0xD7A3
	jamoLBase   = 0x1100
	jamoVBase   = 0x1161
	jamoTBase   = 0x11A7
	jamoTCount  = 28
	jamoVTCount = 21 * jamoTCount
)
