package engine

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Detail explains the mistake in a short clause for the sender, naming what differs:
// `"ml" is one letter short of "mil"`, `"gmаil" uses a Cyrillic "а" that looks like "a"`.
// A compound slip names both: `"gnail" has "n" where "gmail" has "m", the key next to it,
// and ".con" is not ".com"`.
func (f Finding) Detail() string {
	d := f.detail()
	switch f.edit.sfx {
	case 0:
		return d
	case NonexistentSuffix:
		return fmt.Sprintf("%s, and there is no top-level domain %q", d, "."+f.edit.sfxTo)
	}
	return fmt.Sprintf("%s, and %q is not %q", d, "."+f.edit.sfxTo, "."+f.edit.sfxFrom)
}

func (f Finding) detail() string {
	q, t, e := f.Query, f.Target, f.edit
	switch f.Technique {
	case AppendedSuffix:
		return fmt.Sprintf("%q is %s with %q added", f.Query, f.Intended, strings.TrimPrefix(e.to, "."))
	case Homoglyph:
		if r, script := foreignRune(q); script != "" {
			return fmt.Sprintf("%q uses a %s %q that looks like the letter in %q", q, script, string(r), t)
		}
		return fmt.Sprintf("%q looks like %q but is not the same", q, t)
	case Visual:
		from, to := difference(e.from, e.to)
		if from != "" && to != "" && len(from) <= 3 && len(to) <= 3 {
			return fmt.Sprintf("%q looks like %q (%q for %q)", q, t, to, from)
		}
		return fmt.Sprintf("%q looks like %q", q, t)
	case NonexistentSuffix:
		return fmt.Sprintf("there is no top-level domain %q, so the mail could only bounce", "."+q)
	case MixedScript:
		if _, script := foreignRune(q); script != "" && script != "Latin" {
			return fmt.Sprintf("%q mixes %s letters with Latin ones", q, script)
		}
		return fmt.Sprintf("%q mixes letters of several scripts", q)
	case SuffixSwap:
		return fmt.Sprintf("the suffix is %q, not %q", "."+e.to, "."+e.from)
	case SuffixTypo, NamespaceTypo:
		if e.base == 0 {
			if e.from != "" {
				return fmt.Sprintf("%q is %q without %q", q, t, e.from)
			}
			return fmt.Sprintf("%q is a mistyped %q", q, t)
		}
		return describe(e.base, q, t, e)
	}
	return describe(f.Technique, q, t, e)
}

func describe(tech Technique, q, t string, e edit) string {
	switch tech {
	case Omission:
		return fmt.Sprintf("%q is one letter short of %q", q, t)
	case Repetition:
		return fmt.Sprintf("%q repeats the %q of %q", q, e.to, t)
	case Transposition:
		return fmt.Sprintf("%q swaps the %q of %q", q, e.from, t)
	case Insertion, Addition, Plural:
		return fmt.Sprintf("%q is %q with an extra %q", q, t, e.to)
	case Replacement:
		return fmt.Sprintf("%q has %q where %q has %q, the key next to it", q, e.to, t, e.from)
	case Visual:
		return fmt.Sprintf("%q has %q where %q has %q, which looks the same", q, e.to, t, e.from)
	case Homoglyph:
		if r, script := foreignRune(q); script != "" {
			return fmt.Sprintf("%q uses a %s %q that looks like the letter in %q", q, script, string(r), t)
		}
	case Doppelganger:
		switch {
		case e.from == "." && e.to == "":
			return fmt.Sprintf("%q is %q with the dot left out", q, t)
		case e.to == "." && e.from == "":
			return fmt.Sprintf("%q is %q with a dot added", q, t)
		case e.from == "-":
			return fmt.Sprintf("%q is %q with a dot for the hyphen", q, t)
		}
		return fmt.Sprintf("%q is %q with a hyphen for the dot", q, t)
	case Hyphenation:
		if e.from == "-" {
			return fmt.Sprintf("%q is %q without the hyphen", q, t)
		}
		return fmt.Sprintf("%q is %q with a hyphen added", q, t)
	}
	if e.from != "" && e.to != "" {
		return fmt.Sprintf("%q has %q where %q has %q", q, e.to, t, e.from)
	}
	return fmt.Sprintf("%q is one letter away from %q", q, t)
}

// foreignRune finds the first non-ASCII letter of s and names its script.
func foreignRune(s string) (rune, string) {
	for _, r := range s {
		if r < utf8.RuneSelf {
			continue
		}
		for _, sc := range [...]struct {
			name  string
			table *unicode.RangeTable
		}{{"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek}, {"Armenian", unicode.Armenian}, {"Latin", unicode.Latin}, {"Cherokee", unicode.Cherokee}} {
			if unicode.Is(sc.table, r) {
				return r, sc.name
			}
		}
		return r, "non-Latin"
	}
	return 0, ""
}

// difference trims the common beginning and end of a and b: ("fabrikam", "fabrikarn")
// gives ("m", "rn").
func difference(a, b string) (string, string) {
	for a != "" && b != "" && a[0] == b[0] {
		a, b = a[1:], b[1:]
	}
	for a != "" && b != "" && a[len(a)-1] == b[len(b)-1] {
		a, b = a[:len(a)-1], b[:len(b)-1]
	}
	return a, b
}
