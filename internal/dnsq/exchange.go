package dnsq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/miekg/dns"
)

// ednsSize is the UDP payload size offered (the DNS flag day 2020 value): answers larger
// than this come back truncated and are asked again over TCP.
const ednsSize = 1232

// The kinds of failure, for errors.Is on Facts.Err.
var (
	ErrTimeout     = errors.New("timeout")
	ErrServFail    = errors.New("SERVFAIL")
	ErrUnreachable = errors.New("resolver cannot be reached")
)

// askError is a question that got no usable answer after every attempt.
type askError struct {
	server   string // the last resolver asked
	kind     error  // ErrTimeout, ErrServFail, ErrUnreachable or nil
	detail   error  // the last error or answer code
	attempts int
}

func (e *askError) Error() string {
	switch e.kind {
	case ErrTimeout, ErrServFail:
		return fmt.Sprintf("dns: %s: %v after %d attempts", e.server, e.kind, e.attempts)
	case ErrUnreachable:
		return fmt.Sprintf("dns: resolver %s cannot be reached (%v) after %d attempts", e.server, e.detail, e.attempts)
	}
	return fmt.Sprintf("dns: %s: %v after %d attempts", e.server, e.detail, e.attempts)
}

func (e *askError) Unwrap() []error { return []error{e.kind, e.detail} }

// ask sends one question, over UDP then TCP when the answer is truncated, and without EDNS
// to a server that refuses it, to the servers in turn (the first one first), up to r.attempts times while the answer is a timeout,
// SERVFAIL, another error code or a network error. The answer it returns is NOERROR or
// NXDOMAIN for exactly that question.
func (r *Resolver) ask(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.SetEdns0(ednsSize, false)
	last := &askError{}
	for a := range r.attempts {
		if a > 0 {
			r.counts.retries.Add(1)
		}
		q.Id = dns.Id() // a new random ID for every attempt, as for a new question
		server := r.servers[a%len(r.servers)]
		last.server, last.attempts = server, a+1
		reply, err := r.sendUDPThenTCP(ctx, q, server)
		if err == nil && ednsRefused(reply) {
			// A server from before EDNS (RFC 6891 section 7): the same question without it.
			r.counts.noEDNS.Add(1)
			plain := q.Copy()
			plain.Extra = nil
			reply, err = r.sendUDPThenTCP(ctx, plain, server)
		}
		if ctx.Err() != nil {
			return nil, ctxErr(name, ctx.Err())
		}
		var ne net.Error
		switch {
		case err != nil && errors.As(err, &ne) && ne.Timeout():
			r.counts.timeouts.Add(1)
			last.kind, last.detail = ErrTimeout, err
		case err != nil && unreachable(err):
			last.kind, last.detail = ErrUnreachable, cause(err)
		case err != nil:
			last.kind, last.detail = nil, err
		case !sameQuestion(q, reply):
			last.kind, last.detail = nil, errors.New("the answer is for another question")
		case reply.Rcode == dns.RcodeSuccess || reply.Rcode == dns.RcodeNameError:
			return reply, nil
		case reply.Rcode == dns.RcodeServerFailure:
			r.counts.servFails.Add(1)
			last.kind, last.detail = ErrServFail, nil
		default:
			last.kind, last.detail = nil, fmt.Errorf("answer %s", rcodeName(reply.Rcode))
		}
	}
	return nil, last
}

// sendUDPThenTCP asks once over UDP, and again over TCP when the answer is truncated.
func (r *Resolver) sendUDPThenTCP(ctx context.Context, q *dns.Msg, server string) (*dns.Msg, error) {
	reply, err := r.send(ctx, false, q, server)
	if err == nil && reply.Truncated {
		r.counts.tcpFallbacks.Add(1)
		reply, err = r.send(ctx, true, q, server)
	}
	return reply, err
}

// ednsRefused reports whether reply is a server's refusal of the EDNS OPT record every
// question carries: FORMERR or NOTIMP without an OPT record of its own.
func ednsRefused(reply *dns.Msg) bool {
	return (reply.Rcode == dns.RcodeFormatError || reply.Rcode == dns.RcodeNotImplemented) && reply.IsEdns0() == nil
}

// send waits for the rate limiter and asks once, over UDP (a pooled socket) or TCP (a new
// connection).
func (r *Resolver) send(ctx context.Context, tcp bool, q *dns.Msg, server string) (*dns.Msg, error) {
	if err := r.limit.wait(ctx); err != nil {
		return nil, err
	}
	r.counts.queries.Add(1)
	if !tcp {
		return r.pools[server].exchange(ctx, r.udp, q, server)
	}
	co, err := r.tcp.DialContext(ctx, server)
	if err != nil {
		return nil, err
	}
	defer co.Close()
	return exchangeOn(ctx, r.tcp, q, co)
}

func sameQuestion(q, reply *dns.Msg) bool {
	if reply == nil || len(reply.Question) != 1 {
		return false
	}
	a, b := q.Question[0], reply.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && dns.CanonicalName(a.Name) == dns.CanonicalName(b.Name)
}

// unreachable reports whether err says nothing listens there (an ICMP port or host
// unreachable, a refused TCP connection) rather than that the answer was late.
func unreachable(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL)
}

// cause is the system error inside a network error ("connection refused"), without the
// addresses net.OpError repeats.
func cause(err error) error {
	var se syscall.Errno
	if errors.As(err, &se) {
		return se
	}
	return err
}
