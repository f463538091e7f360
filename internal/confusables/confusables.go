// Package confusables owns visual-similarity skeletons of domain labels, in
// the spirit of Unicode Technical Standard #39 (Unicode Security Mechanisms):
// Skeleton maps a string to a canonical look-alike form, so that two labels
// which look the same ("gmail" / "gmаil" with a Cyrillic а, "fabrikam" /
// "fabrikarn", "outlook" / "outlo0k") get equal skeletons, and MixedScript
// reports labels that mix scripts the way the UTS #39 "highly restrictive"
// profile refuses.
//
// The mapping data is Unicode's confusables.txt (version 13.0.0), reduced to
// the non-ASCII characters that IDNA allows (or maps) in a label; see
// confusables.txt, LICENSE-DATA.txt and internal/gen.
//
// Skeleton(s) is, for non-ASCII s:
//
//  1. invalid UTF-8 is replaced by U+FFFD, then NFD (done rune by rune in
//     step 2 unless marks need canonical reordering);
//  2. every rune is folded, repeatedly until nothing changes: replaced via
//     the confusables table (plus a few local overrides, see overrides),
//     otherwise decomposed (NFD), otherwise lower-cased, otherwise dropped
//     if it is a decorating combining mark (see isDecoration);
//  3. NFD again (canonical reordering of marks that were produced in step 2);
//  4. ASCII visual folding (see foldASCII), which also lower-cases ASCII.
//
// Pure ASCII input goes straight to step 4. Skeleton is idempotent:
// Skeleton(Skeleton(s)) == Skeleton(s) for every s.
//
// Skeletons are for comparison only; they are not meant to be displayed.
// All functions are safe for concurrent use and never panic.
package confusables

//go:generate go run ./internal/gen/main.go -o confusables.txt

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Skeleton returns the visual skeleton of s, a lowercase domain label or
// dot-joined labels (already IDNA-mapped, so lowercase and NFC; other input
// is accepted too). Strings that look alike get the same skeleton. '.' and
// '-' are kept as they are.
func Skeleton(s string) string {
	if IsASCII(s) {
		return foldASCII(s)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if hasNonStarter(s) {
		s = norm.NFD.String(s) // canonical reordering needed
	}
	m := table()
	buf := make([]byte, 0, len(s)+8)
	for _, r := range s { // appendFold decomposes each rune itself
		buf = appendFold(buf, r, m, 0)
	}
	if !norm.NFD.IsNormal(buf) {
		buf = norm.NFD.Bytes(buf)
	}
	return string(foldASCIIBytes(buf))
}

// hasNonStarter reports whether some rune of s decomposes to a sequence that
// starts with a combining mark (canonical combining class != 0). Only then
// can NFD reorder across runes; otherwise decomposing rune by rune is NFD.
// (This skips x/text's allocating NFD for typical NFC labels like "münchen".)
func hasNonStarter(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		p := norm.NFD.PropertiesString(s[i:])
		if p.LeadCCC() != 0 {
			return true
		}
		i += max(p.Size(), 1)
	}
	return false
}

// IsASCII reports whether s consists of ASCII bytes only.
func IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
