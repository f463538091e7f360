package quarantine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Release moves message id from Held to to (ReleasedAsAddressed or ReleasedCorrected) with
// the envelope recipients to re-inject to, and marks its delivery pending and due now, in
// one transaction with the audit event; see SQLite.Release.
func (s *Postgres) Release(ctx context.Context, id string, to State, rcpts []string, actor, remote, note string) error {
	if err := checkRelease(to, rcpts); err != nil {
		return err
	}
	now := s.opt.now()
	err := s.transition(ctx, id, Held, to, transitionEvent(now, id, Held, to, actor, remote, note), func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE messages SET release_to = $1, delivery = 'pending',
			next_attempt = $2, last_error = '' WHERE id = $3`, rcpts, micro(now), id)
		return err
	})
	return wrapUnexpected(err, "quarantine: release %s", id)
}

// NextDelivery claims the released message whose delivery is pending and due at now
// (soonest first): it marks it sending and counts the attempt, in one statement. The
// candidate row is locked with SKIP LOCKED, so that workers on every node claim
// different messages without waiting for each other. ok is false when none is due.
func (s *Postgres) NextDelivery(ctx context.Context, now time.Time) (m Message, ok bool, err error) {
	var id string
	err = s.pool.QueryRow(ctx, `UPDATE messages SET delivery = 'sending', attempts = attempts + 1,
			next_attempt = $1
		WHERE id = (SELECT id FROM messages WHERE delivery = 'pending' AND next_attempt <= $1
			ORDER BY next_attempt, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING id`, micro(now)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Message{}, false, nil
	}
	if err != nil {
		return Message{}, false, fmt.Errorf("quarantine: next delivery: %w", err)
	}
	m, err = s.Get(ctx, id)
	return m, err == nil, err
}

// Delivered records that the re-injection accepted message id (reply is its answer), with
// an audit event.
func (s *Postgres) Delivered(ctx context.Context, id, reply string) error {
	return s.deliveryOutcome(ctx, id, DeliverySent, reply, time.Time{}, "re-injected: "+reply)
}

// DeliveryFailed records a failed attempt: with a retry time the delivery is pending again
// from then on; with the zero time it failed for good.
func (s *Postgres) DeliveryFailed(ctx context.Context, id, errText string, retryAt time.Time) error {
	d, note := failedDelivery(errText, retryAt)
	return s.deliveryOutcome(ctx, id, d, errText, retryAt, note)
}

func (s *Postgres) deliveryOutcome(ctx context.Context, id string, d Delivery, text string, retryAt time.Time, note string) error {
	now := s.opt.now()
	return s.deliveryUpdate(ctx, id, []Delivery{DeliverySending, DeliveryCommitting}, "system", "", note, func(tx pgx.Tx) error {
		var err error
		if d == DeliverySent {
			_, err = tx.Exec(ctx, `UPDATE messages SET delivery = 'sent', delivered_at = $1,
				delivery_reply = $2, last_error = '', changed_at = $1 WHERE id = $3`, micro(now), text, id)
		} else {
			_, err = tx.Exec(ctx, `UPDATE messages SET delivery = $1, last_error = $2,
				next_attempt = $3 WHERE id = $4`, string(d), text, optMicroOf(retryAt), id)
		}
		return err
	})
}

// RetryDelivery makes the delivery of a message that failed for good, or whose outcome is
// unknown, pending again and due now, with an audit event naming who asked.
func (s *Postgres) RetryDelivery(ctx context.Context, id, actor, remote string) error {
	now := s.opt.now()
	return s.deliveryUpdate(ctx, id, []Delivery{DeliveryFailed, DeliveryUnknown}, actor, remote,
		"re-injection retried", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE messages SET delivery = 'pending', next_attempt = $1
				WHERE id = $2`, micro(now), id)
			return err
		})
}

// deliveryUpdate runs update for message id if its delivery is one of from, and records
// an audit event (the state does not change) in the same transaction. The row is locked
// first, so that the check holds until the commit, across nodes.
func (s *Postgres) deliveryUpdate(ctx context.Context, id string, from []Delivery, actor, remote, note string, update func(pgx.Tx) error) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var state, delivery string
		err := tx.QueryRow(ctx, `SELECT state, delivery FROM messages WHERE id = $1 FOR UPDATE`, id).Scan(&state, &delivery)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		st, err := deliveryState(id, state, delivery, from)
		if err != nil {
			return err
		}
		if err := update(tx); err != nil {
			return err
		}
		return pgEvent(ctx, tx, deliveryEvent(s.opt.now(), id, st, actor, remote, note))
	})
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrDeliveryState) {
		return fmt.Errorf("quarantine: delivery of %s: %w", id, err)
	}
	return err
}

// Committing records, before the end of the data is sent, that message id's attempt
// reaches the point after which it may have been delivered. It writes no audit event.
func (s *Postgres) Committing(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE messages SET delivery = 'committing' WHERE id = $1 AND delivery = 'sending'`, id)
	if err != nil {
		return fmt.Errorf("quarantine: delivery of %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s is not being sent", ErrDeliveryState, id)
	}
	return nil
}

// DeliveryUnknown records that an attempt of message id was cut off after the end of the
// data was sent: it may have been delivered, so it is not retried by itself.
func (s *Postgres) DeliveryUnknown(ctx context.Context, id, errText string) error {
	return s.markUnknown(ctx, id, "outcome unknown: "+errText)
}

func (s *Postgres) markUnknown(ctx context.Context, id, why string) error {
	return s.deliveryUpdate(ctx, id, []Delivery{DeliveryCommitting}, "system", "",
		unknownNote(why),
		func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE messages SET delivery = 'unknown', last_error = $1 WHERE id = $2`,
				clip(why, 1000), id)
			return err
		})
}

// RecoverDeliveries settles the attempts claimed before claimedBefore that a stopped
// process left unfinished; see SQLite.RecoverDeliveries. With several nodes, every
// attempt claimed before claimedBefore counts, whichever node claimed it: call it with a
// time before which no node that is still running can have claimed one.
func (s *Postgres) RecoverDeliveries(ctx context.Context, claimedBefore time.Time) (int, error) {
	rows, err := s.query(ctx, `SELECT id, delivery FROM messages
		WHERE delivery IN ('sending', 'committing') AND next_attempt < $1`, micro(claimedBefore))
	if err != nil {
		return 0, fmt.Errorf("quarantine: recover deliveries: %w", err)
	}
	ls, err := scanLeftDeliveries(rows)
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return 0, fmt.Errorf("quarantine: recover deliveries: %w", err)
	}
	now := s.opt.now()
	return settleLeftDeliveries(ls, func(id string) error {
		return s.deliveryUpdate(ctx, id, []Delivery{DeliverySending}, "system", "", recoverPendingNote,
			func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `UPDATE messages SET delivery = 'pending', next_attempt = $1 WHERE id = $2`,
					micro(now), id)
				return err
			})
	}, func(id string) error {
		return s.markUnknown(ctx, id, recoverUnknownWhy)
	}, func(err error) bool { return errors.Is(err, ErrDeliveryState) || errors.Is(err, ErrNotFound) })
}

// PendingNotices returns the Held messages whose notice is pending, not claimed and due at now, oldest
// first, at most limit.
func (s *Postgres) PendingNotices(ctx context.Context, now time.Time, limit int) ([]Message, error) {
	l, err := s.queryMessages(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE notice = 'pending' AND notice_claimed = 0 AND notice_next <= $1 AND state = 'held' ORDER BY received, seq LIMIT $2`,
		micro(now), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("quarantine: pending notices: %w", err)
	}
	return l, nil
}

// SetNotice records where message id's notice is: sent, failed for good (errText), or
// pending again from retryAt after a temporary failure (errText).
func (s *Postgres) SetNotice(ctx context.Context, id string, n Notice, errText string, retryAt time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE messages SET notice = $1, notice_error = $2, notice_next = $3 WHERE id = $4`,
		string(n), clip(errText, 1000), optMicroOf(retryAt), id)
	if err != nil {
		return fmt.Errorf("quarantine: notice of %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return nil
}

// SetReminder records when the reminder before expiry went out for message id.
func (s *Postgres) SetReminder(ctx context.Context, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE messages SET reminder_sent = $1 WHERE id = $2`, micro(at), id)
	if err != nil {
		return fmt.Errorf("quarantine: reminder of %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return nil
}

// Confirm records that sender confirmed mail to domains (ASCII), from message id.
func (s *Postgres) Confirm(ctx context.Context, sender string, domains []string, messageID string) error {
	now := micro(s.opt.now())
	// In order, so that two nodes confirming the same domains lock the rows in the same
	// order and never deadlock.
	lower := make([]string, 0, len(domains))
	for _, d := range domains {
		lower = append(lower, strings.ToLower(d))
	}
	slices.Sort(lower)
	lower = slices.Compact(lower)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		for _, d := range lower {
			b.Queue(`INSERT INTO confirmations (sender, domain, confirmed_at, message_id, first_confirmed)
				VALUES ($1, $2, $3, $4, $3) ON CONFLICT (sender, domain) DO UPDATE
				SET confirmed_at = excluded.confirmed_at, message_id = excluded.message_id`,
				strings.ToLower(sender), d, now, messageID)
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return fmt.Errorf("quarantine: confirm: %w", err)
	}
	return nil
}

// Confirmed reports whether sender has confirmed mail to domain (ASCII).
func (s *Postgres) Confirmed(ctx context.Context, sender, domain string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM confirmations WHERE sender = $1 AND domain = $2)`,
		strings.ToLower(sender), strings.ToLower(domain)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("quarantine: confirmed: %w", err)
	}
	return ok, nil
}
