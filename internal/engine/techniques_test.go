package engine

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/providers"
)

// parseDomains parses names that the test knows to be valid.
func parseDomains(tb testing.TB, names ...string) []address.Domain {
	tb.Helper()
	out := make([]address.Domain, 0, len(names))
	for _, n := range names {
		out = append(out, domain(tb, n))
	}
	return out
}

func newEngine(tb testing.TB, in Inputs) *Engine {
	tb.Helper()
	e, err := New(in)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return e
}

func checkName(tb testing.TB, e *Engine, name string) Result {
	tb.Helper()
	return e.Check(domain(tb, name))
}

func findingFor(r Result, intended string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Intended == intended {
			return f, true
		}
	}
	return Finding{}, false
}

// describeResult is a one-line summary of a result for failure messages.
func describeResult(r Result) string {
	if len(r.Findings) == 0 {
		return fmt.Sprintf("no findings (allowed %v, blocked %v, self %v, namespace %q)", r.Allowed, r.Blocked, r.Self, r.Namespace)
	}
	var b strings.Builder
	for i, f := range r.Findings {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %s %s %.3f (%s)", f.Intended, f.Technique, f.Situation, f.Score, f.Detail())
	}
	return b.String()
}

// The engines of the technique tests: small candidate sets, one per question.
type techEngines struct {
	prot    *Engine // protected domains, the mil namespace, two providers
	tonline *Engine // tonline.de protected (hyphen the other way)
	prov    *Engine // providers with legitimate neighbours of each other
	provGM  *Engine // gmail.com as a provider only
	short   *Engine // short labels: ibm.com, acme.com protected; gmx.com a provider
	noNS    *Engine // army.mil protected, no namespace
}

func buildTechEngines(tb testing.TB) techEngines {
	tb.Helper()
	return techEngines{
		prot: newEngine(tb, Inputs{
			Protected: parseDomains(tb, "army.mil", "mail.army.mil", "af.mil", "us.ibm.com", "cba.com.au", "partner.co.uk",
				"fabrikam.com", "t-online.de", "wingtiptoys.com", "dropbox.com", "clarity.com"),
			ProtectedNamespaces: []string{"mil"},
			Providers:           parseDomains(tb, "gmail.com", "outlook.com"),
		}),
		tonline: newEngine(tb, Inputs{Protected: parseDomains(tb, "tonline.de")}),
		prov: newEngine(tb, Inputs{Providers: parseDomains(tb,
			"gmail.com", "ymail.com", "mail.com", "gmx.com", "gmx.de", "yahoo.co.uk", "live.com")}),
		provGM: newEngine(tb, Inputs{Providers: parseDomains(tb, "gmail.com")}),
		short: newEngine(tb, Inputs{
			Protected: parseDomains(tb, "ibm.com", "acme.com", "ab.com", "live.com", "gmail.com"),
			Providers: parseDomains(tb, "gmx.com"),
		}),
		noNS: newEngine(tb, Inputs{Protected: parseDomains(tb, "army.mil")}),
	}
}

// TestTechniquesFlag: each technique, positive cases. The intended domain must come
// first, with the technique, the situation and the strength given.
func TestTechniquesFlag(t *testing.T) {
	en := buildTechEngines(t)
	sP, sV, sN := SituationProtected, SituationProvider, SituationNamespace
	tests := []struct {
		eng      *Engine
		query    string
		intended string
		tech     Technique
		sit      Situation
		strong   bool
	}{
		// Suffix typos: the .ml case and its relatives, for every label length.
		{en.prot, "army.ml", "army.mil", SuffixTypo, sP, true},
		{en.prot, "army.mi", "army.mil", SuffixTypo, sP, true},
		{en.prot, "army.mill", "army.mil", SuffixTypo, sP, true},
		{en.prot, "army.mli", "army.mil", SuffixTypo, sP, true},
		{en.prot, "army.il", "army.mil", SuffixTypo, sP, true},
		{en.prot, "af.ml", "af.mil", SuffixTypo, sP, true}, // never dismissed for a short label
		{en.prot, "ARMY.ML.", "army.mil", SuffixTypo, sP, true},
		{en.prot, "gmail.co", "gmail.com", SuffixTypo, sV, true},
		{en.prot, "gmail.cm", "gmail.com", SuffixTypo, sV, true},
		{en.prot, "gmail.con", "gmail.com", SuffixTypo, sV, true},
		{en.prot, "gmail.om", "gmail.com", SuffixTypo, sV, true},
		{en.prot, "cba.com", "cba.com.au", SuffixTypo, sP, true},
		{en.prot, "cba.co.au", "cba.com.au", SuffixTypo, sP, true},
		{en.prot, "cba.om.au", "cba.com.au", SuffixTypo, sP, true},
		{en.prot, "partner.uk", "partner.co.uk", SuffixTypo, sP, true},
		{en.prot, "us.ibm.co", "us.ibm.com", SuffixTypo, sP, true},
		{en.prov, "gmx.co", "gmx.com", SuffixTypo, sV, true}, // three letters: still a suffix typo
		{en.prov, "yahoo.co", "yahoo.co.uk", SuffixTypo, sV, true},
		{en.prov, "live.con", "live.com", SuffixTypo, sV, true},
		// Appended suffixes.
		{en.prot, "army.mil.ml", "army.mil", AppendedSuffix, sP, true},
		{en.prot, "army.mil.com", "army.mil", AppendedSuffix, sP, true},
		{en.prot, "gmail.com.co", "gmail.com", AppendedSuffix, sV, true},
		{en.prot, "fabrikam.com.com", "fabrikam.com", AppendedSuffix, sP, true},
		{en.prot, "us.ibm.com.au", "us.ibm.com", AppendedSuffix, sP, true},
		// Suffix typos of the protected namespace, for a label nobody writes to.
		{en.prot, "xyz.ml", "xyz.mil", NamespaceTypo, sN, false},
		{en.prot, "xyz.mi", "xyz.mil", NamespaceTypo, sN, false},
		{en.prot, "xyz.mill", "xyz.mil", NamespaceTypo, sN, false},
		{en.prot, "ag.ml", "ag.mil", NamespaceTypo, sN, false},
		// Homoglyphs: other scripts, as Unicode and as punycode.
		{en.prot, "gmаil.com", "gmail.com", Homoglyph, sV, true},        // Cyrillic а
		{en.prot, "gmαil.com", "gmail.com", Homoglyph, sV, true},        // Greek α
		{en.prot, "xn--gmil-63d.com", "gmail.com", Homoglyph, sV, true}, // punycode of the Cyrillic one
		{en.prot, "XN--GMIL-63D.COM", "gmail.com", Homoglyph, sV, true},
		{en.prot, "оutlook.com", "outlook.com", Homoglyph, sV, true}, // Cyrillic о
		{en.prot, "fаbrikam.com", "fabrikam.com", Homoglyph, sP, true},
		{en.prot, "аrmy.mil", "army.mil", Homoglyph, sN, true}, // inside the namespace
		// Visual lookalikes in ASCII.
		{en.prot, "fabrikarn.com", "fabrikam.com", Visual, sP, true},       // rn for m
		{en.prot, "vvingtiptoys.com", "wingtiptoys.com", Visual, sP, true}, // vv for w
		{en.prot, "clropbox.com", "dropbox.com", Visual, sP, true},         // cl for d
		{en.prot, "darity.com", "clarity.com", Visual, sP, true},           // d for cl
		{en.prot, "outlo0k.com", "outlook.com", Visual, sV, true},          // 0 for o
		{en.prot, "0utlook.com", "outlook.com", Visual, sV, true},
		{en.prot, "gmai1.com", "gmail.com", Visual, sV, true},       // 1 for l
		{en.prot, "fabr1kam.com", "fabrikam.com", Visual, sP, true}, // 1 for i
		{en.prot, "fabrlkam.com", "fabrikam.com", Visual, sP, true}, // l for i
		// Doppelgangers: a dot dropped, added, or a hyphen for it.
		{en.prot, "usibm.com", "us.ibm.com", Doppelganger, sP, true},
		{en.prot, "us-ibm.com", "us.ibm.com", Doppelganger, sP, true},
		{en.prot, "mailarmy.mil", "mail.army.mil", Doppelganger, sN, true},
		{en.prot, "fab.rikam.com", "fabrikam.com", Doppelganger, sP, true},
		// Hyphenation, both ways.
		{en.prot, "tonline.de", "t-online.de", Hyphenation, sP, true},
		{en.tonline, "t-online.de", "tonline.de", Hyphenation, sP, true},
		{en.prot, "fabri-kam.com", "fabrikam.com", Hyphenation, sP, true},
		// The one-edit typos.
		{en.prot, "fabrkam.com", "fabrikam.com", Omission, sP, true},
		{en.prot, "wingtiptoy.com", "wingtiptoys.com", Omission, sP, true},
		{en.prot, "gmai.com", "gmail.com", Omission, sV, true},
		{en.prot, "gail.com", "gmail.com", Omission, sV, true},
		{en.prot, "fabrikamm.com", "fabrikam.com", Repetition, sP, true},
		{en.prot, "gmaill.com", "gmail.com", Repetition, sV, true},
		{en.prot, "armmy.mil", "army.mil", Repetition, sN, true}, // inside the namespace
		{en.prot, "gmial.com", "gmail.com", Transposition, sV, true},
		{en.prot, "fabirkam.com", "fabrikam.com", Transposition, sP, true},
		{en.prot, "fabrikzam.com", "fabrikam.com", Insertion, sP, true},
		{en.prot, "gmaikl.com", "gmail.com", Insertion, sV, true},
		{en.prot, "fabrikan.com", "fabrikam.com", Replacement, sP, true},
		{en.prot, "gmaik.com", "gmail.com", Replacement, sV, true},
		// The weak techniques: flagged against protected domains, below strong.
		{en.prot, "fabrikem.com", "fabrikam.com", VowelSwap, sP, false},
		{en.short, "gmeil.com", "gmail.com", VowelSwap, sP, false}, // protected: counts at 5 letters
		{en.prot, "fabrikcm.com", "fabrikam.com", Bitsquat, sP, false},
		{en.short, "gmaid.com", "gmail.com", Bitsquat, sP, false},
		{en.prot, "fabrikams.com", "fabrikam.com", Plural, sP, false},
		{en.prot, "fabrikamx.com", "fabrikam.com", Addition, sP, false},
		{en.prot, "fabrikxm.com", "fabrikam.com", Substitution, sP, false},
		// Keyboard slips on a four-letter protected label count, a little.
		{en.short, "livr.com", "live.com", Replacement, sP, false},
		{en.short, "livre.com", "live.com", Insertion, sP, false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := checkName(t, tt.eng, tt.query)
			if len(r.Findings) == 0 {
				t.Fatalf("%s: not flagged, want %s (%s)", tt.query, tt.intended, tt.tech)
			}
			f := r.Findings[0]
			if f.Intended != tt.intended || f.Technique != tt.tech || f.Situation != tt.sit || f.Strong() != tt.strong {
				t.Errorf("%s: first finding %s %s %s strong=%v, want %s %s %s strong=%v\n  all: %s",
					tt.query, f.Intended, f.Technique, f.Situation, f.Strong(), tt.intended, tt.tech, tt.sit, tt.strong, describeResult(r))
			}
			if f.Score < MinScore || f.Score > 1 {
				t.Errorf("%s: score %v out of range", tt.query, f.Score)
			}
			if f.Detail() == "" {
				t.Errorf("%s: empty Detail", tt.query)
			}
		})
	}
}

// TestTechniquesDoNotFlag: each technique, negative cases: legitimate neighbours, labels too
// short for the technique, the same owner, names inside a protected namespace.
func TestTechniquesDoNotFlag(t *testing.T) {
	en := buildTechEngines(t)
	tests := []struct {
		eng   *Engine
		query string
		why   string
	}{
		{en.prot, "army.mil", "a protected domain itself"},
		{en.prot, "army.de", "de is no slip of mil"},
		{en.prot, "army.nl", "nl is two edits from mil (what mailcheck.js suggests for army.ml)"},
		{en.prot, "army.mx", "mx is two edits from mil"},
		{en.prot, "gmail.de", "de is no slip of com"},
		{en.prot, "gmail.net", "net is no slip of com"},
		{en.prot, "cba.com.br", "com.br is two edits from com.au"},
		{en.prot, "mx.gmail.com", "a sub-domain of the provider itself"},
		{en.prot, "xyz.mil", "inside the protected namespace, no candidate near"},
		{en.noNS, "xyz.ml", "no protected namespace: xyz.ml is nobody's typo"},
		{en.prot, "xyz.mx", "mx is no slip of mil"},
		{en.prot, "ｇｍａｉｌ.com", "fullwidth letters are the same domain, not a homoglyph"},
		{en.prot, "uk.ibm.com", "the same registrable domain as us.ibm.com"},
		{en.prot, "ibm.com", "the registrable domain of us.ibm.com"},
		{en.prot, "usib.com", "two edits from us.ibm"},
		{en.short, "gx.com", "omission on a three-letter provider label"},
		{en.short, "gmc.com", "replacement on a three-letter provider label"},

		{en.prov, "livr.com", "replacement on a provider's four-letter label"},
		{en.prov, "livre.com", "insertion on a provider's four-letter label"},
		{en.prov, "livex.com", "addition to a provider's four-letter label"},
		{en.prov, "gmx.ml", "ml is no slip of com"},
	}
	for _, tt := range tests {
		if r := checkName(t, tt.eng, tt.query); len(r.Findings) > 0 {
			t.Errorf("%s (%s): flagged: %s", tt.query, tt.why, describeResult(r))
		}
	}
}

// TestProvidersNeedMoreThanProtected: the same slip counts against a protected domain and
// less against a provider, whose labels are common words with real neighbours: on a
// four-letter provider label not at all, on a five-letter one as a warning (the base
// rate: mail to gmail.com is so frequent that an unknown domain one slip from it is far
// more often a typo than a correspondent; issue 9), never as strong evidence.
func TestProvidersNeedMoreThanProtected(t *testing.T) {
	prot := newEngine(t, Inputs{Protected: parseDomains(t, "gmail.com", "live.com")})
	prov := newEngine(t, Inputs{Providers: parseDomains(t, "gmail.com", "live.com")})
	for _, q := range []string{"gmeil.com", "gmaid.com", "gmails.com", "gmailx.com", "gmxil.com", "livr.com", "livre.com"} {
		if r := checkName(t, prot, q); len(r.Findings) == 0 {
			t.Errorf("%s: not flagged against a protected domain", q)
		}
	}
	for _, q := range []string{"livr.com", "livre.com", "livex.com"} {
		if r := checkName(t, prov, q); len(r.Findings) > 0 {
			t.Errorf("%s: flagged against a provider's four-letter label: %s", q, describeResult(r))
		}
	}
	for _, q := range []string{"gmeil.com", "gmaid.com", "gmails.com", "gmailx.com", "gmxil.com"} {
		r := checkName(t, prov, q)
		if len(r.Findings) == 0 || r.Findings[0].Intended != "gmail.com" || r.Findings[0].Strong() {
			t.Errorf("%s: %s; want a warning (not strong) for gmail.com", q, describeResult(r))
		}
	}
}

// TestProviderNeighboursNotFlagged: real provider domains that sit one edit from each
// other, and common words next to them, are not lookalikes.
func TestProviderNeighboursNotFlagged(t *testing.T) {
	e := buildTechEngines(t).prov
	for _, q := range []string{"ymail.com", "mail.com", "gmx.com", "gmx.de", "gmc.com", "love.com", "five.com",
		"life.com", "liver.com", "line.com", "yahoo.co.uk", "live.com", "snail.com", "gmx.net", "lives.com"} {
		r := checkName(t, e, q)
		if len(r.Findings) > 0 {
			t.Errorf("%s: flagged: %s", q, describeResult(r))
		}
	}
	// The providers themselves are what they are.
	for _, q := range []string{"ymail.com", "mail.com", "yahoo.co.uk"} {
		if r := checkName(t, e, q); !r.Self.Has(Provider) {
			t.Errorf("%s: Self = %v, want Provider", q, r.Self)
		}
	}
}

// TestUnrelatedDomainsNotFlaggedAgainstProviders: with the built-in provider list, well-known
// domains that are nobody's typo stay clean.
func TestUnrelatedDomainsNotFlaggedAgainstProviders(t *testing.T) {
	e := newEngine(t, Inputs{Providers: providers.Domains()})
	for _, q := range []string{"wikipedia.org", "github.com", "bbc.co.uk", "example.org", "example.com", "amazon.com",
		"apple.com", "microsoft.com", "netflix.com", "paypal.com", "ebay.com", "reddit.com", "google.co.uk",
		"army.mil", "contoso.com", "fabrikam.com", "stackoverflow.com", "golang.org", "ietf.org"} {
		if r := checkName(t, e, q); len(r.Findings) > 0 {
			t.Errorf("%s: flagged against the providers: %s", q, describeResult(r))
		}
	}
	// ...and the list does catch the classics.
	for q, want := range map[string]string{"gmial.com": "gmail.com", "hotmial.com": "hotmail.com", "gmail.co": "gmail.com",
		"outlook.cm": "outlook.com", "yahoo.con": "yahoo.com", "gmаil.com": "gmail.com"} {
		r := checkName(t, e, q)
		if len(r.Findings) == 0 || r.Findings[0].Intended != want {
			t.Errorf("%s: %s, want %s first", q, describeResult(r), want)
		}
	}
}

// TestShortProtectedLabelNeighbours: af.mil has many legitimate neighbours inside .mil.
func TestShortProtectedLabelNeighbours(t *testing.T) {
	e := newEngine(t, Inputs{Protected: parseDomains(t, "af.mil"), ProtectedNamespaces: []string{"mil"}})
	for _, q := range []string{"ag.mil", "a.mil", "fa.mil", "aff.mil", "af1.mil", "sf.mil"} {
		r := checkName(t, e, q)
		for _, f := range r.Findings {
			if f.Strong() {
				t.Errorf("%s: strong finding %s", q, describeResult(r))
			}
		}
		if r.Namespace != "mil" {
			t.Errorf("%s: Namespace = %q, want mil", q, r.Namespace)
		}
	}
	// Its suffix typo is strong, however short the label.
	r := checkName(t, e, "af.ml")
	if len(r.Findings) == 0 || r.Findings[0].Intended != "af.mil" || !r.Findings[0].Strong() {
		t.Errorf("af.ml: %s, want a strong af.mil", describeResult(r))
	}
}

// TestSameOwnerNotFlagged: a name under the registrable domain of a candidate belongs to the
// same owner.
func TestSameOwnerNotFlagged(t *testing.T) {
	e := newEngine(t, Inputs{Known: []KnownDomain{{domain(t, "us.ibm.com"), 100}}})
	for _, q := range []string{"uk.ibm.com", "ibm.com", "mail.us.ibm.com", "de.ibm.com"} {
		if r := checkName(t, e, q); len(r.Findings) > 0 {
			t.Errorf("%s: flagged: %s", q, describeResult(r))
		}
	}
	r := checkName(t, e, "usibm.com")
	if f, ok := findingFor(r, "us.ibm.com"); !ok || f.Technique != Doppelganger || f.Situation != SituationKnown {
		t.Errorf("usibm.com: %s, want a doppelganger of the known us.ibm.com", describeResult(r))
	}
}

func TestAllowAndBlock(t *testing.T) {
	e := newEngine(t, Inputs{
		Protected:           parseDomains(t, "army.mil"),
		ProtectedNamespaces: []string{"mil"},
		Allow:               parseDomains(t, "army.ml", "bank.ml"),
		AllowNamespaces:     []string{"ok.ml"},
		Block:               parseDomains(t, "bank.ml", "evil.example"),
		BlockNamespaces:     []string{".ML"}, // cleaned: lower case, no dots at the ends
	})
	// Explicit allow wins over the lookalike, over the blocked namespace and over the block list.
	for _, q := range []string{"army.ml", "bank.ml", "ok.ml", "x.ok.ml", "ARMY.ML."} {
		r := checkName(t, e, q)
		if !r.Allowed || r.Blocked || len(r.Findings) > 0 {
			t.Errorf("%s: allowed %v blocked %v, %s; want allowed and nothing else", q, r.Allowed, r.Blocked, describeResult(r))
		}
	}
	// Blocked namespace and block list; the findings are still reported.
	for _, q := range []string{"navy.ml", "zzz.ml", "x.zzz.ml", "evil.example", "notok.ml"} {
		r := checkName(t, e, q)
		if !r.Blocked || r.Allowed {
			t.Errorf("%s: allowed %v blocked %v, want blocked", q, r.Allowed, r.Blocked)
		}
	}
	r := checkName(t, e, "navy.ml")
	if f, ok := findingFor(r, "navy.mil"); !ok || f.Technique != NamespaceTypo {
		t.Errorf("navy.ml: %s, want the namespace typo of navy.mil next to the block", describeResult(r))
	}
	for _, q := range []string{"army.mil", "ml.example", "mail.example"} {
		if r := checkName(t, e, q); r.Blocked {
			t.Errorf("%s: blocked", q)
		}
	}
}

// TestKnownSuspects: a suspect the organisation already writes to is flagged only next to
// a candidate with at least 50 times more mail, and then never strongly.
func TestKnownSuspects(t *testing.T) {
	known := func(pairs ...any) []KnownDomain {
		var out []KnownDomain
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, KnownDomain{Domain: domain(t, pairs[i].(string)), Count: int64(pairs[i+1].(int))})
		}
		return out
	}
	t.Run("similar traffic", func(t *testing.T) {
		e := newEngine(t, Inputs{Known: known("fabrikam.com", 1000, "fabrikan.com", 100, "contoso.com", 300, "contosa.com", 10)})
		for _, q := range []string{"fabrikan.com", "fabrikam.com", "contosa.com", "contoso.com"} {
			r := checkName(t, e, q)
			if len(r.Findings) > 0 {
				t.Errorf("%s: flagged: %s", q, describeResult(r))
			}
			if !r.Self.Has(Known) || r.Count == 0 {
				t.Errorf("%s: Self %v Count %d, want known with its count", q, r.Self, r.Count)
			}
		}
	})
	t.Run("100 times more", func(t *testing.T) {
		e := newEngine(t, Inputs{Known: known("fabrikam.com", 10000, "fabrikan.com", 100)})
		r := checkName(t, e, "fabrikan.com")
		f, ok := findingFor(r, "fabrikam.com")
		if !ok || f.Situation != SituationKnown || f.Strong() || f.Count != 10000 {
			t.Errorf("fabrikan.com: %s; want a weak known finding for fabrikam.com with its count", describeResult(r))
		}
		if r := checkName(t, e, "fabrikam.com"); len(r.Findings) > 0 {
			t.Errorf("fabrikam.com (the big one): flagged: %s", describeResult(r))
		}
		// An unknown lookalike of the big one is strong.
		if r := checkName(t, e, "fabrikma.com"); len(r.Findings) == 0 || !r.Findings[0].Strong() {
			t.Errorf("fabrikma.com: %s, want strong", describeResult(r))
		}
	})
	t.Run("protected always wins", func(t *testing.T) {
		e := newEngine(t, Inputs{Protected: parseDomains(t, "army.mil"), Known: known("army.ml", 100000)})
		r := checkName(t, e, "army.ml")
		if len(r.Findings) == 0 || r.Findings[0].Intended != "army.mil" || !r.Findings[0].Strong() {
			t.Errorf("army.ml (known, mailed a lot): %s; a lookalike of a protected domain is never trusted", describeResult(r))
		}
	})
	t.Run("providers weigh 1000", func(t *testing.T) {
		e := newEngine(t, Inputs{Providers: parseDomains(t, "gmail.com"), Known: known("gmial.com", 5, "gmaill.com", 500)})
		if r := checkName(t, e, "gmial.com"); len(r.Findings) == 0 || r.Findings[0].Strong() {
			t.Errorf("gmial.com (known, 5 messages): %s; want a weak provider finding", describeResult(r))
		}
		if r := checkName(t, e, "gmaill.com"); len(r.Findings) > 0 {
			t.Errorf("gmaill.com (known, 500 messages): %s; want none", describeResult(r))
		}
	})
}

// TestKnownSuspectWithHugeCountNotFlagged: the 50x rule multiplies the suspect's count by
// 50; with a count above MaxInt64/50 (New saturates sums at MaxInt64) the product
// overflows and the suspect is flagged as a lookalike of a domain with far less mail.
func TestKnownSuspectWithHugeCountNotFlagged(t *testing.T) {
	e := newEngine(t, Inputs{Known: []KnownDomain{
		{domain(t, "fabrikam.com"), 1000},
		{domain(t, "fabrikan.com"), math.MaxInt64},
	}})
	if r := checkName(t, e, "fabrikan.com"); len(r.Findings) > 0 {
		t.Errorf("fabrikan.com (count MaxInt64) next to fabrikam.com (count 1000): flagged: %s", describeResult(r))
	}
	e = newEngine(t, Inputs{Known: []KnownDomain{
		{domain(t, "fabrikam.com"), 1000},
		{domain(t, "fabrikan.com"), math.MaxInt64/50 + 1},
	}})
	if r := checkName(t, e, "fabrikan.com"); len(r.Findings) > 0 {
		t.Errorf("fabrikan.com (count MaxInt64/50+1) next to fabrikam.com (count 1000): flagged: %s", describeResult(r))
	}
}

// TestSuspectCloseToTwoCandidates reports both.
func TestSuspectCloseToTwoCandidates(t *testing.T) {
	e := newEngine(t, Inputs{
		Protected: parseDomains(t, "fabrikam.com", "fabrikom.com"),
		Providers: parseDomains(t, "gmail.com", "hotmail.com"),
		Known:     []KnownDomain{{domain(t, "fabrikum.com"), 400}, {domain(t, "gmaul.com"), 400}},
	})
	for q, want := range map[string][]string{
		"fabrikm.com": {"fabrikam.com", "fabrikom.com", "fabrikum.com"},
		"gmal.com":    {"gmail.com", "gmaul.com"},
	} {
		r := checkName(t, e, q)
		for _, w := range want {
			if _, ok := findingFor(r, w); !ok {
				t.Errorf("%s: %s; want a finding for %s", q, describeResult(r), w)
			}
		}
	}
}

// TestSubdomainSuffixTypoNamesTheFullName: mail.army.ml is army.mil's and mail.army.mil's
// suffix typo with the same score; the name that matches the whole label part
// (mail.army.mil, itself protected) is the likelier intention, but the tie is broken by
// the alphabet and army.mil comes first.
func TestSubdomainSuffixTypoNamesTheFullName(t *testing.T) {
	e := newEngine(t, Inputs{Protected: parseDomains(t, "army.mil", "mail.army.mil"), ProtectedNamespaces: []string{"mil"}})
	for q, want := range map[string]string{"mail.army.ml": "mail.army.mil", "mail.army.mi": "mail.army.mil", "x.army.ml": "army.mil"} {
		r := checkName(t, e, q)
		if len(r.Findings) == 0 || r.Findings[0].Intended != want {
			t.Errorf("%s: %s; want %s first", q, describeResult(r), want)
		}
	}
}

// TestAppendedSuffixIsNotAlsoANamespaceTypo: army.mil.ml is army.mil with .ml appended. It
// is also reported as a namespace typo of "army.mil.mil", a name nobody means, which then
// shows up as a second "did you mean".
func TestAppendedSuffixIsNotAlsoANamespaceTypo(t *testing.T) {
	e := newEngine(t, Inputs{Protected: parseDomains(t, "army.mil"), ProtectedNamespaces: []string{"mil"}})
	for _, q := range []string{"army.mil.ml", "xyz.mil.ml", "mil.ml"} {
		r := checkName(t, e, q)
		for _, f := range r.Findings {
			if strings.HasSuffix(f.Intended, ".mil.mil") || f.Intended == "mil.mil" {
				t.Errorf("%s: finding for %s: %s", q, f.Intended, describeResult(r))
			}
		}
	}
}

// TestDetailNamesWhatDiffers: the explanation names the letters or parts that differ.
func TestDetailNamesWhatDiffers(t *testing.T) {
	en := buildTechEngines(t)
	tests := []struct {
		eng      *Engine
		query    string
		intended string
		want     []string
	}{
		{en.prot, "army.ml", "army.mil", []string{`"ml"`, `"mil"`}},
		{en.prot, "army.mill", "army.mil", []string{`"mill"`, `"mil"`, `"l"`}},
		{en.prot, "army.mli", "army.mil", []string{`"mli"`, `"il"`}},
		{en.prot, "gmail.con", "gmail.com", []string{`"n"`, `"m"`}},
		{en.prot, "cba.com", "cba.com.au", []string{`".au"`}},
		{en.prot, "partner.uk", "partner.co.uk", []string{`"co."`}},
		{en.prot, "army.mil.ml", "army.mil", []string{"army.mil", `"ml"`}},
		{en.prot, "xyz.ml", "xyz.mil", []string{`"ml"`, `"mil"`}},
		{en.prot, "gmаil.com", "gmail.com", []string{"Cyrillic", `"а"`}},
		{en.prot, "gmαil.com", "gmail.com", []string{"Greek", `"α"`}},
		{en.prot, "outlo0k.com", "outlook.com", []string{`"0"`, `"o"`}},
		{en.prot, "gmai1.com", "gmail.com", []string{`"1"`, `"l"`}},
		{en.prot, "usibm.com", "us.ibm.com", []string{"dot"}},
		{en.prot, "fab.rikam.com", "fabrikam.com", []string{"dot"}},
		{en.prot, "tonline.de", "t-online.de", []string{"hyphen"}},
		{en.tonline, "t-online.de", "tonline.de", []string{"hyphen"}},
		{en.prot, "gmial.com", "gmail.com", []string{`"ai"`}},
		{en.prot, "gmaill.com", "gmail.com", []string{`"l"`}},
		{en.prot, "fabrikzam.com", "fabrikam.com", []string{`"z"`}},
		{en.prot, "fabrikan.com", "fabrikam.com", []string{`"n"`, `"m"`}},
		{en.prot, "fabrikem.com", "fabrikam.com", []string{`"e"`, `"a"`}},
		{en.prot, "fabrikcm.com", "fabrikam.com", []string{`"c"`, `"a"`}},
		{en.prot, "fabrikams.com", "fabrikam.com", []string{`"s"`}},
		{en.prot, "fabrikamx.com", "fabrikam.com", []string{`"x"`}},
		{en.prot, "fabrikxm.com", "fabrikam.com", []string{`"x"`, `"a"`}},
	}
	for _, tt := range tests {
		r := checkName(t, tt.eng, tt.query)
		f, ok := findingFor(r, tt.intended)
		if !ok {
			t.Errorf("%s: %s; want a finding for %s", tt.query, describeResult(r), tt.intended)
			continue
		}
		d := f.Detail()
		for _, w := range tt.want {
			if !strings.Contains(d, w) {
				t.Errorf("%s: Detail %q does not name %s", tt.query, d, w)
			}
		}
	}
}

// TestDetailHyphenForDot: "us-ibm" has a hyphen where "us.ibm" has a dot; the explanation
// says the dot was left out, because describe tests e.from == "." before it looks at e.to.
func TestDetailHyphenForDot(t *testing.T) {
	e := buildTechEngines(t).prot
	r := checkName(t, e, "us-ibm.com")
	f, ok := findingFor(r, "us.ibm.com")
	if !ok || f.Technique != Doppelganger {
		t.Fatalf("us-ibm.com: %s; want a doppelganger of us.ibm.com", describeResult(r))
	}
	if d := f.Detail(); !strings.Contains(d, "hyphen") {
		t.Errorf("us-ibm.com: Detail %q does not say the hyphen stands for the dot", d)
	}
}

// TestDetailNamesVisualRuns: for the multi-letter visual confusions (rn/m, vv/w, cl/d) the
// explanation only says `"fabrikarn" looks like "fabrikam"`: it does not name the letters
// that differ, as it does for the one-letter ones (`("0" for "o")`).
func TestDetailNamesVisualRuns(t *testing.T) {
	e := buildTechEngines(t).prot
	for _, tt := range []struct{ query, intended, to, from string }{
		{"fabrikarn.com", "fabrikam.com", "rn", "m"},
		{"vvingtiptoys.com", "wingtiptoys.com", "vv", "w"},
		{"clropbox.com", "dropbox.com", "cl", "d"},
		{"darity.com", "clarity.com", "d", "cl"},
	} {
		r := checkName(t, e, tt.query)
		f, ok := findingFor(r, tt.intended)
		if !ok {
			t.Errorf("%s: %s; want a finding for %s", tt.query, describeResult(r), tt.intended)
			continue
		}
		if d := f.Detail(); !strings.Contains(d, `"`+tt.to+`"`) || !strings.Contains(d, `"`+tt.from+`"`) {
			t.Errorf("%s: Detail %q does not name %q for %q", tt.query, d, tt.to, tt.from)
		}
	}
}

// TestFindingsInvariants over many queries: sorted, in range, at most four, never the query.
func TestFindingsInvariants(t *testing.T) {
	e := newEngine(t, Inputs{
		Protected:           parseDomains(t, "army.mil", "mail.army.mil", "us.ibm.com", "fabrikam.com", "fabrikom.com"),
		ProtectedNamespaces: []string{"mil", "gov"},
		Providers:           providers.Domains(),
		Known:               syntheticKnown(t, 2000),
	})
	qs := []address.Domain{}
	for _, v := range Permute(domain(t, "fabrikam.com"), nil) {
		qs = append(qs, v.Domain)
	}
	for _, v := range Permute(domain(t, "gmail.com"), nil) {
		qs = append(qs, v.Domain)
	}
	qs = append(qs, queries(t, syntheticKnown(t, 2000), 2000)...)
	for _, d := range qs {
		r := e.Check(d)
		if len(r.Findings) > maxFindings {
			t.Errorf("%s: %d findings", d.ASCII, len(r.Findings))
		}
		for i, f := range r.Findings {
			if f.Score < MinScore || f.Score > 1 {
				t.Errorf("%s: score %v", d.ASCII, f.Score)
			}
			if i > 0 && f.Score > r.Findings[i-1].Score {
				t.Errorf("%s: findings out of order: %s", d.ASCII, describeResult(r))
			}
			if f.Intended == d.ASCII {
				t.Errorf("%s: finding for itself", d.ASCII)
			}
			if f.Detail() == "" || f.IntendedDisplay == "" {
				t.Errorf("%s: empty Detail or IntendedDisplay: %+v", d.ASCII, f)
			}
		}
	}
}

// TestCheckConcurrent: one Engine, many goroutines, the same answers (run with -race).
func TestCheckConcurrent(t *testing.T) {
	e := newEngine(t, Inputs{
		Protected:           parseDomains(t, "army.mil", "us.ibm.com", "cba.com.au", "fabrikam.com"),
		ProtectedNamespaces: []string{"mil"},
		Providers:           providers.Domains(),
		Known:               syntheticKnown(t, 500),
		BlockNamespaces:     []string{"ml"},
		Allow:               parseDomains(t, "bank.ml"),
	})
	names := []string{"army.ml", "army.mil.ml", "xyz.ml", "bank.ml", "usibm.com", "cba.com", "gmаil.com", "gmial.com",
		"fabrikarn.com", "tonline.de", "example.org", "gmail.com", "outlo0k.com", "hotmial.co.uk", "yahoo.con"}
	var qs []address.Domain
	for _, n := range names {
		qs = append(qs, domain(t, n))
	}
	qs = append(qs, queries(t, syntheticKnown(t, 500), 200)...)
	want := make([]Result, len(qs))
	for i, q := range qs {
		want[i] = e.Check(q)
	}
	const workers = 16
	var wg sync.WaitGroup
	errs := make(chan string, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for round := 0; round < 5; round++ {
				for k := range qs {
					i := (k + w*7) % len(qs) // every worker in its own order
					if got := e.Check(qs[i]); !reflect.DeepEqual(got, want[i]) {
						errs <- fmt.Sprintf("%s: %s, want %s", qs[i].ASCII, describeResult(got), describeResult(want[i]))
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}

// TestThreeLetterProtectedLabelsWarnOnly: a slip on a short protected or known label
// (ibm.com, cba.com.au), or a weak technique on a four-letter one, is flagged, since those
// are the lookalikes that matter, but only as weak evidence (a warning): such names have
// many legitimate neighbours.
func TestThreeLetterProtectedLabelsWarnOnly(t *testing.T) {
	en := buildTechEngines(t)
	for q, want := range map[string]string{
		"im.com": "ibm.com", "ibmm.com": "ibm.com", "imb.com": "ibm.com", "bim.com": "ibm.com", "ibn.com": "ibm.com",
		"a-b.com": "ab.com", "acmi.com": "acme.com", "acmex.com": "acme.com",
	} {
		r := en.short.Check(domain(t, q))
		if len(r.Findings) == 0 || r.Findings[0].Intended != want {
			t.Errorf("%s: not flagged as a lookalike of %s: %+v", q, want, r.Findings)
			continue
		}
		if r.Findings[0].Strong() {
			t.Errorf("%s: strong evidence on a three-letter label (%.2f)", q, r.Findings[0].Score)
		}
	}
}
