package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/rcptguard/rcptguard/internal/address"
)

// TestWideSameAsReference: PermuteWide lists the same variants, each with the same
// technique, as the implementation it replaced (wide_ref_test.go), on the domains of the
// dnstwist fixtures and others. One difference is meant: where an A-label in the
// registrable label's place changes the public suffix (www.ck: *.ck has the exception
// !www.ck), the reference dropped every Unicode glyph variant (it marked the name seen,
// then emitted it only if unseen); PermuteWide lists them.
func TestWideSameAsReference(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"gmail.com", "example.com", "army.mil", "us.ibm.com", "cba.com.au",
		"t-online.de", "münchen.de", "a.b.example.co.uk", "xn--80ak6aa92e.com", "mm.com", "rnrn.org",
		"wwvv.net", "aaeeoo.com", "cl.io", "x.com", "www.ck", "summer-nnrn.co.uk"} {
		d := mustDomain(t, name)
		got, want := variantLines(PermuteWide(d)), variantLines(permuteWideRef(d))
		if name == "www.ck" {
			got = slices.DeleteFunc(got, func(l string) bool {
				_, inRef := slices.BinarySearch(want, l)
				return !inRef && strings.Contains(l, " homoglyph ")
			})
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d variants, the reference %d; first differences:\n%s", name, len(got), len(want), firstDiffs(got, want, 10))
		}
	}
}

func variantLines(vs []Variant) []string {
	l := make([]string, len(vs))
	for i, v := range vs {
		l[i] = fmt.Sprintf("%s %s %s %s %v", v.Domain.ASCII, v.Domain.Display, v.Technique, v.Domain.Suffix, v.Domain.Listed)
	}
	slices.Sort(l)
	return l
}

func firstDiffs(got, want []string, n int) string {
	var b strings.Builder
	for _, s := range got {
		if _, ok := slices.BinarySearch(want, s); !ok && n > 0 {
			fmt.Fprintf(&b, "  new:     %s\n", s)
			n--
		}
	}
	for _, s := range want {
		if _, ok := slices.BinarySearch(got, s); !ok && n > 0 {
			fmt.Fprintf(&b, "  missing: %s\n", s)
			n--
		}
	}
	return b.String()
}

// TestAppendPunycode: appendPunycode gives what idna.Punycode does, on every glyph
// label of a few domains and on random strings of glyphs and letters.
func TestAppendPunycode(t *testing.T) {
	t.Parallel()
	check := func(s string) {
		t.Helper()
		want, err := idna.Punycode.ToASCII(s)
		got, ok := appendPunycode(nil, []byte(s))
		if err != nil || !ok || "xn--"+string(got) != want {
			t.Errorf("%q: appendPunycode %q (ok %v), idna %q (%v)", s, got, ok, want, err)
		}
	}
	var scratch []byte
	for _, label := range []string{"gmail", "example", "army", "ibm", "cba", "wingtiptoy", "a", "mm"} {
		glyphSwaps(label, 0, &scratch, func(b []byte, _ int) {
			s := string(b)
			if !isASCIIString(s) {
				check(s)
			}
			glyphSwaps(s, 0, &scratch, func(b []byte, _ int) {
				if !isASCIIBytes(b) {
					check(string(b))
				}
			})
		})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pool := []rune("abcz09-аɑαàáâãäåāăąǎȁȃȧəɚᴀᶏᶐᶕḁạảⱥꜳæǣǽᴁꜵꜷꜹꜻꜽꝫƕꝭœɶƣꝏȣᴕᵺꜩᵫꝸꝡ一丁\U0001F600")
	for range 5000 {
		r := make([]rune, 1+rng.IntN(20))
		r[0] = pool[7+rng.IntN(len(pool)-7)]
		for i := 1; i < len(r); i++ {
			r[i] = pool[rng.IntN(len(pool))]
		}
		rng.Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
		check(string(r))
	}
}

// FuzzAppendPunycode: on any label, appendPunycode gives what idna.Punycode does.
func FuzzAppendPunycode(f *testing.F) {
	for _, s := range []string{"gmаil", "ǵmáil", "ꜳbc", "一丁", "a\U0001F600b", "ԍмаіӏ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || isASCIIString(s) || strings.ContainsAny(s, ".。．｡") || utf8.RuneCountInString(s) > 200 {
			return
		}
		want, err := idna.Punycode.ToASCII(s)
		got, ok := appendPunycode(nil, []byte(s))
		if err != nil {
			return // idna refuses it; PermuteWide never makes such a label
		}
		if !ok || "xn--"+string(got) != want {
			t.Errorf("%q: appendPunycode %q (ok %v), idna %q", s, got, ok, want)
		}
	})
}

// TestRegistrableIs holds registrableIs to address.Domain.Registrable.
func TestRegistrableIs(t *testing.T) {
	t.Parallel()
	regs := []string{"", "gmail.com", "ibm.com", "cba.com.au", "com.au", ".com", "mil", "a.b"}
	for _, name := range []string{"gmail.com", "us.ibm.com", "a.b.ibm.com", "cba.com.au", "com.au",
		"www.ck", "x.www.ck", "foo.blogspot.com", "xn--gmil-63d.com", "army.mil", "ibm.com"} {
		v, err := address.ParseName(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, reg := range append(regs, v.Registrable()) {
			if got, want := registrableIs(v, reg), v.Registrable() == reg; got != want {
				t.Errorf("registrableIs(%s, %q) = %v, want %v", name, reg, got, want)
			}
		}
	}
}
