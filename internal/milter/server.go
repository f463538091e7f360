package milter

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	gomilter "github.com/d--j/go-milter"

	classifier "github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/spool"
)

// ErrServerClosed is returned by Serve after Shutdown or Close. It is the library's
// error, so errors.Is works with either.
var ErrServerClosed = gomilter.ErrServerClosed

// Defaults for the zero fields of Server.
const (
	// DefaultReadTimeout bounds each wait for the MTA's next command. The MTA keeps a
	// milter connection open for a whole SMTP session and is silent while its client
	// sends the message, so this is long: longer than Postfix's smtpd_timeout (300 s)
	// and than any sane message transfer.
	DefaultReadTimeout = time.Hour
	// DefaultWriteTimeout bounds each reply to the MTA.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultHoldTimeout bounds each Holder.Hold call.
	DefaultHoldTimeout = 30 * time.Second
)

// Server answers an MTA's milter connections. Set its fields, then call Serve; do not
// change them afterwards. The zero value of every field but Guard is usable.
type Server struct {
	// Guard holds the guard to ask. A message that begins while it holds none gets a
	// temporary error at MAIL FROM, so the mail waits and nothing leaks.
	Guard *guard.Current
	// Logger gets one line per decision (allowed messages at Debug level, the others at
	// Info) and the errors. Nil: no logging.
	Logger *slog.Logger

	ReadTimeout  time.Duration // each wait for the MTA's next command; 0: DefaultReadTimeout
	WriteTimeout time.Duration // each reply; 0: DefaultWriteTimeout

	// Observe, when set, is called after every decision, from the connections'
	// goroutines. It must be quick and safe for concurrent use.
	Observe func(Event)
	// Finished, when set, is called once per message decided at its end with its check
	// state (the daemon's history learns from it); same rules as Observe.
	Finished func(guard.Transaction)
	// Panicked, when set, is called after a panic in a callback was recovered: it is
	// logged with its stack, the message gets a temporary error or the connection is
	// closed (the MTA then applies milter_default_action), and the server goes on.
	Panicked func()

	// Holder, when set, holds the messages whose enforced verdict is Hold in rcptguard's
	// quarantine: the adapter collects such a message's content, hands it to Holder and
	// tells the MTA to discard it (see the package documentation). Nil: such messages are
	// refused (SMTP) or quarantined by the MTA (without SMTP).
	Holder held.Holder
	// MaxMessageBytes bounds the content collected for Holder; a larger message to hold
	// gets a temporary error. 0: quarantine.DefaultMaxSize.
	MaxMessageBytes int64
	// HoldTimeout bounds each Holder.Hold call; 0: DefaultHoldTimeout.
	HoldTimeout time.Duration
	// Spool keeps the content collected for Holder in memory up to its threshold and in
	// a file beyond it; nil: spool.Temp().
	Spool *spool.Dir
	// Content, when set, classifies every message at its end (content.go): the
	// adapter then collects every message's content (up to MaxMessageBytes, spooled like
	// a held one) and applies ContentRules to the decision before it holds, refuses,
	// warns or accepts. Nil: no content rules.
	Content      *classifier.Classifier
	ContentRules guard.ContentRules

	initOnce sync.Once
	log      *slog.Logger

	mu       sync.Mutex
	srv      *gomilter.Server
	closed   bool
	draining atomic.Bool
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.log = s.Logger
		if s.log == nil {
			s.log = slog.New(slog.DiscardHandler)
		}
		s.log = s.log.With("adapter", "milter")
	})
}

// Events and actions the adapter negotiates without a Holder (with one: holdProtocol):
// it needs no HELO, body or unknown command events, and sends no reply to connect and
// header events. It does take the DATA event and answers it: with the DATA event skipped,
// Postfix (which sets no TCP_NODELAY on milter sockets) held the headers back for a
// delayed ACK, about 40 ms a message, and halved its throughput (scripts/bench-postfix.sh).
const (
	protocol = gomilter.OptNoHelo | gomilter.OptNoBody |
		gomilter.OptNoUnknown | gomilter.OptNoEOH | gomilter.OptNoConnReply |
		gomilter.OptNoHeaderReply
	actions = gomilter.OptAddHeader | gomilter.OptChangeHeader | gomilter.OptQuarantine
)

// Macros the adapter asks the MTA for, by stage.
var (
	connectMacros = []string{gomilter.MacroMTAVersion, gomilter.MacroMTAFQDN, gomilter.MacroDaemonName}
	mailMacros    = []string{gomilter.MacroQueueId, gomilter.MacroAuthAuthen, gomilter.MacroMailAddr}
	rcptMacros    = []string{gomilter.MacroQueueId, gomilter.MacroRcptAddr, gomilter.MacroRcptMailer}
	eomMacros     = []string{gomilter.MacroQueueId}
)

// server returns the library's server, made on first use, or nil once s is closed.
func (s *Server) server() *gomilter.Server {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if s.srv == nil {
		proto, negotiation := protocol, gomilter.NegotiationCallbackFunc(nil)
		if s.Holder != nil || s.Content != nil {
			proto, negotiation = holdProtocol|optionalProtocol, negotiate
		}
		s.srv = gomilter.NewServer(
			gomilter.WithDynamicMilter(func(_ uint32, _ gomilter.OptAction, p gomilter.OptProtocol, _ gomilter.DataSize) gomilter.Milter {
				return &session{s: s, proto: p}
			}),
			gomilter.WithProtocols(proto),
			gomilter.WithNegotiationCallback(negotiation),
			gomilter.WithActions(actions),
			gomilter.WithMacroRequest(gomilter.StageConnect, connectMacros),
			gomilter.WithMacroRequest(gomilter.StageMail, mailMacros),
			gomilter.WithMacroRequest(gomilter.StageRcpt, rcptMacros),
			gomilter.WithMacroRequest(gomilter.StageEOM, eomMacros),
			gomilter.WithReadTimeout(orDefault(s.ReadTimeout, DefaultReadTimeout)),
			gomilter.WithWriteTimeout(orDefault(s.WriteTimeout, DefaultWriteTimeout)),
		)
	}
	return s.srv
}

func orDefault(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// Serve accepts milter connections on l, each served on its own goroutine, until
// Shutdown or Close; then it returns ErrServerClosed. It closes l. Serve may be called
// for several listeners.
func (s *Server) Serve(l net.Listener) error {
	srv := s.server()
	if srv == nil {
		l.Close()
		return ErrServerClosed
	}
	err := srv.Serve(framedListener{Listener: l, onError: func(remote string, err error) {
		s.log.Warn("milter connection closed on a protocol error", "remote", remote, "err", err)
	}})
	if s.shuttingDown() || errors.Is(err, gomilter.ErrServerClosed) {
		l.Close() // the library returns without closing l when it was closed before
		return ErrServerClosed
	}
	return err
}

func (s *Server) shuttingDown() bool { return s.draining.Load() }

// closeOut marks s closed and returns the library's server, or nil if there is none.
func (s *Server) closeOut() *gomilter.Server {
	s.init()
	s.draining.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.srv
}

// Shutdown stops the server in two phases. First it closes the listeners (the MTA then
// applies its milter_default_action to new connections) and answers every message that
// begins on an open connection with a temporary error, while the messages under way are
// decided as usual; it waits until the MTA has closed every connection. When ctx ends
// first, it closes the remaining connections and returns ctx's error: the MTA then
// applies its milter_default_action to what was under way.
func (s *Server) Shutdown(ctx context.Context) error {
	srv := s.closeOut()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

// Close closes the listeners and every connection at once. The MTA applies its
// milter_default_action (tempfail, recommended) to the messages under way.
func (s *Server) Close() error {
	srv := s.closeOut()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

func (s *Server) spool() *spool.Dir {
	if s.Spool == nil {
		return spool.Temp()
	}
	return s.Spool
}

func (s *Server) maxMessageBytes() int64 {
	if s.MaxMessageBytes <= 0 {
		return quarantine.DefaultMaxSize
	}
	return s.MaxMessageBytes
}
