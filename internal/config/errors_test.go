package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
)

// Every error names the file and the line, then the problem.
func TestParseErrorsNameLineAndProblem(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // the whole first line of the message, or its start when it ends in "..."
	}{
		{"unknown key", "protect: [army.mil]\npolcy:\n  monitor: true\n",
			`rg.yaml:2: unknown key "polcy" (did you mean "policy"?)`},
		{"unknown policy key", "policy:\n  protected: hold\n  protcted: hold\n",
			`rg.yaml:3: unknown key "protcted" in policy (did you mean "protected"?)`},
		{"policy key at top level", "monitor: true\n",
			`rg.yaml:1: unknown key "monitor" (did you mean policy.monitor?)`},
		{"unknown key far from any", "frobnicate: 1\n", `rg.yaml:1: unknown key "frobnicate"`},
		{"duplicate key", "allow: [a.com]\nblock: [b.com]\nallow: [c.com]\n",
			`rg.yaml:3: duplicate key "allow" (first at line 1)`},
		{"list is a string", "\nprotect: army.mil\n",
			`rg.yaml:2: protect: want a list such as [army.mil, .mil], got "army.mil"`},
		{"list is a mapping", "block:\n  ml: 1\n", `rg.yaml:2: block: want a list such as [army.mil, .mil], got a mapping`},
		{"invalid domain", "protect:\n  - army.mil\n  - ar my.mil\n",
			`rg.yaml:3: protect: invalid domain "ar my.mil": character ' ' is not allowed...`},
		{"invalid label", "allow: [-bank.ml]\n", `rg.yaml:1: allow: invalid domain "-bank.ml": label "-bank" starts or ends with a hyphen`},
		{"IP address", "block: [10.0.0.1]\n", `rg.yaml:1: block: invalid domain "10.0.0.1": "10.0.0.1" looks like an IP address...`},
		{"empty entry", "protect:\n  - army.mil\n  -\n", `rg.yaml:3: protect: empty entry`},
		{"empty string entry", "protect: ['']\n", `rg.yaml:1: protect: empty entry`},
		{"bare dot", "protect: ['.']\n", `rg.yaml:1: protect: invalid domain ".": empty domain`},
		{"nested list entry", "allow: [[a.com]]\n", `rg.yaml:1: allow: want a domain such as army.mil or a namespace such as .mil, got a list`},
		{"number entry", "block: [1.5]\n", `rg.yaml:1: block: want a domain such as army.mil or a namespace such as .mil, got 1.5 (YAML reads it as float; quote it if it is a name)`},
		{"YAML infinity", "block: [.inf]\n", `rg.yaml:1: block: want a domain such as army.mil or a namespace such as .mil, got .inf (YAML reads it as float...`},
		{"binary entry", "block: [!!binary YWJj]\n", `rg.yaml:1: block: want a domain such as army.mil or a namespace such as .mil, got YWJj (YAML reads it as binary...`},
		{"list as key", "? [a]\n: b\n", `rg.yaml:1: a key must be a name, not a list`},
		{"wildcard", "block: ['*.ml']\n", `rg.yaml:1: block: wildcard "*.ml": write ".ml" for the namespace`},
		{"unquoted wildcard", "block: [*.ml]\n", `rg.yaml:1: invalid YAML: did not find expected alphabetic or numeric character (in YAML "*" starts an alias...`},
		{"address", "protect: [alice@army.mil]\n", `rg.yaml:1: protect: "alice@army.mil" is an address; write only its domain`},
		{"own domain namespace", "own_domains:\n  - contoso.com\n  - .contoso.com\n",
			`rg.yaml:3: own_domains: ".contoso.com" is a namespace; list the organisation's mail domains...`},
		{"own domain single label", "own_domains: [contoso]\n", `rg.yaml:1: own_domains: ".contoso" is a namespace...`},
		{"unknown verdict", "policy:\n  provider: hold\n  known: hld\n",
			`rg.yaml:3: policy.known: unknown verdict "hld" (want allow, warn, hold or reject)`},
		{"verdict in capitals", "policy: {namespace: Warn}\n", `rg.yaml:1: policy.namespace: unknown verdict "Warn"...`},
		{"verdict is a list", "policy:\n  known: [hold]\n", `rg.yaml:2: policy.known: want allow, warn, hold or reject, got a list`},
		{"invalid verdict name", "policy: {blocked: invalid}\n", `rg.yaml:1: policy.blocked: unknown verdict "invalid"...`},
		{"blocked allow", "policy:\n  monitor: true\n  blocked: allow\n",
			`rg.yaml:3: policy.blocked may not be allow; to let blocked mail pass...`},
		{"bool is yes", "providers: yes\n", `rg.yaml:1: providers: want true or false, got "yes"`},
		{"bool is number", "policy:\n  monitor: 1\n", `rg.yaml:2: policy.monitor: want true or false, got 1`},
		{"known_file is a list", "known_file: [a, b]\n", `rg.yaml:1: known_file: want a file name, got a list`},
		{"policy is a string", "policy: strict\n", `rg.yaml:1: policy: want a mapping such as {protected: hold}, got "strict"`},
		{"top level is a list", "- army.mil\n", `rg.yaml:1: the config must be a mapping of keys such as protect: and policy:, not a list`},
		{"top level is a string", "army.mil\n", `rg.yaml:1: the config must be a mapping of keys such as protect: and policy:, not "army.mil"`},
		{"two documents", "protect: [army.mil]\n---\nblock: [ml]\n", `rg.yaml:2: a second YAML document starts here...`},
		{"empty second document", "protect: [army.mil]\n\n---\n", `rg.yaml:3: a second YAML document starts here...`},
		// yaml.v3 numbers parser errors from 0; the lines here are the real ones.
		{"bad indentation", "policy:\n  protected: hold\n provider: hold\n", `rg.yaml:3: invalid YAML: did not find expected key`},
		{"indented key", "protect: [army.mil]\n  block: [ml]\n", `rg.yaml:2: invalid YAML: did not find expected key`},
		{"unclosed flow list", "providers: true\nprotect: [army.mil\n\n", `rg.yaml:2: invalid YAML: did not find expected ',' or ']'`},
		{"syntax error on line 1", "protect: ]\n", `rg.yaml:1: invalid YAML: did not find expected node content`},
		{"mapping in a value", "providers: true\nprotect: a: b\n", `rg.yaml:2: invalid YAML: mapping values are not allowed in this context`},
		{"tab indentation", "policy:\n\tmonitor: true\n", `rg.yaml:2: invalid YAML: found character that cannot start any token`},
		{"unknown alias", "providers: true\n\nprotect: *list\n", `rg.yaml:3: invalid YAML: unknown anchor 'list' referenced`},
		{"control character", "protect: [army.mil]\nallow: [a\x01.com]\n", `rg.yaml:2: character U+0001 is not allowed in YAML`},
		{"invalid UTF-8", "# ok\nprotect: [\xff.com]\n", `rg.yaml:2: invalid UTF-8; the config must be UTF-8 text`},
		{"too large", "# " + strings.Repeat("x", MaxFileSize) + "\n", `rg.yaml: file is larger than 1048576 bytes (1 MiB)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), "rg.yaml")
			if err == nil {
				t.Fatalf("Parse(%q) = nil error, want %q", tt.in, tt.want)
			}
			first, _, _ := strings.Cut(err.Error(), "\n")
			if want, prefix := strings.CutSuffix(tt.want, "..."); prefix {
				if !strings.HasPrefix(first, want) {
					t.Errorf("Parse(%q) error\n%s\nwant it to start with\n%s", tt.in, first, want)
				}
			} else if first != want {
				t.Errorf("Parse(%q) error\n%s\nwant\n%s", tt.in, first, want)
			}
		})
	}
}

func TestParseReportsEveryProblemInFileOrder(t *testing.T) {
	in := "protect: [army.mil, 'a b.mil']\nproviders: maybe\npolicy:\n  known: often\n  blocked: allow\n  monitr: true\nallow: [x@y.com]\n---\n"
	_, err := Parse([]byte(in), "rg.yaml")
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"rg.yaml:1: protect:", "rg.yaml:2: providers:", "rg.yaml:4: policy.known:", "rg.yaml:5: policy.blocked",
		`rg.yaml:6: unknown key "monitr" in policy`, "rg.yaml:7: allow:", "rg.yaml:8: a second YAML document"}
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want it to start with %q", i+1, lines[i], w)
		}
	}
}

func TestParseCapsTheNumberOfProblems(t *testing.T) {
	in := "protect:\n" + strings.Repeat("  - 'bad domain'\n", 100)
	_, err := Parse([]byte(in), "rg.yaml")
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 || !strings.Contains(lines[maxErrors], "and 80 more problems") {
		t.Errorf("got %d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

func TestInvalidDomainErrorWrapsAddressError(t *testing.T) {
	_, err := Parse([]byte("protect: ['a b.mil']\n"), "rg.yaml")
	if !errors.Is(err, address.ErrInvalid) {
		t.Errorf("errors.Is(%v, address.ErrInvalid) = false", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Line != 1 || e.Path != "rg.yaml" {
		t.Errorf("errors.As = %+v", e)
	}
}

func TestParseWithoutPathNamesTheLine(t *testing.T) {
	_, err := Parse([]byte("\npolcy: {}\n"), "")
	if err == nil || !strings.HasPrefix(err.Error(), `line 2: unknown key "polcy"`) {
		t.Errorf("err = %v", err)
	}
}
