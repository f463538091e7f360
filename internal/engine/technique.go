package engine

import (
	"fmt"
	"strings"
)

// Technique is a kind of mistake that turns an intended domain into another one.
type Technique uint8

// The techniques. Their order is their display order; severity is in severity().
const (
	SuffixTypo        Technique = iota + 1 // army.ml for army.mil, cba.com for cba.com.au
	AppendedSuffix                         // army.mil.ml, army.mil.com
	Homoglyph                              // gmаil.com with a Cyrillic а
	Visual                                 // fabrikarn.com, outlo0k.com: ASCII that looks alike
	Doppelganger                           // usibm.com for us.ibm.com (dot dropped or added)
	Hyphenation                            // tonline.de for t-online.de (hyphen dropped or added)
	Omission                               // gmai.com
	Repetition                             // gmaill.com
	Transposition                          // gmial.com
	Insertion                              // gmaikl.com: an extra key next to its neighbours
	Replacement                            // gmaol.com: a neighbouring key instead
	VowelSwap                              // gmeil.com
	Bitsquat                               // gmaid.com: one bit flipped in memory or on the wire
	Plural                                 // fabrikams.com
	Addition                               // one other letter added
	Substitution                           // one other letter replaced
	NamespaceTypo                          // xyz.ml when .mil is a protected namespace
	NonexistentSuffix                      // example.cmo: no such top-level domain
	SuffixSwap                             // contoso.net for the own contoso.com: another generic suffix
	MixedScript                            // раypal.com: Cyrillic and Latin letters in one label
	numTechniques
)

var techniqueNames = [numTechniques]string{
	SuffixTypo:        "suffix-typo",
	AppendedSuffix:    "appended-suffix",
	Homoglyph:         "homoglyph",
	Visual:            "visual",
	Doppelganger:      "doppelganger",
	Hyphenation:       "hyphenation",
	Omission:          "omission",
	Repetition:        "repetition",
	Transposition:     "transposition",
	Insertion:         "insertion",
	Replacement:       "replacement",
	VowelSwap:         "vowel-swap",
	Bitsquat:          "bitsquat",
	Plural:            "plural",
	Addition:          "addition",
	Substitution:      "substitution",
	NamespaceTypo:     "namespace-typo",
	NonexistentSuffix: "nonexistent-suffix",
	SuffixSwap:        "suffix-swap",
	MixedScript:       "mixed-script",
}

func (t Technique) String() string {
	if t > 0 && t < numTechniques {
		return techniqueNames[t]
	}
	return fmt.Sprintf("technique(%d)", t)
}

// MarshalText implements encoding.TextMarshaler (JSON output uses the names).
func (t Technique) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Techniques lists every technique in display order.
func Techniques() []Technique {
	ts := make([]Technique, 0, numTechniques-1)
	for t := Technique(1); t < numTechniques; t++ {
		ts = append(ts, t)
	}
	return ts
}

// ParseTechniques reads a comma-separated list of technique names.
func ParseTechniques(list string) ([]Technique, error) {
	var out []Technique
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		found := false
		for t := Technique(1); t < numTechniques; t++ {
			if techniqueNames[t] == name {
				out = append(out, t)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown technique %q (known: %s)", name, strings.Join(techniqueNames[1:], ", "))
		}
	}
	return out, nil
}

// strength groups techniques by how much evidence they carry on their own, which decides
// how short a label may be before the technique stops counting (short labels have many
// legitimate neighbours).
type strength uint8

const (
	strong   strength = iota // counts on any label: the label is unchanged or looks the same
	typo                     // the classic typing slips: from 4 characters
	keyboard                 // a neighbouring key: from 4 (protected, known) or 6 (providers)
	weak                     // plausible but also common between unrelated names
)

// severity is the base score of a technique, and its strength.
func (t Technique) severity() (float64, strength) {
	switch t {
	case SuffixTypo, AppendedSuffix, Homoglyph:
		return 0.95, strong
	case Visual, Doppelganger:
		return 0.9, strong
	case NamespaceTypo:
		return 0.8, strong
	case NonexistentSuffix:
		return 0.9, strong
	case MixedScript:
		// Strong, so that policy.mixed_script decides (warn by default).
		return 0.75, strong
	case SuffixSwap:
		// Worth a warning: contoso.net may well be someone else's.
		return 0.6, strong
	case Transposition, Repetition:
		return 0.85, typo
	case Omission, Hyphenation:
		return 0.8, typo
	case Insertion, Replacement:
		return 0.72, keyboard
	case VowelSwap:
		return 0.6, weak
	case Bitsquat, Plural:
		return 0.55, weak
	case Addition, Substitution:
		return 0.55, weak
	}
	return 0, weak
}
