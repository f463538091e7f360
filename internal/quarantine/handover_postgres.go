package quarantine

import (
	"context"
	"fmt"
	"time"
)

var _ HandoverStore = (*Postgres)(nil)

// PutHandover records h, replacing a hand-over of the same queue ID.
func (s *Postgres) PutHandover(ctx context.Context, h Handover) error {
	rcpts, err := prepareHandover(&h, s.opt.now())
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, upsertHandover("$1, $2, $3, $4, $5, $6"), h.QueueID, micro(h.At), h.Sender, h.AuthUser, h.ClientAddr, string(rcpts))
	if err != nil {
		return fmt.Errorf("quarantine: record the hand-over of %s: %w", h.QueueID, err)
	}
	return nil
}

// GetHandover returns the hand-over of queueID, or ErrNotFound.
func (s *Postgres) GetHandover(ctx context.Context, queueID string) (Handover, error) {
	// recipients is jsonb: read back as its text.
	return scanHandover(s.pool.QueryRow(ctx, `SELECT at, sender, auth_user, client_addr, recipients::text FROM handovers WHERE queue_id = $1`,
		queueID), queueID)
}

// DeleteHandover removes the hand-over of queueID, if any.
func (s *Postgres) DeleteHandover(ctx context.Context, queueID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM handovers WHERE queue_id = $1`, queueID); err != nil {
		return fmt.Errorf("quarantine: delete the hand-over of %s: %w", queueID, err)
	}
	return nil
}

// PurgeHandovers deletes the hand-overs recorded before before.
func (s *Postgres) PurgeHandovers(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM handovers WHERE at < $1`, micro(before))
	if err != nil {
		return 0, fmt.Errorf("quarantine: purge hand-overs: %w", err)
	}
	return tag.RowsAffected(), nil
}
