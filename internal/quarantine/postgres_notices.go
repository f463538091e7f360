package quarantine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ClaimNotice claims an attempt at message id's notice of the kind: see SQLite's. The
// claim is one UPDATE ... WHERE claimed = 0: of two nodes claiming at once, the second
// waits for the first's commit and then finds the notice claimed.
func (s *Postgres) ClaimNotice(ctx context.Context, id string, kind NoticeKind, now time.Time) (int, error) {
	c, err := columnsOf(kind)
	if err != nil {
		return 0, err
	}
	var attempt int
	err = s.pool.QueryRow(ctx, numbered(claimSQL(c)), micro(now), id, micro(now)).Scan(&attempt)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("%w: %s of %s is not due", ErrNoticeState, kind, id)
	}
	if err != nil {
		return 0, fmt.Errorf("quarantine: claim the %s of %s: %w", kind, id, err)
	}
	return attempt, nil
}

// SettleNotice records the outcome of a claimed notice and ends the claim: see SQLite's.
func (s *Postgres) SettleNotice(ctx context.Context, id string, kind NoticeKind, n Notice, errText string, retryAt time.Time) error {
	c, err := columnsOf(kind)
	if err != nil {
		return err
	}
	q, args, err := settleSQL(c, id, n, errText, retryAt, s.opt.now())
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, numbered(q), args...)
	if err != nil {
		return fmt.Errorf("quarantine: settle the %s of %s: %w", kind, id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s of %s is not claimed", ErrNoticeState, kind, id)
	}
	return nil
}

// Expire moves message id from Held to Expired, making its return due when
// returnToSender is true, in one transaction: see SQLite's.
func (s *Postgres) Expire(ctx context.Context, id, note string, returnToSender bool) error {
	now := s.opt.now()
	var also []func(pgx.Tx) error
	if returnToSender {
		also = append(also, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, numbered(expireReturnSQL), micro(now), id)
			return err
		})
	}
	err := s.transition(ctx, id, Held, Expired, transitionEvent(now, id, Held, Expired, "system", "", note), also...)
	return wrapUnexpected(err, "quarantine: expire %s", id)
}

// PendingReturns returns the expired messages whose return is due: see SQLite's.
func (s *Postgres) PendingReturns(ctx context.Context, now time.Time, limit int) ([]Message, error) {
	l, err := s.queryMessages(ctx, numbered(pendingReturnsSQL+`seq LIMIT ?`), micro(now), max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("quarantine: pending returns: %w", err)
	}
	return l, nil
}

// RecoverNotices marks the claims made before claimedBefore that were never settled:
// see SQLite's. With several nodes, pass a time older than any attempt can take.
func (s *Postgres) RecoverNotices(ctx context.Context, claimedBefore time.Time) (int, error) {
	total := 0
	for _, kind := range noticeKinds {
		count, mark := leftClaimsSQL(noticeCols[kind])
		var n int
		if err := s.pool.QueryRow(ctx, numbered(count), micro(claimedBefore), unknownNoticeNote).Scan(&n); err != nil {
			return total, fmt.Errorf("quarantine: recover notices: %w", err)
		}
		if n == 0 {
			continue
		}
		tag, err := s.pool.Exec(ctx, numbered(mark), unknownNoticeNote, micro(claimedBefore), unknownNoticeNote)
		if err != nil {
			return total, fmt.Errorf("quarantine: recover notices: %w", err)
		}
		total += int(tag.RowsAffected())
	}
	return total, nil
}
