package history

import (
	"context"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
)

// learnFrom learns n messages from sender to domain, one a day, and returns the totals.
func (o *org) learnFrom(sender, domain string, n int, senderOnly bool) (learned, refused int) {
	o.t.Helper()
	obs := make([]Observation, n)
	for i := range obs {
		obs[i] = Observation{Domain: domain, Sender: sender, SenderOnly: senderOnly, At: t0.Add(time.Duration(i) * 24 * time.Hour)}
	}
	learned, refused, err := o.learner.Learn(context.Background(), obs)
	if err != nil {
		o.t.Fatal(err)
	}
	o.rebuild()
	return learned, refused
}

func (o *org) own(sender, domain string) int64 {
	o.t.Helper()
	st, ok, err := o.store.Sender(context.Background(), sender, domain)
	if err != nil {
		o.t.Fatal(err)
	}
	if !ok {
		return 0
	}
	return st.Count
}

// The point of the sender's own history: fabrikam.co next to the much busier fabrikam.com
// is refused by the organisation's history, and still counts for the sender who writes
// to it.
func TestLookalikeOfABusyKnownDomainCountsForItsSender(t *testing.T) {
	o := newOrg(t, engine.Inputs{})
	o.seed("fabrikam.com", 100_000)
	learned, refused := o.learnFrom("<alice@Contoso.com>", "fabrikam.co", 40, false)
	if learned != 0 || refused != 40 || o.count("fabrikam.co") != 0 {
		t.Errorf("fabrikam.co: learned %d, refused %d, stored %d; want none for the organisation", learned, refused, o.count("fabrikam.co"))
	}
	if got := o.own("alice@contoso.com", "fabrikam.co"); got != 40 {
		t.Errorf("alice's own history of fabrikam.co: %d, want 40", got)
	}
	if got := o.own("bob@contoso.com", "fabrikam.co"); got != 0 {
		t.Errorf("bob's own history of fabrikam.co: %d, want 0", got)
	}
}

func TestSenderOnlyMailIsNotLearnedForTheOrganisation(t *testing.T) {
	o := newOrg(t, engine.Inputs{})
	learned, refused := o.learnFrom("alice@contoso.com", "adatum.com", 3, true)
	if learned != 0 || refused != 3 || o.count("adatum.com") != 0 || o.own("alice@contoso.com", "adatum.com") != 3 {
		t.Errorf("learned %d, refused %d, organisation %d, alice %d", learned, refused, o.count("adatum.com"), o.own("alice@contoso.com", "adatum.com"))
	}
	// Without a sender there is nowhere to count it.
	learned, refused = o.learnFrom("<>", "adatum.com", 2, true)
	if learned != 0 || refused != 2 || o.count("adatum.com") != 0 {
		t.Errorf("null sender: learned %d, refused %d", learned, refused)
	}
}

// No sender's habit teaches a lookalike of a protected domain, a typo inside a protected
// namespace, a blocked domain or a suffix that does not exist.
func TestSenderHistoryNeverCountsProtectedBlockedOrNonexistent(t *testing.T) {
	o := newOrg(t, engine.Inputs{Protected: []address.Domain{mustDomain(t, "army.mil")}, ProtectedNamespaces: []string{"mil"},
		Own: []address.Domain{mustDomain(t, "contoso.com")}, BlockNamespaces: []string{"ml"}})
	for _, d := range []string{"army.ml", "armmy.mil", "contosso.com", "example.ml", "example.cmo"} {
		o.learnFrom("alice@contoso.com", d, 10, false)
		if got := o.own("alice@contoso.com", d); got != 0 {
			t.Errorf("%s: alice's count %d, want none stored", d, got)
		}
	}
	if learned, _ := o.learnFrom("alice@contoso.com", "army.mil", 2, false); learned != 2 || o.own("alice@contoso.com", "army.mil") != 2 {
		t.Errorf("army.mil itself: learned %d, alice's count %d", learned, o.own("alice@contoso.com", "army.mil"))
	}
}

func TestSenderLearnableRule(t *testing.T) {
	weak, strong := engine.MinScore, engine.StrongScore
	for _, c := range []struct {
		name string
		r    engine.Result
		want bool
	}{
		{"nothing found", engine.Result{}, true},
		{"blocked", engine.Result{Blocked: true}, false},
		{"strong lookalike of a known domain", result(engine.SituationKnown, strong), true},
		{"strong lookalike of a provider", result(engine.SituationProvider, strong), true},
		{"weak lookalike of a protected domain", result(engine.SituationProtected, weak), false},
		{"typo in a protected namespace", result(engine.SituationNamespace, weak), false},
		{"nonexistent suffix", result(engine.SituationNonexistent, strong), false},
		{"known, but an own domain", engine.Result{Findings: []engine.Finding{{Situation: engine.SituationKnown, Class: engine.Own, Score: strong}}}, false},
		{"known, then protected", engine.Result{Findings: []engine.Finding{
			{Situation: engine.SituationKnown, Score: strong}, {Situation: engine.SituationProtected, Score: weak}}}, false},
	} {
		if got := SenderLearnable(c.r); got != c.want {
			t.Errorf("%s: SenderLearnable = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestNormalSender(t *testing.T) {
	for in, want := range map[string]string{
		"alice@contoso.com":               "alice@contoso.com",
		"<Alice@CONTOSO.COM>":             "Alice@contoso.com",
		`"Smith, A" <a.smith@münchen.de>`: "a.smith@xn--mnchen-3ya.de",
	} {
		if got, err := NormalSender(in); err != nil || got != want {
			t.Errorf("NormalSender(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "<>", "contoso.com", "alice@", "@contoso.com", "a b@contoso.com"} {
		if got, err := NormalSender(in); err == nil {
			t.Errorf("NormalSender(%q) = %q, nil error", in, got)
		}
	}
}
