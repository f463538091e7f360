package history

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/providers"
)

// org is a learner the way the daemon runs one: the engine is rebuilt from the store's
// known domains after every batch, so what was learned counts at once.
type org struct {
	t       *testing.T
	store   *SQLite
	in      engine.Inputs
	learner *Learner
}

func newOrg(t *testing.T, in engine.Inputs) *org {
	t.Helper()
	o := &org{t: t, store: openSQLite(t, filepath.Join(t.TempDir(), "h.db")), in: in}
	o.in.Providers = providers.Domains()
	o.learner = &Learner{Store: o.store}
	o.rebuild()
	return o
}

func (o *org) rebuild() {
	o.t.Helper()
	in := o.in
	var err error
	if in.Known, err = o.store.Known(context.Background()); err != nil {
		o.t.Fatal(err)
	}
	e, err := engine.New(in)
	if err != nil {
		o.t.Fatal(err)
	}
	o.learner.Check = e.Check
}

// mail learns n messages to domain in batches of up to 1,000, rebuilding the engine after
// each batch, and returns the totals.
func (o *org) mail(domain string, n int) (learned, refused int) {
	o.t.Helper()
	for n > 0 {
		size := min(n, 1000)
		obs := make([]Observation, size)
		for i := range obs {
			obs[i] = Observation{Domain: domain, SenderDomain: "contoso.com", At: t0.Add(time.Duration(n-i) * time.Minute)}
		}
		l, r, err := o.learner.Learn(context.Background(), obs)
		if err != nil {
			o.t.Fatal(err)
		}
		learned, refused, n = learned+l, refused+r, n-size
		o.rebuild()
	}
	return learned, refused
}

// seed learns n messages to domain in one observation.
func (o *org) seed(domain string, n int64) {
	o.t.Helper()
	learned, _, err := o.learner.Learn(context.Background(), []Observation{{Domain: domain, At: t0, Count: n}})
	if err != nil || learned != 1 {
		o.t.Fatalf("seeding %s: learned %d, %v", domain, learned, err)
	}
	o.rebuild()
}

func (o *org) count(domain string) int64 {
	o.t.Helper()
	st, ok, err := o.store.Domain(context.Background(), domain)
	if err != nil {
		o.t.Fatal(err)
	}
	if !ok {
		return 0
	}
	return st.Count
}

func mustDomain(t *testing.T, s string) address.Domain {
	t.Helper()
	d, err := address.ParseDomain(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The .ml case: mail to army.ml went on for years. However often it is mailed, it never
// becomes a known correspondent while army.mil is protected.
func TestArmyMLIsNeverLearned(t *testing.T) {
	for _, ns := range [][]string{nil, {"mil"}} {
		t.Run(fmt.Sprint("namespaces", ns), func(t *testing.T) {
			o := newOrg(t, engine.Inputs{Protected: []address.Domain{mustDomain(t, "army.mil")}, ProtectedNamespaces: ns})
			learned, refused := o.mail("army.ml", 10_000)
			if learned != 0 || refused != 10_000 || o.count("army.ml") != 0 {
				t.Errorf("army.ml: learned %d, refused %d, stored %d; want 0, 10000, 0", learned, refused, o.count("army.ml"))
			}
			if learned, _ := o.mail("army.mil", 3); learned != 3 || o.count("army.mil") != 3 {
				t.Errorf("army.mil itself: learned %d, stored %d", learned, o.count("army.mil"))
			}
		})
	}
}

func TestNamespaceTypoIsNotLearned(t *testing.T) {
	o := newOrg(t, engine.Inputs{Protected: []address.Domain{mustDomain(t, "army.mil")}, ProtectedNamespaces: []string{"mil"}})
	if learned, refused := o.mail("armmy.mil", 50); learned != 0 || refused != 50 {
		t.Errorf("armmy.mil: learned %d, refused %d", learned, refused)
	}
}

func TestProviderTypoIsNeverLearned(t *testing.T) {
	o := newOrg(t, engine.Inputs{})
	if learned, refused := o.mail("gmial.com", 5_000); learned != 0 || refused != 5_000 || o.count("gmial.com") != 0 {
		t.Errorf("gmial.com: learned %d, refused %d", learned, refused)
	}
	if learned, _ := o.mail("gmail.com", 10); learned != 10 {
		t.Errorf("gmail.com: learned %d of 10", learned)
	}
}

func TestNewCorrespondentIsLearned(t *testing.T) {
	o := newOrg(t, engine.Inputs{Protected: []address.Domain{mustDomain(t, "army.mil")}, ProtectedNamespaces: []string{"mil"}})
	if learned, refused := o.mail("fabrikam.com", 1_500); learned != 1_500 || refused != 0 || o.count("fabrikam.com") != 1_500 {
		t.Errorf("fabrikam.com: learned %d, refused %d, stored %d", learned, refused, o.count("fabrikam.com"))
	}
	st, _, _ := o.store.Domain(context.Background(), "fabrikam.com")
	if st.Senders != 1 {
		t.Errorf("senders = %d, want 1 (contoso.com)", st.Senders)
	}
}

// A lookalike of a known domain with far more traffic is refused; next to a domain that
// is itself mailed rarely, the same kind of neighbour is weak evidence and is learned.
func TestLookalikeOfABusyKnownDomainIsRefused(t *testing.T) {
	o := newOrg(t, engine.Inputs{})
	o.seed("contoso.com", 100_000)
	for _, d := range []string{"contosso.com", "cotnoso.com", "contoso.co"} {
		if learned, refused := o.mail(d, 2_000); learned != 0 || refused != 2_000 {
			t.Errorf("%s next to contoso.com (100,000 messages): learned %d, refused %d", d, learned, refused)
		}
	}

	o = newOrg(t, engine.Inputs{})
	o.seed("contoso.com", 1)
	if learned, _ := o.mail("contso.com", 20); learned != 20 {
		t.Errorf("contso.com next to contoso.com (1 message): learned %d of 20", learned)
	}
}

func TestLearnNormalisesAndRefusesInvalidDomains(t *testing.T) {
	o := newOrg(t, engine.Inputs{})
	learned, refused, err := o.learner.Learn(context.Background(), []Observation{
		{Domain: "Fabrikam.COM.", SenderDomain: "Contoso.COM", At: t0},
		{Domain: "münchen.de", SenderDomain: "not a domain", At: t0},
		{Domain: "not a domain", At: t0},
		{Domain: "", At: t0},
	})
	if err != nil || learned != 2 || refused != 2 {
		t.Fatalf("Learn = %d, %d, %v; want 2 learned, 2 refused", learned, refused, err)
	}
	if o.count("fabrikam.com") != 1 || o.count("xn--mnchen-3ya.de") != 1 {
		t.Errorf("normalised domains not stored")
	}
	if st, _, _ := o.store.Domain(context.Background(), "xn--mnchen-3ya.de"); st.Senders != 0 {
		t.Errorf("an invalid sender domain was stored")
	}
}

func TestBlockedDomainIsNotLearned(t *testing.T) {
	o := newOrg(t, engine.Inputs{BlockNamespaces: []string{"ml"}, AllowNamespaces: nil,
		Allow: []address.Domain{mustDomain(t, "gov.ml")}})
	if learned, _ := o.mail("example.ml", 10); learned != 0 {
		t.Errorf("example.ml in a blocked namespace: learned %d", learned)
	}
	if learned, _ := o.mail("gov.ml", 10); learned != 10 {
		t.Errorf("gov.ml, allowed: learned %d of 10", learned)
	}
}

func TestLearnerNeedsStoreAndCheck(t *testing.T) {
	if _, _, err := (&Learner{}).Learn(context.Background(), []Observation{{Domain: "fabrikam.com", At: t0}}); err == nil {
		t.Error("Learn without a Store and Check: no error")
	}
}

func TestLearnableRule(t *testing.T) {
	weak, strong := engine.MinScore, engine.StrongScore
	for _, c := range []struct {
		name string
		r    engine.Result
		want bool
	}{
		{"nothing found", engine.Result{}, true},
		{"blocked", engine.Result{Blocked: true}, false},
		{"weak lookalike of a protected domain", result(engine.SituationProtected, weak), false},
		{"weak typo in a protected namespace", result(engine.SituationNamespace, weak), false},
		{"strong lookalike of a known domain", result(engine.SituationKnown, strong), false},
		{"weak lookalike of a known domain", result(engine.SituationKnown, weak), true},
		{"strong lookalike of a provider", result(engine.SituationProvider, strong), false},
		{"weak lookalike of a provider", result(engine.SituationProvider, weak), true},
		{"another generic suffix of an own domain (contoso.net)", engine.Result{Findings: []engine.Finding{
			{Situation: engine.SituationProtected, Technique: engine.SuffixSwap, Score: 0.6}}}, true},
		{"another generic suffix and a slip of a protected domain", engine.Result{Findings: []engine.Finding{
			{Situation: engine.SituationProtected, Technique: engine.SuffixSwap, Score: 0.6}, {Situation: engine.SituationProtected, Score: weak}}}, false},
		{"weak known, then protected", engine.Result{Findings: []engine.Finding{
			{Situation: engine.SituationKnown, Score: weak}, {Situation: engine.SituationProtected, Score: weak}}}, false},
	} {
		if got := Learnable(c.r); got != c.want {
			t.Errorf("%s: Learnable = %v, want %v", c.name, got, c.want)
		}
	}
}

func result(s engine.Situation, score float64) engine.Result {
	return engine.Result{Findings: []engine.Finding{{Situation: s, Score: score}}}
}
