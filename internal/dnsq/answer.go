package dnsq

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"
)

const (
	// defaultTTL is how long facts hold when DNS gave no TTL at all (an empty answer without
	// an SOA).
	defaultTTL = 60 * time.Second
	// maxTTL caps every TTL: facts older than a day are asked again whatever DNS said.
	maxTTL = 24 * time.Hour
	// maxChain is how many CNAMEs an answer may chain before the rest is ignored.
	maxChain = 8
)

// build turns the replies to the questions about domain (by query type; the MX reply at
// least) into Facts. It is the whole of Lookup's message handling and trusts nothing in the
// messages: records for other names are ignored, host names are checked (hostName), and
// lists are sorted without duplicates.
func build(domain string, replies map[uint16]*dns.Msg) Facts {
	f := Facts{Domain: domain}
	first := replies[dns.TypeMX]
	if first == nil {
		f.Err = fmt.Errorf("dns: %s: no answer to the MX question", domain)
		return f
	}
	switch first.Rcode {
	case dns.RcodeNameError:
		f.Status = NotRegistered
		ttl, ok := negativeTTL(first)
		if !ok {
			ttl = defaultTTL
		}
		f.TTL = min(ttl, maxTTL)
		return f
	case dns.RcodeSuccess:
		f.Status = Registered
	default:
		f.Err = fmt.Errorf("dns: %s: answer %s", domain, rcodeName(first.Rcode))
		return f
	}
	var (
		ttl    time.Duration
		hasTTL bool
		mxs    []MX
		roots  int
	)
	lower := func(d time.Duration) {
		if !hasTTL || d < ttl {
			ttl, hasTTL = d, true
		}
	}
	for _, qtype := range []uint16{dns.TypeMX, dns.TypeNS, dns.TypeA, dns.TypeAAAA} {
		m := replies[qtype]
		if m == nil || m.Rcode != dns.RcodeSuccess {
			continue
		}
		names := owners(domain, m.Answer)
		matched := false
		for _, rr := range m.Answer {
			h := rr.Header()
			if !names[dns.CanonicalName(h.Name)] || (h.Rrtype != qtype && h.Rrtype != dns.TypeCNAME) {
				continue
			}
			matched = true
			lower(time.Duration(h.Ttl) * time.Second)
			switch rr := rr.(type) {
			case *dns.MX:
				if rr.Mx == "." {
					roots++
				} else if host, _ := hostName(rr.Mx); host != "" {
					mxs = append(mxs, MX{Host: host, Pref: rr.Preference})
				}
			case *dns.NS:
				if host, _ := hostName(rr.Ns); host != "" {
					f.NS = append(f.NS, host)
				}
			case *dns.A:
				if a, ok := netip.AddrFromSlice(rr.A); ok && a.Unmap().Is4() {
					f.A = append(f.A, a.Unmap())
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(rr.AAAA); ok && a.Is6() && !a.Is4In6() {
					f.AAAA = append(f.AAAA, a)
				}
			}
		}
		if !matched {
			if d, ok := negativeTTL(m); ok {
				lower(d)
			}
		}
	}
	// RFC 7505: "MX 0 ." says the domain accepts no mail. An MX set whose only target is the
	// root, whatever its preference, is read the same way: nobody can deliver to it.
	f.NullMX = roots > 0 && len(mxs) == 0
	slices.SortFunc(mxs, func(a, b MX) int {
		return cmp.Or(cmp.Compare(a.Pref, b.Pref), cmp.Compare(a.Host, b.Host))
	})
	f.MX = slices.Compact(mxs)
	slices.Sort(f.NS)
	f.NS = slices.Compact(f.NS)
	f.A = sortAddrs(f.A)
	f.AAAA = sortAddrs(f.AAAA)
	if !hasTTL {
		ttl = defaultTTL
	}
	f.TTL = min(ttl, maxTTL)
	return f
}

// owners are the names whose records answer a question about domain: domain itself and the
// targets of the CNAMEs chained from it in the answer.
func owners(domain string, answer []dns.RR) map[string]bool {
	name := dns.CanonicalName(domain)
	names := map[string]bool{name: true}
	for range maxChain {
		next := ""
		for _, rr := range answer {
			if c, ok := rr.(*dns.CNAME); ok && dns.CanonicalName(c.Hdr.Name) == name {
				next = dns.CanonicalName(c.Target)
				break
			}
		}
		if next == "" || names[next] {
			break
		}
		names[next] = true
		name = next
	}
	return names
}

// negativeTTL is how long an answer without records holds (RFC 2308 section 5: the smaller
// of the SOA's own TTL and its MINIMUM field), when the authority section has an SOA.
func negativeTTL(m *dns.Msg) (time.Duration, bool) {
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second, true
		}
	}
	return 0, false
}

func sortAddrs(as []netip.Addr) []netip.Addr {
	slices.SortFunc(as, netip.Addr.Compare)
	return slices.Compact(as)
}

func rcodeName(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}
