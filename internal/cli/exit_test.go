package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExitCodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-known.txt")
	badCfg := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badCfg, []byte("protect: [army.mil]\nprovders: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badVerdict := filepath.Join(dir, "verdict.yaml")
	if err := os.WriteFile(badVerdict, []byte("policy:\n  protected: hold\n  known: often\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badKnown := filepath.Join(dir, "known.txt")
	if err := os.WriteFile(badKnown, []byte("# comment\nfabrikam.com 12\n\nbad..x 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badCount := filepath.Join(dir, "count.txt")
	if err := os.WriteFile(badCount, []byte("fabrikam.com many\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noKnown := filepath.Join(dir, "noknown.yaml")
	if err := os.WriteFile(noKnown, []byte("known_file: no-such-known.txt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		args   []string
		stdin  string
		want   int
		stderr string // a substring of standard error; "" for none at all
	}{
		{"all allowed", checkArgs("j.smith@army.mil", "bank.ml", "wikipedia.org"), "", ExitOK, ""},
		{"all allowed from stdin", checkArgs(), "navy.mil\n\nfabrikam.com\n", ExitOK, ""},
		{"nothing on stdin", checkArgs(), "", ExitOK, ""},
		{"only blank lines", checkArgs(), "\n  \r\n\t\n", ExitOK, ""},
		{"one flagged", checkArgs("navy.mil", "alice@army.ml", "bank.ml"), "", ExitFlagged, ""},
		{"one warned", checkArgs("navy.mil", "armmy.mil"), "", ExitFlagged, ""},
		{"one flagged from stdin", checkArgs(), "navy.mil\nalice@army.ml\n", ExitFlagged, ""},
		{"one invalid", checkArgs("navy.mil", "army..mil"), "", ExitFlagged, ""},
		{"one invalid from stdin", checkArgs("--json"), "navy.mil\nalice@\n", ExitFlagged, ""},
		{"blocked", checkArgs("--block", ".ml", "foo.ml"), "", ExitFlagged, ""},

		{"no command", nil, "", ExitUsage, "Usage:"},
		{"unknown command", []string{"frobnicate"}, "", ExitUsage, `unknown command "frobnicate"`},
		{"unknown flag", []string{"check", "--bogus", "x.com"}, "", ExitUsage, "-bogus"},
		{"flag without value", []string{"check", "--protect"}, "", ExitUsage, "protect"},
		{"empty protect item", []string{"check", "--protect", "a,,b", "x.com"}, "", ExitUsage, "--protect"},
		{"trailing comma", []string{"check", "--protect", "army.mil,", "x.com"}, "", ExitUsage, "--protect"},
		{"bad protect domain", []string{"check", "--protect", "army..mil", "x.com"}, "", ExitUsage, "--protect"},
		{"empty allow item", []string{"check", "--allow", "a,,b", "x.com"}, "", ExitUsage, "--allow"},
		{"empty block item", []string{"check", "--block", ",x.com", "x.com"}, "", ExitUsage, "--block"},
		{"missing known file", []string{"check", "--known", missing, "x.com"}, "", ExitUsage, "no-such-known.txt"},
		{"bad domain in known file", []string{"check", "--known", badKnown, "x.com"}, "", ExitUsage, badKnown + ":4:"},
		{"bad count in known file", []string{"check", "--known", badCount, "x.com"}, "", ExitUsage, badCount + ":1:"},
		{"missing config file", []string{"check", "--config", filepath.Join(dir, "none.yaml"), "x.com"}, "", ExitUsage, "none.yaml"},
		{"config unknown key", []string{"check", "--config", badCfg, "x.com"}, "", ExitUsage, badCfg + `:2: unknown key "provders"`},
		{"config unknown verdict", []string{"check", "--config", badVerdict, "x.com"}, "", ExitUsage, badVerdict + ":3:"},
		{"config names a missing known file", []string{"check", "--config", noKnown, "x.com"}, "", ExitUsage, "no-such-known.txt"},
		{"config and a bad flag", []string{"check", "--config", noKnown, "--protect", "a,,b", "x.com"}, "", ExitUsage, "--protect"},
		{"permute with no domain", []string{"permute"}, "", ExitUsage, "DOMAIN"},
		{"permute, flags only", []string{"permute", "--json"}, "", ExitUsage, "DOMAIN"},
		{"permute unknown technique", []string{"permute", "--techniques", "omission,bogus", "army.mil"}, "", ExitUsage, `"bogus"`},
		{"permute invalid domain", []string{"permute", "army..mil"}, "", ExitUsage, "army..mil"},
		{"permute unknown flag", []string{"permute", "--bogus", "army.mil"}, "", ExitUsage, "-bogus"},
		{"config with no subcommand", []string{"config"}, "", ExitUsage, "config check FILE"},
		{"config check with no file", []string{"config", "check"}, "", ExitUsage, "config check FILE"},
		{"config unknown subcommand", []string{"config", "lint", "x.yaml"}, "", ExitUsage, "config check FILE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, strings.NewReader(c.stdin), c.args...)
			if res.code != c.want {
				t.Errorf("rcptguard %q: exit %d, want %d\nstdout: %s\nstderr: %s", c.args, res.code, c.want, res.stdout, res.stderr)
			}
			switch {
			case c.stderr == "" && res.stderr != "":
				t.Errorf("rcptguard %q: unexpected stderr %q", c.args, res.stderr)
			case c.stderr != "" && !strings.Contains(res.stderr, c.stderr):
				t.Errorf("rcptguard %q: stderr %q does not mention %q", c.args, res.stderr, c.stderr)
			}
			if c.want == ExitUsage && res.stdout != "" {
				t.Errorf("rcptguard %q: a usage error printed %q on stdout", c.args, res.stdout)
			}
		})
	}
}
