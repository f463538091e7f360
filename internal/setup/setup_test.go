package setup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/guard"
)

func TestGuardFromConfigFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "known.txt"), []byte("fabrikam.com 1200\n# comment\nadatum.com\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "rcptguard.yaml")
	yaml := "own_domains: [contoso.com]\nprotect: [army.mil, .mil]\nallow: [bank.ml]\nblock: [ml]\nknown_file: known.txt\nproviders: false\npolicy:\n  provider: warn\n"
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Guard(cfg, Extra{})
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]guard.Verdict{
		"fabrikarn.com": guard.Hold,   // known from the file next to the config
		"contoso.co":    guard.Hold,   // own domain
		"gmial.com":     guard.Allow,  // providers are off
		"bank.ml":       guard.Allow,  // allowed
		"foo.ml":        guard.Reject, // blocked namespace
		"armmy.mil":     guard.Warn,   // inside the protected namespace
	} {
		if d := g.Check(in); d.Verdict != want {
			t.Errorf("%s: %s, want %s (%s)", in, d.Verdict, want, d.Reason)
		}
	}
	if g.Policy().Provider != guard.Warn || g.Policy().Protected != guard.Hold {
		t.Errorf("policy %+v", g.Policy())
	}
}

func TestExtraKnownAddsToTheConfig(t *testing.T) {
	d := engine.KnownDomain{Count: 500}
	var err error
	if d.Domain, err = parse("wingtiptoys.com"); err != nil {
		t.Fatal(err)
	}
	g, err := Guard(config.Default(), Extra{Known: []engine.KnownDomain{d}})
	if err != nil {
		t.Fatal(err)
	}
	if v := g.Check("wingtiptoy.com").Verdict; v == guard.Allow {
		t.Errorf("wingtiptoy.com allowed next to a known wingtiptoys.com")
	}
	if v := g.Check("gmial.com").Verdict; v != guard.Hold {
		t.Errorf("default providers missing: gmial.com %s", v)
	}
}

func TestMissingKnownFileIsAnError(t *testing.T) {
	cfg := config.Default()
	_, err := Guard(cfg, Extra{KnownFiles: []string{filepath.Join(t.TempDir(), "nope.txt")}})
	if err == nil || !strings.Contains(err.Error(), "nope.txt") {
		t.Fatalf("error %v", err)
	}
}

func TestNamespaceInOwnDomainsIsRefused(t *testing.T) {
	cfg := config.Default()
	cfg.OwnDomains = []config.Entry{{Name: "mil", Namespace: true}}
	if _, err := Guard(cfg, Extra{}); err == nil || !strings.Contains(err.Error(), "own_domains") {
		t.Fatalf("error %v", err)
	}
}

func parse(s string) (address.Domain, error) { return address.ParseDomain(s) }
