package config

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// otherDocPorts are the ports the docs may name that are not rcptguard's listeners.
var otherDocPorts = map[string]string{
	"0":     "a free port the system picks (benchmarks, tests)",
	"25":    "SMTP: an upstream or the host's MTA",
	"53":    "DNS: the resolver squat (--resolver) and live evidence (dns.resolver) ask",
	"465":   "submission with implicit TLS: an upstream or smarthost (tls: implicit)",
	"587":   "submission (STARTTLS, AUTH): an upstream or smarthost",
	"10027": "Postfix's re-injection smtpd (docs/postfix.md), which rcptguard hands released mail to",
	"10028": "the smtpd of the private Postfix in docs/postfix.md's trial recipe",
}

// docPortRE finds host:port in prose and examples: an IPv4 address or a dotted name, then
// ":" (or Exim's "::") and the port. Times such as 12:15 have no host and are not matched.
var docPortRE = regexp.MustCompile(`(?:\b\d{1,3}(?:\.\d{1,3}){3}|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}|\blocalhost|\[::1\]):?:(\d{1,5})\b`)

// fileExts end the names of files that docs cite as file:line (scan-sample.maillog:1055),
// which look like host:port to docPortRE.
var fileExts = map[string]bool{"log": true, "maillog": true, "go": true, "md": true, "eml": true, "csv": true, "txt": true, "yaml": true}

// isFileLine reports whether a match of docPortRE is a file and a line number.
func isFileLine(m string) bool {
	name, _, _ := strings.Cut(m, ":")
	return fileExts[name[strings.LastIndexByte(name, '.')+1:]]
}

// Every port named in README.md, docs/*.md and docs/*.yaml is the default port of one of
// rcptguard's listeners (as internal/config sets it) or one of otherDocPorts: a doc that
// tells a new user to talk to a port rcptguard does not listen on by default fails here.
func TestDocsNameTheDefaultPorts(t *testing.T) {
	defaults := map[string]string{}
	for name, addr := range map[string]string{
		"policy": DefaultPolicyAddr, "milter": DefaultMilterAddr, "relay": DefaultRelayAddr,
		"http": DefaultHTTPAddr, "web": DefaultWebAddr, "intake": DefaultIntakeAddr,
	} {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		defaults[port] = name
	}
	root := testenv.RepoRoot(t)
	var files []string
	for _, pat := range []string{"README.md", "docs/*.md", "docs/*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	seen := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range docPortRE.FindAllStringSubmatch(line, -1) {
				if isFileLine(m[0]) {
					continue
				}
				port := m[1]
				seen[port] = true
				if defaults[port] == "" && otherDocPorts[port] == "" {
					t.Errorf("%s:%d: %q names port %s, which is no default listener of rcptguard (%v) nor one of the known others",
						rel, i+1, m[0], port, defaults)
				}
			}
		}
	}
	// The test cannot pass by finding nothing: every default listener's port is named.
	for port, name := range defaults {
		if !seen[port] {
			t.Errorf("no doc names the default port %s of the %s listener", port, name)
		}
	}
}

func TestDocPortRE(t *testing.T) {
	for in, want := range map[string]string{
		"listen: 0.0.0.0:2525":                       "2525",
		"route_list = * rcptguard.contoso.com::2525": "2525",
		"swaks --server 127.0.0.1:2525":              "2525",
		"inet:127.0.0.1:10040, timeout=5s":           "10040",
		"upstream: smtp.example.net:25":              "25",
		"measured at 12:15 on 3 March":               "",
		"listen on [::1]:8025":                       "8025",
	} {
		got := ""
		if m := docPortRE.FindStringSubmatch(in); m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("%q: port %q, want %q", in, got, want)
		}
	}
}
