package guard

import (
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestNonexistentSuffixIsRefusedWithTheSuggestion: by default a suffix that is no
// top-level domain is refused at once, the reason naming the likely one.
func TestNonexistentSuffixIsRefusedWithTheSuggestion(t *testing.T) {
	eng, err := engine.New(engine.Inputs{Providers: testenv.Domains(t, "gmail.com")})
	if err != nil {
		t.Fatal(err)
	}
	d := New(eng, DefaultPolicy()).Check("bob@example.cmo")
	if d.Verdict != Reject || !strings.HasPrefix(d.Reason, "Did you mean example.com?") || !strings.Contains(d.Reason, `".cmo"`) {
		t.Errorf("verdict %s, reason %q", d.Verdict, d.Reason)
	}
}

// TestMixedScriptFollowsItsPolicyKey: a name that mixes scripts and imitates nothing known
// is warned about by default, with what it passes for; policy.mixed_script decides.
func TestMixedScriptFollowsItsPolicyKey(t *testing.T) {
	eng, err := engine.New(engine.Inputs{Providers: testenv.Domains(t, "gmail.com")})
	if err != nil {
		t.Fatal(err)
	}
	d := New(eng, DefaultPolicy()).Check("bob@раypal.com")
	if d.Verdict != Warn || !strings.HasPrefix(d.Reason, "Did you mean paypal.com?") || !strings.Contains(d.Reason, "Cyrillic") {
		t.Errorf("default: verdict %s, reason %q", d.Verdict, d.Reason)
	}
	p := DefaultPolicy()
	p.MixedScript = Hold
	if d := New(eng, p).Check("bob@раypal.com"); d.Verdict != Hold {
		t.Errorf("mixed_script: hold gave %s", d.Verdict)
	}
}

func TestPolicyMapsSituationsToVerdicts(t *testing.T) {
	in := engine.Inputs{
		Protected:           testenv.Domains(t, "army.mil"),
		ProtectedNamespaces: []string{"mil"},
		Known:               []engine.KnownDomain{{Domain: testenv.Domains(t, "fabrikam.com")[0], Count: 1200}, {Domain: testenv.Domains(t, "adatum.com")[0], Count: 1}},
		Providers:           testenv.Domains(t, "gmail.com"),
		BlockNamespaces:     []string{"ml"},
		Allow:               testenv.Domains(t, "bank.ml"),
	}
	eng, err := engine.New(in)
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{Protected: Reject, Provider: Warn, Known: Hold, Namespace: Warn, Blocked: Reject, Nonexistent: Hold}
	g := New(eng, p)
	for _, c := range []struct {
		in   string
		want Verdict
	}{
		{"army.mi", Reject},     // protected -> reject
		{"gmial.com", Warn},     // provider -> warn
		{"fabrikarn.com", Hold}, // known, strong evidence -> hold
		{"adatun.com", Warn},    // known with one message: weak evidence -> warn at most
		{"armmy.mil", Warn},     // inside the protected namespace
		{"xyzcorp.ml", Reject},  // blocked namespace
		{"bank.ml", Allow},      // allowed in spite of the block
		{"wikipedia.org", Allow},
		{"example.cmo", Hold}, // no such suffix -> the nonexistent policy
		{"army..mil", Invalid},
	} {
		if got := g.Check(c.in); got.Verdict != c.want {
			t.Errorf("%s: %s, want %s (%s)", c.in, got.Verdict, c.want, got.Reason)
		}
	}
}

func TestMonitorModeDecidesButDoesNotEnforce(t *testing.T) {
	g := devScenario(t)
	p := g.Policy()
	p.Monitor = true
	m := New(g.Engine(), p)
	d := m.Check("alice@army.ml")
	if d.Verdict != Hold || !d.Monitor || d.Enforced() != Allow {
		t.Fatalf("monitor: verdict %s, monitor %v, enforced %s", d.Verdict, d.Monitor, d.Enforced())
	}
	if inv := m.Check("army..mil"); inv.Enforced() != Invalid {
		t.Fatalf("an invalid recipient is never let through: %s", inv.Enforced())
	}
	md := m.Inspect(Envelope{Recipients: []string{"a@army.mil", "b@army.ml"}})
	if md.Verdict != Hold || md.Enforced() != Allow || len(md.NotAllowed()) != 1 {
		t.Fatalf("message: %+v", md)
	}
}

func TestReasonNamesIntendedTechniqueAndEvidence(t *testing.T) {
	g := devScenario(t)
	for in, want := range map[string][]string{
		"alice@army.ml": {"Did you mean army.mil?", `"ml" is one letter short of "mil"`, "army.mil is protected"},
		"fabrikarn.com": {"Did you mean fabrikam.com?", "1,200 messages went to fabrikam.com and none to fabrikarn.com"},
		"gmial.com":     {"Did you mean gmail.com?", "major mail provider"},
		"contoso.co":    {"Did you mean contoso.com?", "own domains"},
		"xyzcorp.ml":    {"Did you mean xyzcorp.mil?", ".mil is a protected namespace"},
		"fabrikam.com":  {"1,200 messages went to fabrikam.com."},
		"bank.ml":       {"bank.ml is on the allow list."},
		"army..mil":     {"Not a valid address", "empty label"},
	} {
		d := g.Check(in)
		for _, w := range want {
			if !strings.Contains(d.Reason, w) {
				t.Errorf("%s: reason %q lacks %q", in, d.Reason, w)
			}
		}
	}
}

func TestInspectTakesTheMostSevereVerdict(t *testing.T) {
	g := devScenario(t)
	md := g.Inspect(Envelope{Adapter: "test", Recipients: []string{"a@army.mil", "b@fabrikam.com", "c@army.ml"}})
	if md.Verdict != Hold || len(md.Recipients) != 3 || len(md.NotAllowed()) != 1 || md.NotAllowed()[0].Input != "c@army.ml" {
		t.Fatalf("%+v", md)
	}
	if !strings.HasPrefix(md.Reason(), "c@army.ml: Did you mean army.mil?") {
		t.Fatalf("reason %q", md.Reason())
	}
	r := ReplyFor(Hold, "Did you mean army.mil?")
	if r.Code != 550 || r.Enhanced != "5.7.1" || !strings.Contains(r.Text, "check the recipients") {
		t.Fatalf("%+v", r)
	}
	if ReplyFor(Allow, "") != (Reply{}) || ReplyFor(Warn, "x") != (Reply{}) {
		t.Fatal("allow and warn are not refused")
	}
}

func TestCurrentSwapsGuards(t *testing.T) {
	var c Current
	if c.Load() != nil {
		t.Fatal("zero value holds a guard")
	}
	g := devScenario(t)
	c.Store(g)
	if c.Load() != g {
		t.Fatal("not stored")
	}
}

func TestParseVerdict(t *testing.T) {
	for _, s := range []string{"allow", "warn", "hold", "reject"} {
		v, err := ParseVerdict(s)
		if err != nil || v.String() != s {
			t.Errorf("%s: %v %v", s, v, err)
		}
	}
	if _, err := ParseVerdict("invalid"); err == nil {
		t.Error("invalid is not a verdict a policy may assign")
	}
	var v Verdict
	if err := v.UnmarshalText([]byte("hld")); err == nil || !strings.Contains(err.Error(), "hld") {
		t.Errorf("error %v", err)
	}
}

// TestAFamilyOfKnownNamesIsWarnedNotHeld: a new domain one slip from two known
// correspondents (enst.fr next to ensat.fr and ensta.fr) is usually one more of a family
// of real names; it was held, now it is warned about. One slip from a single known name
// is still held.
func TestAFamilyOfKnownNamesIsWarnedNotHeld(t *testing.T) {
	known := func(names ...string) []engine.KnownDomain {
		var out []engine.KnownDomain
		for _, d := range testenv.Domains(t, names...) {
			out = append(out, engine.KnownDomain{Domain: d, Count: 200})
		}
		return out
	}
	for _, c := range []struct {
		known []string
		want  Verdict
	}{
		{[]string{"ensat.fr"}, Hold},
		{[]string{"ensat.fr", "ensta.fr"}, Warn},
	} {
		eng, err := engine.New(engine.Inputs{Known: known(c.known...)})
		if err != nil {
			t.Fatal(err)
		}
		if d := New(eng, DefaultPolicy()).Check("enst.fr"); d.Verdict != c.want {
			t.Errorf("known %v: enst.fr is %s (%s), want %s", c.known, d.Verdict, d.Reason, c.want)
		}
	}
}
