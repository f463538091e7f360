package engine

import "testing"

// TestSuffixTyposRespectThePublicSuffixList: with .mil and .gov protected, a multi-label
// public suffix typed in full is a deliberate name, not a slip of one letter:
// school.co.il is no co.mil, and army.mil.ng, x.mil.pl and agency.gov.uk are under
// Nigeria's, Poland's and the UK's own namespaces (the quality benchmark found 91 such
// false alarms among 24,445 real domains). The slips themselves are still found.
func TestSuffixTyposRespectThePublicSuffixList(t *testing.T) {
	e := newEngine(t, Inputs{Protected: parseDomains(t, "army.mil", "gmail.com"), ProtectedNamespaces: []string{"mil", "gov"}})
	for _, q := range []string{"school.co.il", "kdror.co.il", "biu.ac.il", "haredi.org.il", "army.mil.ng", "x.mil.pl",
		"student.akademia.mil.pl", "agency.gov.uk", "sksk.mil.no"} {
		if r := checkName(t, e, q); len(r.Findings) > 0 {
			t.Errorf("%s: %s", q, describeResult(r))
		}
	}
	for q, want := range map[string]string{"army.ml": "army.mil", "army.mil.ml": "army.mil", "army.mil.com": "army.mil",
		"xyz.ml": "xyz.mil", "gmail.com.co": "gmail.com", "army.mi": "army.mil"} {
		if r := checkName(t, e, q); len(r.Findings) == 0 || r.Findings[0].Intended != want {
			t.Errorf("%s: %s, want %s", q, describeResult(r), want)
		}
	}
}

// TestNestedRealSuffixesOfALittleMailedCorrespondentWarn: aie.edu next to the known
// aie.edu.au, aeu.edu.kh next to the known aeu.edu are two real namespaces, one inside the
// other, where different universities have the same label (the dense benchmark held 126
// such new names). Against a correspondent with little mail that is a warning; with
// strongCount messages or more, or against a protected name, it stays strong.
func TestNestedRealSuffixesOfALittleMailedCorrespondentWarn(t *testing.T) {
	known := func(name string, n int64) KnownDomain {
		return KnownDomain{Domain: parseDomains(t, name)[0], Count: n}
	}
	e := newEngine(t, Inputs{
		Known:     []KnownDomain{known("aie.edu.au", 20), known("aeu.edu", 20), known("cba.com.au", 80)},
		Protected: parseDomains(t, "bank.com.au"),
	})
	for q, strong := range map[string]bool{"aie.edu": false, "aeu.edu.kh": false, "cba.com": true, "bank.com": true} {
		r := checkName(t, e, q)
		if len(r.Findings) == 0 {
			t.Errorf("%s: not flagged", q)
			continue
		}
		if got := r.Findings[0].Strong(); got != strong {
			t.Errorf("%s: strong %v, want %v: %s", q, got, strong, describeResult(r))
		}
	}
}

// TestCompoundTyposAreNotWeaker: a label slip and a slip of the suffix toward the same
// candidate, where the suffix typed does not exist (gnail.con, yahooo.cmo), were weaker
// (a warning) than either slip alone (a hold). Two independent slips toward one
// candidate are stronger evidence, not weaker.
func TestCompoundTyposAreNotWeaker(t *testing.T) {
	e := newEngine(t, Inputs{Providers: parseDomains(t, "gmail.com", "yahoo.com", "hotmail.com")})
	for q, want := range map[string]string{"gnail.con": "gmail.com", "yahooo.cmo": "yahoo.com", "homail.con": "hotmail.com",
		"gnail.com": "gmail.com", "gmail.con": "gmail.com"} {
		r := checkName(t, e, q)
		if len(r.Findings) == 0 || r.Findings[0].Intended != want || !r.Findings[0].Strong() {
			t.Errorf("%s: %s, want strong evidence for %s", q, describeResult(r), want)
		}
	}
}
