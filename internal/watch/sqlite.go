package watch

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/rcptguard/rcptguard/internal/sqlitedb"
)

// migrations are the SQLite schema, in order. Append only; never edit a released one.
var migrations = []string{
	// 1: per domain the last answered facts; the runs; what each run found changed.
	// Host lists and addresses are JSON arrays; times Unix microseconds, 0 for never.
	`CREATE TABLE watch_domains (
		domain           TEXT    NOT NULL PRIMARY KEY,
		kind             TEXT    NOT NULL CHECK (kind IN ('lookalike', 'known')),
		of_domain        TEXT    NOT NULL,
		technique        TEXT    NOT NULL,
		status           TEXT    NOT NULL CHECK (status IN ('unknown', 'not-registered', 'registered')),
		can_receive      INTEGER NOT NULL CHECK (can_receive IN (0, 1)),
		null_mx          INTEGER NOT NULL CHECK (null_mx IN (0, 1)),
		mx               TEXT    NOT NULL,
		ns               TEXT    NOT NULL,
		addrs            TEXT    NOT NULL,
		first_seen       INTEGER NOT NULL,
		first_registered INTEGER NOT NULL,
		last_checked     INTEGER NOT NULL
	) STRICT, WITHOUT ROWID;
	CREATE TABLE watch_runs (
		id      INTEGER PRIMARY KEY,
		at      INTEGER NOT NULL,
		domains INTEGER NOT NULL,
		unknown INTEGER NOT NULL,
		changes INTEGER NOT NULL
	) STRICT;
	CREATE TABLE watch_changes (
		run          INTEGER NOT NULL REFERENCES watch_runs (id) ON DELETE CASCADE,
		seq          INTEGER NOT NULL,
		domain       TEXT    NOT NULL,
		watched      TEXT    NOT NULL,
		of_domain    TEXT    NOT NULL,
		technique    TEXT    NOT NULL,
		kind         TEXT    NOT NULL,
		owner        INTEGER NOT NULL CHECK (owner IN (0, 1)),
		farm_hosts   TEXT    NOT NULL,
		before_facts TEXT    NOT NULL,
		after_facts  TEXT    NOT NULL,
		PRIMARY KEY (run, seq)
	) STRICT;
	CREATE INDEX watch_changes_owner ON watch_changes (domain, run) WHERE owner = 1;`,
	// 2: a run recorded by squat --notify owes its changes a mail until one is sent.
	`ALTER TABLE watch_runs ADD COLUMN mail_owed INTEGER NOT NULL DEFAULT 0 CHECK (mail_owed IN (0, 1));
	CREATE INDEX watch_runs_mail_owed ON watch_runs (id) WHERE mail_owed = 1;`,
}

// ErrNewerSchema is wrapped by the error for a database written by a newer rcptguard.
var ErrNewerSchema = sqlitedb.ErrNewerSchema

// sqliteStore is the store in one SQLite file (sqlitedb: WAL, synchronous=FULL, write
// transactions that lock at BEGIN, so a run reads and writes under one write lock).
type sqliteStore struct {
	db      *sql.DB
	path    string
	writeMu sync.Mutex // one writer at a time in this process; other processes wait in SQLite
}

// OpenSQLite opens the SQLite store at path, creating it if needed.
func OpenSQLite(path string) (*Store, error) {
	db, abs, err := sqlitedb.Open(path, migrations)
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	return &Store{b: &sqliteStore{db: db, path: abs}}, nil
}

func (s *sqliteStore) close() error { return s.db.Close() }

// usable checks the files before the driver touches them (sqlitedb.CheckFiles).
func (s *sqliteStore) usable() error { return sqlitedb.CheckFiles(s.path) }

const domainColumns = `domain, kind, of_domain, technique, status, can_receive, null_mx, mx, ns, addrs,
	first_seen, first_registered, last_checked`

func (s *sqliteStore) update(ctx context.Context, fn func(w writer) error) error {
	if err := s.usable(); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock before the first read
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(sqliteTx{tx}); err != nil {
		return err
	}
	return tx.Commit()
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func scanRows(ctx context.Context, q querier, where string, args ...any) ([]dbRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+domainColumns+` FROM watch_domains `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []dbRow
	for rows.Next() {
		var r dbRow
		var recv, null int64
		if err := rows.Scan(&r.domain, &r.kind, &r.of, &r.technique, &r.status, &recv, &null,
			&r.mx, &r.ns, &r.addrs, &r.firstSeen, &r.firstRegistered, &r.lastChecked); err != nil {
			return nil, err
		}
		r.canReceive, r.nullMX = recv == 1, null == 1
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *sqliteStore) rows(ctx context.Context) ([]dbRow, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	return scanRows(ctx, s.db, `ORDER BY domain`)
}

func (s *sqliteStore) row(ctx context.Context, domain string) (dbRow, bool, error) {
	if err := s.usable(); err != nil {
		return dbRow{}, false, err
	}
	rs, err := scanRows(ctx, s.db, `WHERE domain = ?`, domain)
	if err != nil || len(rs) == 0 {
		return dbRow{}, false, err
	}
	return rs[0], true, nil
}

func (s *sqliteStore) lastOwnerChange(ctx context.Context, domain string) (changeRow, int64, bool, error) {
	if err := s.usable(); err != nil {
		return changeRow{}, 0, false, err
	}
	var c changeRow
	var at, owner int64
	err := s.db.QueryRowContext(ctx, `SELECT c.domain, c.watched, c.of_domain, c.technique, c.kind, c.owner,
			c.farm_hosts, c.before_facts, c.after_facts, r.at
		FROM watch_changes c JOIN watch_runs r ON r.id = c.run
		WHERE c.domain = ? AND c.owner = 1 ORDER BY c.run DESC, c.seq DESC LIMIT 1`, domain).Scan(
		&c.domain, &c.watched, &c.of, &c.technique, &c.kind, &owner, &c.farmHosts, &c.before, &c.after, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return changeRow{}, 0, false, nil
	}
	if err != nil {
		return changeRow{}, 0, false, err
	}
	c.owner = owner == 1
	return c, at, true, nil
}

func (s *sqliteStore) lastRun(ctx context.Context) (Run, bool, error) {
	if err := s.usable(); err != nil {
		return Run{}, false, err
	}
	var r Run
	var at, owed int64
	err := s.db.QueryRowContext(ctx, `SELECT id, at, domains, unknown, changes, mail_owed FROM watch_runs
		ORDER BY id DESC LIMIT 1`).Scan(&r.ID, &at, &r.Domains, &r.Unknown, &r.Changes, &owed)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, false, nil
	}
	if err != nil {
		return Run{}, false, err
	}
	r.At, r.MailOwed = fromMicros(at), owed == 1
	return r, true, nil
}

func (s *sqliteStore) owedMail(ctx context.Context, run int64) ([]changeRow, []int64, error) {
	if err := s.usable(); err != nil {
		return nil, nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT c.domain, c.watched, c.of_domain, c.technique, c.kind, c.owner,
			c.farm_hosts, c.before_facts, c.after_facts, r.at
		FROM watch_runs r JOIN watch_changes c ON c.run = r.id
		WHERE r.mail_owed = 1 AND r.id < ? ORDER BY r.id, c.seq`, run)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var cs []changeRow
	var ats []int64
	for rows.Next() {
		var c changeRow
		var at, owner int64
		if err := rows.Scan(&c.domain, &c.watched, &c.of, &c.technique, &c.kind, &owner, &c.farmHosts, &c.before, &c.after, &at); err != nil {
			return nil, nil, err
		}
		c.owner = owner == 1
		cs, ats = append(cs, c), append(ats, at)
	}
	return cs, ats, rows.Err()
}

func (s *sqliteStore) mailSent(ctx context.Context, run int64) error {
	if err := s.usable(); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_, err := s.db.ExecContext(ctx, `UPDATE watch_runs SET mail_owed = 0 WHERE mail_owed = 1 AND id <= ?`, run)
	return err
}

// sqliteTx is a run's transaction.
type sqliteTx struct{ tx *sql.Tx }

func (t sqliteTx) rows(ctx context.Context) ([]dbRow, error) { return scanRows(ctx, t.tx, "") }

// rowsPerStatement: the driver prepares every statement again, so rows go many at once.
const rowsPerStatement = 64

func (t sqliteTx) put(ctx context.Context, rows []dbRow) error {
	return insertChunks(ctx, t.tx, `INSERT INTO watch_domains (`+domainColumns+`) VALUES %s
		ON CONFLICT (domain) DO UPDATE SET kind = excluded.kind, of_domain = excluded.of_domain,
			technique = excluded.technique, status = excluded.status, can_receive = excluded.can_receive,
			null_mx = excluded.null_mx, mx = excluded.mx, ns = excluded.ns, addrs = excluded.addrs,
			first_seen = excluded.first_seen, first_registered = excluded.first_registered,
			last_checked = excluded.last_checked`, 13, len(rows), func(i int, args []any) []any {
		r := rows[i]
		return append(args, r.domain, r.kind, r.of, r.technique, r.status, b2i(r.canReceive), b2i(r.nullMX),
			r.mx, r.ns, r.addrs, r.firstSeen, r.firstRegistered, r.lastChecked)
	})
}

func (t sqliteTx) addRun(ctx context.Context, r Run) (int64, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO watch_runs (at, domains, unknown, changes, mail_owed) VALUES (?, ?, ?, ?, ?)`,
		micros(r.At), r.Domains, r.Unknown, r.Changes, b2i(r.MailOwed))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func (t sqliteTx) addChanges(ctx context.Context, run int64, cs []changeRow) error {
	return insertChunks(ctx, t.tx, `INSERT INTO watch_changes (run, seq, domain, watched, of_domain, technique,
		kind, owner, farm_hosts, before_facts, after_facts) VALUES %s`, 11, len(cs), func(i int, args []any) []any {
		c := cs[i]
		return append(args, run, i, c.domain, c.watched, c.of, c.technique, c.kind, b2i(c.owner),
			c.farmHosts, c.before, c.after)
	})
}

// prunableRuns selects the runs Prune deletes (the cutoff is its one argument).
const prunableRuns = `SELECT id FROM watch_runs WHERE at < ? AND mail_owed = 0
	AND id < (SELECT max(id) FROM watch_runs)
	AND id NOT IN (SELECT max(c.run) FROM watch_changes c JOIN watch_domains d ON d.domain = c.domain
		WHERE c.owner = 1 GROUP BY c.domain)`

func (t sqliteTx) prune(ctx context.Context, cutoff int64) (Pruned, error) {
	var p Pruned
	for _, step := range []struct {
		query string
		n     *int64
	}{
		{`DELETE FROM watch_domains WHERE max(first_seen, last_checked) < ?`, &p.Domains},
		{`DELETE FROM watch_changes WHERE run IN (` + prunableRuns + `)`, &p.Changes},
		{`DELETE FROM watch_runs WHERE id IN (` + prunableRuns + `)`, &p.Runs},
	} {
		res, err := t.tx.ExecContext(ctx, step.query, cutoff)
		if err != nil {
			return Pruned{}, err
		}
		if *step.n, err = res.RowsAffected(); err != nil {
			return Pruned{}, err
		}
	}
	return p, nil
}

// insertChunks runs format (with %s for the VALUES rows) for n rows of width columns,
// rowsPerStatement rows at a time; row appends row i's arguments.
func insertChunks(ctx context.Context, tx *sql.Tx, format string, width, n int, row func(i int, args []any) []any) error {
	one := "(" + strings.Repeat("?,", width-1) + "?)"
	args := make([]any, 0, min(n, rowsPerStatement)*width)
	for start := 0; start < n; start += rowsPerStatement {
		end := min(start+rowsPerStatement, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		query := fmt.Sprintf(format, strings.Repeat(one+",", end-start-1)+one)
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
	}
	return nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
