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
