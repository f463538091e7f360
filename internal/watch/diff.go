package watch

import (
	"net/netip"
	"slices"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/providers"
)

type netipAddr = netip.Addr

// plan is what one run does to the store: the rows it writes and the changes it found.
type plan struct {
	rows    []Seen // in domain order
	changes []Change
	unknown int
}

// makePlan compares a run's entries (normalised) with the store's rows before it (prev,
// by domain). ownerMin is how many lookalikes a host must serve for a known
// correspondent's move to it to count as a change of hands; a shared mail host never
// counts.
func makePlan(prev map[string]Seen, entries []Entry, at time.Time, ownerMin int, shared providers.Shared) plan {
	var p plan
	next := make(map[string]Seen, len(prev)+len(entries))
	for d, s := range prev {
		next[d] = s
	}
	answered := make([]bool, len(entries))
	for i, e := range entries {
		s, had := prev[e.Domain]
		if !had {
			s = Seen{Entry: Entry{Domain: e.Domain, Facts: dnsq.Facts{Domain: e.Domain}}, FirstSeen: at}
		}
		s.Of, s.Technique, s.Kind = e.Of, e.Technique, e.Kind
		if e.Facts.Status == dnsq.Unknown {
			p.unknown++
		} else {
			answered[i] = true
			s.Facts = e.Facts
			s.LastChecked = at
			if e.Facts.Status == dnsq.Registered && s.FirstRegistered.IsZero() {
				s.FirstRegistered = at
			}
		}
		next[e.Domain] = s
		p.rows = append(p.rows, s)
	}
	served := farmCounts(next, shared)
	for i, s := range p.rows {
		before, had := prev[s.Domain]
		if !had || before.Facts.Status == dnsq.Unknown || !answered[i] {
			continue // the first answer is the baseline; a failed lookup changes nothing
		}
		p.changes = append(p.changes, compare(before, s, served, ownerMin, at)...)
	}
	return p
}

// farmCounts counts, per MX host, the registered lookalikes among rows it receives mail for;
// a shared mail host is not counted: it is never a farm, nor a move to it a change of hands.
func farmCounts(rows map[string]Seen, shared providers.Shared) map[string]int {
	n := map[string]int{}
	for _, s := range rows {
		if s.Kind != Lookalike || !s.Facts.CanReceive() {
			continue
		}
		var hosts []string
		for _, m := range s.Facts.MX {
			if !slices.Contains(hosts, m.Host) && !shared.Has(m.Host) {
				hosts = append(hosts, m.Host)
				n[m.Host]++
			}
		}
	}
	return n
}

// summary is the part of f a change shows.
func summary(f dnsq.Facts) Summary {
	return Summary{Status: f.Status, CanReceive: f.CanReceive(), NullMX: f.NullMX,
		MX: f.MailHosts(), NS: slices.Clone(f.NS)}
}

// compare lists what changed about one domain from before to after (both answered).
func compare(before, after Seen, served map[string]int, ownerMin int, at time.Time) []Change {
	b, a := summary(before.Facts), summary(after.Facts)
	var kinds []ChangeKind
	switch {
	case b.Status == dnsq.NotRegistered && a.Status == dnsq.Registered:
		if before.FirstRegistered.IsZero() {
			kinds = append(kinds, NewlyRegistered)
		} else {
			kinds = append(kinds, CameBack)
		}
	case b.Status == dnsq.Registered && a.Status == dnsq.NotRegistered:
		kinds = append(kinds, Gone)
	}
	switch {
	case !b.CanReceive && a.CanReceive:
		kinds = append(kinds, NowReceives)
	case b.CanReceive && !a.CanReceive && a.Status == dnsq.Registered:
		kinds = append(kinds, StopsReceiving)
	case b.CanReceive && a.CanReceive && !sameSet(b.MX, a.MX):
		kinds = append(kinds, MXMoved)
	}
	if b.Status == dnsq.Registered && a.Status == dnsq.Registered && len(b.NS) > 0 && len(a.NS) > 0 && !sameSet(b.NS, a.NS) {
		kinds = append(kinds, NSMoved)
	}
	var out []Change
	for _, k := range kinds {
		c := Change{Domain: after.Domain, Of: after.Of, Technique: after.Technique, Watched: after.Kind,
			Kind: k, Before: b, After: a, At: at}
		if after.Kind == Known {
			// A known correspondent: only what suggests it changed hands.
			switch k {
			case NewlyRegistered, CameBack:
				// It was mailed, so it existed before it was gone.
				c.Kind, c.Owner = CameBack, true
			case Gone:
			case MXMoved:
				for _, h := range a.MX {
					if !slices.Contains(b.MX, h) && served[h] >= max(ownerMin, 1) {
						c.FarmHosts = append(c.FarmHosts, h)
					}
				}
				if len(c.FarmHosts) == 0 {
					continue
				}
				c.Owner = true
			default:
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}
