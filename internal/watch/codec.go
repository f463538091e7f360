package watch

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
)

// dbRow is one row of watch_domains as both databases hold it. Host lists and addresses
// are JSON arrays; times are Unix microseconds (UTC), 0 for never.
type dbRow struct {
	domain, kind, of, technique, status     string
	canReceive, nullMX                      bool
	mx, ns, addrs                           string
	firstSeen, firstRegistered, lastChecked int64
}

// changeRow is one row of watch_changes (without its run and place in it).
type changeRow struct {
	domain, watched, of, technique, kind string
	owner                                bool
	farmHosts, before, after             string
}

type mxJSON struct {
	Host string `json:"host"`
	Pref uint16 `json:"pref"`
}

type summaryJSON struct {
	Status     string   `json:"status"`
	CanReceive bool     `json:"can_receive"`
	NullMX     bool     `json:"null_mx,omitempty"`
	MX         []string `json:"mx"`
	NS         []string `json:"ns"`
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings, numbers and bools only
	}
	return string(b)
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMicro(n).UTC()
}

func parseStatus(s string) (dnsq.Status, bool) {
	for _, st := range []dnsq.Status{dnsq.Unknown, dnsq.NotRegistered, dnsq.Registered} {
		if st.String() == s {
			return st, true
		}
	}
	return dnsq.Unknown, false
}

func toRow(s Seen) dbRow {
	f := s.Facts
	mx := make([]mxJSON, 0, len(f.MX))
	for _, m := range f.MX {
		mx = append(mx, mxJSON{m.Host, m.Pref})
	}
	addrs := make([]string, 0, len(f.A)+len(f.AAAA))
	for _, a := range append(append([]netip.Addr(nil), f.A...), f.AAAA...) {
		addrs = append(addrs, a.String())
	}
	ns := f.NS
	if ns == nil {
		ns = []string{}
	}
	return dbRow{domain: s.Domain, kind: s.Kind.String(), of: s.Of, technique: s.Technique,
		status: f.Status.String(), canReceive: f.CanReceive(), nullMX: f.NullMX,
		mx: mustJSON(mx), ns: mustJSON(ns), addrs: mustJSON(addrs),
		firstSeen: micros(s.FirstSeen), firstRegistered: micros(s.FirstRegistered), lastChecked: micros(s.LastChecked)}
}

func fromRow(r dbRow) (Seen, error) {
	bad := func(what string, err error) (Seen, error) {
		return Seen{}, fmt.Errorf("watch: stored row of %s: %s: %v", r.domain, what, err)
	}
	kind, ok := parseKind(r.kind)
	if !ok {
		return bad("kind", fmt.Errorf("%q", r.kind))
	}
	st, ok := parseStatus(r.status)
	if !ok {
		return bad("status", fmt.Errorf("%q", r.status))
	}
	f := dnsq.Facts{Domain: r.domain, Status: st, NullMX: r.nullMX}
	var mx []mxJSON
	if err := json.Unmarshal([]byte(r.mx), &mx); err != nil {
		return bad("mx", err)
	}
	for _, m := range mx {
		f.MX = append(f.MX, dnsq.MX{Host: m.Host, Pref: m.Pref})
	}
	if err := json.Unmarshal([]byte(r.ns), &f.NS); err != nil {
		return bad("ns", err)
	}
	if len(f.NS) == 0 {
		f.NS = nil
	}
	var addrs []string
	if err := json.Unmarshal([]byte(r.addrs), &addrs); err != nil {
		return bad("addresses", err)
	}
	for _, s := range addrs {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return bad("addresses", err)
		}
		if a.Is4() {
			f.A = append(f.A, a)
		} else {
			f.AAAA = append(f.AAAA, a)
		}
	}
	return Seen{Entry: Entry{Domain: r.domain, Of: r.of, Technique: r.technique, Kind: kind, Facts: f},
		FirstSeen: fromMicros(r.firstSeen), FirstRegistered: fromMicros(r.firstRegistered),
		LastChecked: fromMicros(r.lastChecked)}, nil
}

func summaryToJSON(s Summary) string {
	mx, ns := s.MX, s.NS
	if mx == nil {
		mx = []string{}
	}
	if ns == nil {
		ns = []string{}
	}
	return mustJSON(summaryJSON{Status: s.Status.String(), CanReceive: s.CanReceive, NullMX: s.NullMX, MX: mx, NS: ns})
}

func summaryFromJSON(text string) (Summary, error) {
	var j summaryJSON
	if err := json.Unmarshal([]byte(text), &j); err != nil {
		return Summary{}, err
	}
	st, ok := parseStatus(j.Status)
	if !ok {
		return Summary{}, fmt.Errorf("status %q", j.Status)
	}
	s := Summary{Status: st, CanReceive: j.CanReceive, NullMX: j.NullMX, MX: j.MX, NS: j.NS}
	if len(s.MX) == 0 {
		s.MX = nil
	}
	if len(s.NS) == 0 {
		s.NS = nil
	}
	return s, nil
}

func toChangeRow(c Change) changeRow {
	fh := c.FarmHosts
	if fh == nil {
		fh = []string{}
	}
	return changeRow{domain: c.Domain, watched: c.Watched.String(), of: c.Of, technique: c.Technique,
		kind: c.Kind.String(), owner: c.Owner, farmHosts: mustJSON(fh),
		before: summaryToJSON(c.Before), after: summaryToJSON(c.After)}
}

func fromChangeRow(r changeRow, at int64) (Change, error) {
	bad := func(what string, err error) (Change, error) {
		return Change{}, fmt.Errorf("watch: stored change of %s: %s: %v", r.domain, what, err)
	}
	c := Change{Domain: r.domain, Of: r.of, Technique: r.technique, Owner: r.owner, At: fromMicros(at)}
	var ok bool
	if c.Watched, ok = parseKind(r.watched); !ok {
		return bad("watched as", fmt.Errorf("%q", r.watched))
	}
	if c.Kind, ok = parseChangeKind(r.kind); !ok {
		return bad("kind", fmt.Errorf("%q", r.kind))
	}
	if err := json.Unmarshal([]byte(r.farmHosts), &c.FarmHosts); err != nil {
		return bad("farm hosts", err)
	}
	if len(c.FarmHosts) == 0 {
		c.FarmHosts = nil
	}
	var err error
	if c.Before, err = summaryFromJSON(r.before); err != nil {
		return bad("before", err)
	}
	if c.After, err = summaryFromJSON(r.after); err != nil {
		return bad("after", err)
	}
	return c, nil
}
