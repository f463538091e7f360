package testenv

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// DNSOptions say what the in-process DNS server answers besides its zone.
type DNSOptions struct {
	// Zone is RFC 1035 zone-file text with absolute names
	// ("army.ml. 300 IN MX 10 mx.farm.example.").
	Zone string
	// ServFail names (no final dot) are answered SERVFAIL.
	ServFail []string
	// Drop names are never answered: the client times out.
	Drop []string
	// TruncateUDP: every UDP answer comes back truncated (TC), so the client must use TCP.
	TruncateUDP bool
	// AnswerAll: any name not in the zone gets an MX (10 mx.NAME) and an A (192.0.2.1), for
	// speed tests.
	AnswerAll bool
	// NoEDNS: a question with an EDNS OPT record is answered FORMERR without one, as a
	// server from before EDNS (RFC 6891 section 7) does; one without is answered.
	NoEDNS bool
}

// DNS is an authoritative-looking DNS server on loopback, UDP and TCP on one port, built
// with the same library as the client (github.com/miekg/dns). A name the zone does not hold
// is NXDOMAIN with an SOA in the authority section; a name it holds without the asked type
// is NOERROR with no answer (and the SOA).
type DNS struct {
	addr     string
	opts     DNSOptions
	servFail map[string]bool
	drop     map[string]bool
	zone     atomic.Pointer[dnsZone]
	queries  atomic.Int64
}

// dnsZone is the parsed zone: the records by owner name, and every name that exists
// (owners and the empty non-terminals above them).
type dnsZone struct {
	rrs   map[string][]dns.RR
	names map[string]bool
	soas  map[string]*dns.SOA
}

// StartDNS starts the server on 127.0.0.1 (UDP and TCP on the same port) and stops it at
// the end of the test. It fails the test when the zone does not parse.
func StartDNS(t testing.TB, o DNSOptions) *DNS {
	t.Helper()
	d := &DNS{opts: o, servFail: nameSet(o.ServFail), drop: nameSet(o.Drop)}
	if err := d.SetZone(o.Zone); err != nil {
		t.Fatalf("testenv.StartDNS: %v", err)
	}
	pc, l, err := listenSamePort()
	if err != nil {
		t.Fatalf("testenv.StartDNS: %v", err)
	}
	d.addr = pc.LocalAddr().String()
	var servers []*dns.Server
	for _, s := range []*dns.Server{
		{PacketConn: pc, Handler: dns.HandlerFunc(d.serve(true))},
		{Listener: l, Handler: dns.HandlerFunc(d.serve(false))},
	} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		done := make(chan error, 1)
		go func() { done <- s.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-done:
			t.Fatalf("testenv.StartDNS: %v", err)
		}
		servers = append(servers, s)
	}
	t.Cleanup(func() {
		for _, s := range servers {
			s.Shutdown()
		}
	})
	return d
}

// listenSamePort binds UDP on a free loopback port and TCP on the same one, trying again
// when another process holds that TCP port.
func listenSamePort() (net.PacketConn, net.Listener, error) {
	var last error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		last = err
	}
	return nil, nil, fmt.Errorf("no loopback port free for both UDP and TCP: %w", last)
}

func nameSet(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[dns.CanonicalName(n)] = true
	}
	return m
}

// Addr is the server's "127.0.0.1:port", for UDP and TCP.
func (d *DNS) Addr() string { return d.addr }

// Queries is how many queries the server answered or dropped, over UDP and TCP.
func (d *DNS) Queries() int64 { return d.queries.Load() }

// SetZone replaces the records (between two runs of squat --watch, say). The options'
// ServFail, Drop, TruncateUDP, AnswerAll and NoEDNS stay.
func (d *DNS) SetZone(zone string) error {
	z := &dnsZone{rrs: map[string][]dns.RR{}, names: map[string]bool{}, soas: map[string]*dns.SOA{}}
	zp := dns.NewZoneParser(strings.NewReader(zone), ".", "fixture")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := dns.CanonicalName(rr.Header().Name)
		z.rrs[name] = append(z.rrs[name], rr)
		if soa, ok := rr.(*dns.SOA); ok {
			z.soas[name] = soa
		}
		for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
			z.names[name[off:]] = true
		}
	}
	if err := zp.Err(); err != nil {
		return fmt.Errorf("zone: %w", err)
	}
	d.zone.Store(z)
	return nil
}

func (d *DNS) serve(udp bool) func(dns.ResponseWriter, *dns.Msg) {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		d.queries.Add(1)
		if len(req.Question) != 1 {
			m := new(dns.Msg)
			m.SetRcode(req, dns.RcodeFormatError)
			w.WriteMsg(m)
			return
		}
		q := req.Question[0]
		name := dns.CanonicalName(q.Name)
		if d.drop[name] {
			return
		}
		if d.opts.NoEDNS && req.IsEdns0() != nil {
			m := new(dns.Msg)
			m.SetRcode(req, dns.RcodeFormatError)
			w.WriteMsg(m)
			return
		}
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		if d.servFail[name] {
			m.SetRcode(req, dns.RcodeServerFailure)
			w.WriteMsg(m)
			return
		}
		z := d.zone.Load()
		switch {
		case z.names[name]:
			for _, rr := range z.rrs[name] {
				if q.Qtype == dns.TypeANY || rr.Header().Rrtype == q.Qtype || rr.Header().Rrtype == dns.TypeCNAME {
					m.Answer = append(m.Answer, rr)
				}
			}
		case d.opts.AnswerAll:
			switch q.Qtype {
			case dns.TypeMX:
				m.Answer = append(m.Answer, &dns.MX{Hdr: hdr(name, dns.TypeMX), Preference: 10, Mx: "mx." + name})
			case dns.TypeA:
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr(name, dns.TypeA), A: netip.MustParseAddr("192.0.2.1").AsSlice()})
			}
		default:
			m.Rcode = dns.RcodeNameError
		}
		if len(m.Answer) == 0 {
			m.Ns = append(m.Ns, z.soaFor(name))
		}
		if udp {
			size := 512
			if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
				size = int(opt.UDPSize())
			}
			m.Truncate(size)
			if d.opts.TruncateUDP {
				m.Truncated = true
				m.Answer, m.Ns, m.Extra = nil, nil, nil
			}
		}
		w.WriteMsg(m)
	}
}

func hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 300}
}

// soaFor is the zone's SOA closest above name, or one made up for name's top-level domain
// (negative TTL 60 s) when the zone has none.
func (z *dnsZone) soaFor(name string) dns.RR {
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		if soa := z.soas[name[off:]]; soa != nil {
			return soa
		}
	}
	labels := dns.SplitDomainName(name)
	apex := "."
	if len(labels) > 0 {
		apex = labels[len(labels)-1] + "."
	}
	return &dns.SOA{Hdr: dns.RR_Header{Name: apex, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
		Ns: "ns.test.", Mbox: "hostmaster.test.", Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60}
}
