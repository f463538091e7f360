package watch

import (
	"time"

	"github.com/rcptguard/rcptguard/internal/dnsq"
)

// Kind is why a domain is watched.
type Kind uint8

const (
	// Lookalike: a lookalike of one of the organisation's or protected domains (Entry.Of).
	Lookalike Kind = iota + 1
	// Known: a known correspondent, watched for signs that it changed hands.
	Known
)

func (k Kind) String() string {
	switch k {
	case Lookalike:
		return "lookalike"
	case Known:
		return "known"
	}
	return "invalid"
}

func parseKind(s string) (Kind, bool) {
	switch s {
	case "lookalike":
		return Lookalike, true
	case "known":
		return Known, true
	}
	return 0, false
}

// Entry is one domain of a run and what DNS said about it.
type Entry struct {
	Domain    string // any form address.ParseDomain accepts; stored as ASCII
	Of        string // the domain it imitates (lookalikes); "" for a known correspondent
	Technique string // how it was made (lookalikes): "homoglyph", "tld-swap", ...
	Kind      Kind
	Facts     dnsq.Facts // Facts.Domain is ignored: Domain names the domain
}

// Seen is an entry as the store keeps it: its last answered facts (Facts.TTL and Err are
// never set) and when it was watched.
type Seen struct {
	Entry
	FirstSeen       time.Time // the first run that named it
	FirstRegistered time.Time // the first run that found it registered; zero if none did
	LastChecked     time.Time // the last run DNS answered for it; zero if none did
}

// ChangeKind is what changed about a domain between two runs.
type ChangeKind uint8

const (
	// NewlyRegistered: it did not exist at the last run and never did before; it does now.
	NewlyRegistered ChangeKind = iota + 1
	// NowReceives: it could not receive mail at the last run; it can now.
	NowReceives
	// StopsReceiving: it still exists but can no longer receive mail (its MX records are
	// gone, or a null MX says it accepts none).
	StopsReceiving
	// MXMoved: it receives mail both times, at another set of hosts.
	MXMoved
	// NSMoved: its set of name servers changed.
	NSMoved
	// Gone: it existed at the last run; DNS says NXDOMAIN now.
	Gone
	// CameBack: it was gone and exists again, possibly under another owner.
	CameBack
)

var changeNames = map[ChangeKind]string{
	NewlyRegistered: "newly-registered", NowReceives: "now-receives", StopsReceiving: "stops-receiving",
	MXMoved: "mx-moved", NSMoved: "ns-moved", Gone: "gone", CameBack: "came-back",
}

func (k ChangeKind) String() string {
	if s, ok := changeNames[k]; ok {
		return s
	}
	return "invalid"
}

func parseChangeKind(s string) (ChangeKind, bool) {
	for k, name := range changeNames {
		if name == s {
			return k, true
		}
	}
	return 0, false
}

// Summary is what a change compares: the part of the facts that matters for mail.
type Summary struct {
	Status     dnsq.Status
	CanReceive bool
	NullMX     bool
	MX         []string // the hosts that receive its mail (dnsq.Facts.MailHosts), in preference order
	NS         []string // its name servers, sorted
}

// Change is one thing that changed about a watched domain at a run.
type Change struct {
	Domain    string
	Of        string // the domain it imitates (lookalikes)
	Technique string
	Watched   Kind // lookalike or known correspondent
	Kind      ChangeKind
	// Owner: a known correspondent that may have changed hands: its MX moved to a host
	// that serves lookalikes in the store (FarmHosts), or it came back after being gone.
	Owner bool
	// FarmHosts are the new MX hosts that also serve lookalikes (Owner MX moves).
	FarmHosts     []string
	Before, After Summary
	At            time.Time // the run's time
}

// Farm is an MX host and how many lookalikes in the store it receives mail for.
type Farm struct {
	Host       string
	Lookalikes int
}

// Run is one recorded run.
type Run struct {
	ID      int64
	At      time.Time
	Domains int // entries recorded
	Unknown int // entries whose lookup failed (their previous facts were kept)
	Changes int
	// MailOwed: the run's changes are still to be mailed (squat --notify; Store.MailSent).
	MailOwed bool
}
