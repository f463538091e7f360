package quarantine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// The decisions below are the same for every dialect: the stores differ only in their SQL.

// wrapUnexpected wraps err with what failed (format and args), unless it is nil, an
// ErrNotFound or an ErrConflict, which callers test for and which say enough.
func wrapUnexpected(err error, format string, args ...any) error {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// checkTransition refuses a transition that no message may make.
func checkTransition(from, to State) error {
	if !CanTransition(from, to) {
		return fmt.Errorf("%w: %s to %s", ErrInvalidTransition, from, to)
	}
	return nil
}

// conflict is the error of a compare-and-set on message id that found it in state cur
// (as stored) rather than in from.
func conflict(id string, from State, cur string) error {
	st, err := ParseState(cur)
	if err != nil {
		return err
	}
	return &ConflictError{ID: id, Expected: from, Current: st}
}

// transitionEvent is the audit event of a transition of message id, at now.
func transitionEvent(now time.Time, id string, from, to State, actor, remote, note string) Event {
	return Event{At: now, MessageID: id, From: from, To: to, Actor: actor, Remote: remote, Note: note}
}

// checkRelease refuses a release to a state that is not a release, or without recipients.
func checkRelease(to State, rcpts []string) error {
	if to != ReleasedAsAddressed && to != ReleasedCorrected {
		return fmt.Errorf("%w: release to %s", ErrInvalidTransition, to)
	}
	if len(rcpts) == 0 {
		return errors.New("quarantine: release without recipients")
	}
	return nil
}

// failedDelivery is the delivery state and audit note after a failed attempt: pending
// again with a retry time, failed for good with the zero time.
func failedDelivery(errText string, retryAt time.Time) (Delivery, string) {
	if retryAt.IsZero() {
		return DeliveryFailed, "re-injection refused: " + errText
	}
	return DeliveryPending, "re-injection failed, will retry: " + errText
}

// deliveryState checks that message id's delivery (as stored) is one of from, and returns
// its state (as stored) parsed.
func deliveryState(id, state, delivery string, from []Delivery) (State, error) {
	allowed := false
	for _, d := range from {
		allowed = allowed || Delivery(delivery) == d
	}
	if !allowed {
		return None, fmt.Errorf("%w: %s is %q", ErrDeliveryState, id, delivery)
	}
	return ParseState(state)
}

// deliveryEvent is the audit event of a delivery update of message id in state st: the
// state does not change.
func deliveryEvent(now time.Time, id string, st State, actor, remote, note string) Event {
	return Event{At: now, MessageID: id, From: st, To: st, Actor: actor, Remote: remote, Note: clip(note, 1000)}
}

// unknownNote is the audit note of a delivery whose outcome is unknown for the reason why.
func unknownNote(why string) string {
	return why + "; it may or may not have gone out: check the mail log, then retry if it did not"
}

// The audit notes of RecoverDeliveries.
const (
	recoverPendingNote = "rcptguard stopped before the message was handed over; it will be tried again"
	recoverUnknownWhy  = "outcome unknown: rcptguard stopped while handing the message over"
)

// leftDelivery is an attempt a stopped process left unfinished.
type leftDelivery struct{ id, delivery string }

// scanLeftDeliveries reads the rows of a query that selects id, delivery. It does not
// check rows.Err.
func scanLeftDeliveries(rows rows) ([]leftDelivery, error) {
	var ls []leftDelivery
	for rows.Next() {
		var l leftDelivery
		if err := rows.Scan(&l.id, &l.delivery); err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// settleLeftDeliveries settles the attempts left unfinished: one still sending is made
// pending again (pending), one committing becomes unknown (unknown). An error for which
// ignore is true skips the attempt; another stops. It returns how many became unknown.
func settleLeftDeliveries(ls []leftDelivery, pending, unknown func(id string) error, ignore func(error) bool) (int, error) {
	n := 0
	for _, l := range ls {
		var err error
		if Delivery(l.delivery) == DeliverySending {
			err = pending(l.id)
		} else {
			err = unknown(l.id)
			if err == nil {
				n++
			}
		}
		if err != nil && !ignore(err) {
			return n, err
		}
	}
	return n, nil
}

// prepareHold checks m and reads its raw content for Hold, and fills in what the store
// sets: its ID, size and state, and its reception time (now) when it has none.
func prepareHold(m *Message, raw io.Reader, opt options) (content []byte, now time.Time, err error) {
	if err := checkHold(m); err != nil {
		return nil, time.Time{}, err
	}
	content, err = readRaw(raw, opt.maxSize)
	if err != nil {
		return nil, time.Time{}, err
	}
	now = opt.now()
	if m.Received.IsZero() {
		m.Received = now
	}
	m.ID = NewID()
	m.Size = int64(len(content))
	m.State = Held
	return content, now, nil
}

// getMessage is Get: query selects messageColumns of the message id, for queryMessages.
func getMessage(ctx context.Context, queryMessages func(context.Context, string, ...any) ([]Message, error),
	query, id string) (Message, error) {
	l, err := queryMessages(ctx, query, id)
	if err != nil {
		return Message{}, fmt.Errorf("quarantine: get %s: %w", id, err)
	}
	if len(l) == 0 {
		return Message{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return l[0], nil
}

// rawContent is Raw's result from the content b of message id read with err; noRows is
// whether err says that there is no such row.
func rawContent(id string, b []byte, err error, noRows bool) ([]byte, error) {
	if noRows {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("quarantine: raw content of %s: %w", id, err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}
