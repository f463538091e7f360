package engine

import (
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
)

func domain(t testing.TB, s string) address.Domain {
	t.Helper()
	d, err := address.ParseDomain(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return d
}

// TestDetectorFlagsEveryGeneratedLookalike holds the generator and the detector together:
// every lookalike that Permute makes of a protected domain is flagged, strongly enough to
// reach a verdict, with that domain named first.
func TestDetectorFlagsEveryGeneratedLookalike(t *testing.T) {
	for _, name := range []string{"army.mil", "fabrikam.com", "us.ibm.com", "cba.com.au", "t-online.de", "af.mil", "wingtiptoys.com", "partner.co.uk"} {
		t.Run(name, func(t *testing.T) {
			d := domain(t, name)
			e, err := New(Inputs{Protected: []address.Domain{d}})
			if err != nil {
				t.Fatal(err)
			}
			vs := Permute(d, nil)
			if len(vs) < 20 {
				t.Fatalf("only %d variants", len(vs))
			}
			per := map[Technique]int{}
			for _, v := range vs {
				per[v.Technique]++
				r := e.Check(v.Domain)
				if len(r.Findings) == 0 {
					t.Errorf("%s (%s) not flagged", v.Domain.Display, v.Technique)
					continue
				}
				if got := r.Findings[0].Intended; got != d.ASCII {
					t.Errorf("%s (%s): intended %s, want %s", v.Domain.Display, v.Technique, got, d.ASCII)
				}
			}
			t.Logf("%d variants: %v", len(vs), per)
		})
	}
}
