package quarantine

import (
	"context"
	"database/sql"
	"errors"
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
	_, err = s.db.ExecContext(ctx, `INSERT INTO handovers (queue_id, at, sender, auth_user, client_addr, recipients)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (queue_id) DO UPDATE SET at = excluded.at, sender = excluded.sender,
		auth_user = excluded.auth_user, client_addr = excluded.client_addr, recipients = excluded.recipients`,
		h.QueueID, micro(h.At), h.Sender, h.AuthUser, h.ClientAddr, string(rcpts))
	if err != nil {
		return fmt.Errorf("quarantine: record the hand-over of %s: %w", h.QueueID, err)
	}
	return nil
}

// GetHandover returns the hand-over of queueID, or ErrNotFound.
func (s *SQLite) GetHandover(ctx context.Context, queueID string) (Handover, error) {
	h := Handover{QueueID: queueID}
	var at int64
	var rcpts string
	err := s.db.QueryRowContext(ctx, `SELECT at, sender, auth_user, client_addr, recipients FROM handovers WHERE queue_id = ?`,
		queueID).Scan(&at, &h.Sender, &h.AuthUser, &h.ClientAddr, &rcpts)
	if errors.Is(err, sql.ErrNoRows) {
		return Handover{}, fmt.Errorf("%w: hand-over %s", ErrNotFound, queueID)
	}
	if err != nil {
		return Handover{}, fmt.Errorf("quarantine: read the hand-over of %s: %w", queueID, err)
	}
	h.At = fromMicro(at)
	h.Recipients, err = handoverRecipients([]byte(rcpts))
	return h, err
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
