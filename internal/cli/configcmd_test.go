package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// exampleConfig is the documented example, relative to the repository root.
var exampleConfig = filepath.Join("docs", "rcptguard.example.yaml")

// The example in docs/ is a config that `rcptguard config check` accepts, as it stands.
func TestConfigCheckExample(t *testing.T) {
	t.Parallel()
	path := filepath.Join(testenv.RepoRoot(t), exampleConfig)
	res := run(t, nil, "config", "check", path)
	if res.code != ExitOK || res.stderr != "" || !strings.HasPrefix(res.stdout, path+": OK") {
		t.Errorf("rcptguard config check %s: exit %d\nstdout: %s\nstderr: %s\nwant exit 0 and %q", exampleConfig, res.code, res.stdout, res.stderr, path+": OK ...")
	}
}

// The example's settings are valid, and check uses them, once the known file it names
// exists beside it.
func TestConfigExampleWithKnownFile(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), exampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	known, err := os.ReadFile(filepath.Join("testdata", "known.txt"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rcptguard.yaml")
	if err := os.WriteFile(cfg, example, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "known.txt"), known, 0o600); err != nil {
		t.Fatal(err)
	}
	res := run(t, nil, "config", "check", cfg)
	if res.code != ExitOK || !regexp.MustCompile(`^.*rcptguard\.yaml: OK \(\d+ candidate domains\)\n$`).MatchString(res.stdout) {
		t.Fatalf("config check: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}

	// check --config applies it: protect, allow over block, the known file, the policy.
	res = run(t, nil, "check", "--config", cfg, "--json",
		"alice@army.ml", "bank.ml", "foo.ml", "fabrikarn.com", "contoso.co", "gmial.com", "armmy.mil", "navy.mil")
	// alice@army.ml is a lookalike (hold) in the blocked .ml (reject): the most severe wins.
	want := []string{"reject", "allow", "reject", "hold", "hold", "hold", "warn", "allow"}
	rs := mustRecords(t, res.stdout)
	if res.code != ExitFlagged || len(rs) != len(want) {
		t.Fatalf("check --config: exit %d, %d answers; stderr %q", res.code, len(rs), res.stderr)
	}
	for i, r := range rs {
		if r.Verdict != want[i] {
			t.Errorf("check --config %s: %s is %s, want %s", exampleConfig, r.Input, r.Verdict, want[i])
		}
	}
}

func TestConfigCheckErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		name, yaml string
		line       int    // the line the error names; 0 when it names none
		msg        string // a substring of the message
	}{
		{"unknown key", "protect: [army.mil]\nallow: [bank.ml]\npolcy:\n  protected: hold\n", 3, `unknown key "polcy"`},
		{"unknown nested key", "policy:\n  protected: hold\n  provder: hold\n", 3, `"provder"`},
		{"unknown verdict", "policy:\n  known: often\n", 2, `"often"`},
		{"wrong type", "providers: maybe\n", 1, "providers"},
		{"invalid domain", "protect:\n  - army.mil\n  - army..mil\n", 3, "army..mil"},
		{"namespace as own domain", "own_domains: [.mil]\n", 1, "own_domains"},
		{"blocked may not be allow", "policy:\n  blocked: allow\n", 2, "blocked"},
		{"second document", "protect: [army.mil]\n---\nallow: [bank.ml]\n", 2, "second YAML document"},
		{"tabs", "protect:\n\t- army.mil\n", 2, ""},
		{"missing known file", "known_file: nowhere.txt\n", 0, "nowhere.txt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yaml")
			if err := os.WriteFile(path, []byte(c.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			res := run(t, nil, "config", "check", path)
			if res.code != ExitUsage || res.stdout != "" {
				t.Errorf("exit %d, stdout %q; want %d and nothing", res.code, res.stdout, ExitUsage)
			}
			want := path + ":"
			if c.line > 0 {
				want = path + ":" + strconv.Itoa(c.line) + ":"
			}
			if !strings.HasPrefix(res.stderr, want) || !strings.Contains(res.stderr, c.msg) {
				t.Errorf("stderr %q; want it to start with %q and mention %q", res.stderr, want, c.msg)
			}
			// check --config refuses it too, naming the line when there is one.
			chk := run(t, nil, "check", "--config", path, "navy.mil")
			if c.line == 0 {
				want = c.msg
			}
			if chk.code != ExitUsage || chk.stdout != "" || !strings.Contains(chk.stderr, want) {
				t.Errorf("check --config: exit %d, stdout %q, stderr %q; want %d naming %q", chk.code, chk.stdout, chk.stderr, ExitUsage, want)
			}
		})
	}
}

func TestConfigCheckValid(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, yaml := range map[string]string{
		"empty":    "",
		"comments": "# nothing but a comment\n",
		"minimal":  "protect: [army.mil, .mil]\n",
		"unicode":  "protect: [m\u00fcnchen.de]\nallow: [XN--MNCHEN-3YA.DE]\n",
	} {
		path := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		res := run(t, nil, "config", "check", path)
		if res.code != ExitOK || res.stderr != "" || !strings.HasPrefix(res.stdout, path+": OK") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 0 and OK", name, res.code, res.stdout, res.stderr)
		}
	}
	if res := run(t, nil, "config", "check", filepath.Join(dir, "absent.yaml")); res.code != ExitUsage || !strings.Contains(res.stderr, "absent.yaml") {
		t.Errorf("a missing file: exit %d, stderr %q; want %d naming it", res.code, res.stderr, ExitUsage)
	}
}
