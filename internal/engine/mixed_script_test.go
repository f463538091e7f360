package engine

import "testing"

// TestMixedScriptWithNoCandidate: a label mixing Cyrillic or Greek letters with Latin
// ones that is the lookalike of nothing known is still reported, with what it passes for;
// a lookalike of a candidate is a homoglyph instead; single-script names (москва.рф,
// café.fr) and labels whose foreign letters look like no Latin one are left alone.
func TestMixedScriptWithNoCandidate(t *testing.T) {
	e := newEngine(t, Inputs{Providers: parseDomains(t, "gmail.com"), Known: []KnownDomain{{Domain: parseDomains(t, "bаnk.com")[0], Count: 10}}})
	for q, want := range map[string]string{"раypal.com": "paypal.com", "αpple.com": "apple.com", "mail.раypal.com": "mail.paypal.com"} {
		r := checkName(t, e, q)
		if len(r.Findings) != 1 || r.Findings[0].Intended != want || r.Findings[0].Situation != SituationMixedScript || !r.Findings[0].Strong() {
			t.Errorf("%s: %s, want mixed-script for %s", q, describeResult(r), want)
		}
	}
	if r := checkName(t, e, "gmаil.com"); len(r.Findings) == 0 || r.Findings[0].Technique != Homoglyph {
		t.Errorf("gmаil.com: %s, want a homoglyph of gmail.com", describeResult(r))
	}
	for _, q := range []string{"москва.рф", "café.fr", "пaypal.com", "paypal.com", "bаnk.com"} {
		if r := checkName(t, e, q); len(r.Findings) > 0 {
			t.Errorf("%s: %s, want nothing", q, describeResult(r))
		}
	}
}
