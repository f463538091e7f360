package engine

import (
	"strings"
	"testing"

	"golang.org/x/net/publicsuffix"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/confusables"
)

// TestCountryTLDsAreThePSLs: countryTLDs are exactly the two-letter ICANN suffixes of the
// public suffix list in use.
func TestCountryTLDsAreThePSLs(t *testing.T) {
	var want []string
	for a := byte('a'); a <= 'z'; a++ {
		for b := byte('a'); b <= 'z'; b++ {
			cc := string([]byte{a, b})
			if _, icann := publicsuffix.PublicSuffix("x." + cc); icann {
				want = append(want, cc)
			}
		}
	}
	if got := strings.Fields(countryTLDs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("countryTLDs differ from the public suffix list's; put this list in wide_tables.go:\n%s", strings.Join(want, " "))
	}
}

// TestHomoglyphsReadAsTheirLetter: every homoglyph Permute uses but ownSkeletonGlyphs has
// its letter's skeleton, alone and between letters, so that Permute need not compute the
// skeleton of a name IDNA kept as it was generated; those of ownSkeletonGlyphs do not.
func TestHomoglyphsReadAsTheirLetter(t *testing.T) {
	for c, hs := range homoglyphs {
		for _, h := range hs {
			if d, err := address.ParseDomain("x" + string(h) + "x.com"); err != nil || d.DisplayPre() != "x"+string(h)+"x" {
				t.Errorf("%c (for %c): IDNA does not keep it: %q, %v", h, c, d.DisplayPre(), err)
			}
			own := strings.ContainsRune(ownSkeletonGlyphs, h)
			for _, s := range []string{"%s", "x%sx", "%sa", "1%s"} {
				with, plain := strings.Replace(s, "%s", string(h), 1), strings.Replace(s, "%s", string(c), 1)
				if same := confusables.Skeleton(with) == confusables.Skeleton(plain); same == own {
					t.Errorf("%q (for %c): skeleton %q, letter's %q, in ownSkeletonGlyphs: %v", with, c, confusables.Skeleton(with), confusables.Skeleton(plain), own)
				}
			}
		}
	}
}
