package quarantine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ClaimNotice claims an attempt at message id's notice of the kind, at now, and returns
// the attempt's number (1 for the first). It succeeds only if the notice is due: the
// first notice pending on a held message, the reminder on a held message whose notice
// was sent and whose reminder was not, the return of an expired message made due by
// Expire; none claimed already, and its retry time, if any, reached. Otherwise it fails
// with ErrNoticeState. Send the notice only after a nil error, and settle the claim with
// SettleNotice; a claim never settled keeps the notice from being sent again.
func (s *SQLite) ClaimNotice(ctx context.Context, id string, kind NoticeKind, now time.Time) (int, error) {
	c, err := columnsOf(kind)
	if err != nil {
		return 0, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var attempt int
	err = s.db.QueryRowContext(ctx, claimSQL(c), micro(now), id, micro(now)).Scan(&attempt)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: %s of %s is not due", ErrNoticeState, kind, id)
	}
	if err != nil {
		return 0, fmt.Errorf("quarantine: claim the %s of %s: %w", kind, id, err)
	}
	return attempt, nil
}

// SettleNotice records the outcome of the claimed attempt at message id's notice of the
// kind and ends the claim: NoticeSent, NoticeFailed (refused for good, errText), or
// NoticePending (a temporary failure, errText) to be claimed again from retryAt. A
// notice that is not claimed fails with ErrNoticeState.
func (s *SQLite) SettleNotice(ctx context.Context, id string, kind NoticeKind, n Notice, errText string, retryAt time.Time) error {
	c, err := columnsOf(kind)
	if err != nil {
		return err
	}
	q, args, err := settleSQL(c, id, n, errText, retryAt, s.opt.now())
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("quarantine: settle the %s of %s: %w", kind, id, err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return fmt.Errorf("%w: %s of %s is not claimed", ErrNoticeState, kind, id)
	}
	return nil
}

// Expire moves message id from Held to Expired with its audit event (note), as
// Transition does, and when returnToSender is true makes the return of the message to
// its sender due now, in the same transaction: a return is never lost between the
// expiry and its first attempt.
func (s *SQLite) Expire(ctx context.Context, id, note string, returnToSender bool) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := s.opt.now()
	var also []func(*sql.Tx) error
	if returnToSender {
		also = append(also, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, expireReturnSQL, micro(now), id)
			return err
		})
	}
	err := s.transition(ctx, id, Held, Expired, transitionEvent(now, id, Held, Expired, "system", "", note), also...)
	return wrapUnexpected(err, "quarantine: expire %s", id)
}

// PendingReturns returns the expired messages whose return is due at now and not
// claimed, oldest expiry first, at most limit.
func (s *SQLite) PendingReturns(ctx context.Context, now time.Time, limit int) ([]Message, error) {
	l, err := s.queryMessages(ctx, pendingReturnsSQL+`rowid LIMIT ?`, micro(now), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("quarantine: pending returns: %w", err)
	}
	return l, nil
}

// RecoverNotices marks the claims made before claimedBefore that were never settled
// (call it at start with the start time): their outcome is unknown, and their error
// text says so. They stay claimed, so that they are not sent again by themselves. It
// returns how many it marked, and writes nothing when there are none.
func (s *SQLite) RecoverNotices(ctx context.Context, claimedBefore time.Time) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	total := 0
	for _, kind := range noticeKinds {
		count, mark := leftClaimsSQL(noticeCols[kind])
		var n int
		if err := s.db.QueryRowContext(ctx, count, micro(claimedBefore), unknownNoticeNote).Scan(&n); err != nil {
			return total, fmt.Errorf("quarantine: recover notices: %w", err)
		}
		if n == 0 {
			continue
		}
		res, err := s.db.ExecContext(ctx, mark, unknownNoticeNote, micro(claimedBefore), unknownNoticeNote)
		if err != nil {
			return total, fmt.Errorf("quarantine: recover notices: %w", err)
		}
		k, _ := res.RowsAffected()
		total += int(k)
	}
	return total, nil
}
