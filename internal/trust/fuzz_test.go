package trust

import (
	"errors"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
)

// FuzzParse: what an administrator types into the form or the command line never makes
// parse panic; it is a domain in normal form, or an ErrBadDomain error, and never an
// address taken for its domain.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"fabrikam.com", "Fabrikam.COM.", "gmаil.com", "xn--gmil-63d.com", "bob@x.com", "<x.com>",
		"a..b", "", " ", strings.Repeat("a.", 130) + "com", "\xff.com", "army.ml"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parse(s)
		if err != nil {
			if !errors.Is(err, ErrBadDomain) {
				t.Fatalf("parse(%q) = %v; want ErrBadDomain", s, err)
			}
			return
		}
		if strings.ContainsAny(s, "@<>") {
			t.Fatalf("parse(%q) accepted an address: %q", s, d.ASCII)
		}
		again, err := address.ParseDomain(d.ASCII)
		if err != nil || again.ASCII != d.ASCII || d.ASCII != strings.ToLower(d.ASCII) {
			t.Fatalf("parse(%q) = %q, which does not parse back to itself (%q, %v)", s, d.ASCII, again.ASCII, err)
		}
	})
}
