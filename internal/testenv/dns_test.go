package testenv

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

func askDNS(t *testing.T, d *DNS, net, name string, qtype uint16) *dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	c := &dns.Client{Net: net, Timeout: 2 * time.Second}
	m, _, err := c.Exchange(q, d.Addr())
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], net, err)
	}
	return m
}

func TestDNSServesTheZoneOverUDPAndTCP(t *testing.T) {
	d := StartDNS(t, DNSOptions{Zone: "army.ml. 300 IN MX 10 mx.farm.example.\narmy.ml. 300 IN A 192.0.2.7\n"})
	for _, n := range []string{"udp", "tcp"} {
		m := askDNS(t, d, n, "Army.ML.", dns.TypeMX)
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 || m.Answer[0].(*dns.MX).Mx != "mx.farm.example." {
			t.Errorf("%s: MX answer %v", n, m)
		}
		m = askDNS(t, d, n, "army.ml.", dns.TypeAAAA)
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || len(m.Ns) != 1 {
			t.Errorf("%s: a type the name lacks: %v, want NOERROR, no answer, an SOA", n, m)
		}
		m = askDNS(t, d, n, "bank-army.ml.", dns.TypeMX)
		if m.Rcode != dns.RcodeNameError || len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != dns.TypeSOA {
			t.Errorf("%s: unknown name: %v, want NXDOMAIN with an SOA", n, m)
		}
	}
	if got := d.Queries(); got != 6 {
		t.Errorf("Queries = %d, want 6", got)
	}
}

func TestDNSSetZoneReplacesTheRecords(t *testing.T) {
	d := StartDNS(t, DNSOptions{Zone: "known.example. 300 IN MX 10 mx1.example.\n"})
	if err := d.SetZone("known.example. 300 IN MX 10 mx2.farm.example.\n"); err != nil {
		t.Fatal(err)
	}
	if m := askDNS(t, d, "udp", "known.example.", dns.TypeMX); len(m.Answer) != 1 || m.Answer[0].(*dns.MX).Mx != "mx2.farm.example." {
		t.Errorf("after SetZone: %v", m)
	}
	if err := d.SetZone("known.example. 300 IN MX ten\n"); err == nil {
		t.Error("a zone that does not parse was accepted")
	}
}

func TestDNSFailures(t *testing.T) {
	d := StartDNS(t, DNSOptions{ServFail: []string{"broken.example"}, Drop: []string{"Slow.Example"}, TruncateUDP: true, AnswerAll: true})
	if m := askDNS(t, d, "udp", "broken.example.", dns.TypeMX); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("ServFail name: rcode %s", dns.RcodeToString[m.Rcode])
	}
	if m := askDNS(t, d, "udp", "any.example.", dns.TypeMX); !m.Truncated || len(m.Answer) != 0 {
		t.Errorf("TruncateUDP: %v", m)
	}
	if m := askDNS(t, d, "tcp", "any.example.", dns.TypeMX); m.Truncated || len(m.Answer) != 1 {
		t.Errorf("AnswerAll over TCP: %v", m)
	}
	q := new(dns.Msg)
	q.SetQuestion("slow.example.", dns.TypeA)
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	if _, _, err := c.Exchange(q, d.Addr()); err == nil {
		t.Error("a Drop name was answered")
	}
	if got := d.Queries(); got != 4 {
		t.Errorf("Queries = %d, want 4 (the dropped one counts)", got)
	}
}
