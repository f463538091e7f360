package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/providers"
)

// DNS configures live evidence: DNS lookups at decision time, for a recipient the engine
// flagged and only then (docs/dns.md).
type DNS struct {
	// Evidence turns live evidence on.
	Evidence bool
	// Resolvers are the recursive resolvers asked, "IP:port"; none: the system's
	// (/etc/resolv.conf).
	Resolvers []string
	// Budget is the DNS time one message may spend in all; when it is spent, or DNS fails,
	// the engine's verdict stands.
	Budget time.Duration
	// CacheSize bounds the answers kept (each for its TTL); 0 keeps none.
	CacheSize int
	// SharedMailHosts are mail host domains added to the built-in shared mail hosts
	// (providers.SharedMailHosts): operators whose MX hosts receive the mail of many
	// unrelated domains, never counted as a catch-all farm by squat and the guard, and
	// whose customers' moves to them are no change of hands. ASCII, lower case.
	SharedMailHosts []string
}

// Shared is the shared mail hosts: the built-in ones and SharedMailHosts.
func (d DNS) Shared() providers.Shared { return providers.NewShared(d.SharedMailHosts) }

// The built-in DNS settings and their bounds.
const (
	DefaultDNSBudget    = guard.DefaultDNSBudget
	DefaultDNSCacheSize = 10_000
	minDNSBudget        = time.Millisecond
	maxDNSBudget        = 5 * time.Second
	maxDNSCacheSize     = 10_000_000
	maxResolvers        = 8
)

func defaultDNS(c *Config) {
	c.DNS = DNS{Budget: DefaultDNSBudget, CacheSize: DefaultDNSCacheSize}
}

type rawDNS struct {
	Evidence  yaml.Node `yaml:"evidence"`
	Resolver  yaml.Node `yaml:"resolver"`
	Budget    yaml.Node `yaml:"budget"`
	CacheSize yaml.Node `yaml:"cache_size"`
	Shared    yaml.Node `yaml:"shared_mail_hosts"`
}

func (r *rawFile) applyDNS(c *Config) []*Error {
	var errs []*Error
	add := func(e *Error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	d := &r.DNS
	add(boolean("dns.evidence", &d.Evidence, &c.DNS.Evidence))
	add(resolvers("dns.resolver", &d.Resolver, &c.DNS.Resolvers))
	if e := duration("dns.budget", &d.Budget, &c.DNS.Budget, minDNSBudget, maxDNSBudget); e != nil {
		e.Msg = strings.Replace(e.Msg, "such as 14d or 36h", "such as 150ms", 1)
		add(e)
	}
	var size int64
	if e := integer("dns.cache_size", &d.CacheSize, &size, 0, maxDNSCacheSize); e != nil {
		add(e)
	} else if present(&d.CacheSize) {
		c.DNS.CacheSize = int(size)
	}
	add(hostDomains("dns.shared_mail_hosts", &d.Shared, &c.DNS.SharedMailHosts))
	p := &r.Policy
	add(verdict("policy.registered_lookalike", &p.RegisteredLookalike, &c.Policy.RegisteredLookalike))
	add(verdict("policy.changed_owner", &p.ChangedOwner, &c.Policy.ChangedOwner))
	add(undeliverable("policy.undeliverable", &p.Undeliverable, &c.Policy.Undeliverable))
	return errs
}

// resolvers reads one resolver address or a list of them.
func resolvers(key string, n *yaml.Node, dst *[]string) *Error {
	if !present(n) {
		return nil
	}
	line := n.Line
	n = resolve(n)
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	if len(items) > maxResolvers {
		return &Error{Line: line, Msg: fmt.Sprintf("%s: at most %d resolvers, got %d", key, maxResolvers, len(items))}
	}
	var out []string
	for _, it := range items {
		it = resolve(it)
		if it.Kind != yaml.ScalarNode {
			return &Error{Line: line, Msg: fmt.Sprintf("%s: want an IP address with an optional port (127.0.0.1:53, [::1]:53) or a list of them, got %s", key, describe(it))}
		}
		a, err := ParseResolver(it.Value)
		if err != nil {
			return &Error{Line: it.Line, Msg: key + ": " + err.Error()}
		}
		out = append(out, a)
	}
	*dst = out
	return nil
}

// hostDomains reads a list of domain names (mail host domains, each standing for its
// subdomains too), normalised to ASCII.
func hostDomains(key string, n *yaml.Node, dst *[]string) *Error {
	var raw []string
	if e := stringList(key, n, &raw); e != nil || raw == nil {
		if e != nil {
			e.Msg = strings.Replace(e.Msg, "want a list of strings", "want a list of domain names such as [mail.hoster.example]", 1)
		}
		return e
	}
	out := make([]string, 0, len(raw))
	for i, s := range raw {
		d, err := address.ParseDomain(s)
		if err != nil {
			return &Error{Line: resolve(resolve(n).Content[i]).Line, Msg: fmt.Sprintf("%s: invalid domain %q: %s", key, shorten(s), addressReason(err)), Err: err}
		}
		out = append(out, d.ASCII)
	}
	*dst = out
	return nil
}

// ParseResolver reads a resolver's address: an IP address with an optional port (53 when
// none), "192.0.2.53", "192.0.2.53:5353", "2001:db8::53", "[2001:db8::53]:53". It returns
// it as "IP:port". A host name is refused: the resolver is what resolves names.
func ParseResolver(s string) (string, error) {
	bad := fmt.Errorf("%q is not an IP address with an optional port (such as 127.0.0.1:53 or [::1]:53)", shorten(s))
	if ip, err := netip.ParseAddr(s); err == nil {
		if ip.Zone() != "" {
			return "", bad
		}
		return net.JoinHostPort(ip.String(), "53"), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", bad
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" {
		return "", bad
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 || strconv.FormatUint(p, 10) != port {
		return "", bad
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// undeliverable reads policy.undeliverable: keep (the verdict stays), warn, hold or reject
// (the least verdict). allow is refused: an undeliverable recipient is never let through
// by DNS.
func undeliverable(key string, n *yaml.Node, dst *guard.Verdict) *Error {
	if !present(n) {
		return nil
	}
	line := n.Line
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Value == "keep" {
		*dst = guard.Allow
		return nil
	}
	v, err := guard.ParseVerdict(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || v == guard.Allow {
		return &Error{Line: line, Msg: fmt.Sprintf("%s: want keep, warn, hold or reject, got %s", key, describe(n))}
	}
	*dst = v
	return nil
}

// validate checks settings made by code (Parse has checked those from a file).
func (d DNS) validate() []string {
	var bad []string
	if d.Budget < minDNSBudget || d.Budget > maxDNSBudget {
		bad = append(bad, fmt.Sprintf("dns.budget: %s is not from %s to %s", d.Budget, minDNSBudget, maxDNSBudget))
	}
	if d.CacheSize < 0 || d.CacheSize > maxDNSCacheSize {
		bad = append(bad, fmt.Sprintf("dns.cache_size: %d is not from 0 to %d", d.CacheSize, maxDNSCacheSize))
	}
	if len(d.Resolvers) > maxResolvers {
		bad = append(bad, fmt.Sprintf("dns.resolver: at most %d resolvers, got %d", maxResolvers, len(d.Resolvers)))
	}
	for _, h := range d.SharedMailHosts {
		if a, err := address.ParseDomain(h); err != nil || a.ASCII != h {
			bad = append(bad, fmt.Sprintf("dns.shared_mail_hosts: %q is not a domain name in ASCII lower case", h))
		}
	}
	for _, r := range d.Resolvers {
		if a, err := ParseResolver(r); err != nil || a != r {
			bad = append(bad, fmt.Sprintf("dns.resolver: %q is not in the form IP:port", r))
		}
	}
	return bad
}
