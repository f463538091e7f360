package engine

import (
	"math"
	"strings"
)

// score weighs a technique against a candidate: the technique's severity, the label length
// (short labels have many legitimate neighbours), the candidate's importance, and the
// suspect's own standing (a domain the organisation already writes to is rarely a typo).
func (c *check) score(cd *candidate, ed edit, target string, factor float64) (float64, Situation) {
	sev, str := ed.tech.severity()
	pos := ed.pos
	if ed.tech == Visual || ed.tech == Homoglyph {
		pos = -1 // a skeleton match compares whole strings
	}
	n := effectiveLen(ed.tech, target, pos)
	providerOnly := cd.class&(Own|Protect|Known) == 0
	lf := lengthFactor(str, n, providerOnly)
	if providerOnly && cd.class.Has(Major) && n == 3 && ed.tech != Omission && ed.tech != Substitution {
		// aolx.com, aoil.com, col.com: mail to the biggest providers is so frequent that
		// a slip of even a three-letter label of theirs is more often a typo than a new
		// correspondent; a warning (the tiers of a short protected name stay below
		// strong). Not a letter left out (al.com) nor any other letter put in (sol.com):
		// the three-letter names around are real too.
		lf = lengthFactor(str, n, false)
	}
	score := sev * lf * factor

	sit := SituationKnown
	switch {
	case cd.class&(Own|Protect) != 0:
		sit = SituationProtected
	case cd.class&Provider != 0:
		sit = SituationProvider
	default:
		// Evidence grows with the mail that went to the candidate: 1 message is weak,
		// 100 or more is as strong as it gets.
		w := min(1, math.Log10(float64(cd.count)+1)/2)
		score *= 0.7 + 0.3*w
		if cd.count < c.e.prominent && ed.tech != Homoglyph {
			// An ordinary correspondent (see prominence): its neighbours are often other
			// real parties. A slip of a name of up to three characters (an acronym among
			// many), a weak slip (a vowel swapped, a letter added: what also separates
			// unrelated names) or a label slip under another real suffix (nsu.edu.pk next
			// to mnsu.edu) is no evidence; anything else is worth a warning at most. A
			// homoglyph is deliberate, whoever it imitates.
			if str != strong && n <= 3 || str == weak || ed.sfxTo != "" && c.r.Domain.Listed {
				return 0, sit
			}
			score = min(score, StrongScore-0.01)
		}
	}
	if c.r.Self&Known != 0 && sit != SituationProtected {
		// The suspect is itself known: flag it only next to something with far more mail.
		weight := cd.count
		if cd.class&Provider != 0 {
			weight = max(weight, providerWeight)
		}
		if float64(weight) < knownRatio*float64(max(c.r.Count, 1)) || score < StrongScore {
			return 0, sit
		}
		score = min(score, StrongScore-0.01)
	}
	if c.r.Namespace != "" {
		// Inside a protected namespace the mail stays with trusted parties: worth a
		// warning at most (the policy's namespace verdict).
		sit = SituationNamespace
	}
	return score, sit
}

// lengthFactor says how much a technique of the given strength counts on a label of n
// characters. Providers' labels are common words, so they need more.
func lengthFactor(s strength, n int, provider bool) float64 {
	// Up to zero characters the technique does not count; up to short it counts as weak
	// evidence (a warning); up to partial somewhat less than in full.
	type tier struct {
		zero, short, partial int
		shortFactor          float64
	}
	var t tier
	switch s {
	case strong:
		return 1
	case typo:
		t = tier{1, 3, 4, 0.75}
		if provider {
			t = tier{3, 3, 4, 0}
		}
	case keyboard:
		t = tier{1, 3, 4, 0.75}
		if provider {
			t = tier{4, 4, 4, 0}
		}
	case weak:
		// Slips that also separate unrelated names: a protected or known name is worth a
		// warning from three characters. A provider's label is a common word, but mail to
		// the big providers is so frequent that an unknown domain one such slip from a
		// label of five characters (gmeil.com, gmailx.com) is far more often a typo than
		// a correspondent (the base rate): a warning there, full weight from seven.
		t = tier{2, 4, 5, 0.8}
		if provider {
			t = tier{4, 5, 6, 0.85}
		}
	}
	switch {
	case n <= t.zero:
		return 0
	case n <= t.short:
		return t.shortFactor
	case n <= t.partial:
		return 0.85
	}
	return 1
}

// sameOwner reports whether the candidate name lies under the registrable domain reg.
func sameOwner(name, reg string) bool {
	return reg != "" && (name == reg || strings.HasSuffix(name, "."+reg))
}
