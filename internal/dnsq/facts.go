// Package dnsq asks DNS what a domain is: registered or not, whether it can receive mail
// (MX, or A/AAAA when there is no MX, unless a null MX of RFC 7505 says no), its mail hosts
// and name servers. It is the one DNS client of rcptguard: `squat` discovers and watches
// lookalikes with it, and the guard's live evidence (dns.evidence) asks it at decision time.
package dnsq

import (
	"net/netip"
	"time"
)

// Status says whether DNS knows a domain.
type Status uint8

const (
	// Unknown: the lookup failed (timeout, SERVFAIL, refused, unreachable resolver);
	// Facts.Err says why. Nothing may be concluded from it.
	Unknown Status = iota
	// NotRegistered: the name does not exist (NXDOMAIN).
	NotRegistered
	// Registered: the name exists (it has records, or NOERROR with none).
	Registered
)

func (s Status) String() string {
	switch s {
	case NotRegistered:
		return "not-registered"
	case Registered:
		return "registered"
	}
	return "unknown"
}

// MX is one mail exchanger of a domain.
type MX struct {
	Host string // lower case, without the final dot
	Pref uint16
}

// Facts is what DNS said about one domain.
type Facts struct {
	Domain string // ASCII (A-labels), lower case, without the final dot
	Status Status
	NS     []string // name server host names, lower case, without the final dot
	MX     []MX     // sorted by preference, then host; empty for a null MX
	NullMX bool     // the domain published "MX 0 ." (RFC 7505): it accepts no mail
	A      []netip.Addr
	AAAA   []netip.Addr
	// TTL is the smallest TTL of the answers (for NXDOMAIN, the SOA's negative TTL);
	// a cache keeps the facts no longer than this.
	TTL time.Duration
	// Err is why the status is Unknown; nil otherwise.
	Err error
}

// CanReceive reports whether mail to the domain can be delivered somewhere: it has an MX
// that is not the null MX, or no MX at all and an address (the implicit MX of RFC 5321
// section 5.1).
func (f Facts) CanReceive() bool {
	if f.Status != Registered || f.NullMX {
		return false
	}
	if len(f.MX) > 0 {
		return true
	}
	return len(f.A) > 0 || len(f.AAAA) > 0
}

// MailHosts are the hosts that receive the domain's mail: its MX hosts, or the domain itself
// when it has only an address. Nil when it cannot receive mail.
func (f Facts) MailHosts() []string {
	if !f.CanReceive() {
		return nil
	}
	if len(f.MX) == 0 {
		return []string{f.Domain}
	}
	hs := make([]string, len(f.MX))
	for i, m := range f.MX {
		hs[i] = m.Host
	}
	return hs
}
