package address

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/bidi"
)

// TestParseDomainNormalises covers the normalisation rules: case, trailing dot, UTS #46
// mapping (fullwidth, ideographic full stop, ß kept), punycode in and out, and the
// public-suffix split.
func TestParseDomainNormalises(t *testing.T) {
	tests := []struct {
		in                    string
		ascii, display        string
		suffix                string
		listed                bool
		pre, dispPre, regName string
	}{
		// Case and the trailing dot.
		{"army.mil", "army.mil", "army.mil", "mil", true, "army", "army", "army.mil"},
		{"Army.MIL", "army.mil", "army.mil", "mil", true, "army", "army", "army.mil"},
		{"army.mil.", "army.mil", "army.mil", "mil", true, "army", "army", "army.mil"},
		{"ARMY.MIL.", "army.mil", "army.mil", "mil", true, "army", "army", "army.mil"},
		{"  army.mil\t", "army.mil", "army.mil", "mil", true, "army", "army", "army.mil"},
		// Fullwidth letters and full stops, the ideographic full stop, as a trailing dot too.
		{"ａｒｍｙ．ｍｉｌ", "army.mil", "army.mil", "mil", true, "army", "army", "army.mil"},
		{"ＡＲＭＹ．ＭＩＬ", "army.mil", "army.mil", "mil", true, "army", "army", "army.mil"},
		{"army。mil", "army.mil", "army.mil", "mil", true, "army", "army", "army.mil"},
		{"army。mil。", "army.mil", "army.mil", "mil", true, "army", "army", "army.mil"},
		{"army｡mil", "army.mil", "army.mil", "mil", true, "army", "army", "army.mil"},
		{"army．mil．", "army.mil", "army.mil", "mil", true, "army", "army", "army.mil"},
		// Other UTS #46 mappings: ligatures, soft hyphen (ignored), roman numerals.
		{"ﬁ.com", "fi.com", "fi.com", "com", true, "fi", "fi", "fi.com"},
		{"ab\u00adc.com", "abc.com", "abc.com", "com", true, "abc", "abc", "abc.com"},
		// ß is kept (non-transitional), in both directions.
		{"straße.de", "xn--strae-oqa.de", "straße.de", "de", true, "xn--strae-oqa", "straße", "xn--strae-oqa.de"},
		{"STRAßE.DE", "xn--strae-oqa.de", "straße.de", "de", true, "xn--strae-oqa", "straße", "xn--strae-oqa.de"},
		{"xn--strae-oqa.de", "xn--strae-oqa.de", "straße.de", "de", true, "xn--strae-oqa", "straße", "xn--strae-oqa.de"},
		// Unicode in, punycode out; punycode in (any case), Unicode display.
		{"bücher.de", "xn--bcher-kva.de", "bücher.de", "de", true, "xn--bcher-kva", "bücher", "xn--bcher-kva.de"},
		{"BÜCHER.de", "xn--bcher-kva.de", "bücher.de", "de", true, "xn--bcher-kva", "bücher", "xn--bcher-kva.de"},
		{"XN--BCHER-KVA.DE", "xn--bcher-kva.de", "bücher.de", "de", true, "xn--bcher-kva", "bücher", "xn--bcher-kva.de"},
		{"gmаil.com", "xn--gmil-63d.com", "gmаil.com", "com", true, "xn--gmil-63d", "gmаil", "xn--gmil-63d.com"},
		{"xn--gmil-63d.com", "xn--gmil-63d.com", "gmаil.com", "com", true, "xn--gmil-63d", "gmаil", "xn--gmil-63d.com"},
		{"mail.xn--gmil-63d.com", "mail.xn--gmil-63d.com", "mail.gmаil.com", "com", true, "mail.xn--gmil-63d", "mail.gmаil", "xn--gmil-63d.com"},
		{"中国.cn", "xn--fiqs8s.cn", "中国.cn", "cn", true, "xn--fiqs8s", "中国", "xn--fiqs8s.cn"},
		{"公司.中国", "xn--55qx5d.xn--fiqs8s", "公司.中国", "xn--fiqs8s", true, "xn--55qx5d", "公司", "xn--55qx5d.xn--fiqs8s"},
		{"xn--55qx5d.XN--FIQS8S", "xn--55qx5d.xn--fiqs8s", "公司.中国", "xn--fiqs8s", true, "xn--55qx5d", "公司", "xn--55qx5d.xn--fiqs8s"},
		// Right-to-left labels that satisfy the Bidi rule.
		{"שלום1.com", "xn--1-9hcuf1d.com", "שלום1.com", "com", true, "xn--1-9hcuf1d", "שלום1", "xn--1-9hcuf1d.com"},
		// The public-suffix split.
		{"us.ibm.com", "us.ibm.com", "us.ibm.com", "com", true, "us.ibm", "us.ibm", "ibm.com"},
		{"cba.com.au", "cba.com.au", "cba.com.au", "com.au", true, "cba", "cba", "cba.com.au"},
		{"mail.cba.com.au", "mail.cba.com.au", "mail.cba.com.au", "com.au", true, "mail.cba", "mail.cba", "cba.com.au"},
		{"partner.uk", "partner.uk", "partner.uk", "uk", true, "partner", "partner", "partner.uk"},
		{"partner.co.uk", "partner.co.uk", "partner.co.uk", "co.uk", true, "partner", "partner", "partner.co.uk"},
		{"foo.blogspot.com", "foo.blogspot.com", "foo.blogspot.com", "blogspot.com", true, "foo", "foo", "foo.blogspot.com"},
		{"army.mli", "army.mli", "army.mli", "mli", false, "army", "army", "army.mli"},
		{"mail.army.mli", "mail.army.mli", "mail.army.mli", "mli", false, "mail.army", "mail.army", "army.mli"},
		// A name that is itself a public suffix has no label part and no registrable name.
		{"co.uk", "co.uk", "co.uk", "co.uk", true, "", "", ""},
		{"com.au", "com.au", "com.au", "com.au", true, "", "", ""},
		// Digits are fine in labels and in a TLD that is not all digits.
		{"3com.com", "3com.com", "3com.com", "com", true, "3com", "3com", "3com.com"},
		{"x.1a", "x.1a", "x.1a", "1a", false, "x", "x", "x.1a"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseDomain(tt.in)
			if err != nil {
				t.Fatalf("ParseDomain(%q): %v", tt.in, err)
			}
			if d.ASCII != tt.ascii || d.Display != tt.display || d.Suffix != tt.suffix || d.Listed != tt.listed {
				t.Errorf("ParseDomain(%q) = {ASCII %q, Display %q, Suffix %q, Listed %v}, want {%q, %q, %q, %v}",
					tt.in, d.ASCII, d.Display, d.Suffix, d.Listed, tt.ascii, tt.display, tt.suffix, tt.listed)
			}
			if got := d.Pre(); got != tt.pre {
				t.Errorf("Pre() = %q, want %q", got, tt.pre)
			}
			if got := d.DisplayPre(); got != tt.dispPre {
				t.Errorf("DisplayPre() = %q, want %q", got, tt.dispPre)
			}
			if got := d.Registrable(); got != tt.regName {
				t.Errorf("Registrable() = %q, want %q", got, tt.regName)
			}
			if got := d.String(); got != tt.ascii {
				t.Errorf("String() = %q, want %q", got, tt.ascii)
			}
			// Normalisation is idempotent from both forms.
			for _, again := range []string{d.ASCII, d.Display} {
				d2, err := ParseDomain(again)
				if err != nil || d2 != d {
					t.Errorf("ParseDomain(%q) = %+v, %v; want %+v", again, d2, err, d)
				}
			}
		})
	}
}

func TestDomainUnder(t *testing.T) {
	tests := []struct {
		name, ns string
		want     bool
	}{
		{"army.mil", "mil", true},
		{"mail.army.mil", "mil", true},
		{"mail.army.mil", "army.mil", true},
		{"army.mil", "army.mil", true},
		{"xarmy.mil", "army.mil", false},
		{"army.mil", "il", false},
		{"army.ml", "mil", false},
		{"army.mil.ml", "mil", false},
		{"gov.uk", "uk", true},
	}
	for _, tt := range tests {
		d, err := ParseDomain(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Under(tt.ns); got != tt.want {
			t.Errorf("%s.Under(%q) = %v, want %v", tt.name, tt.ns, got, tt.want)
		}
	}
}

func TestParseNameAcceptsSingleLabels(t *testing.T) {
	for in, want := range map[string]string{"mil": "mil", "MIL": "mil", "mil.": "mil", "ｍｉｌ": "mil", "中国": "xn--fiqs8s", "co.uk": "co.uk"} {
		d, err := ParseName(in)
		if err != nil || d.ASCII != want {
			t.Errorf("ParseName(%q) = %q, %v; want %q", in, d.ASCII, err, want)
		}
	}
	for in, frag := range map[string]string{"": "empty", "123": "ip address", "[::1]": "address literal", "a..b": "empty label", "-mil": "hyphen"} {
		_, err := ParseName(in)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(strings.ToLower(err.Error()), frag) {
			t.Errorf("ParseName(%q) error = %v; want ErrInvalid naming %q", in, err, frag)
		}
	}
	if _, err := ParseDomain("mil"); err == nil {
		t.Error("ParseDomain(\"mil\") accepted a single label")
	}
}

// TestParseDomainErrorsNameTheProblem: every error wraps ErrInvalid and says what is wrong.
func TestParseDomainErrorsNameTheProblem(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		in   string
		want []string // substrings of the lower-cased message
	}{
		{"", []string{"empty"}},
		{"   ", []string{"empty"}},
		{".", []string{"empty"}},
		{"army..mil", []string{"empty label"}},
		{".army.mil", []string{"empty label"}},
		{"army.mil..", []string{"empty label"}}, // the trailing dot is stripped once
		{"army。。mil", []string{"empty label"}},  // also after mapping
		{"army.mil。。", []string{"empty label"}}, // ...
		{strings.Repeat("a", 64) + ".com", []string{"64 octets", "63"}},
		{"x." + strings.Repeat("b", 64), []string{"64 octets", "63"}},
		{strings.Repeat("ä", 60) + ".com", []string{"octets", "63"}},       // 66 octets as punycode
		{strings.Repeat(long63+".", 4) + "com", []string{"octets", "253"}}, // 259 octets
		{strings.Repeat("ä", 30) + "." + strings.Repeat(strings.Repeat("b", 60)+".", 4) + "com", []string{"octets", "253"}},
		{"a_b.com", []string{"'_'"}},
		{"a b.com", []string{"' '"}},
		{"a/b.com", []string{"'/'"}},
		{"a@b.com", []string{"'@'"}},
		{"a\x00b.com", []string{`'\x00'`}},
		{"a\tb.com", []string{`'\t'`}},
		{"a\ue000.com", []string{"disallowed", "u+e000"}},
		{"a\u2028b.com", []string{"disallowed", "u+2028"}},
		{"a\ufffd.com", []string{"disallowed", "u+fffd"}},
		{"\xff.com", []string{"utf-8"}},
		{"army.\xc3", []string{"utf-8"}},
		{"[1.2.3.4]", []string{"address literal"}},
		{"[IPv6:::1]", []string{"address literal"}},
		{"1.2.3.4", []string{"ip address"}},
		{"1.2.3.4.", []string{"ip address"}},
		{"10.0.0.01", []string{"ip address"}},
		{"mil", []string{"single label"}},
		{"MIL.", []string{"single label"}},
		{"ｍｉｌ。", []string{"single label"}},
		{"1שלום.com", []string{"bidi"}},
		{"abc\u05d0.com", []string{"bidi"}},
		{"-army.mil", []string{"hyphen"}},
		{"army-.mil", []string{"hyphen"}},
		{"army.-mil", []string{"hyphen"}},
		{"ab--cd.com", []string{"hyphens in the third and fourth"}},
		{"a\u200db.com", []string{"joiner"}},
		{"\u200c.com", []string{"joiner"}},
		{"\u0301a.com", []string{"\u0301a"}}, // a leading combining mark: at least the label is named
	}
	for _, tt := range tests {
		d, err := ParseDomain(tt.in)
		if err == nil {
			t.Errorf("ParseDomain(%q) = %+v, want an error", tt.in, d)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseDomain(%q) error %v does not wrap ErrInvalid", tt.in, err)
		}
		if d != (Domain{}) {
			t.Errorf("ParseDomain(%q) returned a half-valid Domain %+v with its error", tt.in, d)
		}
		msg := strings.ToLower(err.Error())
		for _, w := range tt.want {
			if !strings.Contains(msg, strings.ToLower(w)) {
				t.Errorf("ParseDomain(%q) error %q does not say %q", tt.in, err, w)
			}
		}
	}
}

// TestParseDomainBadPunycodeSaysPunycode: an A-label that does not decode is the one error
// kind whose message comes straight from x/net/idna ("idna: invalid label \"zz\""), which
// does not tell a user that the xn-- label is the problem.
func TestParseDomainBadPunycodeSaysPunycode(t *testing.T) {
	for _, in := range []string{"xn--zz.com", "xn--a.com", "XN--ABC.com", "xn--abc-.com", "mail.xn--zz.com", "a.xn--zz"} {
		_, err := ParseDomain(in)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseDomain(%q) error = %v, want ErrInvalid", in, err)
			continue
		}
		if !strings.Contains(strings.ToLower(err.Error()), "punycode") {
			t.Errorf("ParseDomain(%q) error %q does not say that the punycode (xn--) label is bad", in, err)
		}
	}
}

// TestParseDomainEmptyALabel: "xn--" decodes to nothing; the error must not claim the
// name has a single label.
func TestParseDomainEmptyALabel(t *testing.T) {
	for _, in := range []string{"a.xn--", "xn--.com"} {
		_, err := ParseDomain(in)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseDomain(%q) error = %v, want ErrInvalid", in, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "single label") {
			t.Errorf("ParseDomain(%q) error %q: the input has two labels; the xn-- label is empty or bad", in, msg)
		}
	}
}

// TestParseDomainErrorShortensOnCharacterBoundary: a long label is shortened for the
// message; cutting it inside a UTF-8 sequence shows the sender a "\xc3" escape instead of
// their text.
func TestParseDomainErrorShortensOnCharacterBoundary(t *testing.T) {
	for _, in := range []string{
		strings.Repeat("ä", 60) + ".com",
		strings.Repeat("a", 36) + strings.Repeat("ä", 30) + ".com",
		"一二三四五六七八九十百千万亿兆京垓秭穰沟涧正载极.com",
	} {
		_, err := ParseDomain(in)
		if err == nil {
			t.Errorf("ParseDomain(%q) accepted an over-long label", in)
			continue
		}
		if msg := err.Error(); !utf8.ValidString(msg) || strings.Contains(msg, `\x`) {
			t.Errorf("ParseDomain(%q) error %s shows a character cut in half", in, msg)
		}
	}
}

// TestParseDomainBidiRuleAcrossLabels: RFC 5893 and UTS #46 apply the Bidi rule to every
// label of a Bidi domain name (one with a right-to-left label). ParseDomain checks each
// label on its own, so an LTR label that starts with a digit passes next to a Hebrew one,
// which the IDNA lookup profile (idna.Lookup) rejects.
func TestParseDomainBidiRuleAcrossLabels(t *testing.T) {
	for _, in := range []string{"0a.שלום.com", "0a.xn--4dbrk0ce.com", "zyzx0.xn--bzb.810y", "xn--4dbrk0ce.810y"} {
		if _, err := idna.Lookup.ToASCII(in); err == nil {
			t.Fatalf("idna.Lookup accepts %q: the premise of this test is wrong", in)
		}
		if d, err := ParseDomain(in); err == nil {
			t.Errorf("ParseDomain(%q) = %q, want a Bidi rule error as idna.Lookup gives", in, d.ASCII)
		}
	}
}

func TestParseDomainLengthLimits(t *testing.T) {
	l63 := strings.Repeat("a", 63)
	name253 := l63 + "." + l63 + "." + l63 + "." + strings.Repeat("b", 61) // 63*3+61+3 = 253
	if len(name253) != 253 {
		t.Fatalf("test setup: %d octets", len(name253))
	}
	for _, in := range []string{l63 + ".com", "x." + l63, name253, name253 + ".", strings.ToUpper(name253),
		strings.Repeat("ä", 30) + ".com", // 36 octets as punycode
	} {
		d, err := ParseDomain(in)
		if err != nil {
			t.Errorf("ParseDomain(%.20q... %d octets): %v", in, len(in), err)
			continue
		}
		if len(d.ASCII) > MaxNameOctets {
			t.Errorf("ASCII is %d octets", len(d.ASCII))
		}
	}
	for _, in := range []string{name253 + "b", name253 + "b.", "a." + name253} {
		_, err := ParseDomain(in)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "253") {
			t.Errorf("ParseDomain(%d octets) error = %v, want one naming the 253 limit", len(in), err)
		}
	}
}

// reference normalises s with x/net/idna directly: the lookup profile with the Bidi rule
// and DNS length checks, one trailing dot stripped, and the mail-domain rules of
// ParseDomain (two labels at least, not an IP address).
var referenceProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false), idna.VerifyDNSLength(true))

func reference(s string) (string, bool) {
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return "", false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" {
			return "", false
		}
	}
	a, err := referenceProfile.ToASCII(s)
	if err != nil || len(a) > MaxNameOctets {
		return "", false
	}
	i := strings.LastIndexByte(a, '.')
	if i < 0 {
		return "", false
	}
	if strings.Trim(a[i+1:], "0123456789") == "" {
		return "", false
	}
	return a, true
}

// fullwidth turns printable ASCII into its fullwidth form, which UTS #46 maps back: the
// same name, forced off the ASCII fast path.
func fullwidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > 0x20 && r < 0x7f {
			r += 0xfee0
		}
		b.WriteRune(r)
	}
	return b.String()
}

// randomLDH makes names of letters (both cases), digits, hyphens and dots, with labels
// around the 63-octet limit and names around the 253-octet limit now and then.
func randomLDH(rng *rand.Rand) string {
	const alphabet = "abcxyzABCXYZ0189-"
	var b strings.Builder
	labels := 1 + rng.IntN(4)
	if rng.IntN(20) == 0 {
		labels = 4 + rng.IntN(3)
	}
	for i := 0; i < labels; i++ {
		if i > 0 {
			b.WriteByte('.')
		}
		n := rng.IntN(8)
		switch rng.IntN(10) {
		case 0:
			n = 60 + rng.IntN(6)
		case 1:
			n = 0
		}
		for j := 0; j < n; j++ {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		if rng.IntN(8) == 0 && n > 4 { // hyphens in the third and fourth positions, or xn--
			s := []byte(b.String())
			k := len(s) - n
			s[k+2], s[k+3] = '-', '-'
			if rng.IntN(2) == 0 {
				s[k], s[k+1] = 'x', 'n'
			}
			b.Reset()
			b.Write(s)
		}
	}
	switch rng.IntN(6) {
	case 0:
		b.WriteByte('.')
	case 1:
		b.WriteString("..")
	}
	return b.String()
}

// TestFastPathMatchesIDNA: for LDH names, the ASCII fast path gives what x/net/idna gives,
// and what ParseDomain's own IDNA path gives for the same name in fullwidth letters.
func TestFastPathMatchesIDNA(t *testing.T) {
	rng := rand.New(rand.NewPCG(46, 3490))
	fixed := []string{"a.b", "A.B", "a.b.", "a.b..", "a..b", "-a.b", "a-.b", "ab--c.d", "xn--a.b", "xn--ab.c",
		"a.123", "1.a1", "a.b-c", "ab-c.d", "a-b-c.d-e", "a.b.c.d.e.f.g", "0.0.0.0a"}
	agree, accepted, bidi := 0, 0, 0
	for i := 0; i < 20000+len(fixed); i++ {
		s := ""
		if i < len(fixed) {
			s = fixed[i]
		} else {
			s = randomLDH(rng)
		}
		want, ok := reference(s)
		d, err := ParseDomain(s)
		if err == nil && !ok && isBidiDomain(d.Display) {
			// An A-label that decodes to right-to-left text: the Bidi rule across labels,
			// see TestParseDomainBidiRuleAcrossLabels.
			bidi++
		} else if ok != (err == nil) || ok && d.ASCII != want {
			t.Errorf("ParseDomain(%q) = %q, %v; x/net/idna gives %q, ok=%v", s, d.ASCII, err, want, ok)
			continue
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseDomain(%q) error %v does not wrap ErrInvalid", s, err)
		}
		fw := fullwidth(s)
		d2, err2 := ParseDomain(fw)
		if (err == nil) != (err2 == nil) || d != d2 {
			t.Errorf("fast path ParseDomain(%q) = %+v, %v; IDNA path ParseDomain(%q) = %+v, %v", s, d, err, fw, d2, err2)
			continue
		}
		agree++
		if ok {
			accepted++
		}
	}
	if accepted < 2000 || agree-accepted < 2000 {
		t.Errorf("the generator is lopsided: %d accepted, %d rejected", accepted, agree-accepted)
	}
	t.Logf("%d names agree, %d of them accepted; %d Bidi domain names accepted that x/net rejects", agree, accepted, bidi)
}

// isBidiDomain reports whether s has a right-to-left character (RFC 5893 "Bidi domain name").
func isBidiDomain(s string) bool {
	for _, r := range s {
		if p, _ := bidi.LookupRune(r); p.Class() == bidi.R || p.Class() == bidi.AL || p.Class() == bidi.AN {
			return true
		}
	}
	return false
}

// TestParseDomainMatchesIDNAOnUnicode compares with x/net/idna on non-ASCII names too.
func TestParseDomainMatchesIDNAOnUnicode(t *testing.T) {
	for _, s := range []string{"bücher.de", "BÜCHER.DE", "straße.de", "gmаil.com", "gmαil.com", "中国.cn", "公司.中国",
		"ａｒｍｙ．ｍｉｌ", "army。mil", "ﬁ.com", "Ⅻ.com", "☃.com", "xn--ls8h.com", "שלום1.com", "1שלום.com",
		"a\u200db.com", "\u0301a.com", "a\u00a0b.com", "xn--zz.com", "faß.de", "xn--fa-hia.de", "ab\u00adc.com"} {
		want, ok := reference(s)
		d, err := ParseDomain(s)
		if ok != (err == nil) || ok && d.ASCII != want {
			t.Errorf("ParseDomain(%q) = %q, %v; x/net/idna gives %q, ok=%v", s, d.ASCII, err, want, ok)
		}
	}
}

// checkDomain asserts the invariants of a successfully parsed Domain.
func checkDomain(t *testing.T, in string, d Domain) {
	t.Helper()
	a := d.ASCII
	if a == "" || len(a) > MaxNameOctets {
		t.Fatalf("%q: ASCII %q has %d octets", in, a, len(a))
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			t.Fatalf("%q: ASCII %q has %q", in, a, c)
		}
	}
	for _, l := range strings.Split(a, ".") {
		if l == "" || len(l) > MaxLabelOctets {
			t.Fatalf("%q: ASCII %q has a label of %d octets", in, a, len(l))
		}
	}
	if !strings.Contains(a, ".") {
		t.Fatalf("%q: ASCII %q is a single label", in, a)
	}
	if !utf8.ValidString(d.Display) {
		t.Fatalf("%q: Display %q is not UTF-8", in, d.Display)
	}
	if d.Suffix == "" || !d.Under(d.Suffix) {
		t.Fatalf("%q: Suffix %q is not a suffix of %q", in, d.Suffix, a)
	}
	if p := d.Pre(); p != "" && p+"."+d.Suffix != a {
		t.Fatalf("%q: Pre %q + Suffix %q != %q", in, p, d.Suffix, a)
	}
	if r := d.Registrable(); r != "" && !d.Under(r) {
		t.Fatalf("%q: Registrable %q is not a suffix of %q", in, r, a)
	}
	again, err := ParseDomain(a)
	if err != nil || again != d {
		t.Fatalf("%q: re-parsing ASCII %q gives %+v, %v; want %+v", in, a, again, err, d)
	}
	disp, err := ParseDomain(d.Display)
	if err != nil || disp.ASCII != a {
		t.Fatalf("%q: re-parsing Display %q gives %q, %v; want %q", in, d.Display, disp.ASCII, err, a)
	}
}

func FuzzParseDomain(f *testing.F) {
	for _, s := range []string{"army.mil", "Army.MIL.", "ａｒｍｙ．ｍｉｌ", "army。mil。", "straße.de", "xn--strae-oqa.de",
		"gmаil.com", "xn--gmil-63d.com", "us.ibm.com", "cba.com.au", "foo.blogspot.com", "army.mli", "[1.2.3.4]",
		"1.2.3.4", "mil", "a..b", "-a.b", "ab--c.d", "xn--zz.com", "a\u200db.com", "1שלום.com", "0a.שלום.com",
		"\xff.com", strings.Repeat("a", 64) + ".com", strings.Repeat("ä", 60) + ".com", "☃.com", "a.xn--"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDomain(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseDomain(%q) error %v does not wrap ErrInvalid", s, err)
			}
			if d != (Domain{}) {
				t.Fatalf("ParseDomain(%q) returned %+v with an error", s, d)
			}
			return
		}
		checkDomain(t, s, d)
		_ = d.DisplayPre()
	})
}
