package engine

import "testing"

// TestNonexistentSuffixSuggestsTheLikelyOne: example.cmo was allowed, although no such
// top-level domain exists and the mail could only bounce. It is now a finding of its own
// situation, naming the likely suffix; a private suffix that is no slip of a common one
// (contoso.local, foo.corp) and a real one stay unflagged, and a lookalike of a candidate
// keeps its own finding (gmail.con is gmail.com's suffix typo).
func TestNonexistentSuffixSuggestsTheLikelyOne(t *testing.T) {
	e := newEngine(t, Inputs{Providers: parseDomains(t, "gmail.com")})
	for q, want := range map[string]string{"example.cmo": "example.com", "fabrikam.nrt": "fabrikam.net",
		"school.ogr": "school.org", "mail.contoso.comm": "mail.contoso.com"} {
		r := checkName(t, e, q)
		if len(r.Findings) != 1 || r.Findings[0].Intended != want || r.Findings[0].Technique != NonexistentSuffix ||
			r.Findings[0].Situation != SituationNonexistent || !r.Findings[0].Strong() {
			t.Errorf("%s: %s, want %s (nonexistent-suffix)", q, describeResult(r), want)
		}
	}
	for _, q := range []string{"contoso.local", "foo.corp", "example.com", "example.co", "example.cm"} {
		if r := checkName(t, e, q); len(r.Findings) > 0 {
			t.Errorf("%s: %s", q, describeResult(r))
		}
	}
	if r := checkName(t, e, "gmail.con"); len(r.Findings) == 0 || r.Findings[0].Technique != SuffixTypo {
		t.Errorf("gmail.con: %s", describeResult(r))
	}
}
