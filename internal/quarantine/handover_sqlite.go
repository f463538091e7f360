package quarantine

import (
	"context"
	"fmt"
	"time"
)

var _ HandoverStore = (*SQLite)(nil)

// PutHandover records h, replacing a hand-over of the same queue ID.
func (s *SQLite) PutHandover(ctx context.Context, h Handover) error {
	rcpts, err := prepareHandover(&h, s.opt.now())
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_, err = s.db.ExecContext(ctx, upsertHandover("?, ?, ?, ?, ?, ?"), h.QueueID, micro(h.At), h.Sender, h.AuthUser, h.ClientAddr, string(rcpts))
	if err != nil {
		return fmt.Errorf("quarantine: record the hand-over of %s: %w", h.QueueID, err)
	}
	return nil
}

// GetHandover returns the hand-over of queueID, or ErrNotFound.
func (s *SQLite) GetHandover(ctx context.Context, queueID string) (Handover, error) {
	return scanHandover(s.db.QueryRowContext(ctx, `SELECT `+handoverColumns+` FROM handovers WHERE queue_id = ?`, queueID), queueID)
}

// DeleteHandover removes the hand-over of queueID, if any.
func (s *SQLite) DeleteHandover(ctx context.Context, queueID string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM handovers WHERE queue_id = ?`, queueID); err != nil {
		return fmt.Errorf("quarantine: delete the hand-over of %s: %w", queueID, err)
	}
	return nil
}

// PurgeHandovers deletes the hand-overs recorded before before.
func (s *SQLite) PurgeHandovers(ctx context.Context, before time.Time) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	res, err := s.db.ExecContext(ctx, `DELETE FROM handovers WHERE at < ?`, micro(before))
	if err != nil {
		return 0, fmt.Errorf("quarantine: purge hand-overs: %w", err)
	}
	return res.RowsAffected()
}
