package dnsq

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Config says which resolvers a Resolver asks and how.
type Config struct {
	Servers  []string      // "host:port" (or an IP address: port 53); empty: SystemServers("/etc/resolv.conf")
	Timeout  time.Duration // per attempt; 0 = 2s
	Attempts int           // tries per question (timeouts, SERVFAIL); 0 = 3
	Rate     float64       // questions per second over the whole Resolver; 0 = unlimited
}

// Resolver asks recursive resolvers about domains. It is safe for concurrent use.
type Resolver struct {
	servers  []string
	timeout  time.Duration
	attempts int
	limit    *limiter
	udp, tcp *dns.Client
	pools    map[string]*udpPool // by server, made in New, read only after
	counts   counters
}

// New checks c and makes a Resolver. Nothing is sent yet.
func New(c Config) (*Resolver, error) {
	servers := c.Servers
	if len(servers) == 0 {
		sys, err := SystemServers("/etc/resolv.conf")
		if err != nil {
			return nil, err
		}
		servers = sys
	}
	r := &Resolver{timeout: c.Timeout, attempts: c.Attempts}
	for _, s := range servers {
		a, err := serverAddr(s)
		if err != nil {
			return nil, err
		}
		r.servers = append(r.servers, a)
	}
	switch {
	case c.Timeout < 0:
		return nil, fmt.Errorf("dns: timeout %v is negative", c.Timeout)
	case c.Timeout == 0:
		r.timeout = 2 * time.Second
	}
	switch {
	case c.Attempts < 0:
		return nil, fmt.Errorf("dns: attempts %d is negative", c.Attempts)
	case c.Attempts == 0:
		r.attempts = 3
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) {
		return nil, fmt.Errorf("dns: rate %v is not a number of questions per second", c.Rate)
	}
	r.limit = newLimiter(c.Rate)
	r.pools = map[string]*udpPool{}
	for _, s := range r.servers {
		r.pools[s] = newPool()
	}
	r.udp = &dns.Client{Net: "udp", Timeout: r.timeout, UDPSize: ednsSize}
	r.tcp = &dns.Client{Net: "tcp", Timeout: r.timeout}
	return r, nil
}

// Lookup asks what domain is: its MX first (which also says whether the name exists), then,
// when it exists, its NS, A and AAAA at once. A failure of any of them gives Status Unknown
// and Err (errors.Is ErrTimeout, ErrServFail, ErrUnreachable, or the context's error), never
// a guess from half the answers. domain is ASCII (A-labels), with or without the final dot,
// in any case.
func (r *Resolver) Lookup(ctx context.Context, domain string) Facts {
	name, ok := normDomain(domain)
	if !ok {
		return Facts{Domain: name, Err: fmt.Errorf("dns: %q is not a domain name in ASCII (A-labels)", cut(domain))}
	}
	mx, err := r.ask(ctx, name, dns.TypeMX)
	if err != nil {
		return Facts{Domain: name, Err: err}
	}
	replies := map[uint16]*dns.Msg{dns.TypeMX: mx}
	if mx.Rcode == dns.RcodeSuccess {
		rest := []uint16{dns.TypeNS, dns.TypeA, dns.TypeAAAA}
		msgs := make([]*dns.Msg, len(rest))
		errs := make([]error, len(rest))
		var wg sync.WaitGroup
		for i, qtype := range rest {
			wg.Go(func() { msgs[i], errs[i] = r.ask(ctx, name, qtype) })
		}
		wg.Wait()
		if err := firstErr(errs); err != nil {
			return Facts{Domain: name, Err: err}
		}
		for i, qtype := range rest {
			replies[qtype] = msgs[i]
		}
	}
	return build(name, replies)
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// ctxErr is why a lookup stopped before an answer: the caller's context ended.
func ctxErr(name string, err error) error {
	return fmt.Errorf("dns: lookup of %s stopped: %w", name, err)
}
