package policyd

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/panics"
)

// shutdownAction answers a request that starts while the server shuts down.
const shutdownAction = "DEFER_IF_PERMIT Service temporarily unavailable"

// conn is one persistent connection from a Postfix smtpd process. Postfix sends one
// request at a time and waits for its answer.
type conn struct {
	srv  *Server
	nc   net.Conn
	br   *bufio.Reader
	log  *slog.Logger
	peer string // the Postfix host: with the instance, the key of a transaction
	out  []byte

	active bool // reading or answering a request; guarded by srv.mu

	// lastKey is the transaction this connection last recorded a recipient of. One
	// smtpd process runs one transaction at a time, so a new instance on the same
	// connection means the previous transaction ended (RSET, QUIT, a rejected DATA).
	lastKey string
	// budget is the DNS time (live evidence) of the transaction budgetKey, shared by its
	// recipients: a new instance starts a new one.
	budget    *guard.Budget
	budgetKey string
}

func newConn(s *Server, nc net.Conn) *conn {
	peer := nc.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(peer); err == nil {
		peer = host
	}
	return &conn{
		srv:  s,
		nc:   nc,
		br:   bufio.NewReaderSize(nc, 8192),
		log:  s.log.With("conn", s.nextID.Add(1)),
		peer: peer,
	}
}

func (c *conn) serve() {
	defer func() {
		if p := recover(); p != nil {
			panics.Report(c.log, "policy", p, c.srv.Panicked)
		}
		c.nc.Close()
		c.srv.untrack(c)
	}()
	for {
		if c.idle() {
			if _, err := c.br.Peek(1); err != nil {
				c.logEnd(err)
				return
			}
		} else if c.br.Buffered() == 0 {
			return // shutting down, and no next request has begun
		}
		draining := !c.begin()
		req, err := ReadRequest(c.br)
		if err != nil {
			c.log.Warn("policy request unreadable; closing the connection", "err", err)
			return
		}
		action := shutdownAction
		if draining {
			c.log.Info("policy service shutting down; deferred a request", "instance", req.Instance(), "protocol_state", req.ProtocolState())
		} else if action = c.srv.handle(c, req); action == "" {
			return
		}
		c.out = append(append(append(c.out[:0], "action="...), action...), "\n\n"...)
		if err := c.nc.SetWriteDeadline(time.Now().Add(orDefault(c.srv.WriteTimeout, DefaultWriteTimeout))); err != nil {
			return
		}
		if _, err := c.nc.Write(c.out); err != nil {
			c.log.Warn("policy answer not sent; closing the connection", "err", err)
			return
		}
		if draining {
			return
		}
	}
}

// idle marks the connection as waiting for a request, unless the server is closing. The
// deadline is set under the server's lock so that Shutdown's wake-up is never undone.
func (c *conn) idle() bool {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	c.active = false
	return c.nc.SetReadDeadline(time.Now().Add(orDefault(s.IdleTimeout, DefaultIdleTimeout))) == nil
}

// begin marks the connection as busy with a request whose first byte has arrived, and
// reports whether the server is still running (false: the request is deferred).
func (c *conn) begin() bool {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	c.active = true
	_ = c.nc.SetReadDeadline(time.Now().Add(orDefault(s.ReadTimeout, DefaultReadTimeout)))
	return !s.closing
}

// wakeIfIdleLocked ends the wait for the next request of an idle connection. The caller
// holds srv.mu.
func (c *conn) wakeIfIdleLocked() {
	if !c.active {
		_ = c.nc.SetReadDeadline(time.Unix(1, 0))
	}
}

func (c *conn) logEnd(err error) {
	switch {
	case errors.Is(err, io.EOF):
		c.log.Debug("policy connection closed by Postfix")
	case errors.Is(err, os.ErrDeadlineExceeded) && c.srv.shuttingDown():
		c.log.Debug("policy connection closed: shutting down")
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.log.Debug("policy connection closed: idle timeout")
	case errors.Is(err, net.ErrClosed):
		c.log.Debug("policy connection closed")
	default:
		c.log.Warn("policy connection failed", "err", err)
	}
}

// key is the transaction key of instance on this connection's Postfix host.
func (c *conn) key(instance string) string { return c.peer + " " + instance }
