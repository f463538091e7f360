package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/daemon"
)

// tr runs `rcptguard trust SUB --config CFG ARGS...`.
func (f *qfixture) tr(t *testing.T, sub string, args ...string) result {
	t.Helper()
	return run(t, nil, append([]string{"trust", sub, "--config", f.cfg}, args...)...)
}

func (f *qfixture) writeConfig(t *testing.T, cfg string) {
	t.Helper()
	if err := os.WriteFile(f.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTrustAddListRemove(t *testing.T) {
	f := newQFixture(t)
	r := f.tr(t, "add", "--note", "our new supplier", "Fabrikam-Partners.COM")
	if r.code != ExitOK || !strings.HasPrefix(r.stdout, "fabrikam-partners.com: trusted by cli:tester\n") ||
		!strings.Contains(r.stdout, "Messages already held for it stay held") {
		t.Fatalf("add: %+v", r)
	}
	if r := f.tr(t, "add", "fabrikam-partners.com"); r.code != ExitFlagged || !strings.Contains(r.stderr, "trusted already") {
		t.Errorf("add twice: %+v", r)
	}
	r = f.tr(t, "list")
	if r.code != ExitOK || !strings.HasPrefix(r.stdout, "fabrikam-partners.com  ") ||
		!strings.Contains(r.stdout, "  cli:tester  cli  our new supplier\n") {
		t.Errorf("list: %+v", r)
	}
	r = f.tr(t, "list", "--json")
	var got trustedJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.Domain != "fabrikam-partners.com" ||
		got.Actor != "cli:tester" || got.Remote != "cli" || got.Note != "our new supplier" || got.Forced || got.At == "" {
		t.Errorf("list --json: %q %v", r.stdout, err)
	}
	if r := f.tr(t, "remove", "--note", "wrong one", "fabrikam-partners.com"); r.code != ExitOK ||
		r.stdout != "fabrikam-partners.com: trust withdrawn by cli:tester\n" {
		t.Errorf("remove: %+v", r)
	}
	if r := f.tr(t, "remove", "fabrikam-partners.com"); r.code != ExitFlagged || !strings.Contains(r.stderr, "is not trusted") {
		t.Errorf("remove twice: %+v", r)
	}
	if r := f.tr(t, "list"); r.code != ExitOK || r.stdout != "" {
		t.Errorf("list after remove: %+v", r)
	}
	evs, err := f.store.TrustEvents(context.Background(), 0, 0)
	if err != nil || len(evs) != 2 || evs[0].Note != "wrong one" || evs[0].Actor != "cli:tester" || evs[1].Note != "our new supplier" {
		t.Errorf("trust audit log: %+v %v", evs, err)
	}
}

// A lookalike of a protected domain, a typo inside a protected namespace and a blocked
// domain are refused without --force, saying why; with --force they are trusted.
func TestTrustRefusesProtectedLookalikesWithoutForce(t *testing.T) {
	f := newQFixture(t)
	f.writeConfig(t, "protect: [army.mil, .mil]\nblock: [.xyz]\ndata_dir: data\n")
	for domain, why := range map[string]string{
		"army.ml":     "it looks like army.mil, which is protected",
		"armmy.mil":   "protected namespace",
		"partner.xyz": "blocked by the configuration",
	} {
		r := f.tr(t, "add", domain)
		if r.code != ExitFlagged || !strings.Contains(r.stderr, why) || !strings.Contains(r.stderr, "--force") || r.stdout != "" {
			t.Errorf("add %s: %+v", domain, r)
		}
	}
	if l, _ := f.store.TrustedDomains(context.Background()); len(l) != 0 {
		t.Fatalf("refused domains were trusted: %+v", l)
	}
	r := f.tr(t, "add", "--force", "--note", "the Malian army", "army.ml")
	if r.code != ExitOK || !strings.Contains(r.stdout, "army.ml: trusted by cli:tester despite the warning") {
		t.Fatalf("add --force: %+v", r)
	}
	if r := f.tr(t, "list"); !strings.Contains(r.stdout, "(despite a warning) the Malian army") {
		t.Errorf("list: %+v", r)
	}
}

func TestTrustUsageErrors(t *testing.T) {
	f := newQFixture(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"add"}, "trust add needs exactly one domain"},
		{[]string{"add", "a.com", "b.com"}, "trust add needs exactly one domain"},
		{[]string{"add", "bob@fabrikam.com"}, "not a domain name"},
		{[]string{"add", "fabrikam..com"}, "not a domain name"},
		{[]string{"remove", "<x>"}, "not a domain name"},
		{[]string{"list", "extra"}, "trust list takes no arguments"},
		{[]string{"frobnicate"}, `unknown trust command "frobnicate"`},
	} {
		r := run(t, nil, append([]string{"trust"}, append(tt.args, "--config", f.cfg)...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("trust %v: %+v; want exit 2 and %q", tt.args, r, tt.want)
		}
	}
	if r := run(t, nil, "trust"); r.code != ExitUsage || !strings.Contains(r.stderr, "rcptguard trust add") {
		t.Errorf("trust alone: %+v", r)
	}
	if r := run(t, nil, "trust", "help"); r.code != ExitOK || !strings.Contains(r.stdout, "--force") {
		t.Errorf("trust help: %+v", r)
	}
	if r := run(t, nil, "trust", "list", "--db", f.db+".missing"); r.code != ExitUsage || !strings.Contains(r.stderr, "no quarantine database") {
		t.Errorf("missing database: %+v", r)
	}
}

func TestTrustProposals(t *testing.T) {
	f := newQFixture(t)
	f.writeConfig(t, "protect: [army.mil, .mil]\ndata_dir: data\nlearning:\n  propose_after: 2\n")
	confirm := func(sender, domain string) {
		t.Helper()
		if err := f.store.Confirm(context.Background(), sender, []string{domain}, "m"); err != nil {
			t.Fatal(err)
		}
	}
	confirm("a@contoso.com", "gmial.com")
	confirm("a@contoso.com", "gmial.com")
	if r := f.tr(t, "proposals"); r.code != ExitOK || r.stdout != "" {
		t.Fatalf("proposals after one sender: %+v", r)
	}
	confirm("b@contoso.com", "gmial.com")
	r := f.tr(t, "proposals")
	if r.code != ExitOK || !strings.HasPrefix(r.stdout, "gmial.com  2 senders  first ") || !strings.HasSuffix(r.stdout, "looks like gmail.com\n") {
		t.Fatalf("proposals: %+v", r)
	}
	var p proposalJSON
	if err := json.Unmarshal([]byte(f.tr(t, "proposals", "--json").stdout), &p); err != nil || p.Domain != "gmial.com" ||
		p.Senders != 2 || len(p.Intended) != 1 || p.Intended[0] != "gmail.com" {
		t.Errorf("proposals --json: %+v %v", p, err)
	}
	// Lookalikes of protected domains are never proposed.
	confirm("a@contoso.com", "army.ml")
	confirm("b@contoso.com", "army.ml")
	if r := f.tr(t, "proposals"); strings.Contains(r.stdout, "army.ml") {
		t.Errorf("a protected lookalike was proposed: %q", r.stdout)
	}
}

// TestTrustAddReachesARunningDaemon: a domain the running daemon holds is allowed after
// `rcptguard trust add`, without a restart or a reload, with a reason naming the
// administrators; `trust remove` has it held again.
func TestTrustAddReachesARunningDaemon(t *testing.T) {
	f := newQFixture(t)
	f.writeConfig(t, "protect: [army.mil, .mil]\ndata_dir: data\nlisten:\n  policy: off\n  milter: off\n"+
		"  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: off\n")
	d := &daemon.Daemon{ConfigPath: f.cfg, TrustCheckEvery: 20 * time.Millisecond}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Shutdown(context.Background())
	check := func() (verdict, reason string) {
		t.Helper()
		resp, err := http.Post("http://"+d.Addr("http")+"/api/v1/check", "application/json",
			strings.NewReader(`{"recipients":["bob@gmial.com"]}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct {
			Recipients []struct{ Verdict, Reason string }
		}
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || len(v.Recipients) != 1 {
			t.Fatalf("answer: %+v %v", v, err)
		}
		return v.Recipients[0].Verdict, v.Recipients[0].Reason
	}
	waitVerdict := func(want string) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			v, reason := check()
			if v == want {
				return reason
			}
			if time.Now().After(deadline) {
				t.Fatalf("verdict still %s (%s); want %s", v, reason, want)
			}
			time.Sleep(10 * time.Millisecond) // polling the condition, not waiting for it to happen
		}
	}
	if v, _ := check(); v != "hold" {
		t.Fatalf("gmial.com: %s before trust; want hold", v)
	}
	if r := f.tr(t, "add", "gmial.com"); r.code != ExitOK {
		t.Fatalf("trust add: %+v", r)
	}
	if reason := waitVerdict("allow"); reason != "gmial.com was trusted by your organisation's administrators." {
		t.Errorf("reason %q", reason)
	}
	if r := f.tr(t, "remove", "gmial.com"); r.code != ExitOK {
		t.Fatalf("trust remove: %+v", r)
	}
	waitVerdict("hold")
}
