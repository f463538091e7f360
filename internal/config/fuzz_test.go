package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, returns either a Config that passes Validate or an error,
// and every error line starts with the file name.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"", "~", "protect: [army.mil, .mil, ml]\n", "own_domains: [contoso.com]\nallow: [bank.ml]\nblock: [.ml]\n",
		"policy:\n  protected: hold\n  provider: hold\n  known: hold\n  namespace: warn\n  blocked: reject\n  monitor: false\n",
		"known_file: known.txt\nproviders: true\n", "protect: &a [army.mil]\nallow: *a\n", "polcy: 1\n", "- a\n",
		"protect: [a]\n  policy: 1\n", "a: 1\n---\nb: 2\n", "block: [*.ml]\n", "<<: {protect: [a.mil]}\n",
		"protect: [пример.рф, xn--80ak6aa92e.com]\n", "policy: {blocked: allow}\n", "protect: !!binary eHh4\n",
		"relay:\n  upstream: {address: smtp.example.net:587, tls: required, auth: {username: rg, password_file: pw}}\n",
		"quarantine:\n  reinject: {address: 127.0.0.1:10026, auth: {username: a, password_file: p, password: x}}\n",
		"dns:\n  evidence: true\n  resolver: [127.0.0.1:53, '[::1]:5353']\n  budget: 150ms\n  cache_size: 0\n  shared_mail_hosts: [mail.hoster.example]\npolicy: {undeliverable: keep, registered_lookalike: hold}\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	if ex, err := os.ReadFile(filepath.Join("..", "..", "docs", "rcptguard.example.yaml")); err == nil {
		f.Add(ex)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "f.yaml")
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "f.yaml:") {
					t.Fatalf("error line %q does not start with the file name", line)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted %q but Validate says %v", data, err)
		}
		if c.Path != "f.yaml" {
			t.Fatalf("Path = %q", c.Path)
		}
	})
}
