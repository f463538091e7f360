package history

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/pgdb"
)

// postgresMigrations are the PostgreSQL schema, in order. Append only. The tables live in
// the quarantine's database (quarantine.postgres), named history_*, with a version table
// of their own. Times are Unix microseconds (UTC), like SQLite's.
var postgresMigrations = []string{
	`CREATE TABLE history_domains (
		domain     text   NOT NULL PRIMARY KEY,
		count      bigint NOT NULL CHECK (count >= 0),
		first_seen bigint NOT NULL,
		last_seen  bigint NOT NULL
	);
	CREATE TABLE history_sender_domains (
		domain        text   NOT NULL REFERENCES history_domains (domain) ON DELETE CASCADE,
		sender_domain text   NOT NULL,
		count         bigint NOT NULL CHECK (count >= 0),
		first_seen    bigint NOT NULL,
		last_seen     bigint NOT NULL,
		PRIMARY KEY (domain, sender_domain)
	);
	CREATE TABLE history_senders (
		sender     text   NOT NULL,
		domain     text   NOT NULL,
		count      bigint NOT NULL CHECK (count >= 0),
		first_seen bigint NOT NULL,
		last_seen  bigint NOT NULL,
		PRIMARY KEY (sender, domain)
	);
	CREATE INDEX history_senders_last_seen ON history_senders (last_seen);
	CREATE TABLE history_generation (
		id integer NOT NULL PRIMARY KEY CHECK (id = 1),
		n  bigint  NOT NULL
	);
	INSERT INTO history_generation (id, n) VALUES (1, 0);`,
}

// pgMigrationLock is the advisory lock key the history migrations hold: "rghist" in
// ASCII, apart from the quarantine's and the sessions'.
const pgMigrationLock = 0x726768697374

// pgWriteLock is the advisory lock that Record holds shared and PruneSenders exclusive:
// a prune's deletes, in scan order, never deadlock with a batch's upserts, in key order.
const pgWriteLock = 0x7267686973742d77

// maxPoolConns bounds the pool: the daemon writes one batch at a time and reads rarely.
const maxPoolConns = 4

// Postgres is the Store in PostgreSQL, shared by every node that uses the database, so
// that what one node learns every node knows.
//
// Record is one transaction of three upserts (one statement per table, whatever the size
// of the batch: the rows go as arrays) and the generation's increment. Rows are locked in
// the batch's sorted order and the generation last, so two nodes recording at once wait
// for each other and never deadlock; a prune waits for the batches under way (an
// advisory lock). Counts add up and saturate as SQLite's do.
type Postgres struct {
	pool *pgxpool.Pool
}

var _ Store = (*Postgres)(nil)

// OpenPostgres connects to the database at dsn (as quarantine.OpenPostgres reads it) and
// brings the history's tables up to date. A database written by a newer rcptguard is
// refused (ErrNewerSchema).
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	pool, err := pgdb.Open(ctx, dsn, maxPoolConns, pgdb.Schema{Store: "history",
		VersionTable: "history_version", Lock: pgMigrationLock, Migrations: postgresMigrations})
	if err != nil {
		return nil, err
	}
	return &Postgres{pool: pool}, nil
}

// Close closes the connections.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

// Health locks the generation's row for a moment: a database that takes no write (a
// read-only standby, a full disk's refusal) fails it.
func (p *Postgres) Health(ctx context.Context) error {
	if _, err := p.pool.Exec(ctx, `SELECT n FROM history_generation FOR UPDATE`); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// The upserts take their rows as arrays (unnest), so a batch is one statement per table.
// Counts saturate instead of overflowing.
const (
	pgUpsertDomain = `INSERT INTO history_domains AS t (domain, count, first_seen, last_seen)
		SELECT d, c, f, l FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[])
			WITH ORDINALITY AS u (d, c, f, l, i) ORDER BY i
		ON CONFLICT (domain) DO UPDATE SET
			count = CASE WHEN t.count > 9223372036854775807 - excluded.count THEN 9223372036854775807
				ELSE t.count + excluded.count END,
			first_seen = LEAST(t.first_seen, excluded.first_seen),
			last_seen = GREATEST(t.last_seen, excluded.last_seen)`
	pgUpsertSender = `INSERT INTO history_sender_domains AS t (domain, sender_domain, count, first_seen, last_seen)
		SELECT d, s, c, f, l FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
			WITH ORDINALITY AS u (d, s, c, f, l, i) ORDER BY i
		ON CONFLICT (domain, sender_domain) DO UPDATE SET
			count = CASE WHEN t.count > 9223372036854775807 - excluded.count THEN 9223372036854775807
				ELSE t.count + excluded.count END,
			first_seen = LEAST(t.first_seen, excluded.first_seen),
			last_seen = GREATEST(t.last_seen, excluded.last_seen)`
	pgUpsertOwn = `INSERT INTO history_senders AS t (domain, sender, count, first_seen, last_seen)
		SELECT d, s, c, f, l FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
			WITH ORDINALITY AS u (d, s, c, f, l, i) ORDER BY i
		ON CONFLICT (sender, domain) DO UPDATE SET
			count = CASE WHEN t.count > 9223372036854775807 - excluded.count THEN 9223372036854775807
				ELSE t.count + excluded.count END,
			first_seen = LEAST(t.first_seen, excluded.first_seen),
			last_seen = GREATEST(t.last_seen, excluded.last_seen)`
)

// columns are a table's rows as one array per column.
type columns struct {
	a, b         []string
	n, first, la []int64
}

func (c *columns) add(a, b string, t *tally) {
	c.a, c.b = append(c.a, a), append(c.b, b)
	c.n, c.first, c.la = append(c.n, t.count), append(c.first, t.first), append(c.la, t.last)
}

// Record adds a batch of observations in one transaction.
func (p *Postgres) Record(ctx context.Context, obs []Observation) error {
	if len(obs) == 0 {
		return nil
	}
	b, err := summarise(obs)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	var dom, snd, own columns
	for _, d := range b.domainKeys {
		dom.add(d, "", b.domains[d])
	}
	for _, k := range b.senderKeys {
		snd.add(k.domain, k.sender, b.senders[k])
	}
	for _, k := range b.ownKeys {
		own.add(k.domain, k.sender, b.own[k])
	}
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		// Shared with other Records, exclusive with PruneSenders, whose deletes lock rows
		// in another order.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, int64(pgWriteLock)); err != nil {
			return err
		}
		// Recipient domains first: sender rows refer to them.
		if len(dom.a) > 0 {
			if _, err := tx.Exec(ctx, pgUpsertDomain, dom.a, dom.n, dom.first, dom.la); err != nil {
				return err
			}
		}
		if len(snd.a) > 0 {
			if _, err := tx.Exec(ctx, pgUpsertSender, snd.a, snd.b, snd.n, snd.first, snd.la); err != nil {
				return err
			}
		}
		if len(own.a) > 0 {
			if _, err := tx.Exec(ctx, pgUpsertOwn, own.a, own.b, own.n, own.first, own.la); err != nil {
				return err
			}
		}
		if len(dom.a) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE history_generation SET n = n + 1`); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("history: record %d observations: %w", len(obs), err)
	}
	return nil
}

// Generation returns the generation of the organisation's history.
func (p *Postgres) Generation(ctx context.Context) (int64, error) {
	var n int64
	if err := p.pool.QueryRow(ctx, `SELECT n FROM history_generation`).Scan(&n); err != nil {
		return 0, fmt.Errorf("history: generation: %w", err)
	}
	return n, nil
}

// Known returns every recipient domain with its count, in name order (byte order,
// whatever the database's locale). A row that is not a valid domain is left out.
func (p *Postgres) Known(ctx context.Context) ([]engine.KnownDomain, error) {
	rows, err := p.pool.Query(ctx, `SELECT domain, count FROM history_domains ORDER BY domain COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("history: known domains: %w", err)
	}
	defer rows.Close()
	return knownFrom(rows)
}

// Domain returns what is known about one recipient domain.
func (p *Postgres) Domain(ctx context.Context, name string) (Stat, bool, error) {
	d, err := address.ParseDomain(name)
	if err != nil {
		return Stat{}, false, fmt.Errorf("history: domain: %w", err)
	}
	st := Stat{Domain: d.ASCII}
	var first, last int64
	err = p.pool.QueryRow(ctx, `SELECT count, first_seen, last_seen,
			(SELECT count(*) FROM history_sender_domains WHERE domain = $1)
		FROM history_domains WHERE domain = $1`, d.ASCII).Scan(&st.Count, &first, &last, &st.Senders)
	if errors.Is(err, pgx.ErrNoRows) {
		return Stat{}, false, nil
	}
	if err != nil {
		return Stat{}, false, fmt.Errorf("history: domain %s: %w", d.ASCII, err)
	}
	st.FirstSeen, st.LastSeen = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
	return st, true, nil
}

// Sender returns one sender's own history with one recipient domain.
func (p *Postgres) Sender(ctx context.Context, sender, name string) (SenderStat, bool, error) {
	from, err := NormalSender(sender)
	if err != nil {
		return SenderStat{}, false, fmt.Errorf("history: sender: %w", err)
	}
	d, err := address.ParseDomain(name)
	if err != nil {
		return SenderStat{}, false, fmt.Errorf("history: sender's domain: %w", err)
	}
	st := SenderStat{Sender: from, Domain: d.ASCII}
	var first, last int64
	err = p.pool.QueryRow(ctx, `SELECT count, first_seen, last_seen FROM history_senders
		WHERE sender = $1 AND domain = $2`, from, d.ASCII).Scan(&st.Count, &first, &last)
	if errors.Is(err, pgx.ErrNoRows) {
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
func (p *Postgres) PruneSenders(ctx context.Context, before time.Time, maxRows int) (int64, error) {
	if maxRows < 0 {
		return 0, fmt.Errorf("history: prune: negative cap %d", maxRows)
	}
	var n int64
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pgWriteLock)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM history_senders WHERE last_seen < $1`, before.UnixMicro())
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		if maxRows > 0 {
			tag, err = tx.Exec(ctx, `DELETE FROM history_senders WHERE (sender, domain) IN (
				SELECT sender, domain FROM history_senders ORDER BY last_seen, sender, domain
				LIMIT GREATEST(0, (SELECT count(*) FROM history_senders) - $1))`, maxRows)
			if err != nil {
				return fmt.Errorf("to %d rows: %w", maxRows, err)
			}
			n += tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("history: prune: %w", err)
	}
	return n, nil
}
