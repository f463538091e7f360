package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/guard"
)

func TestDNSKeys(t *testing.T) {
	c, err := Parse([]byte("dns:\n  evidence: true\n  resolver: [127.0.0.1:5353, '2001:db8::53', 192.0.2.1]\n  budget: 80ms\n  cache_size: 500\npolicy:\n  undeliverable: keep\n"), "rg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := DNS{Evidence: true, Resolvers: []string{"127.0.0.1:5353", "[2001:db8::53]:53", "192.0.2.1:53"}, Budget: 80 * time.Millisecond, CacheSize: 500}
	if !reflect.DeepEqual(c.DNS, want) || c.Policy.Undeliverable != guard.Allow {
		t.Errorf("DNS = %+v, undeliverable %s; want %+v, keep", c.DNS, c.Policy.Undeliverable, want)
	}
	c, err = Parse([]byte("dns:\n  shared_mail_hosts: [Mail.Hoster.Example., münchen-mail.de]\n"), "rg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"mail.hoster.example", "xn--mnchen-mail-thb.de"}; !reflect.DeepEqual(c.DNS.SharedMailHosts, want) ||
		!c.DNS.Shared().Has("mx1.mail.hoster.example") || !c.DNS.Shared().Has("aspmx.l.google.com") || c.DNS.Shared().Has("hoster.example") {
		t.Errorf("shared_mail_hosts = %q, want %q, with the built-in ones", c.DNS.SharedMailHosts, want)
	}
	c, err = Parse([]byte("dns: {resolver: '[::1]:53'}\npolicy: {undeliverable: reject, registered_lookalike: warn, changed_owner: allow}\n"), "rg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Policy
	if !reflect.DeepEqual(c.DNS.Resolvers, []string{"[::1]:53"}) || c.DNS.Evidence || p.Undeliverable != guard.Reject || p.RegisteredLookalike != guard.Warn || p.ChangedOwner != guard.Allow {
		t.Errorf("got %+v %+v", c.DNS, p)
	}
}

func TestDNSKeysRejectBadValues(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"dns:\n  evidence: yes please\n", `rg.yaml:2: dns.evidence: want true or false, got "yes please"`},
		{"dns:\n  resolver: dns.google:53\n", `rg.yaml:2: dns.resolver: "dns.google:53" is not an IP address with an optional port (such as 127.0.0.1:53 or [::1]:53)`},
		{"dns:\n  resolver:\n    - 127.0.0.1:53\n    - 127.0.0.1:0\n", `rg.yaml:4: dns.resolver: "127.0.0.1:0" is not an IP address`},
		{"dns:\n  resolver: {a: b}\n", `rg.yaml:2: dns.resolver: want an IP address with an optional port`},
		{"dns:\n  resolver: [1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4, 1.1.1.5, 1.1.1.6, 1.1.1.7, 1.1.1.8, 1.1.1.9]\n", `rg.yaml:2: dns.resolver: at most 8 resolvers, got 9`},
		{"dns:\n  budget: 0s\n", `rg.yaml:2: dns.budget: want a duration from 1ms to 5s such as 150ms, got "0s"`},
		{"dns:\n  budget: 10s\n", `rg.yaml:2: dns.budget: want a duration from 1ms to 5s`},
		{"dns:\n  cache_size: -1\n", `rg.yaml:2: dns.cache_size: want a whole number from 0 to 10000000, got -1`},
		{"dns:\n  shared_mail_hosts: mail.hoster.example\n", `rg.yaml:2: dns.shared_mail_hosts: want a list of domain names such as [mail.hoster.example], got "mail.hoster.example"`},
		{"dns:\n  shared_mail_hosts:\n    - google.com\n    - not a host\n", `rg.yaml:4: dns.shared_mail_hosts: invalid domain "not a host": `},
		{"dns:\n  shared_mail_hosts: [com]\n", `rg.yaml:2: dns.shared_mail_hosts: invalid domain "com": "com" is a single label`},
		{"dns:\n  evidnce: true\n", `rg.yaml:2: unknown key "evidnce"`},
		{"policy:\n  undeliverable: allow\n", `rg.yaml:2: policy.undeliverable: want keep, warn, hold or reject, got "allow"`},
		{"policy:\n  undeliverable: bounce\n", `rg.yaml:2: policy.undeliverable: want keep, warn, hold or reject, got "bounce"`},
		{"policy:\n  registered_lookalike: keep\n", `rg.yaml:2: policy.registered_lookalike: unknown verdict "keep"`},
		{"policy:\n  changed_owner: often\n", `rg.yaml:2: policy.changed_owner: unknown verdict "often"`},
		{"policy:\n  registred_lookalike: hold\n", `rg.yaml:2: unknown key "registred_lookalike" in policy (did you mean "registered_lookalike"?)`},
	} {
		_, err := Parse([]byte(c.in), "rg.yaml")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v; want %q...", c.in, err, c.want)
		}
	}
}

func TestDNSValidate(t *testing.T) {
	for _, edit := range []func(*Config){
		func(c *Config) { c.DNS.Budget = 0 },
		func(c *Config) { c.DNS.CacheSize = -1 },
		func(c *Config) { c.DNS.Resolvers = []string{"127.0.0.1"} },
		func(c *Config) { c.DNS.SharedMailHosts = []string{"Mail.Hoster.Example"} },
		func(c *Config) { c.Policy.Undeliverable = guard.Invalid },
	} {
		c := Default()
		edit(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("Validate accepted %+v %+v", c.DNS, c.Policy)
		}
	}
}

func FuzzParseResolver(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "127.0.0.1:53", "[::1]:53", "::1", "fe80::1%eth0", "[fe80::1%eth0]:53", "a:b", "1.2.3.4:065", "1.2.3.4:65536", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseResolver(s)
		if err != nil {
			if !strings.Contains(err.Error(), "is not an IP address") {
				t.Fatalf("ParseResolver(%q) error %v", s, err)
			}
			return
		}
		again, err := ParseResolver(a)
		if err != nil || again != a {
			t.Fatalf("ParseResolver(%q) = %q, which reads back as %q, %v", s, a, again, err)
		}
	})
}
