package intake

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/relay"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/spool"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("intake: server closed")

// Defaults for the zero fields of Server.
const (
	DefaultMaxMessageBytes = 25 << 20
	DefaultMaxRecipients   = 1000 // Postfix's smtpd_recipient_limit
	DefaultReadTimeout     = 5 * time.Minute
	DefaultWriteTimeout    = time.Minute
	// DefaultReinjectTimeout bounds one hand-back to the re-injection service.
	DefaultReinjectTimeout = 2 * time.Minute
	// HoldTimeout bounds the hand-over's lookup and the hold of one message.
	HoldTimeout = 30 * time.Second
	// PurgeEvery is how often the hand-overs older than quarantine.HandoverKeep go.
	PurgeEvery = time.Hour
)

// Server is the intake. Set its fields, then call Serve; do not change them afterwards.
type Server struct {
	// Handovers has the policy service's hand-overs; Holder holds messages (held.Service).
	// Both are required.
	Handovers quarantine.HandoverStore
	Holder    held.Holder
	// Guard is asked about the recipients of a message without a hand-over (and about a
	// recipient the hand-over does not name: one Postfix rewrote). A nil guard inside
	// makes such a message fail temporarily.
	Guard *guard.Current
	// Reinject is Postfix's re-injection smtpd (quarantine.reinject), where a message
	// that needs no holding goes (required). Its Timeout bounds the dial and each
	// command; DefaultReinjectTimeout bounds the whole hand-back.
	Reinject smtpout.Destination

	// Hostname is the intake's name in its greeting and Received field; default
	// os.Hostname.
	Hostname string
	// Logger gets one line per message; nil: slog.Default().
	Logger *slog.Logger
	// AllowedNetworks may hand mail in; nil: loopback only.
	AllowedNetworks []netip.Prefix
	// MaxMessageBytes (SIZE, 552 5.3.4) and MaxRecipients (452 4.5.3) limit a message.
	MaxMessageBytes int64
	MaxRecipients   int
	// ReadTimeout bounds each command and the message; WriteTimeout each reply.
	ReadTimeout, WriteTimeout time.Duration
	// Spool keeps a message in memory up to its threshold and in a file beyond it; nil:
	// spool.Temp().
	Spool *spool.Dir

	// Content, when set, classifies every message whose content could change its
	// decision (guard.ContentRules.Matter), and ContentRules apply what it carries
	// (guard.WithContent): a warned recipient they escalate is held (content.go).
	Content      *content.Classifier
	ContentRules guard.ContentRules

	// Observe, if set, is told of each message decided. It must not block.
	Observe func(Event)
	// Finished, if set, gets each decided message's check state.
	Finished func(guard.Transaction)
	// Panicked, when set, is called after a panic while serving a connection was
	// recovered (go-smtp answers 421 and closes that connection).
	Panicked func()
	// Now is the clock of the hand-overs' age; nil: time.Now.
	Now func() time.Time

	initOnce sync.Once
	// reinjectNow is the re-injection service SetReinject put in force, nil for Reinject.
	reinjectNow atomic.Pointer[smtpout.Destination]
	initErr     error
	srv         *smtp.Server
	log         *slog.Logger

	mu        sync.Mutex
	closing   bool
	stopPurge chan struct{}
}

// Event is one message the intake decided.
type Event struct {
	QueueID string
	Sender  string
	// Handover: the policy service's hand-over was found and used. Fallback is why not
	// (the guard was asked instead), "" with a hand-over.
	Handover bool
	Fallback string
	// Checked are the decisions the intake asked the guard for: every recipient without
	// a hand-over, the ones it does not name with one.
	Checked []guard.Decision
	Outcome guard.Outcome
	HeldID  string
	// Content are the content categories the message carries (names only, never the
	// text), when content rules read it; ContentSkipped says it was over the limits.
	Content        []string
	ContentSkipped bool
}

func (s *Server) init() error {
	s.initOnce.Do(func() { s.initErr = s.setup() })
	return s.initErr
}

func (s *Server) setup() error {
	l := s.Logger
	if l == nil {
		l = slog.Default()
	}
	s.log = l.With("adapter", "intake")
	switch {
	case s.Handovers == nil:
		return errors.New("intake: Handovers is not set")
	case s.Holder == nil:
		return errors.New("intake: Holder is not set")
	}
	if err := s.Reinject.Check(); err != nil {
		return fmt.Errorf("intake: Reinject: %w", err)
	}

	if s.Spool == nil {
		s.Spool = spool.Temp()
	}
	if s.Hostname == "" {
		host, _ := os.Hostname()
		s.Hostname = cmp.Or(host, "localhost")
	}
	s.Reinject.Hostname = cmp.Or(s.Reinject.Hostname, s.Hostname)
	if s.AllowedNetworks == nil {
		s.AllowedNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = s.Hostname
	srv.ReadTimeout = cmp.Or(s.ReadTimeout, DefaultReadTimeout)
	srv.WriteTimeout = cmp.Or(s.WriteTimeout, DefaultWriteTimeout)
	srv.MaxMessageBytes = cmp.Or(s.MaxMessageBytes, DefaultMaxMessageBytes)
	srv.MaxRecipients = cmp.Or(s.MaxRecipients, DefaultMaxRecipients)
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = relay.ServerLog{Logger: func() *slog.Logger { return s.log }, Panicked: func() {
		if s.Panicked != nil {
			s.Panicked()
		}
	}}
	s.srv = srv
	s.stopPurge = make(chan struct{})
	go s.purgeLoop(s.stopPurge)
	return nil
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Serve accepts connections on l until Shutdown or Close, and then returns
// ErrServerClosed.
func (s *Server) Serve(l net.Listener) error {
	if err := s.init(); err != nil {
		l.Close()
		return err
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		l.Close()
		return ErrServerClosed
	}
	err := s.srv.Serve(l)
	if s.isClosing() {
		return ErrServerClosed
	}
	return err
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Shutdown closes the listeners and waits for the connections to end; when ctx ends
// first, it closes them (a message being held gets no 250: Postfix keeps it) and returns
// ctx.Err().
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.init(); err != nil {
		return err
	}
	s.markClosing()
	err := s.srv.Shutdown(ctx)
	if ctx.Err() != nil {
		s.srv.Close()
		return ctx.Err()
	}
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	if err := s.init(); err != nil {
		return err
	}
	s.markClosing()
	if err := s.srv.Close(); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) markClosing() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closing {
		s.closing = true
		close(s.stopPurge)
	}
}

// purgeLoop deletes the hand-overs nothing took within quarantine.HandoverKeep (Postfix
// has given their messages up by then), at once and every PurgeEvery, until stop.
func (s *Server) purgeLoop(stop chan struct{}) {
	t := time.NewTicker(PurgeEvery)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		n, err := s.Handovers.PurgeHandovers(ctx, s.now().Add(-quarantine.HandoverKeep))
		cancel()
		if err != nil {
			s.log.Error("intake: purging old hand-overs failed", "err", err)
		} else if n > 0 {
			s.log.Info("intake: old hand-overs purged (their messages never reached the intake)", "hand_overs", n)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func (s *Server) allowed(a netip.Addr) bool {
	for _, p := range s.AllowedNetworks {
		if a.IsValid() && p.Contains(a) {
			return true
		}
	}
	return false
}
