// Package quarantine owns held messages: their envelope, raw content, the decision and
// findings per recipient, their state machine and the audit log of every transition.
//
// It speaks no protocol, sends no notices and serves no web pages: the adapters (milter,
// relay) hold messages here through the held package, which with the web pages and the CLI
// moves them through the state machine ([Store.Transition], [Store.Release]) and carries
// released messages to their re-injection exactly once ([Store.NextDelivery] and the
// delivery states). There are two implementations with the same behaviour suite: [SQLite]
// for one node and [Postgres] for several sharing a database.
//
// A message is Held when stored; from Held it moves exactly once, to ReleasedAsAddressed,
// ReleasedCorrected, Discarded or Expired. Transition is a compare-and-set on the state
// in one transaction with its audit event, so of two nodes (or two clicks) acting on the
// same held message exactly one wins; the other gets an error that wraps ErrConflict.
//
// Durability: Hold returns only after the message, its raw content and its "held" audit
// event are committed (SQLite: WAL mode, synchronous=FULL). A caller must acknowledge the
// message to the MTA or client only after Hold returned a nil error, and answer with a
// temporary failure otherwise.
//
// Purge deletes released, discarded and expired messages with their raw content and
// recipients, but keeps their audit events: the audit log (who did what, when, from where)
// outlives the content it speaks of, and holds no message content itself.
package quarantine

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/verdict"
)

// State is where a message is in the quarantine's state machine.
type State int

const (
	// None is the zero State: no state. It is the From of the event that holds a
	// message, and in a Filter it matches every state.
	None State = iota
	// Held: stored, waiting for the sender's (or an administrator's) decision.
	Held
	// ReleasedAsAddressed: released to the recipients as the sender addressed them.
	ReleasedAsAddressed
	// ReleasedCorrected: released with recipients corrected by the sender.
	ReleasedCorrected
	// Discarded: the sender or an administrator chose not to send it.
	Discarded
	// Expired: nobody decided before the message's expiry time.
	Expired
)

var stateNames = [...]string{
	None:                "none",
	Held:                "held",
	ReleasedAsAddressed: "released-as-addressed",
	ReleasedCorrected:   "released-corrected",
	Discarded:           "discarded",
	Expired:             "expired",
}

// String is the state's name, as ParseState reads it and as stored.
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Valid reports whether s is one of the five states (not None).
func (s State) Valid() bool { return s >= Held && s <= Expired }

// ParseState reads a state's name ("held", "released-as-addressed",
// "released-corrected", "discarded", "expired"), ignoring case and surrounding space.
func ParseState(name string) (State, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for s := Held; s <= Expired; s++ {
		if stateNames[s] == n {
			return s, nil
		}
	}
	return None, fmt.Errorf("quarantine: unknown state %q", name)
}

// parseStoredState reads a state as stored, including "none".
func parseStoredState(name string) (State, error) {
	if name == stateNames[None] {
		return None, nil
	}
	return ParseState(name)
}

// CanTransition reports whether the state machine allows moving from one state to
// another: only from Held, to any of the four final states.
func CanTransition(from, to State) bool {
	return from == Held && to.Valid() && to != Held
}

// Message is a held message. Times are stored with microsecond precision and returned in
// UTC.
type Message struct {
	ID         string // set by Hold: 128 random bits, URL-safe base64 (22 characters)
	Received   time.Time
	Adapter    string // which adapter held it (milter, relay, ...)
	Sender     string // envelope sender (MAIL FROM); empty for the null sender
	AuthUser   string // the authenticated user, if any
	ClientAddr string // the submitting client's address
	QueueID    string // the MTA's queue ID, if any
	Recipients []Recipient
	Subject    string
	Size       int64 // of the raw content, set by Hold
	State      State
	ExpiresAt  time.Time
	Raw        []byte // the raw content: never filled by Get, List or Expiring (use Store.Raw)
	// Content are the content categories the message carries (names only; content rules,
	// docs/content.md), ContentSkipped that its content was over the limits.
	Content        []string
	ContentSkipped bool

	// DedupeKey identifies the submission: a Hold with the key of a message still Held
	// returns that message's ID instead of storing a copy (a client that retries after
	// losing the connection before the reply). "" turns the check off.
	DedupeKey string

	// Release is where a released message goes: the envelope recipients to re-inject to
	// (corrected ones for ReleasedCorrected); empty until released.
	ReleaseTo []string
	// Delivery, Attempts, LastError, NextAttempt, DeliveredAt and DeliveryReply follow
	// the re-injection of a released message.
	Delivery      Delivery
	Attempts      int
	LastError     string
	NextAttempt   time.Time
	DeliveredAt   time.Time
	DeliveryReply string

	// Notice is where the sender's notice is; ReminderSent is when the reminder before
	// expiry went out (zero: not yet).
	Notice       Notice
	NoticeError  string
	ReminderSent time.Time
	// NoticeAttempts counts the claimed attempts at the notice; NoticeClaimed is when the
	// attempt under way was claimed (zero: none). A claim without a recorded outcome is
	// never sent again by itself (see ClaimNotice).
	NoticeAttempts int
	NoticeClaimed  time.Time
	// Reminder follows the reminder before expiry, Return the return of the message to
	// its sender on expiry (on_expiry: return).
	Reminder NoticeSend
	Return   NoticeSend
}

// Delivery is where the re-injection of a released message is.
type Delivery string

const (
	// DeliveryNone: not released, or discarded or expired: nothing to send.
	DeliveryNone Delivery = ""
	// DeliveryPending: waiting for its (next) attempt at NextAttempt.
	DeliveryPending Delivery = "pending"
	// DeliverySending: an attempt is under way, before the end of the data: if it is
	// cut off, the next hop has not taken the message, and it is tried again.
	DeliverySending Delivery = "sending"
	// DeliveryCommitting: the whole message was transmitted and the end of the data is
	// being sent: from here on, a cut-off attempt may have delivered it.
	DeliveryCommitting Delivery = "committing"
	// DeliverySent: the re-injection accepted it (DeliveryReply says what it answered).
	DeliverySent Delivery = "sent"
	// DeliveryFailed: refused for good (LastError); an administrator may retry.
	DeliveryFailed Delivery = "failed"
	// DeliveryUnknown: rcptguard stopped (or the connection broke) after the end of the
	// data was sent and before the reply was recorded, so the message may or may not have
	// gone out; it is not retried by itself, so that it is never sent twice. An
	// administrator checks the mail log and retries if it did not go out.
	DeliveryUnknown Delivery = "unknown"
)

// Notice is where the sender's notice about a held message is.
type Notice string

const (
	// NoticeNone: no notice is to be sent (the sender is outside the own domains and
	// there is no authenticated user, or notices are off).
	NoticeNone Notice = ""
	// NoticePending: to be sent (again, after a temporary failure).
	NoticePending Notice = "pending"
	// NoticeSent: the smarthost accepted it.
	NoticeSent Notice = "sent"
	// NoticeFailed: refused for good (NoticeError).
	NoticeFailed Notice = "failed"
	// NoticeSending: an attempt was claimed (ClaimNotice) and its outcome is not recorded:
	// it is under way, or its outcome is unknown (rcptguard stopped, or could not write
	// the store, after claiming it). It is never sent again by itself. This state is read
	// from the claim, never stored in the state column.
	NoticeSending Notice = "sending"
)

// Recipient is one envelope recipient with the decision and findings for it.
type Recipient struct {
	Address string
	Verdict verdict.Verdict // stored as its name

	Intended   []string // the likely intended domains
	Techniques []string // the lookalike techniques found
	Reason     string
	// Situation is the policy situation of the best finding ("protected", "provider",
	// "known", "namespace"), "" when there is none.
	Situation string
}

// Flagged reports whether the recipient is why the message was held: its verdict stops
// mail (verdict.Verdict.Stops: hold, reject or invalid), not allow or warn.
func (r Recipient) Flagged() bool { return r.Verdict.Stops() }

// Suspect reports whether the guard found anything about the recipient: a likely intended
// domain, or a verdict of a lookalike (verdict.Verdict.Suspect). The administrator's pages
// and the statistics count these; the statistics' SQL is built from the same question.
func (r Recipient) Suspect() bool { return len(r.Intended) > 0 || r.Verdict.Suspect() }

// suspectVerdicts are the names of the verdicts Suspect counts, for SQL.
var suspectVerdicts = verdict.Names(verdict.Verdict.Suspect)

// sqlList is vs as an SQL list of string literals: ('warn', 'hold').
func sqlList(vs []string) string {
	return "('" + strings.Join(vs, "', '") + "')"
}

// Event is one entry of the audit log: a message moved from one state to another.
type Event struct {
	At        time.Time
	MessageID string
	From, To  State // From is None for the event that held the message
	Actor     string
	Remote    string // where the actor acted from (an IP address, "cli", ...)
	Note      string
}

// Filter selects messages for List. Zero fields match everything.
type Filter struct {
	State  State  // None: every state
	Sender string // the envelope sender, exactly (ignoring ASCII case)
	// Search matches a substring (ignoring ASCII case) of the sender, the subject or a
	// recipient's address.
	Search string
	Limit  int // 0: DefaultListLimit; at most MaxListLimit
	Offset int
}

const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
	// DefaultMaxSize is the default limit on the raw content of one message.
	DefaultMaxSize = 64 << 20
)

var (
	// ErrNotFound: no message (or, for Audit, no event) with that ID.
	ErrNotFound = errors.New("quarantine: message not found")
	// ErrConflict: the message is not in the state the transition expects; someone else
	// acted first. The error is a *ConflictError with the current state.
	ErrConflict = errors.New("quarantine: message is not in the expected state")
	// ErrInvalidTransition: the state machine does not allow that transition.
	ErrInvalidTransition = errors.New("quarantine: transition not allowed")
	// ErrTooLarge: the raw content exceeds the store's size limit.
	ErrTooLarge = errors.New("quarantine: message too large")
)

// ConflictError is the error of a Transition that lost: the message is in Current, not in
// the state the caller expected. errors.Is(err, ErrConflict) holds.
type ConflictError struct {
	ID       string
	Expected State
	Current  State
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("quarantine: message %s is %s, not %s", e.ID, e.Current, e.Expected)
}

// Unwrap returns ErrConflict.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Reader is what the pages and the commands read of the quarantine. They write nothing
// through it: every change to a held message goes through package held.
type Reader interface {
	// Get returns the message without its raw content, or ErrNotFound.
	Get(ctx context.Context, id string) (Message, error)
	// Raw returns the message's raw content, or ErrNotFound.
	Raw(ctx context.Context, id string) ([]byte, error)
	// List returns the messages that match f, newest (Received) first, without raw content.
	List(ctx context.Context, f Filter) ([]Message, error)
	// Audit returns the message's audit events, oldest first, or ErrNotFound if it has
	// none. Events remain after Purge.
	Audit(ctx context.Context, id string) ([]Event, error)
}

// Store keeps held messages. Implementations are safe for concurrent use, also by several
// processes (or nodes) sharing one database.
type Store interface {
	// Hold stores m (its ID, Size and State are set by Hold; Received defaults to now),
	// the raw content read from raw, and a "held" audit event in one transaction, and
	// returns the new ID only after the commit is durable. Raw content over the size limit
	// fails with ErrTooLarge. m needs at least one recipient and an ExpiresAt. The "held"
	// event's Actor is m.Adapter and its Remote m.ClientAddr. Any error means the message
	// is not stored: answer the MTA or client with a temporary failure.
	Hold(ctx context.Context, m Message, raw io.Reader) (id string, err error)
	Reader
	// Transition moves message id from state from to state to, if and only if it is in
	// from, and records the audit event in the same transaction. A transition the state
	// machine forbids fails with ErrInvalidTransition; a message in another state with a
	// *ConflictError; an unknown message with ErrNotFound.
	Transition(ctx context.Context, id string, from, to State, actor, remote, note string) error
	// Expiring returns the Held messages whose ExpiresAt is at or before before, soonest
	// first.
	Expiring(ctx context.Context, before time.Time) ([]Message, error)
	// Purge deletes the messages that are not Held and whose last transition happened
	// before olderThan, with their raw content (audit events are kept), and returns how
	// many it deleted.
	Purge(ctx context.Context, olderThan time.Time) (int, error)

	// Release, NextDelivery, Delivered, DeliveryFailed, RetryDelivery and
	// RecoverDeliveries carry a released message to its re-injection exactly once: see
	// the SQLite methods for each one's contract.
	Release(ctx context.Context, id string, to State, rcpts []string, actor, remote, note string) error
	NextDelivery(ctx context.Context, now time.Time) (Message, bool, error)
	Delivered(ctx context.Context, id, reply string) error
	DeliveryFailed(ctx context.Context, id, errText string, retryAt time.Time) error
	RetryDelivery(ctx context.Context, id, actor, remote string) error
	RecoverDeliveries(ctx context.Context, claimedBefore time.Time) (int, error)
	Committing(ctx context.Context, id string) error
	DeliveryUnknown(ctx context.Context, id, errText string) error

	// PendingNotices, SetNotice and SetReminder follow the sender's notices.
	PendingNotices(ctx context.Context, now time.Time, limit int) ([]Message, error)
	SetNotice(ctx context.Context, id string, n Notice, errText string, retryAt time.Time) error
	SetReminder(ctx context.Context, id string, at time.Time) error

	// ClaimNotice, SettleNotice, Expire, PendingReturns and RecoverNotices send each
	// notice at most once: a notice is claimed before it is sent and settled after. See
	// the SQLite methods for each one's contract.
	ClaimNotice(ctx context.Context, id string, kind NoticeKind, now time.Time) (attempt int, err error)
	SettleNotice(ctx context.Context, id string, kind NoticeKind, n Notice, errText string, retryAt time.Time) error
	Expire(ctx context.Context, id, note string, returnToSender bool) error
	PendingReturns(ctx context.Context, now time.Time, limit int) ([]Message, error)
	RecoverNotices(ctx context.Context, claimedBefore time.Time) (int, error)

	// Confirm and Confirmed keep the domains each sender confirmed on a validation page.
	Confirm(ctx context.Context, sender string, domains []string, messageID string) error
	Confirmed(ctx context.Context, sender, domain string) (bool, error)

	Close() error
}

// Option configures a Store.
type Option func(*options)

type options struct {
	now     func() time.Time
	maxSize int64
}

func defaultOptions(opts []Option) options {
	o := options{now: time.Now, maxSize: DefaultMaxSize}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithClock makes the store read the time from now (for tests).
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithMaxSize limits the raw content of one message to n bytes (n > 0).
func WithMaxSize(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.maxSize = n
		}
	}
}

// NewID returns a new message ID: 128 random bits in URL-safe base64 without padding,
// beginning with a letter or digit: an ID beginning with "-" would read as an option on
// a command line (rcptguard quarantine show ID), and "_" is easy to miss. A draw that
// begins otherwise (1 in 32) is drawn again.
func NewID() string {
	var b [16]byte
	for {
		rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
		id := base64.RawURLEncoding.EncodeToString(b[:])
		if id[0] != '-' && id[0] != '_' {
			return id
		}
	}
}

// readRaw reads all of r, failing with ErrTooLarge past max bytes.
func readRaw(r io.Reader, max int64) ([]byte, error) {
	if r == nil {
		return nil, errors.New("quarantine: no raw content")
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("quarantine: read raw content: %w", err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return b, nil
}

// checkHold validates a message before Hold.
func checkHold(m *Message) error {
	if len(m.Recipients) == 0 {
		return errors.New("quarantine: hold: no recipients")
	}
	for _, r := range m.Recipients {
		if r.Address == "" {
			return errors.New("quarantine: hold: recipient with empty address")
		}
	}
	if m.ExpiresAt.IsZero() {
		return errors.New("quarantine: hold: no expiry time")
	}
	return nil
}
