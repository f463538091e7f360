package quarantine

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

var _ TrustStore = (*Postgres)(nil)

const pgInsertTrustEvent = `INSERT INTO trust_events (at, domain, action, actor, remote, note, forced)
	VALUES ($1, $2, $3, $4, $5, $6, $7)`

// Trust records t and its audit event; ErrAlreadyTrusted when the domain is trusted. Of
// two nodes trusting the same domain at once, the second waits for the first's commit
// and then finds it trusted.
func (s *Postgres) Trust(ctx context.Context, t Trusted) error {
	d, err := trustDomain(t.Domain)
	if err != nil {
		return err
	}
	now := micro(s.opt.now())
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO trusted_domains (domain, trusted_at, actor, remote, note, forced)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (domain) DO NOTHING`, d, now, t.Actor, t.Remote, clip(t.Note, 1000), t.Forced)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s", ErrAlreadyTrusted, d)
		}
		_, err = tx.Exec(ctx, pgInsertTrustEvent, now, d, string(TrustAdded), t.Actor, t.Remote, clip(t.Note, 1000), t.Forced)
		return err
	})
	if err != nil {
		return wrapTrust(err, "trust "+d)
	}
	return nil
}

// Untrust withdraws the trust of domain with its audit event; ErrNotTrusted when it is not
// trusted.
func (s *Postgres) Untrust(ctx context.Context, domain, actor, remote, note string) error {
	d, err := trustDomain(domain)
	if err != nil {
		return err
	}
	now := micro(s.opt.now())
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM trusted_domains WHERE domain = $1`, d)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s", ErrNotTrusted, d)
		}
		_, err = tx.Exec(ctx, pgInsertTrustEvent, now, d, string(TrustRemoved), actor, remote, clip(note, 1000), false)
		return err
	})
	if err != nil {
		return wrapTrust(err, "untrust "+d)
	}
	return nil
}

// TrustedDomains lists the trusted domains in name order.
func (s *Postgres) TrustedDomains(ctx context.Context) ([]Trusted, error) {
	l, err := collect(ctx, s.query, scanTrusted, `SELECT domain, trusted_at, actor, remote, note, forced
		FROM trusted_domains ORDER BY domain COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("quarantine: trusted domains: %w", err)
	}
	return l, nil
}

// TrustVersion is the number of trust events: it grows with every committed change,
// whatever order concurrent transactions commit in (a sequence number would not).
func (s *Postgres) TrustVersion(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM trust_events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("quarantine: trust version: %w", err)
	}
	return n, nil
}

// TrustEvents is the trust audit log, newest first.
func (s *Postgres) TrustEvents(ctx context.Context, limit, offset int) ([]TrustEvent, error) {
	l, err := collect(ctx, s.query, scanTrustEvents, `SELECT at, domain, action, actor, remote, note, forced
		FROM trust_events ORDER BY seq DESC LIMIT $1 OFFSET $2`, listLimit(limit), max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("quarantine: trust events: %w", err)
	}
	return l, nil
}

// Proposals lists the untrusted domains confirmed by at least minSenders senders.
func (s *Postgres) Proposals(ctx context.Context, minSenders, limit int) ([]Proposal, error) {
	l, err := collect(ctx, s.query, scanProposals, `SELECT c.domain, count(*)::int AS n, min(c.first_confirmed),
			max(c.confirmed_at) AS last
		FROM confirmations c
		WHERE c.sender <> '' AND NOT EXISTS (SELECT 1 FROM trusted_domains t WHERE t.domain = c.domain)
		GROUP BY c.domain HAVING count(*) >= $1
		ORDER BY n DESC, last DESC, c.domain COLLATE "C" LIMIT $2`, max(minSenders, 1), listLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("quarantine: proposals: %w", err)
	}
	return l, nil
}
