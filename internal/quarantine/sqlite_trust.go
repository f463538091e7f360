package quarantine

import (
	"context"
	"database/sql"
	"fmt"
)

var _ TrustStore = (*SQLite)(nil)

// Trust records t and its audit event; ErrAlreadyTrusted when the domain is trusted.
func (s *SQLite) Trust(ctx context.Context, t Trusted) error {
	d, err := trustDomain(t.Domain)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := micro(s.opt.now())
	return s.trustTx(ctx, "trust "+d, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO trusted_domains (domain, trusted_at, actor, remote, note, forced)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (domain) DO NOTHING`, d, now, t.Actor, t.Remote, clip(t.Note, 1000), t.Forced)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s", ErrAlreadyTrusted, d)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO trust_events (at, domain, action, actor, remote, note, forced)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, now, d, string(TrustAdded), t.Actor, t.Remote, clip(t.Note, 1000), t.Forced)
		return err
	})
}

// Untrust withdraws the trust of domain with its audit event; ErrNotTrusted when it is not
// trusted.
func (s *SQLite) Untrust(ctx context.Context, domain, actor, remote, note string) error {
	d, err := trustDomain(domain)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	now := micro(s.opt.now())
	return s.trustTx(ctx, "untrust "+d, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM trusted_domains WHERE domain = ?`, d)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s", ErrNotTrusted, d)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO trust_events (at, domain, action, actor, remote, note, forced)
			VALUES (?, ?, ?, ?, ?, ?, 0)`, now, d, string(TrustRemoved), actor, remote, clip(note, 1000))
		return err
	})
}

// trustTx runs fn in a transaction and commits it if fn returns nil.
func (s *SQLite) trustTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("quarantine: %s: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return wrapTrust(err, what)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("quarantine: %s: %w", what, err)
	}
	return nil
}

// TrustedDomains lists the trusted domains in name order.
func (s *SQLite) TrustedDomains(ctx context.Context) ([]Trusted, error) {
	l, err := collect(ctx, s.query, scanTrusted, `SELECT domain, trusted_at, actor, remote, note, forced
		FROM trusted_domains ORDER BY domain`)
	if err != nil {
		return nil, fmt.Errorf("quarantine: trusted domains: %w", err)
	}
	return l, nil
}

// TrustVersion is the number of trust events.
func (s *SQLite) TrustVersion(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM trust_events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("quarantine: trust version: %w", err)
	}
	return n, nil
}

// TrustEvents is the trust audit log, newest first.
func (s *SQLite) TrustEvents(ctx context.Context, limit, offset int) ([]TrustEvent, error) {
	l, err := collect(ctx, s.query, scanTrustEvents, `SELECT at, domain, action, actor, remote, note, forced
		FROM trust_events ORDER BY seq DESC LIMIT ? OFFSET ?`, listLimit(limit), max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("quarantine: trust events: %w", err)
	}
	return l, nil
}

// Proposals lists the untrusted domains confirmed by at least minSenders senders.
func (s *SQLite) Proposals(ctx context.Context, minSenders, limit int) ([]Proposal, error) {
	l, err := collect(ctx, s.query, scanProposals, `SELECT c.domain, count(*) AS n, min(c.first_confirmed),
			max(c.confirmed_at) AS last
		FROM confirmations c
		WHERE c.sender <> '' AND NOT EXISTS (SELECT 1 FROM trusted_domains t WHERE t.domain = c.domain)
		GROUP BY c.domain HAVING count(*) >= ?
		ORDER BY n DESC, last DESC, c.domain LIMIT ?`, max(minSenders, 1), listLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("quarantine: proposals: %w", err)
	}
	return l, nil
}
