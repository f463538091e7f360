package engine

import "github.com/rcptguard/rcptguard/internal/address"

// Situation is which rule of the administrator's policy a finding falls under.
type Situation uint8

// The situations.
const (
	// SituationProtected: a lookalike of a protected or own domain.
	SituationProtected Situation = iota + 1
	// SituationProvider: a lookalike of a major mailbox provider.
	SituationProvider
	// SituationKnown: a lookalike of a known correspondent.
	SituationKnown
	// SituationNamespace: a typo that stays inside a protected namespace, or a suffix typo
	// of a protected namespace with a label nobody writes to.
	SituationNamespace
	// SituationNonexistent: the suffix is no top-level domain at all (example.cmo), so
	// the mail could only bounce; the finding suggests the likely one.
	SituationNonexistent
	// SituationMixedScript: a label mixes scripts (Cyrillic and Latin letters) and is
	// the lookalike of no candidate; the finding suggests the name it passes for.
	SituationMixedScript
)

var situationNames = [...]string{"", "protected", "provider", "known", "namespace", "nonexistent", "mixed-script"}

func (s Situation) String() string {
	if int(s) < len(situationNames) {
		return situationNames[s]
	}
	return "situation?"
}

// StrongScore is the score from which a finding is strong evidence on its own; below it a
// finding deserves a warning at most. MinScore is the lowest score reported at all.
const (
	StrongScore = 0.7
	MinScore    = 0.4
)

// Result is what the engine found about one domain.
type Result struct {
	Domain address.Domain
	// Allowed: the domain is explicitly allowed; nothing else was checked.
	Allowed bool
	// Blocked: the domain is in a blocked namespace or list (and not allowed).
	Blocked bool
	// Self is what the domain itself is to the organisation (0: nothing), with its count.
	Self  Class
	Count int64
	// Namespace is the protected namespace the domain lies in, if any.
	Namespace string
	// Findings are the intended domains it likely stands for, the most likely first.
	Findings []Finding
}

// Finding is one likely intended domain, with the mistake and the evidence.
type Finding struct {
	Intended        string // ASCII
	IntendedDisplay string
	Technique       Technique
	Situation       Situation
	Class           Class // the intended domain's classes (0 for an unknown label)
	Count           int64 // messages sent to the intended domain, when known
	Score           float64
	// What was compared, for the explanation: the query's part and the intended part
	// (label parts or suffixes), and the edit between them.
	Query, Target string
	edit          edit
	pre           string // the intended domain's label part

}

// Slips lists the finding's techniques: Technique, then for a compound slip (gnail.con:
// the label and the suffix mistyped at once) the suffix's (suffix-typo, appended-suffix,
// or nonexistent-suffix when the suffix typed is no top-level domain).
func (f Finding) Slips() []Technique {
	if f.edit.sfx == 0 {
		return []Technique{f.Technique}
	}
	return []Technique{f.Technique, f.edit.sfx}
}

// Strong reports whether the finding is strong evidence on its own.
func (f Finding) Strong() bool { return f.Score >= StrongScore }
