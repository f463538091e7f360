package engine

import (
	"strings"

	"golang.org/x/net/publicsuffix"
)

// suffixEdit reports whether the query suffix q is a plausible mistyping of the candidate
// suffix c: one slip of a finger on it (omission, repetition, transposition, a neighbouring
// key, a digit for a letter), a label of a two-label suffix left out (com.au -> com,
// co.uk -> uk), or a suffix appended (com -> com.co). Any letter for any other letter is
// not enough: two-letter country codes sit one substitution apart from each other.
func suffixEdit(c, q string) (edit, bool) {
	if c == q || c == "" || q == "" {
		return edit{}, false
	}
	if strings.HasPrefix(q, c+".") {
		e := edit{tech: AppendedSuffix, to: q[len(c):]}
		if _, listed := publicsuffix.PublicSuffix("x." + q); listed && !strings.Contains(q[len(c)+1:], ".") {
			// com -> com.br: a country's own second-level suffix. Brands register those on
			// purpose (yahoo.com.ar), so it is weaker evidence than army.mil.ml.
			e.weaker = true
		}
		return e, true
	}
	if i := strings.IndexByte(c, '.'); i > 0 && strings.Count(c, ".") == 1 {
		if q == c[:i] {
			return edit{tech: SuffixTypo, from: c[i:]}, true
		}
		if q == c[i+1:] {
			return edit{tech: SuffixTypo, from: c[:i+1]}, true
		}
	}
	e, ok := classify(c, q)
	if !ok {
		return edit{}, false
	}
	switch e.tech {
	case Omission, Repetition, Transposition, Insertion, Replacement, Visual, Doppelganger:
		e.base, e.tech = e.tech, SuffixTypo
		return e, true
	}
	return edit{}, false
}

// suffixTypos generates every q for which suffixEdit(c, q) holds, except appended
// suffixes (there are as many of those as suffixes). Each is reported once.
func suffixTypos(c string, f func(q string)) {
	seen := map[string]bool{c: true}
	emit := func(q string) {
		if q == "" || seen[q] || q[0] == '.' || q[len(q)-1] == '.' || strings.Contains(q, "..") {
			return
		}
		seen[q] = true
		if _, ok := suffixEdit(c, q); ok {
			f(q)
		}
	}
	if i := strings.IndexByte(c, '.'); i > 0 && strings.Count(c, ".") == 1 {
		emit(c[:i])
		emit(c[i+1:])
	}
	oneEdits(c, func(q string, _ Technique) { emit(q) })
}

// oneEdits generates the one-edit variants of an ASCII string s that the keyboard and
// visual tables make plausible, with their technique: omissions, repetitions, neighbouring
// insertions and replacements, visual replacements, transpositions, and dots and hyphens
// dropped. It is the generator for the edit techniques on labels and on suffixes.
func oneEdits(s string, f func(q string, t Technique)) {
	b := []byte(s)
	for i := range b {
		// Omission (or a dot or hyphen dropped).
		t := Omission
		switch b[i] {
		case '.':
			t = Doppelganger
		case '-':
			t = Hyphenation
		}
		f(s[:i]+s[i+1:], t)
		// Repetition.
		if b[i] != '.' && b[i] != '-' {
			f(s[:i+1]+s[i:], Repetition)
		}
		// Transposition.
		if i+1 < len(b) && b[i] != b[i+1] {
			f(s[:i]+string(b[i+1])+string(b[i])+s[i+2:], Transposition)
		}
		// Replacement by a neighbouring key, or by a character that looks the same.
		for c := byte('0'); c <= 'z'; c++ {
			if !ldh(c) || c == b[i] || b[i] == '.' || b[i] == '-' {
				continue
			}
			switch {
			case isVisualPair(b[i], c):
				f(s[:i]+string(c)+s[i+1:], Visual)
			case isAdjacent(b[i], c):
				f(s[:i]+string(c)+s[i+1:], Replacement)
			}
		}
		// Insertion of a neighbouring key before b[i].
		for c := byte('0'); c <= 'z'; c++ {
			if ldh(c) && c != '-' && c != b[i] && isAdjacent(c, b[i]) {
				f(s[:i]+string(c)+s[i:], Insertion)
			}
		}
	}
	// Insertion of a neighbouring key after the last character.
	if n := len(b); n > 0 {
		for c := byte('0'); c <= 'z'; c++ {
			if ldh(c) && c != '-' && c != b[n-1] && isAdjacent(c, b[n-1]) {
				f(s+string(c), Insertion)
			}
		}
	}
}
