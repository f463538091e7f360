package watch

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/dnsq"
)

// ErrInvalid is wrapped by the error for an entry that cannot be recorded.
var ErrInvalid = errors.New("invalid watch entry")

// normalise checks the entries of a run and returns one per domain, in domain order, with
// names in ASCII and the facts' host lists sorted. A domain named twice (a lookalike of
// two domains) is kept once: as a known correspondent if either entry says so, else as the
// first entry says, with the first facts DNS answered.
func normalise(entries []Entry) ([]Entry, error) {
	byName := make(map[string]int, len(entries))
	out := make([]Entry, 0, len(entries))
	for i, e := range entries {
		d, err := address.ParseDomain(e.Domain)
		if err != nil {
			return nil, fmt.Errorf("%w %d: %w", ErrInvalid, i, err)
		}
		if e.Kind != Lookalike && e.Kind != Known {
			return nil, fmt.Errorf("%w %d: %s: kind %d is neither lookalike nor known", ErrInvalid, i, d.ASCII, e.Kind)
		}
		if e.Kind == Known {
			e.Of, e.Technique = "", ""
		} else if e.Of != "" {
			of, err := address.ParseDomain(e.Of)
			if err != nil {
				return nil, fmt.Errorf("%w %d: %s: the domain it imitates: %w", ErrInvalid, i, d.ASCII, err)
			}
			e.Of = of.ASCII
		}
		if e.Facts.Status > dnsq.Registered {
			return nil, fmt.Errorf("%w %d: %s: status %d", ErrInvalid, i, d.ASCII, e.Facts.Status)
		}
		e.Domain = d.ASCII
		e.Technique = strings.TrimSpace(e.Technique)
		e.Facts = keptFacts(d.ASCII, e.Facts)
		j, dup := byName[e.Domain]
		if !dup {
			byName[e.Domain] = len(out)
			out = append(out, e)
			continue
		}
		first := &out[j]
		if e.Kind == Known && first.Kind != Known {
			first.Kind, first.Of, first.Technique = Known, "", ""
		}
		if first.Facts.Status == dnsq.Unknown {
			first.Facts = e.Facts
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Compare(a.Domain, b.Domain) })
	return out, nil
}

// keptFacts is the part of f the store keeps, in a canonical form: host names lower case
// without the final dot, MX by preference then host, NS and addresses sorted; nothing
// for a failed lookup, no records for NXDOMAIN.
func keptFacts(domain string, f dnsq.Facts) dnsq.Facts {
	k := dnsq.Facts{Domain: domain, Status: f.Status}
	if f.Status != dnsq.Registered {
		return k
	}
	k.NullMX = f.NullMX
	for _, m := range f.MX {
		if h := hostName(m.Host); h != "" {
			k.MX = append(k.MX, dnsq.MX{Host: h, Pref: m.Pref})
		}
	}
	slices.SortFunc(k.MX, func(a, b dnsq.MX) int { return cmp.Or(cmp.Compare(a.Pref, b.Pref), cmp.Compare(a.Host, b.Host)) })
	k.MX = slices.Compact(k.MX)
	for _, n := range f.NS {
		if h := hostName(n); h != "" {
			k.NS = append(k.NS, h)
		}
	}
	slices.Sort(k.NS)
	k.NS = slices.Compact(k.NS)
	k.A = slices.Clone(f.A)
	k.AAAA = slices.Clone(f.AAAA)
	slices.SortFunc(k.A, func(a, b netipAddr) int { return a.Compare(b) })
	slices.SortFunc(k.AAAA, func(a, b netipAddr) int { return a.Compare(b) })
	k.A, k.AAAA = slices.Compact(k.A), slices.Compact(k.AAAA)
	return k
}

func hostName(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
}
