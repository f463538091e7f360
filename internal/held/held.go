// Package held owns what happens to a message after an adapter has held it: it stores it
// in the quarantine, has the sender notified, carries out the sender's (or an
// administrator's) choice, re-injects released mail exactly once with retries, sends the
// reminder before expiry and expires what nobody decided.
//
// It decides nothing about recipients (that is the guard's) and speaks no protocol of the
// mail path: the adapters hand it a message through Hold (the quarantine.Holder
// interface), the web pages and the CLI call Decide and Retry (the web.Decider interface),
// and Run does the rest in the background, from what the store says, so that a restart
// loses nothing: every step is recorded in the store before it counts as done.
package held

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/rcptguard/rcptguard/internal/notice"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/token"
)

// ExpiryAction is what happens to a held message nobody decided about in time.
type ExpiryAction string

const (
	// ExpireDelete: the message is expired and its content deleted.
	ExpireDelete ExpiryAction = "delete"
	// ExpireReturn: the message is expired and returned to its sender (when the sender
	// may receive notices), as an attachment to a short explanation.
	ExpireReturn ExpiryAction = "return"
)

// Defaults.
const (
	DefaultExpireAfter = 14 * 24 * time.Hour
	DefaultPurgeAfter  = 30 * 24 * time.Hour
	// ReminderBefore is how long before expiry the reminder goes out.
	ReminderBefore = 24 * time.Hour
	// MaxAttempts is how often re-injection is tried before it counts as failed for good
	// (an administrator can still retry): with the backoff capped at 30 minutes, about 5
	// days.
	MaxAttempts = 250
	// ClaimLease is how old a claim on a re-injection must be before another process
	// settles it as abandoned: far longer than one attempt can take (reinjectTimeout plus
	// recording the outcome).
	ClaimLease = 10 * time.Minute
)

// Service is the held-message workflow. Set its fields, call Start, then use Hold,
// Decide and Retry; Stop ends the background work.
type Service struct {
	Store quarantine.Store

	// Notices: Notifier sends them (nil: none are sent); From is their From address;
	// BaseURL is where the validation pages are served ("http://host:port"); Signer signs
	// the links; Org names the organisation in them; OwnDomains decide who may receive
	// them (notice.Recipient).
	Notifier   *notice.Sender
	From       string
	BaseURL    string
	Signer     *token.Signer
	Org        string
	OwnDomains []string

	// Reinject is host:port of the SMTP service released mail is handed to; Hostname
	// is the name given in EHLO.
	Reinject string
	Hostname string

	ExpireAfter time.Duration // DefaultExpireAfter if zero
	OnExpiry    ExpiryAction  // ExpireDelete if empty
	PurgeAfter  time.Duration // DefaultPurgeAfter if zero: final messages are deleted after it
	// AlwaysAsk lists domains and namespaces (ASCII, lower case, "ml" or "army.ml") for
	// which a sender's confirmation is never remembered. Lookalikes of protected domains
	// and namespaces are always asked about anyway.
	AlwaysAsk []string

	// Learn, if set, is told of every message re-injected after the sender's choice, for
	// the history of known correspondents.
	Learn func(sender string, rcpts []string)

	// Shared says that other rcptguard processes use the same store (PostgreSQL): at
	// start, the re-injections left unfinished are then settled only once their claim is
	// older than ClaimLease, since another node may still be at work on a newer one.
	Shared bool

	// Count, if set, is told of every event (metrics.QuarantineEvents).
	Count func(event string)
	// StoreError, if set, is told of every write to the store that failed
	// (metrics.StoreErrors, store "quarantine").
	StoreError func()

	Now    func() time.Time // the clock; time.Now if nil
	Logger *slog.Logger     // nil discards

	kick     chan struct{}
	stop     context.CancelFunc
	stopping chan struct{} // closed once Stop has cancelled the loop
	done     chan struct{}
	mu       sync.Mutex

	defMu     sync.Mutex
	deferrals map[noticeKey]*deferral // notices held back because the store could not be written
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) count(event string) {
	if s.Count != nil {
		s.Count(event)
	}
}

func (s *Service) storeError() {
	if s.StoreError != nil {
		s.StoreError()
	}
}

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Service) expireAfter() time.Duration {
	if s.ExpireAfter > 0 {
		return s.ExpireAfter
	}
	return DefaultExpireAfter
}

// wake has the background loop look at the store now.
func (s *Service) wake() {
	s.mu.Lock()
	k := s.kick
	s.mu.Unlock()
	if k == nil {
		return
	}
	select {
	case k <- struct{}{}:
	default:
	}
}

// domainOf is the domain of an address, lower case; "" without one.
func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(addr[i+1:], "."))
}

// alwaysAsk reports whether a confirmation of r must not be remembered.
func (s *Service) alwaysAsk(r quarantine.Recipient) bool {
	if r.Situation == "protected" || r.Situation == "namespace" || r.Verdict != "hold" {
		return true
	}
	d := domainOf(r.Address)
	for _, a := range s.AlwaysAsk {
		a = strings.ToLower(strings.Trim(a, "."))
		if d == a || strings.HasSuffix(d, "."+a) {
			return true
		}
	}
	return false
}

// Hold implements quarantine.Holder: it stores m with its expiry and notice state, and
// returns only once it is committed. It returns quarantine.ErrConfirmed, storing nothing,
// when the sender has already confirmed every flagged recipient's domain.
func (s *Service) Hold(ctx context.Context, m quarantine.Message, raw io.Reader) (string, error) {
	content, err := io.ReadAll(raw)
	if err != nil {
		return "", fmt.Errorf("held: read message: %w", err)
	}
	if ok, err := s.confirmed(ctx, m); err != nil {
		return "", err
	} else if ok {
		s.count("passed_confirmed")
		return "", quarantine.ErrConfirmed
	}
	now := s.now()
	m.ExpiresAt = now.Add(s.expireAfter())
	if m.DedupeKey == "" {
		m.DedupeKey = quarantine.DedupeKeyOf(m, content)
	}
	m.Notice = quarantine.NoticeNone
	if _, ok := notice.Recipient(m.Sender, m.AuthUser, s.OwnDomains); ok && s.Notifier != nil {
		m.Notice = quarantine.NoticePending
	}
	id, err := s.Store.Hold(ctx, m, bytes.NewReader(content))
	if err != nil {
		s.storeError()
		return "", err
	}
	s.count("held")
	s.log().Info("message held", "id", id, "adapter", m.Adapter, "sender", m.Sender,
		"queue_id", m.QueueID, "recipients", len(m.Recipients), "notice", string(m.Notice))
	s.wake()
	return id, nil
}

// confirmed reports whether the sender confirmed every flagged recipient before.
func (s *Service) confirmed(ctx context.Context, m quarantine.Message) (bool, error) {
	any := false
	for _, r := range m.Recipients {
		if !r.Flagged() {
			continue
		}
		if s.alwaysAsk(r) || m.Sender == "" {
			return false, nil
		}
		ok, err := s.Store.Confirmed(ctx, m.Sender, domainOf(r.Address))
		if err != nil || !ok {
			return false, err
		}
		any = true
	}
	return any, nil
}

// conflict is the error of a choice about a message that is no longer held.
func conflict(m quarantine.Message) error {
	return &quarantine.ConflictError{ID: m.ID, Expected: quarantine.Held, Current: m.State}
}

var errNoSuggestion = errors.New("held: no suggested domain to correct to")
