package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
)

// Sender returns one sender's own history with one recipient domain.
func (s *SQLite) Sender(ctx context.Context, sender, name string) (SenderStat, bool, error) {
	from, err := NormalSender(sender)
	if err != nil {
		return SenderStat{}, false, fmt.Errorf("history: sender: %w", err)
	}
	d, err := address.ParseDomain(name)
	if err != nil {
		return SenderStat{}, false, fmt.Errorf("history: sender's domain: %w", err)
	}
	if err := s.usable(); err != nil {
		return SenderStat{}, false, err
	}
	st := SenderStat{Sender: from, Domain: d.ASCII}
	var first, last int64
	err = s.db.QueryRowContext(ctx, `SELECT count, first_seen, last_seen FROM sender_history
		WHERE sender = ? AND domain = ?`, from, d.ASCII).Scan(&st.Count, &first, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return SenderStat{}, false, nil
	}
	if err != nil {
		return SenderStat{}, false, fmt.Errorf("history: sender %s, domain %s: %w", from, d.ASCII, err)
	}
	st.FirstSeen, st.LastSeen = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
	return st, true, nil
}

// PruneSenders deletes the per-sender rows last seen before before, then the least
// recently seen beyond maxRows, in one transaction.
func (s *SQLite) PruneSenders(ctx context.Context, before time.Time, maxRows int) (int64, error) {
	if maxRows < 0 {
		return 0, fmt.Errorf("history: prune: negative cap %d", maxRows)
	}
	if err := s.usable(); err != nil {
		return 0, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM sender_history WHERE last_seen < ?`, before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	n, _ := res.RowsAffected()
	if maxRows > 0 {
		res, err = tx.ExecContext(ctx, `DELETE FROM sender_history WHERE (sender, domain) IN (
			SELECT sender, domain FROM sender_history ORDER BY last_seen, sender, domain
			LIMIT max(0, (SELECT count(*) FROM sender_history) - ?))`, maxRows)
		if err != nil {
			return 0, fmt.Errorf("history: prune to %d rows: %w", maxRows, err)
		}
		m, _ := res.RowsAffected()
		n += m
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	return n, nil
}
