package watch

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rcptguard/rcptguard/internal/pgdb"
)

// postgresMigrations are the PostgreSQL schema, in order; append only. The tables live in
// the quarantine's database, named watch_*, with a version table of their own. Times are
// Unix microseconds, host lists JSON arrays in text, as in SQLite.
var postgresMigrations = []string{
	`CREATE TABLE watch_domains (
		domain           text    NOT NULL PRIMARY KEY,
		kind             text    NOT NULL CHECK (kind IN ('lookalike', 'known')),
		of_domain        text    NOT NULL,
		technique        text    NOT NULL,
		status           text    NOT NULL CHECK (status IN ('unknown', 'not-registered', 'registered')),
		can_receive      boolean NOT NULL,
		null_mx          boolean NOT NULL,
		mx               text    NOT NULL,
		ns               text    NOT NULL,
		addrs            text    NOT NULL,
		first_seen       bigint  NOT NULL,
		first_registered bigint  NOT NULL,
		last_checked     bigint  NOT NULL
	);
	CREATE TABLE watch_runs (
		id      bigserial PRIMARY KEY,
		at      bigint  NOT NULL,
		domains integer NOT NULL,
		unknown integer NOT NULL,
		changes integer NOT NULL
	);
	CREATE TABLE watch_changes (
		run          bigint  NOT NULL REFERENCES watch_runs (id) ON DELETE CASCADE,
		seq          integer NOT NULL,
		domain       text    NOT NULL,
		watched      text    NOT NULL,
		of_domain    text    NOT NULL,
		technique    text    NOT NULL,
		kind         text    NOT NULL,
		owner        boolean NOT NULL,
		farm_hosts   text    NOT NULL,
		before_facts text    NOT NULL,
		after_facts  text    NOT NULL,
		PRIMARY KEY (run, seq)
	);
	CREATE INDEX watch_changes_owner ON watch_changes (domain, run) WHERE owner;`,
	// 2: a run recorded by squat --notify owes its changes a mail until one is sent.
	`ALTER TABLE watch_runs ADD COLUMN mail_owed boolean NOT NULL DEFAULT false;
	CREATE INDEX watch_runs_mail_owed ON watch_runs (id) WHERE mail_owed;`,
}

// pgMigrationLock and pgRunLock are the advisory lock keys of the watch's migrations and
// of its runs ("rgwatch", "rgwatchr"), apart from the other stores'.
const (
	pgMigrationLock = 0x72677761746368
	pgRunLock       = 0x7267776174636872
)

// postgresStore is the store in PostgreSQL, shared by every node that uses the database.
// A run holds an advisory lock for its whole transaction, so runs from several nodes are
// recorded one after the other.
type postgresStore struct {
	pool *pgxpool.Pool
}

// OpenPostgres connects to the database at dsn and brings the watch's tables up to date.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	pool, err := pgdb.Open(ctx, dsn, 4, pgdb.Schema{Store: "watch", VersionTable: "watch_version",
		Lock: pgMigrationLock, Migrations: postgresMigrations})
	if err != nil {
		return nil, err
	}
	return &Store{b: &postgresStore{pool: pool}}, nil
}

func (p *postgresStore) close() error {
	p.pool.Close()
	return nil
}

func (p *postgresStore) update(ctx context.Context, fn func(w writer) error) error {
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(pgRunLock)); err != nil {
			return err
		}
		return fn(pgTx{tx})
	})
}

// pgQuerier is a pool or a transaction.
type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func pgScanRows(ctx context.Context, q pgQuerier, where string, args ...any) ([]dbRow, error) {
	rows, err := q.Query(ctx, `SELECT `+domainColumns+` FROM watch_domains `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []dbRow
	for rows.Next() {
		var r dbRow
		if err := rows.Scan(&r.domain, &r.kind, &r.of, &r.technique, &r.status, &r.canReceive, &r.nullMX,
			&r.mx, &r.ns, &r.addrs, &r.firstSeen, &r.firstRegistered, &r.lastChecked); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (p *postgresStore) rows(ctx context.Context) ([]dbRow, error) {
	return pgScanRows(ctx, p.pool, `ORDER BY domain COLLATE "C"`)
}

func (p *postgresStore) row(ctx context.Context, domain string) (dbRow, bool, error) {
	rs, err := pgScanRows(ctx, p.pool, `WHERE domain = $1`, domain)
	if err != nil || len(rs) == 0 {
		return dbRow{}, false, err
	}
	return rs[0], true, nil
}

func (p *postgresStore) lastOwnerChange(ctx context.Context, domain string) (changeRow, int64, bool, error) {
	var c changeRow
	var at int64
	err := p.pool.QueryRow(ctx, `SELECT c.domain, c.watched, c.of_domain, c.technique, c.kind, c.owner,
			c.farm_hosts, c.before_facts, c.after_facts, r.at
		FROM watch_changes c JOIN watch_runs r ON r.id = c.run
		WHERE c.domain = $1 AND c.owner ORDER BY c.run DESC, c.seq DESC LIMIT 1`, domain).Scan(
		&c.domain, &c.watched, &c.of, &c.technique, &c.kind, &c.owner, &c.farmHosts, &c.before, &c.after, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return changeRow{}, 0, false, nil
	}
	if err != nil {
		return changeRow{}, 0, false, err
	}
	return c, at, true, nil
}

func (p *postgresStore) lastRun(ctx context.Context) (Run, bool, error) {
	var r Run
	var at int64
	err := p.pool.QueryRow(ctx, `SELECT id, at, domains, unknown, changes, mail_owed FROM watch_runs
		ORDER BY id DESC LIMIT 1`).Scan(&r.ID, &at, &r.Domains, &r.Unknown, &r.Changes, &r.MailOwed)
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, err
	}
	r.At = fromMicros(at)
	return r, true, nil
}

func (p *postgresStore) owedMail(ctx context.Context, run int64) ([]changeRow, []int64, error) {
	rows, err := p.pool.Query(ctx, `SELECT c.domain, c.watched, c.of_domain, c.technique, c.kind, c.owner,
			c.farm_hosts, c.before_facts, c.after_facts, r.at
		FROM watch_runs r JOIN watch_changes c ON c.run = r.id
		WHERE r.mail_owed AND r.id < $1 ORDER BY r.id, c.seq`, run)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var cs []changeRow
	var ats []int64
	for rows.Next() {
		var c changeRow
		var at int64
		if err := rows.Scan(&c.domain, &c.watched, &c.of, &c.technique, &c.kind, &c.owner, &c.farmHosts, &c.before, &c.after, &at); err != nil {
			return nil, nil, err
		}
		cs, ats = append(cs, c), append(ats, at)
	}
	return cs, ats, rows.Err()
}

func (p *postgresStore) mailSent(ctx context.Context, run int64) error {
	_, err := p.pool.Exec(ctx, `UPDATE watch_runs SET mail_owed = false WHERE mail_owed AND id <= $1`, run)
	return err
}

// pgTx is a run's transaction. Rows go as arrays (unnest): one statement per table.
type pgTx struct{ tx pgx.Tx }

func (t pgTx) rows(ctx context.Context) ([]dbRow, error) { return pgScanRows(ctx, t.tx, "") }

func (t pgTx) put(ctx context.Context, rows []dbRow) error {
	if len(rows) == 0 {
		return nil
	}
	var dom, kind, of, tech, status, mx, ns, addrs []string
	var recv, null []bool
	var first, firstReg, checked []int64
	for _, r := range rows {
		dom, kind, of, tech, status = append(dom, r.domain), append(kind, r.kind), append(of, r.of),
			append(tech, r.technique), append(status, r.status)
		recv, null = append(recv, r.canReceive), append(null, r.nullMX)
		mx, ns, addrs = append(mx, r.mx), append(ns, r.ns), append(addrs, r.addrs)
		first, firstReg, checked = append(first, r.firstSeen), append(firstReg, r.firstRegistered),
			append(checked, r.lastChecked)
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO watch_domains (`+domainColumns+`)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[],
			$7::boolean[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::bigint[])
		ON CONFLICT (domain) DO UPDATE SET kind = excluded.kind, of_domain = excluded.of_domain,
			technique = excluded.technique, status = excluded.status, can_receive = excluded.can_receive,
			null_mx = excluded.null_mx, mx = excluded.mx, ns = excluded.ns, addrs = excluded.addrs,
			first_seen = excluded.first_seen, first_registered = excluded.first_registered,
			last_checked = excluded.last_checked`,
		dom, kind, of, tech, status, recv, null, mx, ns, addrs, first, firstReg, checked)
	return err
}

func (t pgTx) addRun(ctx context.Context, r Run) (int64, error) {
	var id int64
	err := t.tx.QueryRow(ctx, `INSERT INTO watch_runs (at, domains, unknown, changes, mail_owed) VALUES ($1, $2, $3, $4, $5)
		RETURNING id`, micros(r.At), r.Domains, r.Unknown, r.Changes, r.MailOwed).Scan(&id)
	return id, err
}

func (t pgTx) addChanges(ctx context.Context, run int64, cs []changeRow) error {
	if len(cs) == 0 {
		return nil
	}
	var seq []int32
	var dom, watched, of, tech, kind, farm, before, after []string
	var owner []bool
	for i, c := range cs {
		seq = append(seq, int32(i))
		dom, watched, of, tech, kind = append(dom, c.domain), append(watched, c.watched), append(of, c.of),
			append(tech, c.technique), append(kind, c.kind)
		owner, farm = append(owner, c.owner), append(farm, c.farmHosts)
		before, after = append(before, c.before), append(after, c.after)
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO watch_changes (run, seq, domain, watched, of_domain, technique, kind,
			owner, farm_hosts, before_facts, after_facts)
		SELECT $1, * FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::boolean[], $9::text[], $10::text[], $11::text[])`,
		run, seq, dom, watched, of, tech, kind, owner, farm, before, after)
	return err
}

// pgPrunableRuns selects the runs Prune deletes (the cutoff is $1); as prunableRuns.
const pgPrunableRuns = `SELECT id FROM watch_runs WHERE at < $1 AND NOT mail_owed
	AND id < (SELECT max(id) FROM watch_runs)
	AND id NOT IN (SELECT max(c.run) FROM watch_changes c JOIN watch_domains d ON d.domain = c.domain
		WHERE c.owner GROUP BY c.domain)`

func (t pgTx) prune(ctx context.Context, cutoff int64) (Pruned, error) {
	var p Pruned
	for _, step := range []struct {
		query string
		n     *int64
	}{
		{`DELETE FROM watch_domains WHERE greatest(first_seen, last_checked) < $1`, &p.Domains},
		{`DELETE FROM watch_changes WHERE run IN (` + pgPrunableRuns + `)`, &p.Changes},
		{`DELETE FROM watch_runs WHERE id IN (` + pgPrunableRuns + `)`, &p.Runs},
	} {
		tag, err := t.tx.Exec(ctx, step.query, cutoff)
		if err != nil {
			return Pruned{}, err
		}
		*step.n = tag.RowsAffected()
	}
	return p, nil
}
