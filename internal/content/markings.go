package content

import (
	"strings"
	"unicode"
)

// Category markings.
//
// Evidence:
//   - "banner": a classification or handling banner, case-sensitive, in
//     banner form: a line in capitals that starts with a marking
//     ("CONFIDENTIAL", "SECRET//NOFORN", "TOP SECRET//SI", "CUI",
//     "OFFICIAL-SENSITIVE", "NATO RESTRICTED", "RESTREINT UE"...), a marking
//     in brackets at the start of a line or subject ("[SECRET] plans"), or a
//     control line "SECRET//..." anywhere. "This e-mail is confidential and
//     intended solely for..." is a disclaimer, not a marking, and does not
//     count; nor does "CONFIDENTIALITY NOTICE".
//   - "portion mark": "(S//NF)", "(U//FOUO)", "(TS//SI)" anywhere; bare
//     "(S)", "(C)", "(TS)", "(CUI)" at the start of a paragraph count only
//     when a part has two or more (one "(C) Acme 2024" is not a marking).
//
// Tuning: Config.Markings adds banners (matched like the built-in ones).
const (
	evBanner  = "banner"
	evPortion = "portion mark"
)

// defaultMarkings are the built-in banners, longest first where one is the
// prefix of another.
var defaultMarkings = []string{
	"TOP SECRET", "SECRET", "CONFIDENTIAL", "RESTRICTED", "CUI", "CONTROLLED UNCLASSIFIED INFORMATION",
	"FOUO", "FOR OFFICIAL USE ONLY", "OFFICIAL-SENSITIVE", "OFFICIAL SENSITIVE", "OFFICIAL - SENSITIVE",
	"NOFORN", "LIMITED DISTRIBUTION", "SENSITIVE BUT UNCLASSIFIED", "LAW ENFORCEMENT SENSITIVE",
	"RESTREINT UE", "RESTREINT", "DIFFUSION RESTREINTE", "CONFIDENTIEL DEFENSE", "CONFIDENTIEL DÉFENSE",
	"SECRET DEFENSE", "SECRET DÉFENSE", "TRÈS SECRET", "NATO RESTRICTED", "NATO CONFIDENTIAL", "NATO SECRET",
	"COSMIC TOP SECRET", "EU RESTRICTED", "EU CONFIDENTIAL", "EU SECRET", "VS-NUR FÜR DEN DIENSTGEBRAUCH",
	"VS-NFD", "VS-VERTRAULICH", "GEHEIM", "STRENG GEHEIM", "PROTECTED B", "PROTECTED C",
}

var (
	controlLine  = lazy(`\b(?:TOP SECRET|SECRET|CONFIDENTIAL|UNCLASSIFIED|CUI|RESTRICTED)//[A-Z]`)
	portionMark  = lazy(`\((?:TS|S|C|U|R|CUI|NU|NR|NC|NS|CTS)(?://[A-Z0-9][A-Z0-9 -]*)+\)`)
	barePortion  = lazy(`^\((?:TS|S|C|CUI|FOUO)\) +[^\d\s]`)
	markingTrims = " \t*-=#_~>|"
)

func markings(s *scanner, l *lineText) {
	t := trimMarking(l.raw)
	if t == "" {
		return
	}
	if l.is(flagSlashes) && strings.Contains(t, "//") {
		if n := len(portionMark.FindAllStringIndex(t, -1)); n > 0 {
			s.t.add(Markings, evPortion, n)
		}
		if controlLine.MatchString(t) {
			s.t.add(Markings, evBanner, 1)
			return
		}
	}
	if t[0] == '(' && barePortion.MatchString(t) {
		s.prt.bareMarks++
	}
	if s.cl.bannerStarts.may(t) && (bannerLine(t, defaultMarkings) || bannerLine(t, s.cl.markings)) {
		s.t.add(Markings, evBanner, 1)
	}
}

// trimMarking is strings.Trim(s, markingTrims), without building the set of
// bytes at each call.
func trimMarking(s string) string {
	i, j := 0, len(s)
	for i < j && markingTrim[s[i]] {
		i++
	}
	for j > i && markingTrim[s[j-1]] {
		j--
	}
	return s[i:j]
}

var markingTrim = func() (t [256]bool) {
	for i := 0; i < len(markingTrims); i++ {
		t[markingTrims[i]] = true
	}
	return t
}()

// bannerStarts are the first two bytes of the markings, for a first look at a
// line before bannerLine: most lines start with a capital and a small letter,
// which no built-in marking does.
type bannerStarts struct {
	first, second [256]bool
}

func newBannerStarts(lists ...[]string) *bannerStarts {
	b := &bannerStarts{}
	for _, l := range lists {
		for _, m := range l {
			b.first[m[0]] = true
			if len(m) > 1 {
				b.second[m[1]] = true
			} else {
				b.second = [256]bool{}
				for i := range b.second {
					b.second[i] = true
				}
			}
		}
	}
	return b
}

// may says whether a trimmed line may start with a marking, in brackets or not.
func (b *bannerStarts) may(t string) bool {
	if t[0] == '[' {
		t = t[1:]
	}
	return len(t) >= 2 && b.first[t[0]] && b.second[t[1]] || len(t) == 1 && b.first[t[0]]
}

// bannerLine says whether a trimmed line is in banner form for one of the
// markings: "[X] ..." or "X ..." with the whole line in capitals.
func bannerLine(t string, marks []string) bool {
	bracket := t[0] == '['
	if bracket {
		t = t[1:]
	}
	for _, m := range marks {
		if !strings.HasPrefix(t, m) {
			continue
		}
		rest := t[len(m):]
		if rest != "" {
			r := rune(rest[0])
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r >= 0x80 {
				continue // CONFIDENTIALITY, SECRETARY
			}
		}
		if bracket {
			if strings.HasPrefix(rest, "]") || strings.HasPrefix(rest, "//") {
				return true
			}
			continue
		}
		if rest == "" || strings.HasPrefix(rest, "//") || noLower(rest) {
			return len(t) <= 120
		}
	}
	return false
}

func noLower(s string) bool {
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
	}
	return true
}
