package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rcptguard/rcptguard/internal/ratelimit"
)

// Sign-in attempts: the PostgreSQL store also counts the attempts to sign in (the admin
// pages) and to authenticate (the relay's AUTH) for ratelimit.Limiter.Share, beside the
// sessions, so that every node sharing the database counts the same attempts.

var _ ratelimit.Attempts = (*Postgres)(nil)

// Begin counts an attempt at now under each key unless one of them has limit attempts in
// the window; see ratelimit.Attempts. The keys are locked (advisory transaction locks, in
// sorted order) so that two nodes cannot both let the limit-th attempt through.
func (p *Postgres) Begin(ctx context.Context, keys []string, limit int, window time.Duration, now time.Time) (time.Duration, bool, error) {
	keys = slices.Sorted(slices.Values(keys))
	var retry time.Duration
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(pgAttemptsLock), k); err != nil {
				return err
			}
		}
		// Attempts out of every window are of no use to anyone.
		if _, err := tx.Exec(ctx, `DELETE FROM signin_attempts WHERE at <= $1`, micros(now.Add(-window))); err != nil {
			return err
		}
		for _, k := range keys {
			var at int64
			err := tx.QueryRow(ctx, `SELECT at FROM signin_attempts WHERE key = $1 ORDER BY at DESC OFFSET $2 LIMIT 1`,
				k, limit-1).Scan(&at)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			retry = max(retry, fromMicros(at).Add(window).Sub(now))
		}
		if retry > 0 {
			return nil // the old attempts are deleted all the same
		}
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `INSERT INTO signin_attempts (key, at) VALUES ($1, $2)`, k, micros(now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("session store: count a sign-in attempt: %w", err)
	}
	return retry, retry <= 0, nil
}

// Forgive removes one attempt counted at at under each key.
func (p *Postgres) Forgive(ctx context.Context, keys []string, at time.Time) error {
	for _, k := range keys {
		_, err := p.pool.Exec(ctx, `DELETE FROM signin_attempts WHERE ctid IN
			(SELECT ctid FROM signin_attempts WHERE key = $1 AND at = $2 LIMIT 1)`, k, micros(at))
		if err != nil {
			return fmt.Errorf("session store: forgive a sign-in attempt: %w", err)
		}
	}
	return nil
}

// pgAttemptsLock is the first key of the advisory locks on attempt keys: "rgat".
const pgAttemptsLock = 0x72676174
