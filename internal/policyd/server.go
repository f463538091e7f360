package policyd

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("policyd: server closed")

// Defaults for the zero fields of Server.
const (
	DefaultReadTimeout  = 10 * time.Second
	DefaultWriteTimeout = 10 * time.Second
	// DefaultIdleTimeout is longer than Postfix's smtpd_policy_service_max_idle (300 s), so
	// that Postfix, not rcptguard, closes idle connections.
	DefaultIdleTimeout     = 10 * time.Minute
	DefaultMaxConns        = 1000
	DefaultMaxTransactions = 10000
	DefaultMaxRecipients   = 1000 // Postfix's smtpd_recipient_limit
)

// Server answers Postfix policy requests on persistent connections. Set its fields, then
// call Serve; do not change them afterwards. The zero value of every field but Guard is
// usable.
type Server struct {
	// Guard holds the guard to ask. While it holds none, every RCPT and END-OF-MESSAGE
	// request is logged and its connection closed: Postfix then applies its
	// default_action (or answers 451 4.3.5), so mail waits and nothing leaks.
	Guard *guard.Current
	// Logger gets one line per decision (allowed recipients at Debug level, the others
	// at Info) and the protocol errors. Nil: no logging.
	Logger *slog.Logger

	ReadTimeout  time.Duration // to read a request once its first byte arrived
	WriteTimeout time.Duration // to write an answer
	IdleTimeout  time.Duration // to wait for the next request on a connection
	MaxConns     int           // connections at once; more are closed at once

	// MaxTransactions bounds the mail transactions remembered between RCPT and
	// END-OF-MESSAGE over all connections, and 10 × MaxTransactions the recipients they
	// hold; the least recently used transaction is forgotten first, and its message is
	// deferred at END-OF-MESSAGE. A transaction is also forgotten at its END-OF-MESSAGE
	// and when the next one starts on its connection. MaxRecipients bounds the distinct
	// recipients of one transaction; more are answered 452 4.5.3, and the client sends
	// them in another transaction.
	MaxTransactions int
	MaxRecipients   int

	// Filter, when set, is the "transport:destination" of rcptguard's quarantine intake
	// (package intake), e.g. "smtp:[127.0.0.1]:10026": a message to hold is then accepted
	// at END-OF-MESSAGE with "FILTER " + Filter, and Postfix hands it to the intake after
	// queueing it, instead of refusing it. Before answering FILTER the server records the
	// hand-over (sender, SASL user, client, the decisions made at RCPT) in Handovers, keyed
	// by the queue ID; when that fails it answers 451 4.3.0 instead (never FILTER without
	// a record). It must pass ValidFilter, and needs Handovers. Empty: a message to hold
	// is refused (550 5.7.1).
	Filter string
	// ContentRules, when set with Filter, are the content rules the intake applies: a
	// message whose content could change its decision (a recipient warned, or an
	// on_any_external rule) goes to the intake too, which reads it and holds it or
	// hands it back (docs/content.md). nil: content rules are off.
	ContentRules *guard.ContentRules
	Handovers    Handovers

	// Observe, when set, is called after every decision, for metrics. It must be quick
	// and safe for concurrent use.
	Observe func(Event)
	// Finished, if set, is called once per message at END-OF-MESSAGE with its check
	// state (the daemon's history learns from it); it must not block.
	Finished func(guard.Transaction)
	// Panicked, when set, is called after a panic in a connection's goroutine was
	// recovered: the panic is logged with its stack and that connection closed (Postfix
	// retries, then applies its default_action), and the server goes on.
	Panicked func()

	initOnce sync.Once
	txns     *txnTable
	log      *slog.Logger
	nextID   atomic.Uint64
	sawEOM   atomic.Bool // an END-OF-MESSAGE request has arrived

	mu        sync.Mutex
	closing   bool
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	gone      chan struct{} // closed when closing and no connection is left
}

// Event describes one decision, for metrics.
type Event struct {
	Stage     string         // "rcpt" or "eom"
	Verdict   guard.Verdict  // the guard's verdict, before monitor mode
	Monitor   bool           // the verdict was only recorded (policy monitor mode)
	TempFail  bool           // answered with a temporary error instead (state lost, too many recipients, no hand-over)
	Duration  time.Duration  // from the request read to the answer decided
	Recipient string         // at "rcpt"
	Sender    string         // at "rcpt": the sender, as Postfix gave it
	Decision  guard.Decision // at "rcpt": the guard's decision for Recipient
	// HandoverFailed: at "eom", the hand-over to the intake could not be recorded (the
	// answer was a temporary failure instead of FILTER).
	HandoverFailed bool
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.log = s.Logger
		if s.log == nil {
			s.log = slog.New(slog.DiscardHandler)
		}
		s.log = s.log.With("adapter", "policy")
		s.txns = newTxnTable(orDefault(s.MaxTransactions, DefaultMaxTransactions),
			orDefault(s.MaxRecipients, DefaultMaxRecipients),
			orDefault(s.MaxTransactions, DefaultMaxTransactions)*10)
	})
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Serve accepts connections on l and answers their requests until Shutdown or Close, and
// then returns ErrServerClosed. It closes l when it returns.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	defer l.Close()
	if s.Filter != "" {
		if err := ValidFilter(s.Filter); err != nil {
			return err
		}
		if s.Handovers == nil {
			return errors.New("policyd: Filter needs Handovers, to record what the intake is to hold")
		}
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = map[net.Listener]struct{}{}
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()

	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.shuttingDown() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of file descriptors and the like: wait and try again, as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("policy service cannot accept a connection; retrying", "err", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if c := s.track(nc); c != nil {
			go c.serve()
		}
	}
}

func (s *Server) shuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// track registers a new connection, or closes it when the server is closing or full.
func (s *Server) track(nc net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		nc.Close()
		return nil
	}
	if n := orDefault(s.MaxConns, DefaultMaxConns); len(s.conns) >= n {
		nc.Close()
		s.log.Warn("policy service has too many connections; closed a new one (Postfix retries, then applies its default_action)",
			"remote", nc.RemoteAddr().String(), "max_conns", n)
		return nil
	}
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	return c
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if s.gone != nil && len(s.conns) == 0 {
		select {
		case <-s.gone:
		default:
			close(s.gone)
		}
	}
}

// Shutdown stops the server in two phases. First it stops accepting connections, closes
// the idle ones, lets the requests in progress be answered, answers a request that starts
// after this point with DEFER_IF_PERMIT, and closes every connection once it has
// answered. It returns when no connection is left. If ctx ends first, the second phase
// closes the connections left, requests in progress included, and Shutdown returns
// ctx.Err(): Postfix applies its default_action to those.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	s.closing = true
	err := s.closeListenersLocked()
	for c := range s.conns {
		c.wakeIfIdleLocked()
	}
	if s.gone == nil {
		s.gone = make(chan struct{})
		if len(s.conns) == 0 {
			close(s.gone)
		}
	}
	gone := s.gone
	s.mu.Unlock()

	select {
	case <-gone:
		return err
	case <-ctx.Done():
		s.closeConns()
		return ctx.Err()
	}
}

// Close stops accepting connections and closes every connection at once, requests in
// progress included. Prefer Shutdown.
func (s *Server) Close() error {
	s.init()
	s.mu.Lock()
	s.closing = true
	err := s.closeListenersLocked()
	s.mu.Unlock()
	s.closeConns()
	return err
}

func (s *Server) closeListenersLocked() error {
	var err error
	for l := range s.listeners {
		if e := l.Close(); e != nil && !errors.Is(e, net.ErrClosed) && err == nil {
			err = e
		}
	}
	return err
}

func (s *Server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.nc.Close()
	}
}
