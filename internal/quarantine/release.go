package quarantine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Release moves message id from Held to to (ReleasedAsAddressed or ReleasedCorrected) with
// the envelope recipients to re-inject to, and marks its delivery pending and due now, in
// one transaction with the audit event. Like Transition, it fails with a *ConflictError
// when the message is no longer Held.
func (s *SQLite) Release(ctx context.Context, id string, to State, rcpts []string, actor, remote, note string) error {
	if err := checkRelease(to, rcpts); err != nil {
		return err
	}
	list, err := jsonList(rcpts)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := s.opt.now()
	err = s.transition(ctx, id, Held, to, transitionEvent(now, id, Held, to, actor, remote, note), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE messages SET release_to = ?, delivery = 'pending',
			next_attempt = ?, last_error = '' WHERE id = ?`, list, micro(now), id)
		return err
	})
	return wrapUnexpected(err, "quarantine: release %s", id)
}

// NextDelivery claims the released message whose delivery is pending and due at now
// (soonest first): it marks it sending and counts the attempt, so that no other worker
// (in this process or another) claims it. ok is false when none is due.
func (s *SQLite) NextDelivery(ctx context.Context, now time.Time) (m Message, ok bool, err error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Message{}, false, fmt.Errorf("quarantine: next delivery: %w", err)
	}
	defer tx.Rollback()
	var id string
	err = tx.QueryRowContext(ctx, `UPDATE messages SET delivery = 'sending', attempts = attempts + 1,
			next_attempt = ?
		WHERE id = (SELECT id FROM messages WHERE delivery = 'pending' AND next_attempt <= ?
			ORDER BY next_attempt, rowid LIMIT 1)
		RETURNING id`, micro(now), micro(now)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, false, nil
	}
	if err != nil {
		return Message{}, false, fmt.Errorf("quarantine: next delivery: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Message{}, false, fmt.Errorf("quarantine: next delivery: %w", err)
	}
	m, err = s.Get(ctx, id)
	return m, err == nil, err
}

// Delivered records that the re-injection accepted message id (reply is its answer), with
// an audit event.
func (s *SQLite) Delivered(ctx context.Context, id, reply string) error {
	return s.deliveryOutcome(ctx, id, DeliverySent, reply, time.Time{}, "re-injected: "+reply)
}

// DeliveryFailed records a failed attempt: with a retry time the delivery is pending again
// from then on; with the zero time it failed for good. errText is shown to administrators.
func (s *SQLite) DeliveryFailed(ctx context.Context, id, errText string, retryAt time.Time) error {
	d, note := failedDelivery(errText, retryAt)
	return s.deliveryOutcome(ctx, id, d, errText, retryAt, note)
}

func (s *SQLite) deliveryOutcome(ctx context.Context, id string, d Delivery, text string, retryAt time.Time, note string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := s.opt.now()
	return s.deliveryUpdate(ctx, id, []Delivery{DeliverySending, DeliveryCommitting}, "system", "", note, func(tx *sql.Tx) error {
		var err error
		if d == DeliverySent {
			_, err = tx.ExecContext(ctx, `UPDATE messages SET delivery = 'sent', delivered_at = ?,
				delivery_reply = ?, last_error = '', changed_at = ? WHERE id = ?`, micro(now), text, micro(now), id)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE messages SET delivery = ?, last_error = ?,
				next_attempt = ? WHERE id = ?`, string(d), text, optMicroOf(retryAt), id)
		}
		return err
	})
}

// RetryDelivery makes the delivery of a message that failed for good, or whose outcome is
// unknown, pending again and due now, with an audit event naming who asked.
func (s *SQLite) RetryDelivery(ctx context.Context, id, actor, remote string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := s.opt.now()
	return s.deliveryUpdate(ctx, id, []Delivery{DeliveryFailed, DeliveryUnknown}, actor, remote,
		"re-injection retried", func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE messages SET delivery = 'pending', next_attempt = ?
				WHERE id = ?`, micro(now), id)
			return err
		})
}

// ErrDeliveryState is wrapped by the error of a delivery update for a message whose
// delivery is not in a state that allows it (for example a retry of a message sent).
var ErrDeliveryState = errors.New("quarantine: the message's delivery is not in the expected state")

// deliveryUpdate runs update for message id if its delivery is one of from, and records
// an audit event (the state does not change) in the same transaction.
func (s *SQLite) deliveryUpdate(ctx context.Context, id string, from []Delivery, actor, remote, note string, update func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("quarantine: delivery of %s: %w", id, err)
	}
	defer tx.Rollback()
	var state, delivery string
	err = tx.QueryRowContext(ctx, `SELECT state, delivery FROM messages WHERE id = ?`, id).Scan(&state, &delivery)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("quarantine: delivery of %s: %w", id, err)
	}
	st, err := deliveryState(id, state, delivery, from)
	if err != nil {
		return err
	}
	if err := update(tx); err != nil {
		return fmt.Errorf("quarantine: delivery of %s: %w", id, err)
	}
	if err := insertEvent(ctx, tx, deliveryEvent(s.opt.now(), id, st, actor, remote, note)); err != nil {
		return fmt.Errorf("quarantine: delivery of %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("quarantine: delivery of %s: %w", id, err)
	}
	return nil
}

// Committing records, before the end of the data is sent, that message id's attempt
// reaches the point after which it may have been delivered. It writes no audit event.
func (s *SQLite) Committing(ctx context.Context, id string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	res, err := s.db.ExecContext(ctx, `UPDATE messages SET delivery = 'committing' WHERE id = ? AND delivery = 'sending'`, id)
	if err != nil {
		return fmt.Errorf("quarantine: delivery of %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s is not being sent", ErrDeliveryState, id)
	}
	return nil
}

// DeliveryUnknown records that an attempt of message id was cut off after the end of the
// data was sent (errText says how): it may have been delivered, so it is not retried by
// itself.
func (s *SQLite) DeliveryUnknown(ctx context.Context, id, errText string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.markUnknown(ctx, id, "outcome unknown: "+errText)
}

func (s *SQLite) markUnknown(ctx context.Context, id, why string) error {
	return s.deliveryUpdate(ctx, id, []Delivery{DeliveryCommitting}, "system", "",
		unknownNote(why),
		func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE messages SET delivery = 'unknown', last_error = ? WHERE id = ?`,
				clip(why, 1000), id)
			return err
		})
}

// RecoverDeliveries settles the attempts claimed before claimedBefore that a stopped
// process left unfinished (call it at start with the start time): one cut off before the
// end of the data is pending again (the next hop did not take it); one cut off after is
// unknown and not retried by itself, so that nothing is sent twice. It returns how many
// became unknown.
func (s *SQLite) RecoverDeliveries(ctx context.Context, claimedBefore time.Time) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	rows, err := s.query(ctx, `SELECT id, delivery FROM messages
		WHERE delivery IN ('sending', 'committing') AND next_attempt < ?`, micro(claimedBefore))
	if err != nil {
		return 0, fmt.Errorf("quarantine: recover deliveries: %w", err)
	}
	ls, err := scanLeftDeliveries(rows)
	rows.Close()
	if err != nil {
		return 0, fmt.Errorf("quarantine: recover deliveries: %w", err)
	}
	now := s.opt.now()
	return settleLeftDeliveries(ls, func(id string) error {
		return s.deliveryUpdate(ctx, id, []Delivery{DeliverySending}, "system", "", recoverPendingNote,
			func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE messages SET delivery = 'pending', next_attempt = ? WHERE id = ?`,
					micro(now), id)
				return err
			})
	}, func(id string) error {
		return s.markUnknown(ctx, id, recoverUnknownWhy)
	}, func(err error) bool { return errors.Is(err, ErrDeliveryState) })
}

// PendingNotices returns the Held messages whose notice is pending, not claimed and due at now, oldest
// first, at most limit.
func (s *SQLite) PendingNotices(ctx context.Context, now time.Time, limit int) ([]Message, error) {
	l, err := s.queryMessages(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE notice = 'pending' AND notice_claimed = 0 AND notice_next <= ? AND state = 'held' ORDER BY received, rowid LIMIT ?`,
		micro(now), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("quarantine: pending notices: %w", err)
	}
	return l, nil
}

// SetNotice records where message id's notice is: sent, failed for good (errText), or
// pending again from retryAt after a temporary failure (errText).
func (s *SQLite) SetNotice(ctx context.Context, id string, n Notice, errText string, retryAt time.Time) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	res, err := s.db.ExecContext(ctx, `UPDATE messages SET notice = ?, notice_error = ?, notice_next = ? WHERE id = ?`,
		string(n), clip(errText, 1000), optMicroOf(retryAt), id)
	if err != nil {
		return fmt.Errorf("quarantine: notice of %s: %w", id, err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return nil
}

// SetReminder records when the reminder before expiry went out for message id.
func (s *SQLite) SetReminder(ctx context.Context, id string, at time.Time) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	res, err := s.db.ExecContext(ctx, `UPDATE messages SET reminder_sent = ? WHERE id = ?`, micro(at), id)
	if err != nil {
		return fmt.Errorf("quarantine: reminder of %s: %w", id, err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return nil
}

// Confirm records that sender confirmed mail to domains (ASCII), from message id.
func (s *SQLite) Confirm(ctx context.Context, sender string, domains []string, messageID string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("quarantine: confirm: %w", err)
	}
	defer tx.Rollback()
	now := micro(s.opt.now())
	for _, d := range domains {
		if _, err := tx.ExecContext(ctx, `INSERT INTO confirmations (sender, domain, confirmed_at, message_id, first_confirmed)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (sender, domain) DO UPDATE SET confirmed_at = excluded.confirmed_at,
			message_id = excluded.message_id`, strings.ToLower(sender), strings.ToLower(d), now, messageID, now); err != nil {
			return fmt.Errorf("quarantine: confirm: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("quarantine: confirm: %w", err)
	}
	return nil
}

// Confirmed reports whether sender has confirmed mail to domain (ASCII).
func (s *SQLite) Confirmed(ctx context.Context, sender, domain string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM confirmations WHERE sender = ? AND domain = ?`,
		strings.ToLower(sender), strings.ToLower(domain)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("quarantine: confirmed: %w", err)
	}
	return n > 0, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
