package squat

import (
	"cmp"
	"slices"
	"strings"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/providers"
)

// farms finds the catch-all farms among the lookalikes that can receive mail: a mail host
// (counted by its registrable domain, so that mx1 and mx2 of one operator are one farm)
// that receives the mail of at least min lookalikes. It marks each lookalike with its farm
// and returns the farms, the largest first. A lookalike with only an address (no MX) is
// its own mail host and makes no farm, nor does a shared mail host (Google Workspace,
// Microsoft 365, a mail gateway: providers.Shared), whose customers have nothing else in
// common.
func farms(ls []Lookalike, minimum int, shared providers.Shared) []Farm {
	minimum = max(minimum, 1)
	type acc struct {
		hosts, domains map[string]bool
	}
	by := map[string]*acc{}
	for _, l := range ls {
		if !l.CanReceive {
			continue
		}
		for _, m := range l.MX {
			if shared.Has(m.Host) {
				continue
			}
			k := farmKey(m.Host)
			a := by[k]
			if a == nil {
				a = &acc{hosts: map[string]bool{}, domains: map[string]bool{}}
				by[k] = a
			}
			a.hosts[m.Host] = true
			a.domains[l.Domain] = true
		}
	}
	out := []Farm{}
	for k, a := range by {
		if len(a.domains) < minimum {
			continue
		}
		f := Farm{Host: k, Lookalikes: len(a.domains), MXHosts: sortedKeys(a.hosts), Domains: sortedKeys(a.domains)}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Farm) int {
		return cmp.Or(cmp.Compare(b.Lookalikes, a.Lookalikes), cmp.Compare(a.Host, b.Host))
	})
	// A lookalike is marked with the largest farm its mail goes to.
	for i := range ls {
		for _, f := range out {
			if ls[i].Farm == "" && slices.ContainsFunc(ls[i].MX, func(m MX) bool { return farmKey(m.Host) == f.Host }) {
				ls[i].Farm = f.Host
			}
		}
	}
	return out
}

// farmKey is the registrable domain of a mail host ("farm.example" for
// "mx1.farm.example"), or the host itself, lower case, when it has none (a public suffix,
// or a name DNS gave that is not a valid domain).
func farmKey(host string) string {
	d, err := address.ParseDomain(host)
	if err != nil {
		return strings.ToLower(host)
	}
	if r := d.Registrable(); r != "" {
		return r
	}
	return d.ASCII
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
