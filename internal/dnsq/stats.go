package dnsq

import "sync/atomic"

// Stats are a Resolver's counters since New.
type Stats struct {
	Queries      uint64 // questions sent (UDP and TCP, retries included)
	Retries      uint64 // questions asked again after a timeout, SERVFAIL or error
	Timeouts     uint64 // questions that got no answer in time
	TCPFallbacks uint64 // truncated UDP answers asked again over TCP
	ServFails    uint64 // SERVFAIL answers
	NoEDNS       uint64 // questions asked again without EDNS after a FORMERR or NOTIMP
}

type counters struct {
	queries, retries, timeouts, tcpFallbacks, servFails, noEDNS atomic.Uint64
}

// Stats reads the counters; safe at any time.
func (r *Resolver) Stats() Stats {
	c := &r.counts
	return Stats{
		Queries:      c.queries.Load(),
		Retries:      c.retries.Load(),
		Timeouts:     c.timeouts.Load(),
		TCPFallbacks: c.tcpFallbacks.Load(),
		ServFails:    c.servFails.Load(),
		NoEDNS:       c.noEDNS.Load(),
	}
}
