package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/crypto/bcrypt"

	classifier "github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/ratelimit"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/spool"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("relay: server closed")

// Defaults for the zero values of Server's limits.
const (
	DefaultReadTimeout     = 5 * time.Minute // RFC 5321 4.5.3.2.7
	DefaultWriteTimeout    = time.Minute
	DefaultUpstreamTimeout = 2 * time.Minute
	DefaultBareLFTimeout   = time.Second
	DefaultMaxMessageBytes = 25 << 20
	DefaultMaxRecipients   = 1000 // as Postfix's smtpd_recipient_limit
	DefaultAuthMaxFailures = 5
	DefaultAuthWindow      = 15 * time.Minute
)

// Server is the relay. Set its fields, then call Serve; do not change them afterwards.
type Server struct {
	// Guard decides about recipients; a nil guard inside makes every RCPT fail
	// temporarily (451 4.3.0).
	Guard *guard.Current

	// Upstream is the SMTP server that mail is handed to, with its TLS mode and AUTH;
	// its Hostname, if empty, is the relay's.
	Upstream smtpout.Destination
	// UpstreamTimeout bounds the dial, each command and each write to the upstream, and
	// the wait for its answer to the message, unless Upstream.Timeout is set.
	UpstreamTimeout time.Duration

	// Hostname is the relay's name in its greeting, EHLO and Received headers; default
	// os.Hostname.
	Hostname string
	// Logger gets one line per decision; nil: slog.Default().
	Logger *slog.Logger

	// ReadTimeout bounds the wait for each command and, during DATA, for each part of
	// the message; WriteTimeout bounds each reply.
	ReadTimeout, WriteTimeout time.Duration
	// BareLFTimeout is how long a client may pause right after a bare LF form of the
	// end-of-data marker before the relay takes it as waiting for a reply (see the
	// package comment).
	BareLFTimeout time.Duration
	// MaxMessageBytes (SIZE, 552 5.3.4) and MaxRecipients (452 4.5.3) limit a message.
	MaxMessageBytes int64
	MaxRecipients   int

	// AllowedNetworks may relay without authentication.
	AllowedNetworks []netip.Prefix
	// Users may relay after AUTH PLAIN: user name to bcrypt hash.
	Users map[string]string
	// AllowInsecureAuth offers AUTH without TLS (tests, loopback).
	AllowInsecureAuth bool
	// TLSConfig enables STARTTLS for clients.
	TLSConfig *tls.Config
	// AuthMaxFailures failed AUTH attempts from one client address (an IPv6 client's
	// /64) or for one user name within AuthWindow, over any number of connections, make
	// AUTH answer 454 4.7.0 to that client or for that user until the window has passed,
	// even with the right password. Zero values: DefaultAuthMaxFailures and
	// DefaultAuthWindow.
	AuthMaxFailures int
	AuthWindow      time.Duration
	// AuthAttempts, if set, is where failed AUTH attempts are counted instead of this
	// process's memory: the database the nodes share (session.Postgres).
	AuthAttempts ratelimit.Attempts
	// AuthFailed, if set, is called once per failed AUTH attempt with the reason:
	// "bad_credentials" or "limited" (refused by the limit above). It must not block.
	AuthFailed func(reason string)
	// Now is the clock of the AUTH limit; nil: time.Now.
	Now func() time.Time

	// Spool keeps a message that must be read in full (BDAT, a message to hold) in memory
	// up to its threshold and in a file beyond it; nil: spool.Temp().
	Spool *spool.Dir
	// Content, when set, classifies every message before it is relayed (content.go):
	// the relay then reads each message in full (spooled) first, and applies
	// ContentRules to the recipients' decisions. Nil: no content rules.
	Content      *classifier.Classifier
	ContentRules guard.ContentRules

	// Holder, if set, holds messages in rcptguard's quarantine: a message with a held
	// recipient is read in full (at most MaxMessageBytes), handed to Holder.Hold behind
	// the trace header this hop would add when forwarding it, and answered 250 only after
	// Hold returned; it never reaches the upstream. When Hold returns
	// held.ErrConfirmed the message is forwarded as if allowed; any other error is
	// answered 451 4.3.0 and the client keeps the mail. With a Holder, held recipients
	// are also given to the upstream at RCPT, so the upstream's refusals reach the client
	// there. Nil: a message with a held recipient is refused at the end of DATA.
	Holder held.Holder

	// Observe, if set, is called once per transaction that reached a decision, with what
	// was logged. It must not block.
	Observe func(Event)
	// Finished, if set, is called with the same transactions' check state (the daemon's
	// history learns from it).
	Finished func(guard.Transaction)
	// Panicked, when set, is called after a panic while serving a connection was
	// recovered (go-smtp answers 421 and closes that connection, logging the stack).
	Panicked func()

	initOnce  sync.Once
	initErr   error
	log       atomic.Pointer[slog.Logger] // Logger labelled with the adapter's name, once
	srv       *smtp.Server
	dummyHash []byte
	authLimit *ratelimit.Limiter
	// upstreamNow is the upstream SetUpstream put in force, nil for Upstream.
	upstreamNow atomic.Pointer[smtpout.Destination]

	closing  atomic.Bool // Shutdown or Close called: Serve returns ErrServerClosed
	draining atomic.Bool // new transactions get 421
	closed   bool        // connections closed: no new upstream connections; under mu

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*clientConn]struct{}
	upConns   map[net.Conn]struct{}
}

func (s *Server) init() error {
	s.initOnce.Do(func() { s.initErr = s.setup() })
	return s.initErr
}

func (s *Server) setup() error {
	s.log.Store(s.logger().With("adapter", "relay"))
	if s.Guard == nil {
		return errors.New("relay: Guard is not set")
	}
	if err := s.Upstream.Check(); err != nil {
		return fmt.Errorf("relay: Upstream: %w", err)
	}
	cost := bcrypt.MinCost
	for u, h := range s.Users {
		c, err := bcrypt.Cost([]byte(h))
		if err != nil {
			return fmt.Errorf("relay: Users[%q]: not a bcrypt hash: %w", u, err)
		}
		cost = c
	}
	if len(s.Users) > 0 {
		// Unknown users are checked against this hash, so that the answer takes as long
		// as for a known user with a wrong password.
		h, err := bcrypt.GenerateFromPassword([]byte(newID()+newID()), cost)
		if err != nil {
			return err
		}
		s.dummyHash = h
	}
	s.authLimit = ratelimit.New(orDefault(s.AuthMaxFailures, DefaultAuthMaxFailures),
		orDefault(s.AuthWindow, DefaultAuthWindow), s.knownUser(s.Users))
	if s.AuthAttempts != nil {
		s.authLimit.Share("relay-auth", s.AuthAttempts)
	}
	if s.Spool == nil {
		s.Spool = spool.Temp()
	}
	if s.Hostname == "" {
		s.Hostname, _ = os.Hostname()
		if s.Hostname == "" {
			s.Hostname = "localhost"
		}
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = s.Hostname
	srv.ReadTimeout = orDefault(s.ReadTimeout, DefaultReadTimeout)
	srv.WriteTimeout = orDefault(s.WriteTimeout, DefaultWriteTimeout)
	srv.MaxMessageBytes = orDefault(s.MaxMessageBytes, DefaultMaxMessageBytes)
	srv.MaxRecipients = orDefault(s.MaxRecipients, DefaultMaxRecipients)
	srv.AllowInsecureAuth = s.AllowInsecureAuth
	srv.TLSConfig = s.TLSConfig
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = ServerLog{Logger: s.logger, Panicked: func() {
		if s.Panicked != nil {
			s.Panicked()
		}
	}}
	s.srv = srv
	s.listeners = map[net.Listener]struct{}{}
	s.conns = map[*clientConn]struct{}{}
	s.upConns = map[net.Conn]struct{}{}
	return nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (s *Server) logger() *slog.Logger {
	if l := s.log.Load(); l != nil {
		return l
	}
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) readTimeout() time.Duration { return s.srv.ReadTimeout }
func (s *Server) writeTimeout() time.Duration {
	return s.srv.WriteTimeout
}
func (s *Server) upstreamTimeout() time.Duration {
	return orDefault(s.UpstreamTimeout, DefaultUpstreamTimeout)
}
func (s *Server) bareLFTimeout() time.Duration {
	return orDefault(s.BareLFTimeout, DefaultBareLFTimeout)
}

// Serve accepts connections on l (plain TCP; TLS comes by STARTTLS) until Shutdown or
// Close, and then returns ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	if err := s.init(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	err := s.srv.Serve(&listener{Listener: l, srv: s})
	if s.closing.Load() {
		return ErrServerClosed
	}
	return err
}

// Shutdown stops the server in two phases. First it closes the listeners, answers every
// new MAIL FROM with 421 4.3.2 and closes connections as soon as they are between
// transactions, while transactions in progress go on. When ctx ends before every
// connection is gone, it closes the rest at once, as Close does, and returns ctx.Err():
// their clients get no 250, so they keep their mail.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.init(); err != nil {
		return err
	}
	s.draining.Store(true)
	s.closing.Store(true)
	err := s.closeListeners()
	wait := time.Millisecond
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		if s.pokeIdle() == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			s.closeConns()
			return ctx.Err()
		case <-timer.C:
			// As net/http: poll, quickly at first.
			wait = min(2*wait, 100*time.Millisecond)
			timer.Reset(wait)
		}
	}
}

// Close closes the listeners, every client connection and every upstream connection at
// once. Messages in flight are lost to nobody: their clients got no 250.
func (s *Server) Close() error {
	if err := s.init(); err != nil {
		return err
	}
	s.draining.Store(true)
	s.closing.Store(true)
	err := s.closeListeners()
	s.closeConns()
	return err
}

func (s *Server) closeListeners() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	for l := range s.listeners {
		if e := l.Close(); e != nil && !errors.Is(e, net.ErrClosed) && err == nil {
			err = e
		}
		delete(s.listeners, l)
	}
	return err
}

func (s *Server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for c := range s.conns {
		c.Conn.Close()
	}
	for c := range s.upConns {
		c.Close()
	}
}

// pokeIdle wakes every connection that is between transactions, so that go-smtp answers
// it 421 and closes it, and returns the number of client connections still open.
func (s *Server) pokeIdle() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if !c.busy.Load() {
			c.Conn.SetReadDeadline(time.Now())
		}
	}
	return len(s.conns)
}

// listener registers every accepted connection.
type listener struct {
	net.Listener
	srv *Server
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &clientConn{Conn: c, srv: l.srv, id: newID()}
	if addr, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		cc.addr = addr.AddrPort().Addr().Unmap()
	}
	s := l.srv
	s.mu.Lock()
	s.conns[cc] = struct{}{}
	closing := s.closing.Load()
	s.mu.Unlock()
	if closing {
		cc.Close()
	}
	return cc, nil
}

// clientConn is a client's TCP connection, under any TLS.
type clientConn struct {
	net.Conn
	srv  *Server
	id   string
	addr netip.Addr // invalid when not TCP
	busy atomic.Bool
	once sync.Once
}

func (c *clientConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.srv.mu.Lock()
		delete(c.srv.conns, c)
		c.srv.mu.Unlock()
	})
	return err
}

// clientConnOf finds the clientConn under a session's connection.
func clientConnOf(nc net.Conn) *clientConn {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	cc, _ := nc.(*clientConn)
	return cc
}

func (s *Server) trackUpstream(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.upConns[c] = struct{}{}
	return true
}

func (s *Server) untrackUpstream(c net.Conn) {
	s.mu.Lock()
	delete(s.upConns, c)
	s.mu.Unlock()
}

func (s *Server) allowed(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range s.AllowedNetworks {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ServerLog hands a go-smtp server's internal errors (smtp.Server.ErrorLog) to a logger:
// the relay's and the quarantine intake's. A panic go-smtp recovered is logged as an error
// and reported to Panicked (nil: not reported), except go-smtp's BDAT race.
type ServerLog struct {
	Logger   func() *slog.Logger
	Panicked func()
}

// Printf implements smtp.Logger.
func (e ServerLog) Printf(format string, v ...any) {
	if strings.HasPrefix(format, "panic serving") { // go-smtp recovered a panic
		if bdatAfterClose(v) {
			e.Logger().Debug("go-smtp: a BDAT chunk's goroutine started after its connection closed (a go-smtp race; nothing was lost)")
			return
		}
		e.Logger().Error("panic while serving a connection; closed it, the daemon goes on", "panic", fmt.Sprintf(format, v...))
		if e.Panicked != nil {
			e.Panicked()
		}
		return
	}
	e.Logger().Warn(fmt.Sprintf(format, v...))
}

// bdatAfterClose recognises the panic of a go-smtp race (v0.25.1 and v0.26.0): the
// goroutine that feeds a BDAT message to Data calls Conn.Session() when it starts, and
// when the connection has closed by then (a chunk of 0 bytes, or one cut short, followed
// by the client's end) the session is nil. The connection is over, the message never
// began: it is no fault of rcptguard's and is not counted as a panic. v are the
// arguments of go-smtp's "panic serving %v: %v\n%s" (address, value, stack).
func bdatAfterClose(v []any) bool {
	if len(v) != 3 {
		return false
	}
	value, stack := fmt.Sprint(v[1]), fmt.Sprintf("%s", v[2]) // the stack is a []byte
	return strings.Contains(value, "nil pointer dereference") && strings.Contains(stack, ").handleBdat.func")
}

// Println implements smtp.Logger.
func (e ServerLog) Println(v ...any) {
	e.Logger().Warn(fmt.Sprint(v...))
}
