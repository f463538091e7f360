package trust_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/trust"
)

var ctx = context.Background()

func dom(t *testing.T, s string) address.Domain {
	t.Helper()
	d, err := address.ParseDomain(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// testGuard protects army.mil and .mil, knows fabrikam.com well and blocks .xyz.
func testGuard(t *testing.T) *guard.Guard {
	t.Helper()
	eng, err := engine.New(engine.Inputs{
		Protected: []address.Domain{dom(t, "army.mil")}, ProtectedNamespaces: []string{"mil"},
		Known:           []engine.KnownDomain{{Domain: dom(t, "fabrikam.com"), Count: 5000}},
		BlockNamespaces: []string{"xyz"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return guard.New(eng, guard.DefaultPolicy())
}

type fixture struct {
	store   *quarantine.SQLite
	svc     *trust.Service
	changes int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := quarantine.OpenSQLite(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g := testGuard(t)
	f := &fixture{store: st}
	f.svc = &trust.Service{Store: st, Decide: g.Decide, Changed: func() { f.changes++ }}
	return f
}

// Lookalikes of protected domains and namespaces, and blocked domains, are refused
// without force, with a sentence saying why; with force they are trusted and marked so.
func TestAddRefusesProtectedLookalikesWithoutForce(t *testing.T) {
	f := newFixture(t)
	for domain, why := range map[string]string{
		"army.ml":     "it looks like army.mil, which is protected",
		"armmy.mil":   "a name under a protected namespace",
		"partner.xyz": "it is blocked by the configuration",
	} {
		_, err := f.svc.Add(ctx, domain, "cli:alice", "cli", "", false)
		var re *trust.RefusedError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), why) || !re.Assessment.Dangerous {
			t.Errorf("Add(%s) = %v; want a refusal saying %q", domain, err, why)
		}
	}
	if l, _ := f.store.TrustedDomains(ctx); len(l) != 0 || f.changes != 0 {
		t.Fatalf("refused domains were trusted: %+v (%d changes)", l, f.changes)
	}
	a, err := f.svc.Add(ctx, "ARMY.ML", "admin:root", "192.0.2.1", "  the Malian army, really  ", true)
	if err != nil || !a.Dangerous || a.Intended[0] != "army.mil" {
		t.Fatalf("forced Add = %+v, %v", a, err)
	}
	l, _ := f.store.TrustedDomains(ctx)
	if len(l) != 1 || l[0].Domain != "army.ml" || !l[0].Forced || l[0].Note != "the Malian army, really" || f.changes != 1 {
		t.Fatalf("forced trust recorded as %+v (%d changes)", l, f.changes)
	}
}

func TestAddAndRemove(t *testing.T) {
	f := newFixture(t)
	a, err := f.svc.Add(ctx, "fabrikarn.com.", "cli:alice", "cli", "new partner", false)
	if err != nil || a.Dangerous || a.Situation != "known" || a.Intended[0] != "fabrikam.com" {
		t.Fatalf("Add = %+v, %v", a, err)
	}
	if _, err := f.svc.Add(ctx, "Fabrikarn.com", "cli:bob", "cli", "", false); !errors.Is(err, quarantine.ErrAlreadyTrusted) {
		t.Fatalf("second Add = %v; want ErrAlreadyTrusted", err)
	}
	if l, _ := f.store.TrustedDomains(ctx); len(l) != 1 || l[0].Forced || l[0].Actor != "cli:alice" {
		t.Fatalf("trusted %+v", l)
	}
	if err := f.svc.Remove(ctx, "fabrikarn.com", "admin:root", "192.0.2.1", "wrong one"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Remove(ctx, "fabrikarn.com", "admin:root", "192.0.2.1", ""); !errors.Is(err, quarantine.ErrNotTrusted) {
		t.Fatalf("second Remove = %v; want ErrNotTrusted", err)
	}
	if f.changes != 2 {
		t.Errorf("%d changes; want 2 (one Add, one Remove)", f.changes)
	}
	for _, bad := range []string{"", "bob@fabrikarn.com", "fabrikarn..com", "<fabrikarn.com>", "a b"} {
		if _, err := f.svc.Add(ctx, bad, "cli:alice", "cli", "", false); !errors.Is(err, trust.ErrBadDomain) {
			t.Errorf("Add(%q) = %v; want ErrBadDomain", bad, err)
		}
		if err := f.svc.Remove(ctx, bad, "cli:alice", "cli", ""); !errors.Is(err, trust.ErrBadDomain) {
			t.Errorf("Remove(%q) = %v; want ErrBadDomain", bad, err)
		}
	}
}

// release holds a message from sender to rcpt (as the guard decided it) and releases it
// as addressed from the sender's validation page: the way senders confirm domains.
func release(t *testing.T, svc *held.Service, g *guard.Guard, sender, rcpt string) {
	t.Helper()
	d := g.Check(rcpt)
	id, err := svc.Hold(ctx, held.Submission{Adapter: "relay", Sender: sender,
		Recipients: held.RecipientsFrom([]guard.Decision{d}), Content: []byte("Subject: x\r\n\r\nbody\r\n")})
	if errors.Is(err, held.ErrConfirmed) {
		return // the sender confirmed it before: the message passed without asking
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Decide(ctx, id, held.Release, sender, "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
}

// A domain is proposed after N distinct senders confirmed it, not after N-1, nor after
// N confirmations by one sender; lookalikes of protected domains and blocked domains
// never are, however many senders release mail to them.
func TestProposalsAfterDistinctSenders(t *testing.T) {
	f := newFixture(t)
	g := testGuard(t)
	hs := &held.Service{Store: f.store}
	f.svc.ProposeAfter = 3
	proposed := func() []string {
		t.Helper()
		ps, err := f.svc.Proposals(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, fmt.Sprintf("%s %d %s", p.Domain, p.Senders, strings.Join(p.Assessment.Intended, ",")))
		}
		return out
	}
	release(t, hs, g, "solo@contoso.com", "a@fabrikarn.com")
	for i := range 3 { // the same sender confirming again (from another message) is still one
		if err := f.store.Confirm(ctx, "Solo@contoso.com", []string{"fabrikarn.com"}, fmt.Sprint("m", i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"a", "b", "c", "d"} {
		release(t, hs, g, s+"@contoso.com", "x@army.ml")     // protected lookalike: held, never confirmed
		release(t, hs, g, s+"@contoso.com", "x@armmy.mil")   // namespace typo
		release(t, hs, g, s+"@contoso.com", "x@partner.xyz") // blocked: rejected, never confirmed
	}
	release(t, hs, g, "b@contoso.com", "b@fabrikarn.com")
	if p := proposed(); len(p) != 0 {
		t.Fatalf("proposed after 2 distinct senders: %v", p)
	}
	release(t, hs, g, "c@contoso.com", "c@fabrikarn.com")
	if p := proposed(); len(p) != 1 || p[0] != "fabrikarn.com 3 fabrikam.com" {
		t.Fatalf("proposed after 3 distinct senders: %v; want [fabrikarn.com 3 fabrikam.com]", p)
	}
	for _, d := range []string{"army.ml", "armmy.mil", "partner.xyz"} {
		if ok, err := f.store.Confirmed(ctx, "d@contoso.com", d); ok || err != nil {
			t.Fatalf("a release to %s confirmed it for its sender (%v)", d, err)
		}
	}
	// A protected lookalike confirmed before the configuration protected it is left out.
	if err := f.store.Confirm(ctx, "a@contoso.com", []string{"army.ml"}, "old"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"b", "c"} {
		f.store.Confirm(ctx, s+"@contoso.com", []string{"army.ml"}, "old")
	}
	if p := proposed(); len(p) != 1 {
		t.Fatalf("a protected lookalike was proposed: %v", p)
	}
	// Trusted: no longer proposed.
	if _, err := f.svc.Add(ctx, "fabrikarn.com", "admin:root", "", "", false); err != nil {
		t.Fatal(err)
	}
	if p := proposed(); len(p) != 0 {
		t.Fatalf("a trusted domain is still proposed: %v", p)
	}
}
