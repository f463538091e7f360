package providers

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"github.com/rcptguard/rcptguard/internal/address"
)

//go:embed mailhosts.txt
var mailHostList string

// SharedMailHosts are the domains of the operators whose MX hosts receive the mail of very
// many unrelated domains (mailhosts.txt): Google Workspace, Microsoft 365, mail security
// gateways and the like, normalised, without duplicates.
func SharedMailHosts() []string {
	var out []string
	seen := map[string]bool{}
	for n, line := range strings.Split(mailHostList, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		d, err := address.ParseDomain(line)
		if err != nil {
			// The list is part of the program: a bad line is a build mistake that the
			// package's test catches.
			panic(fmt.Sprintf("mailhosts.txt:%d: %v", n+1, err))
		}
		if !seen[d.ASCII] {
			seen[d.ASCII] = true
			out = append(out, d.ASCII)
		}
	}
	return out
}

// Shared says whether a mail host belongs to a shared mail operator: it is one of the
// domains or under one ("aspmx.l.google.com", "contoso-com.mail.protection.outlook.com").
// The zero value knows the built-in list only.
type Shared struct {
	extra map[string]bool
}

// NewShared returns the built-in shared mail hosts plus extra (dns.shared_mail_hosts:
// domains, each covering its subdomains; the caller has validated them).
func NewShared(extra []string) Shared {
	s := Shared{extra: map[string]bool{}}
	for _, d := range extra {
		if d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), "."); d != "" {
			s.extra[d] = true
		}
	}
	return s
}

// builtinShared is SharedMailHosts as a set, made on first use.
var builtinShared = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, d := range SharedMailHosts() {
		m[d] = true
	}
	return m
})

// Has reports whether host (an MX host name, any case, with or without the final dot)
// is a shared mail host.
func (s Shared) Has(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	builtin := builtinShared()
	for host != "" {
		if builtin[host] || s.extra[host] {
			return true
		}
		i := strings.IndexByte(host, '.')
		if i < 0 {
			return false
		}
		host = host[i+1:]
	}
	return false
}
