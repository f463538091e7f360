// Package held is the quarantine's only front door: it owns what happens to a message
// after a door of the mail path has held it. It stores it in the quarantine, has the
// sender notified, carries out the sender's (or an administrator's) choice, re-injects
// released mail exactly once with retries, sends the reminder before expiry and expires
// what nobody decided.
//
// It decides nothing about recipients (that is the guard's) and speaks no protocol of the
// mail path: the doors hand it a Submission through Hold (the Holder interface), the web
// pages and the CLI carry out a Choice through Decide and Retry (the Decider interface),
// and Run does the rest in the background, from what the store says, so that a restart
// loses nothing: every step is recorded in the store before it counts as done. Nothing
// else writes held messages to the store.
package held

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rcptguard/rcptguard/internal/notice"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/token"
	"github.com/rcptguard/rcptguard/internal/verdict"
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

	// Signer signs the links in the notices.
	Signer *token.Signer

	// Settings are the settings the service starts with; Apply replaces them.
	Settings Settings

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

	current  atomic.Pointer[Settings] // set by Apply
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
	if d := s.settings().ExpireAfter; d > 0 {
		return d
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
	if r.Situation == "protected" || r.Situation == "namespace" || r.Verdict != verdict.Hold {
		return true
	}
	d := domainOf(r.Address)
	for _, a := range s.settings().AlwaysAsk {
		a = strings.ToLower(strings.Trim(a, "."))
		if d == a || strings.HasSuffix(d, "."+a) {
			return true
		}
	}
	return false
}

// Hold implements Holder: it stores the submission with its expiry and notice state, and
// returns only once it is committed. It returns ErrConfirmed, storing nothing, when the
// sender has already confirmed every flagged recipient's domain.
func (s *Service) Hold(ctx context.Context, sub Submission) (string, error) {
	m := sub.message()
	if ok, err := s.confirmed(ctx, m); err != nil {
		return "", err
	} else if ok {
		s.count("passed_confirmed")
		return "", ErrConfirmed
	}
	st := s.settings()
	m.ExpiresAt = s.now().Add(s.expireAfter())
	m.Notice = quarantine.NoticeNone
	if _, ok := notice.Recipient(m.Sender, m.AuthUser, st.OwnDomains); ok && st.Notifier != nil {
		m.Notice = quarantine.NoticePending
	}
	raw := io.MultiReader(strings.NewReader(sub.Trace), bytes.NewReader(sub.Content))
	id, err := s.Store.Hold(ctx, m, raw)
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
