package dnsq

import (
	"context"
	"time"

	"github.com/miekg/dns"
)

const (
	// poolSize is how many idle UDP sockets are kept per resolver.
	poolSize = 256
	// maxUses is how many questions one UDP socket asks before it is closed, so that the
	// source port keeps changing (an off-path forger must still guess it, RFC 5452).
	maxUses = 64
)

// udpPool keeps connected UDP sockets to one resolver between questions: opening and
// closing a socket per question cost half the time of a lookup. A socket goes back to the
// pool only after a clean exchange; after a timeout or any error it is closed, so a late
// answer can never be read as the answer to a later question.
type udpPool struct {
	idle chan *pooledConn
}

type pooledConn struct {
	*dns.Conn
	uses int
}

func newPool() *udpPool { return &udpPool{idle: make(chan *pooledConn, poolSize)} }

// exchange asks q over UDP with a socket from the pool, or a new one.
func (p *udpPool) exchange(ctx context.Context, c *dns.Client, q *dns.Msg, server string) (*dns.Msg, error) {
	var pc *pooledConn
	select {
	case pc = <-p.idle:
	default:
		co, err := c.DialContext(ctx, server)
		if err != nil {
			return nil, err
		}
		pc = &pooledConn{Conn: co}
	}
	reply, err := exchangeOn(ctx, c, q, pc.Conn)
	pc.uses++
	if err != nil || ctx.Err() != nil || pc.uses >= maxUses {
		pc.Close()
		return reply, err
	}
	select {
	case p.idle <- pc:
	default:
		pc.Close()
	}
	return reply, err
}

// exchangeOn asks q on co and stops waiting when ctx ends, not only at its deadline (the
// library watches the deadline alone): a cancelled squat run does not wait for timeouts.
func exchangeOn(ctx context.Context, c *dns.Client, q *dns.Msg, co *dns.Conn) (*dns.Msg, error) {
	stop := context.AfterFunc(ctx, func() { co.SetDeadline(time.Now()) })
	reply, _, err := c.ExchangeWithConnContext(ctx, q, co)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	return reply, err
}
