package engine

import "testing"

// TestMajorProvidersThreeLetterSlipsWarn: a slip of aol, msn or mac (the biggest
// providers' three-letter labels) is warned about, never held; a letter left out or any
// other letter put in is not flagged (the two- and three-letter names around are real);
// a three-letter provider that is not major keeps its silence; and when two providers
// are equally near, the major one is named first.
func TestMajorProvidersThreeLetterSlipsWarn(t *testing.T) {
	provs := parseDomains(t, "aol.com", "gmx.com", "gmail.com", "email.com", "ymail.com")
	e := newEngine(t, Inputs{Providers: provs, MajorProviders: parseDomains(t, "aol.com", "gmail.com", "ymail.com")})
	for q, want := range map[string]string{
		"aolx.com": "aol.com", "aoil.com": "aol.com", "aool.com": "aol.com", "oal.com": "aol.com",
		"sol.com": "aol.com", "col.com": "aol.com", "cmail.com": "gmail.com",
	} {
		r := checkName(t, e, q)
		if len(r.Findings) == 0 || r.Findings[0].Intended != want || r.Findings[0].Strong() {
			t.Errorf("%s: %s, want a warning for %s", q, describeResult(r), want)
		}
	}
	for _, q := range []string{"al.com", "ao.com", "axl.com", "gmxx.com", "gmz.com"} {
		if r := checkName(t, e, q); len(r.Findings) > 0 {
			t.Errorf("%s: %s, want nothing", q, describeResult(r))
		}
	}
}

// TestNNReadsAsM: "nn" passes for "m" at a glance (dnstwist's homoglyphs have it): arnny.mil
// is army.mil, fabrikann.com is fabrikam.com; the other way round stays quiet (penn.edu is
// no pem.edu, anna.com no ama.com).
func TestNNReadsAsM(t *testing.T) {
	e := newEngine(t, Inputs{Protected: parseDomains(t, "army.mil", "fabrikam.com", "pem.edu", "ama.com"),
		Providers: parseDomains(t, "gmail.com")})
	for q, want := range map[string]string{"arnny.mil": "army.mil", "fabrikann.com": "fabrikam.com", "gnnail.com": "gmail.com"} {
		r := checkName(t, e, q)
		if len(r.Findings) == 0 || r.Findings[0].Intended != want || r.Findings[0].Technique != Visual {
			t.Errorf("%s: %s, want visual of %s", q, describeResult(r), want)
		}
	}
	e = newEngine(t, Inputs{Protected: parseDomains(t, "penn.edu", "anna.com")})
	for _, q := range []string{"pem.edu", "ama.com"} {
		if r := checkName(t, e, q); len(r.Findings) > 0 && r.Findings[0].Technique == Visual {
			t.Errorf("%s: %s", q, describeResult(r))
		}
	}
}

// TestDotInsideAProviderLabel: g.mail.com and hot.mail.com lie under mail.com, a provider,
// but providers give no addresses under their sub-domains: the dot was typed inside
// gmail and hotmail (as in hotm.ail.com, under no provider). A real sub-domain of a
// provider stays allowed.
func TestDotInsideAProviderLabel(t *testing.T) {
	e := newEngine(t, Inputs{Providers: parseDomains(t, "gmail.com", "hotmail.com", "mail.com", "yahoo.com"),
		Own: parseDomains(t, "contoso.com")})
	for q, want := range map[string]string{"g.mail.com": "gmail.com", "hot.mail.com": "hotmail.com", "hotm.ail.com": "hotmail.com"} {
		r := checkName(t, e, q)
		switch {
		case want == "" && len(r.Findings) > 0:
			t.Errorf("%s: %s, want nothing", q, describeResult(r))
		case want != "" && (len(r.Findings) == 0 || r.Findings[0].Intended != want || r.Findings[0].Technique != Doppelganger || !r.Findings[0].Strong()):
			t.Errorf("%s: %s, want a strong doppelganger of %s", q, describeResult(r), want)
		}
	}
	for _, q := range []string{"news.yahoo.com", "mail.com", "x.gmail.com", "sales.contoso.com"} {
		if r := checkName(t, e, q); len(r.Findings) > 0 {
			t.Errorf("%s: %s, want nothing", q, describeResult(r))
		}
	}
}

// TestGenericSuffixSwapOfOwnAndProtected: contoso.net or contoso.org when contoso.com is
// own, army.com when army.mil is protected: another generic suffix from memory, warned
// about (someone else may own it); not when the organisation writes there already, not
// for a known correspondent's name, not for a country code.
func TestGenericSuffixSwapOfOwnAndProtected(t *testing.T) {
	e := newEngine(t, Inputs{Own: parseDomains(t, "contoso.com"), Protected: parseDomains(t, "army.mil"),
		Known: []KnownDomain{{Domain: parseDomains(t, "contoso.info")[0], Count: 30}, {Domain: parseDomains(t, "fabrikam.com")[0], Count: 900}}})
	for q, want := range map[string]string{"contoso.net": "contoso.com", "contoso.org": "contoso.com", "army.com": "army.mil"} {
		r := checkName(t, e, q)
		if len(r.Findings) == 0 || r.Findings[0].Intended != want || r.Findings[0].Technique != SuffixSwap || r.Findings[0].Strong() {
			t.Errorf("%s: %s, want a suffix-swap warning for %s", q, describeResult(r), want)
		}
	}
	for _, q := range []string{"contoso.info", "fabrikam.net", "contoso.de"} {
		if r := checkName(t, e, q); len(r.Findings) > 0 {
			t.Errorf("%s: %s, want nothing", q, describeResult(r))
		}
	}
}
