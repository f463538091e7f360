package guard

import (
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
)

func TestTrustedDomainsSayWhoTrustedThem(t *testing.T) {
	dom := func(s string) address.Domain {
		d, err := address.ParseDomain(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	eng, err := engine.New(engine.Inputs{Protected: []address.Domain{dom("fabrikam.com")},
		Allow: []address.Domain{dom("fabrikarn.com"), dom("bank.ml")}})
	if err != nil {
		t.Fatal(err)
	}
	g := New(eng, DefaultPolicy())
	tg := g.WithTrusted([]string{"fabrikarn.com"})
	if d := tg.Check("bob@fabrikarn.com"); d.Verdict != Allow || d.Reason != "fabrikarn.com was trusted by your organisation's administrators." {
		t.Errorf("trusted: %v %q", d.Verdict, d.Reason)
	}
	if d := tg.Check("bank.ml"); d.Reason != "bank.ml is on the allow list." {
		t.Errorf("allowed by the configuration: %q", d.Reason)
	}
	if d := g.Check("fabrikarn.com"); d.Reason != "fabrikarn.com is on the allow list." || g.Trusted("fabrikarn.com") || !tg.Trusted("fabrikarn.com") {
		t.Errorf("WithTrusted changed the original guard: %q", d.Reason)
	}
	// Trust alone allows nothing: the engine decides.
	if d := New(eng, DefaultPolicy()).WithTrusted([]string{"fabrikan.com"}).Check("fabrikan.com"); d.Verdict == Allow {
		t.Errorf("a trusted name outside the engine's allow inputs was allowed: %q", d.Reason)
	}
}
