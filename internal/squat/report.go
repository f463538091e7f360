package squat

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/dnsq"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/providers"
)

// Schema names the JSON report's schema (docs/squat.md); it changes only when a field
// changes meaning or goes away (fields may be added).
const Schema = "rcptguard-squat/1"

// Report is what a run found: the JSON document as documented in docs/squat.md.
type Report struct {
	Schema   string    `json:"schema"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Resolver string    `json:"resolver,omitempty"` // the servers asked, as given (set by the command)
	Wide     bool      `json:"wide"`
	FarmMin  int       `json:"farm_min"`
	Totals   Totals    `json:"totals"`
	// Domains is one row per target domain, in the order given.
	Domains []DomainRow `json:"domains"`
	// Lookalikes are the registered ones, those that can receive mail first.
	Lookalikes []Lookalike `json:"lookalikes"`
	// Farms are the mail hosts serving at least FarmMin lookalikes, most first.
	Farms   []Farm   `json:"farms"`
	Unknown Unknowns `json:"unknown"`
	// Changes is what changed since the last --watch run; nil without --watch.
	Changes *Changes `json:"changes,omitempty"`
}

// Changes is what `squat --watch` found changed since its last run (set by the command from
// the watch store).
type Changes struct {
	Since *time.Time  `json:"since,omitempty"` // the last run; nil on the first
	Items []ChangeRow `json:"items"`
}

// ChangeRow is one change.
type ChangeRow struct {
	Domain  string `json:"domain"`
	Of      string `json:"of,omitempty"`           // the domain it imitates (lookalikes)
	Watched string `json:"watched"`                // "lookalike" or "known"
	Kind    string `json:"kind"`                   // newly-registered, now-receives, mx-moved, ...
	Owner   bool   `json:"may_have_changed_hands"` // a known correspondent that may have changed hands
	Text    string `json:"text"`                   // one line for a person
}

// Totals are the run's counts.
type Totals struct {
	Domains       int   `json:"domains"`
	Generated     int64 `json:"generated"`
	Registered    int64 `json:"registered"`
	CanReceive    int64 `json:"can_receive_mail"`
	NotRegistered int64 `json:"not_registered"`
	Unknown       int64 `json:"unknown"`
}

// DomainRow sums up one target domain.
type DomainRow struct {
	Domain     string `json:"domain"` // ASCII
	Display    string `json:"display"`
	Why        string `json:"why"`
	Generated  int64  `json:"generated"`
	Registered int64  `json:"registered"`
	CanReceive int64  `json:"can_receive_mail"`
	Unknown    int64  `json:"unknown"`
}

// Lookalike is one registered lookalike.
type Lookalike struct {
	Of         string       `json:"of"`     // the target, ASCII
	Domain     string       `json:"domain"` // ASCII
	Display    string       `json:"display"`
	Technique  string       `json:"technique"`
	Status     string       `json:"status"` // "registered"
	CanReceive bool         `json:"can_receive_mail"`
	NullMX     bool         `json:"null_mx"`
	MX         []MX         `json:"mx"`
	NS         []string     `json:"ns"`
	A          []netip.Addr `json:"a"`
	AAAA       []netip.Addr `json:"aaaa"`
	Farm       string       `json:"farm,omitempty"` // the farm its mail goes to, when it is one
}

// MX is one mail exchanger of a lookalike.
type MX struct {
	Host string `json:"host"` // lower case, without the final dot
	Pref uint16 `json:"pref"`
}

// Farm is a mail host serving many lookalikes: a catch-all farm.
type Farm struct {
	Host       string   `json:"host"` // the MX hosts' registrable domain, or the host itself
	Lookalikes int      `json:"lookalikes"`
	MXHosts    []string `json:"mx_hosts"`
	Domains    []string `json:"domains"` // the lookalikes' ASCII names, sorted
}

// Unknowns are the lookups that failed: how many, and the first few with their error.
type Unknowns struct {
	Total int64     `json:"total"`
	First []Failure `json:"first"`
}

// Failure is one failed lookup.
type Failure struct {
	Of        string `json:"of"`
	Domain    string `json:"domain"`
	Technique string `json:"technique"`
	Error     string `json:"error"`
}

// maxFailures bounds Unknowns.First.
const maxFailures = 20

// Result is one lookalike looked up.
type Result struct {
	Of        address.Domain
	Lookalike engine.Variant
	Facts     dnsq.Facts
}

// collector builds a Report from results as they come, keeping only what the report
// shows: the registered lookalikes and the first failures, never the unregistered ones.
type collector struct {
	r      Report
	index  map[string]int // target ASCII -> Domains row
	shared providers.Shared
}

func newCollector(targets []Target, farmMin int) *collector {
	c := &collector{r: Report{Schema: Schema, FarmMin: farmMin, Domains: []DomainRow{}, Lookalikes: []Lookalike{},
		Farms: []Farm{}, Unknown: Unknowns{First: []Failure{}}}, index: map[string]int{}}
	for _, t := range targets {
		if _, ok := c.index[t.Domain.ASCII]; ok {
			continue
		}
		c.index[t.Domain.ASCII] = len(c.r.Domains)
		c.r.Domains = append(c.r.Domains, DomainRow{Domain: t.Domain.ASCII, Display: t.Domain.Display, Why: t.Why})
	}
	c.r.Totals.Domains = len(c.r.Domains)
	return c
}

func (c *collector) generated(of address.Domain, n int) {
	c.r.Domains[c.index[of.ASCII]].Generated += int64(n)
	c.r.Totals.Generated += int64(n)
}

func (c *collector) add(res Result) {
	row := &c.r.Domains[c.index[res.Of.ASCII]]
	f := res.Facts
	switch f.Status {
	case dnsq.NotRegistered:
		c.r.Totals.NotRegistered++
	case dnsq.Registered:
		c.r.Totals.Registered++
		row.Registered++
		can := f.CanReceive()
		if can {
			c.r.Totals.CanReceive++
			row.CanReceive++
		}
		c.r.Lookalikes = append(c.r.Lookalikes, Lookalike{Of: res.Of.ASCII, Domain: res.Lookalike.Domain.ASCII,
			Display: res.Lookalike.Domain.Display, Technique: res.Lookalike.Technique.String(), Status: f.Status.String(),
			CanReceive: can, NullMX: f.NullMX, MX: mxOf(f.MX), NS: orEmpty(f.NS), A: orEmpty(f.A), AAAA: orEmpty(f.AAAA)})
	default:
		c.r.Totals.Unknown++
		row.Unknown++
		if len(c.r.Unknown.First) < maxFailures {
			msg := "unknown error"
			if f.Err != nil {
				msg = f.Err.Error()
			}
			c.r.Unknown.First = append(c.r.Unknown.First, Failure{Of: res.Of.ASCII, Domain: res.Lookalike.Domain.ASCII,
				Technique: res.Lookalike.Technique.String(), Error: msg})
		}
		c.r.Unknown.Total++
	}
}

// report finishes the report: the order of its lists, and the farms.
func (c *collector) report() Report {
	r := c.r
	order := func(of string) int { return c.index[of] }
	slices.SortFunc(r.Lookalikes, func(a, b Lookalike) int {
		return cmp.Or(-cmpBool(a.CanReceive, b.CanReceive), cmp.Compare(order(a.Of), order(b.Of)), cmp.Compare(a.Domain, b.Domain))
	})
	slices.SortFunc(r.Unknown.First, func(a, b Failure) int {
		return cmp.Or(cmp.Compare(order(a.Of), order(b.Of)), cmp.Compare(a.Domain, b.Domain))
	})
	r.Farms = farms(r.Lookalikes, r.FarmMin, c.shared)
	return r
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func mxOf(ms []dnsq.MX) []MX {
	out := make([]MX, len(ms))
	for i, m := range ms {
		out[i] = MX{Host: m.Host, Pref: m.Pref}
	}
	return out
}
