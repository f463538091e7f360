package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// contosoMainCF is a Postfix main.cf of the kind `rcptguard init` reads: references,
// a lookup table, mixed case, a trailing dot, an unknown reference, duplicates.
const contosoMainCF = `compatibility_level = 3.6
myhostname = mail.contoso.test
mydomain = contoso.test
myorigin = $mydomain
mydestination = $myhostname, localhost.$mydomain, localhost, $mydomain
virtual_alias_domains = fabrikam.test, hash:/etc/postfix/virtual_domains
virtual_mailbox_domains = ${mydomain}, Tailspin.TEST., $nosuch
relay_domains = $mydestination
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
`

// postfixConfigDir writes main.cf (and an empty master.cf) into a new folder for
// `postconf -c`. postconf reads a folder without a running Postfix, as any user.
func postfixConfigDir(t *testing.T, mainCF string) string {
	t.Helper()
	if _, err := exec.LookPath("postconf"); err != nil {
		if _, err := os.Stat("/usr/sbin/postconf"); err != nil {
			testenv.RequireTool(t, "postconf")
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "master.cf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestProposeDomains(t *testing.T) {
	for _, tt := range []struct {
		name   string
		values map[string]string
		want   []string
		left   []string
	}{
		{"Debian's defaults on a host with no domain", map[string]string{
			"myhostname": "mail", "mydomain": "localdomain", "myorigin": "$myhostname",
			"mydestination": "$myhostname, localhost.$mydomain, localhost",
		}, nil, []string{"$myhostname", "localdomain", "localhost.$mydomain", "localhost"}},
		{"references, tables and duplicates", map[string]string{
			"myhostname": "mail.contoso.test", "mydomain": "contoso.test", "myorigin": "$mydomain",
			"mydestination":         "$myhostname, localhost.$mydomain, localhost, $mydomain",
			"virtual_alias_domains": "fabrikam.test hash:/etc/postfix/virtual, /etc/postfix/domains",
			"relay_domains":         "$mydestination, ${mydomain}, $(mydomain), CONTOSO.test.",
		}, []string{"contoso.test", "fabrikam.test"}, []string{"$myhostname", "localhost.$mydomain", "localhost", "hash:/etc/postfix/virtual", "/etc/postfix/domains"}},
		{"unknown references and loops", map[string]string{
			"mydomain": "$mydomain", "myorigin": "$nosuch", "mydestination": "x.$nosuch, ${mydomain?x}",
			"relay_domains": "sub.${mydomain}",
		}, nil, []string{"$nosuch", "$mydomain", "x.$nosuch", "${mydomain?x}", "sub.${mydomain}"}},
		{"not domains", map[string]string{
			"mydestination": "a..b, -x.test, .mil, host.local, 127.0.0.1, [10.0.0.1], ümlaut.test",
		}, []string{"xn--mlaut-jva.test"}, []string{"a..b", "-x.test", ".mil", "host.local", "127.0.0.1", "[10.0.0.1]"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, left := proposeDomains(tt.values)
			var leftItems []string
			for _, s := range left {
				leftItems = append(leftItems, s.item)
				if s.why == "" {
					t.Errorf("%q left out with no reason", s.item)
				}
			}
			if !reflect.DeepEqual(got, tt.want) || !reflect.DeepEqual(leftItems, tt.left) {
				t.Errorf("proposeDomains = %q, left %q; want %q, left %q", got, leftItems, tt.want, tt.left)
			}
		})
	}
}

// TestExpandAgreesWithPostconf: rcptguard's expansion of $name references gives what
// Postfix's own `postconf -x` gives, on the same main.cf.
func TestExpandAgreesWithPostconf(t *testing.T) {
	dir := postfixConfigDir(t, contosoMainCF)
	s, err := readPostconf(dir)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := exec.LookPath("postconf")
	if err != nil {
		bin = "/usr/sbin/postconf"
	}
	for _, p := range []string{"myorigin", "mydestination", "relay_domains"} {
		out, err := exec.Command(bin, "-c", dir, "-x", "-h", p).Output()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := expand(s.values[p], s.values, 0)
		if want := strings.TrimSpace(string(out)); !ok || got != want {
			t.Errorf("%s: expand = %q %v, postconf -x = %q", p, got, ok, want)
		}
	}
}

func TestInitWritesAConfigThatLoads(t *testing.T) {
	pc := postfixConfigDir(t, contosoMainCF)
	path := filepath.Join(t.TempDir(), "etc", "rcptguard.yaml")

	// --dry-run prints the config and writes nothing.
	r := run(t, nil, "init", "--dry-run", "--postfix-config", pc, "--config", path)
	if r.code != ExitOK || !strings.Contains(r.stdout, "would write "+path) || !strings.Contains(r.stdout, "  - fabrikam.test\n") {
		t.Fatalf("init --dry-run = %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("--dry-run wrote %s (%v)", path, err)
	}

	r = run(t, nil, "init", "--postfix-config", pc, "--config", path)
	if r.code != ExitOK || !strings.Contains(r.stdout, "wrote "+path) {
		t.Fatalf("init = %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, "config", "check", path); r.code != ExitOK {
		t.Fatalf("config check of what init wrote: %d\n%s", r.code, r.stderr)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var own []string
	for _, e := range cfg.OwnDomains {
		own = append(own, e.String())
	}
	if want := []string{"contoso.test", "fabrikam.test", "tailspin.test"}; !reflect.DeepEqual(own, want) {
		t.Errorf("own_domains = %q, want %q", own, want)
	}
	if cfg.DataDir != config.PackagedDataDir || cfg.Quarantine.Reinject.Address != "" || cfg.Notice.From != "rcptguard@contoso.test" {
		t.Errorf("data_dir %q, reinject %q, notice.from %q", cfg.DataDir, cfg.Quarantine.Reinject.Address, cfg.Notice.From)
	}
	written, _ := os.ReadFile(path)
	for _, want := range []string{
		"#   hash:/etc/postfix/virtual_domains: a lookup table",
		"#   $myhostname: the host's own name",
		"#   $nosuch: refers to a setting that is not known",
	} {
		if !strings.Contains(string(written), want) {
			t.Errorf("the config does not say %q:\n%s", want, written)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v (%v), want 0640", fi.Mode(), err)
	}

	// An existing config is kept unless --force; with it, the file keeps its mode.
	if err := os.WriteFile(path, []byte("protect: [army.mil]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, nil, "init", "--postfix-config", pc, "--config", path)
	if kept, _ := os.ReadFile(path); r.code != ExitUsage || !strings.Contains(r.stderr, "--force") || string(kept) != "protect: [army.mil]\n" {
		t.Fatalf("init over an existing file = %d %q; file now %q", r.code, r.stderr, kept)
	}
	r = run(t, nil, "init", "--force", "--postfix", "--postfix-config", pc, "--config", path)
	if r.code != ExitOK {
		t.Fatalf("init --force = %d\n%s", r.code, r.stderr)
	}
	cfg, err = config.Load(path)
	if err != nil || cfg.Quarantine.Reinject.Address != reinjectAddr {
		t.Fatalf("after --force --postfix: reinject %q, %v", cfg.Quarantine.Reinject.Address, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("--force changed the mode to %v", fi.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".rcptguard-init-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestInitWithoutPostfixSettings: with no readable Postfix, init still writes a config
// (own_domains empty, the reason in a comment); --postfix refuses.
func TestInitWithoutPostfixSettings(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-postfix-here")
	path := filepath.Join(t.TempDir(), "rcptguard.yaml")
	r := run(t, nil, "init", "--postfix-config", missing, "--config", path)
	if r.code != ExitOK || !strings.Contains(r.stderr, "own_domains is left empty") {
		t.Fatalf("init = %d\n%s", r.code, r.stderr)
	}
	if cfg, err := config.Load(path); err != nil || len(cfg.OwnDomains) != 0 {
		t.Fatalf("config: %v, own_domains %v", err, cfg.OwnDomains)
	}
	r = run(t, nil, "init", "--postfix", "--dry-run", "--postfix-config", missing, "--config", path)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--postfix needs Postfix's settings") {
		t.Fatalf("init --postfix = %d\n%s", r.code, r.stderr)
	}
	if r := run(t, nil, "init", "extra"); r.code != ExitUsage {
		t.Errorf("init with an argument = %d", r.code)
	}
}

// TestInitPrintsTheDocsLines: on a Postfix with its default restrictions and no milter,
// the printed lines are, word for word, the recommended main.cf block and the master.cf
// block of docs/postfix.md, which TestPostfixPolicyAndMilterTogether and
// TestPostfixDocsSettingsWork run on a real Postfix.
func TestInitPrintsTheDocsLines(t *testing.T) {
	pc := postfixConfigDir(t, "compatibility_level = 3.6\nmydomain = contoso.test\n")
	r := run(t, nil, "init", "--postfix", "--dry-run", "--postfix-config", pc, "--config", filepath.Join(t.TempDir(), "x.yaml"))
	if r.code != ExitOK {
		t.Fatalf("init = %d\n%s", r.code, r.stderr)
	}
	mainCF, masterCF := printedBlocks(t, r.stdout)
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "postfix.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := fenced(t, string(doc), "```main-cf recommended"); !reflect.DeepEqual(mainCF, want) {
		t.Errorf("main.cf lines:\n%s\ndocs/postfix.md recommends:\n%s", strings.Join(mainCF, "\n"), strings.Join(want, "\n"))
	}
	if want := fenced(t, string(doc), "```master.cf"); !reflect.DeepEqual(masterCF, want) {
		t.Errorf("master.cf lines:\n%s\ndocs/postfix.md has:\n%s", strings.Join(masterCF, "\n"), strings.Join(want, "\n"))
	}
}

// TestInitKeepsWhatPostfixHas: existing restrictions stay after the policy check,
// existing milters before rcptguard's (with its own default_action), and what already
// names rcptguard is not printed again.
func TestInitKeepsWhatPostfixHas(t *testing.T) {
	mainCF, masterCF := printedBlocks(t, postfixLines(postfixSettings{values: map[string]string{
		"smtpd_recipient_restrictions":   "permit_mynetworks, reject_unauth_destination",
		"smtpd_end_of_data_restrictions": "check_policy_service { inet:127.0.0.1:10040, timeout=5s }",
		"non_smtpd_milters":              "inet:127.0.0.1:8891",
	}, services: []string{"127.0.0.1:10027/inet"}}))
	want := []string{
		"smtpd_recipient_restrictions =",
		"    check_policy_service { inet:127.0.0.1:10040, timeout=5s, default_action=DEFER_IF_PERMIT }",
		"    permit_mynetworks, reject_unauth_destination",
		"# smtpd_end_of_data_restrictions already asks rcptguard's policy service.",
		"non_smtpd_milters = inet:127.0.0.1:8891, { inet:127.0.0.1:10041, default_action=tempfail }",
		"milter_protocol = 6",
	}
	if !reflect.DeepEqual(mainCF, want) {
		t.Errorf("main.cf lines:\n%s\nwant\n%s", strings.Join(mainCF, "\n"), strings.Join(want, "\n"))
	}
	if len(masterCF) != 2 || !strings.HasPrefix(masterCF[0], "# master.cf already has a service on 127.0.0.1:10027") {
		t.Errorf("master.cf lines: %q", masterCF)
	}
}

// printedBlocks cuts the main.cf and master.cf lines out of init's output.
func printedBlocks(t *testing.T, out string) (mainCF, masterCF []string) {
	t.Helper()
	_, rest, ok1 := strings.Cut(out, mainCFMarker+"\n")
	m, rest, ok2 := strings.Cut(rest, masterCFMarker+"\n")
	ms, _, ok3 := strings.Cut(rest, endMarker+"\n")
	if !ok1 || !ok2 || !ok3 {
		t.Fatalf("no main.cf and master.cf blocks in:\n%s", out)
	}
	return strings.Split(strings.TrimSuffix(m, "\n"), "\n"), strings.Split(strings.TrimSuffix(ms, "\n"), "\n")
}

// fenced returns the lines of the one fenced block of md that opens with the line open.
func fenced(t *testing.T, md, open string) []string {
	t.Helper()
	if strings.Count(md, "\n"+open+"\n") != 1 {
		t.Fatalf("docs/postfix.md has %d blocks opening with %q, want 1", strings.Count(md, "\n"+open+"\n"), open)
	}
	_, rest, _ := strings.Cut(md, "\n"+open+"\n")
	block, _, _ := strings.Cut(rest, "\n```")
	return strings.Split(block, "\n")
}
