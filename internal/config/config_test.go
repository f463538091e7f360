package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

func TestDefault(t *testing.T) {
	c := Default()
	want := Policy{Protected: guard.Hold, Provider: guard.Hold, Known: guard.Hold, Namespace: guard.Warn, Blocked: guard.Reject, Nonexistent: guard.Reject, MixedScript: guard.Warn,
		RegisteredLookalike: guard.Hold, ChangedOwner: guard.Warn, Undeliverable: guard.Allow}
	if c.Policy != want || !c.Providers || c.KnownFile != "" || c.Path != "" ||
		c.OwnDomains != nil || c.Protect != nil || c.Allow != nil || c.Block != nil {
		t.Errorf("Default() = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}

func TestEmptyFileIsTheDefaults(t *testing.T) {
	for _, in := range []string{"", "\n\n", "# only a comment\n", "---\n", "~\n", "---\n...\n", "\ufeff"} {
		c, err := Parse([]byte(in), "rg.yaml")
		if err != nil {
			t.Errorf("Parse(%q) error: %v", in, err)
			continue
		}
		want := Default()
		want.Path = "rg.yaml"
		want.DataDir = PackagedDataDir // a config file's default (TestDataDirRule)
		if !reflect.DeepEqual(c, want) {
			t.Errorf("Parse(%q) = %+v, want the defaults", in, c)
		}
	}
}

func TestEmptyValuesKeepDefaults(t *testing.T) {
	c, err := Parse([]byte("protect:\nproviders:\nknown_file:\npolicy:\n  blocked:\n  monitor: ~\n"), "rg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Providers || c.Policy.Blocked != guard.Reject || c.Protect != nil || c.KnownFile != "" {
		t.Errorf("got %+v", c)
	}
}

func TestParseFull(t *testing.T) {
	in := `
own_domains: [Contoso.COM.]
protect: [army.mil, navy.mil, .mil, gov]
allow:
  - bank.ml
block: [ml, .ml, xn--80ak6aa92e.com, пример.рф]
known_file: /var/lib/rcptguard/known.txt
providers: false
policy:
  protected: reject
  provider: warn
  known: allow
  namespace: hold
  blocked: hold
  nonexistent: warn
  mixed_script: hold
  registered_lookalike: reject
  changed_owner: hold
  undeliverable: reject
  monitor: true
learning:
  sender_min: 3
  sender_forget_after: 90d
  sender_max_rows: 50000
  propose_after: 2
`
	c, err := Parse([]byte(in), "/etc/rcptguard/rcptguard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Path = "/etc/rcptguard/rcptguard.yaml"
	want = Config{
		Listen: want.Listen, Relay: want.Relay, DataDir: PackagedDataDir,
		Quarantine: want.Quarantine, Notice: want.Notice, Admin: want.Admin, Limits: want.Limits,
		Learning:   Learning{SenderMin: 3, SenderForgetAfter: 90 * 24 * time.Hour, SenderMaxRows: 50000, ProposeAfter: 2},
		OwnDomains: []Entry{{"contoso.com", false, 2}},
		Protect:    []Entry{{"army.mil", false, 3}, {"navy.mil", false, 3}, {"mil", true, 3}, {"gov", true, 3}},
		Allow:      []Entry{{"bank.ml", false, 5}},
		Block:      []Entry{{"ml", true, 6}, {"xn--80ak6aa92e.com", false, 6}, {"xn--e1afmkfd.xn--p1ai", false, 6}},
		KnownFile:  "/var/lib/rcptguard/known.txt",
		Providers:  false,
		Policy: Policy{Protected: guard.Reject, Provider: guard.Warn, Known: guard.Allow, Namespace: guard.Hold, Blocked: guard.Hold, Nonexistent: guard.Warn, MixedScript: guard.Hold,
			RegisteredLookalike: guard.Reject, ChangedOwner: guard.Hold, Undeliverable: guard.Reject, Monitor: true},
		DNS: want.DNS, Content: want.Content,
		Path: "/etc/rcptguard/rcptguard.yaml",
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", c, want)
	}
}

func TestAliasesAndMergeKeys(t *testing.T) {
	in := "protect: &mil [army.mil, .mil]\nallow: *mil\npolicy:\n  protected: &v warn\n  provider: *v\n"
	c, err := Parse([]byte(in), "rg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Allow) != 2 || c.Allow[1].String() != ".mil" || c.Policy.Provider != guard.Warn {
		t.Errorf("got %+v", c)
	}
}

func TestDuplicatesMergeKeepingTheFirstLine(t *testing.T) {
	c, err := Parse([]byte("block:\n  - ml\n  - army.ml\n  - .ML\n  - Army.ml.\n"), "rg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{{"ml", true, 2}, {"army.ml", false, 3}}
	if !reflect.DeepEqual(c.Block, want) {
		t.Errorf("Block = %+v, want %+v", c.Block, want)
	}
}

func TestAllowAndBlockMayOverlap(t *testing.T) {
	if _, err := Parse([]byte("allow: [bank.ml, .ml]\nblock: [bank.ml, .ml]\n"), "rg.yaml"); err != nil {
		t.Error(err)
	}
}

func TestKnownFileIsRelativeToTheConfigFolder(t *testing.T) {
	tests := []struct{ path, known, want string }{
		{"/etc/rcptguard/rcptguard.yaml", "known.txt", "/etc/rcptguard/known.txt"},
		{"/etc/rcptguard/rcptguard.yaml", "data/../known.txt", "/etc/rcptguard/known.txt"},
		{"/etc/rcptguard/rcptguard.yaml", "/srv/known.txt", "/srv/known.txt"},
		{"conf/rg.yaml", "known.txt", filepath.Join("conf", "known.txt")},
		{"rg.yaml", "known.txt", "known.txt"},
		{"", "known.txt", "known.txt"},
	}
	for _, tt := range tests {
		c, err := Parse([]byte("known_file: "+tt.known+"\n"), tt.path)
		if err != nil {
			t.Fatal(err)
		}
		if c.KnownFile != tt.want {
			t.Errorf("path %q, known_file %q: KnownFile = %q, want %q", tt.path, tt.known, c.KnownFile, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rg.yaml")
	if err := os.WriteFile(path, []byte("known_file: k.txt\npolcy: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.HasPrefix(err.Error(), path+":2: unknown key") {
		t.Errorf("Load error = %v", err)
	}
	if err := os.WriteFile(path, []byte("known_file: k.txt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil || c.KnownFile != filepath.Join(dir, "k.txt") || c.Path != path {
		t.Errorf("Load = %+v, %v", c, err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !os.IsNotExist(err) {
		t.Errorf("Load(missing) error = %v, want not-exist", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#\n", MaxFileSize/2+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || err.Error() != big+": file is larger than 1048576 bytes (1 MiB)" {
		t.Errorf("Load(big) error = %v", err)
	}
}

func TestExampleConfig(t *testing.T) {
	path := filepath.Join(testenv.RepoRoot(t), "docs", "rcptguard.example.yaml")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	names := func(es []Entry) (s []string) {
		for _, e := range es {
			s = append(s, e.String())
		}
		return s
	}
	got := [][]string{names(c.OwnDomains), names(c.Protect), names(c.Allow), names(c.Block)}
	want := [][]string{{"contoso.com"}, {"army.mil", "navy.mil", ".mil"}, {"bank.ml"}, {".ml"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lists = %v, want %v", got, want)
	}
	// The example documents the defaults: apart from its lists and file it is Default().
	d := Default()
	if c.DataDir != PackagedDataDir {
		t.Errorf("example data_dir %q; the default with a config file is %q", c.DataDir, PackagedDataDir)
	}
	if c.Policy != d.Policy || c.Providers != d.Providers || c.Learning != d.Learning || !reflect.DeepEqual(c.DNS, d.DNS) {
		t.Errorf("example policy %+v, providers %v, learning %+v; want the defaults %+v, %v, %+v",
			c.Policy, c.Providers, c.Learning, d.Policy, d.Providers, d.Learning)
	}
	if want := filepath.Join(filepath.Dir(path), "known.txt"); c.KnownFile != want {
		t.Errorf("KnownFile = %q, want %q", c.KnownFile, want)
	}
}

func TestValidate(t *testing.T) {
	ok := Default()
	ok.Protect = []Entry{{Name: "army.mil"}, {Name: "mil", Namespace: true}}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"not lowercase", func(c *Config) { c.Protect = []Entry{{Name: "Army.mil"}} }, `protect: entry "Army.mil" is not in normal form (want "army.mil")`},
		{"leading dot in name", func(c *Config) { c.Block = []Entry{{Name: ".ml", Namespace: true}} }, `block: invalid domain "..ml": empty label...`},
		{"single label not marked", func(c *Config) { c.Block = []Entry{{Name: "ml"}} }, `block: entry "ml" is not in normal form (want ".ml")`},
		{"unicode", func(c *Config) { c.Allow = []Entry{{Name: "пример.рф"}} }, `allow: entry "пример.рф" is not in normal form (want "xn--e1afmkfd.xn--p1ai")`},
		{"empty", func(c *Config) { c.Allow = []Entry{{}} }, `allow: empty entry`},
		{"own namespace with line", func(c *Config) {
			c.Path = "rg.yaml"
			c.OwnDomains = []Entry{{Name: "contoso.com", Namespace: true, Line: 4}}
		}, `rg.yaml:4: own_domains: ".contoso.com" is a namespace...`},
		{"own namespace from a flag", func(c *Config) {
			c.Path = "rg.yaml"
			c.OwnDomains = []Entry{{Name: "mil", Namespace: true}}
		}, `own_domains: ".mil" is a namespace...`},
		{"blocked allow", func(c *Config) { c.Policy.Blocked = guard.Allow }, `policy.blocked may not be allow...`},
		{"invalid verdict", func(c *Config) { c.Policy.Known = guard.Invalid }, `policy.known: invalid is not a verdict a policy may assign...`},
		{"verdict out of range", func(c *Config) { c.Policy.Provider = 42 }, `policy.provider: verdict(42) is not a verdict...`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.edit(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			want, prefix := strings.CutSuffix(tt.want, "...")
			if prefix && !strings.HasPrefix(err.Error(), want) || !prefix && err.Error() != want {
				t.Errorf("Validate() = %q, want %q", err, tt.want)
			}
		})
	}
}
