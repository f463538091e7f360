package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/sqlitedb"
)

// SQLite is the Store in one SQLite database file, for a single node.
//
// The database runs in WAL mode with synchronous=FULL, so a recorded batch survives a
// power cut, and readers never wait for the writer. Writes from this process are
// serialised by a mutex (SQLite has one writer at a time; waiting in Go is cheaper than
// SQLite's busy retries); other processes writing the same file (an import while the
// daemon runs) wait up to the busy timeout.
type SQLite struct {
	db      *sql.DB
	path    string
	writeMu sync.Mutex
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens the database at path, creating it if needed, and brings its schema up
// to date. A database written by a newer rcptguard is refused (ErrNewerSchema).
func OpenSQLite(path string) (*SQLite, error) {
	db, abs, err := sqlitedb.Open(path, migrations)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return &SQLite{db: db, path: abs}, nil
}

// Path is the absolute path of the database file.
func (s *SQLite) Path() string { return s.path }

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

// usable checks, before the database is touched, that its files can be written: the
// driver's access to an unwritable -shm file ends the process (sqlitedb.CheckFiles).
func (s *SQLite) usable() error {
	if err := sqlitedb.CheckFiles(s.path); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// Health checks the files and commits a tiny write (sqlitedb.Probe).
func (s *SQLite) Health(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := sqlitedb.Probe(ctx, s.db, s.path); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// Upserts write many rows per statement: the driver prepares a statement again on every
// execution, so one statement per row would spend its time in the SQL parser. Counts
// saturate instead of overflowing (SQLite would turn them into REAL).
const (
	upsertDomain = `INSERT INTO recipient_domains (domain, count, first_seen, last_seen) VALUES %s
		ON CONFLICT (domain) DO UPDATE SET
			count = CASE WHEN count > 9223372036854775807 - excluded.count THEN 9223372036854775807
				ELSE count + excluded.count END,
			first_seen = min(first_seen, excluded.first_seen),
			last_seen = max(last_seen, excluded.last_seen)`
	upsertSender = `INSERT INTO sender_domains (domain, sender_domain, count, first_seen, last_seen) VALUES %s
		ON CONFLICT (domain, sender_domain) DO UPDATE SET
			count = CASE WHEN count > 9223372036854775807 - excluded.count THEN 9223372036854775807
				ELSE count + excluded.count END,
			first_seen = min(first_seen, excluded.first_seen),
			last_seen = max(last_seen, excluded.last_seen)`
	upsertOwn = `INSERT INTO sender_history (domain, sender, count, first_seen, last_seen) VALUES %s
		ON CONFLICT (sender, domain) DO UPDATE SET
			count = CASE WHEN count > 9223372036854775807 - excluded.count THEN 9223372036854775807
				ELSE count + excluded.count END,
			first_seen = min(first_seen, excluded.first_seen),
			last_seen = max(last_seen, excluded.last_seen)`
	// rowsPerStatement: the driver matches each parameter against every argument, so the
	// cost of a statement grows with the square of its rows; 64 rows measured best.
	rowsPerStatement = 64
)

// Record adds a batch of observations in one transaction.
func (s *SQLite) Record(ctx context.Context, obs []Observation) error {
	if len(obs) == 0 {
		return nil
	}
	if err := s.usable(); err != nil {
		return err
	}
	b, err := summarise(obs)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.record(ctx, b); err != nil {
		return fmt.Errorf("history: record %d observations: %w", len(obs), err)
	}
	return nil
}

func (s *SQLite) record(ctx context.Context, b *batch) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Recipient domains first: sender rows refer to them.
	err = upsert(ctx, tx, upsertDomain, 4, len(b.domainKeys), func(i int, args []any) []any {
		d := b.domainKeys[i]
		t := b.domains[d]
		return append(args, d, t.count, t.first, t.last)
	})
	if err != nil {
		return err
	}
	err = upsert(ctx, tx, upsertSender, 5, len(b.senderKeys), func(i int, args []any) []any {
		k := b.senderKeys[i]
		t := b.senders[k]
		return append(args, k.domain, k.sender, t.count, t.first, t.last)
	})
	if err != nil {
		return err
	}
	err = upsert(ctx, tx, upsertOwn, 5, len(b.ownKeys), func(i int, args []any) []any {
		k := b.ownKeys[i]
		t := b.own[k]
		return append(args, k.domain, k.sender, t.count, t.first, t.last)
	})
	if err != nil {
		return err
	}
	if len(b.domainKeys) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE generation SET n = n + 1`); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Generation returns the generation of the organisation's history.
func (s *SQLite) Generation(ctx context.Context) (int64, error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT n FROM generation`).Scan(&n); err != nil {
		return 0, fmt.Errorf("history: generation: %w", err)
	}
	return n, nil
}

// upsert runs the statement format (with %s for the VALUES rows) for n rows of width
// columns in chunks of rowsPerStatement; row appends the arguments of row i.
func upsert(ctx context.Context, tx *sql.Tx, format string, width, n int, row func(i int, args []any) []any) error {
	var full string // the statement for a whole chunk, built once
	args := make([]any, 0, min(n, rowsPerStatement)*width)
	for start := 0; start < n; start += rowsPerStatement {
		end := min(start+rowsPerStatement, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		var query string
		if end-start == rowsPerStatement && full != "" {
			query = full
		} else {
			query = fmt.Sprintf(format, valuesList(end-start, width))
			if end-start == rowsPerStatement {
				full = query
			}
		}
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
	}
	return nil
}

// valuesList is "(?,?),(?,?)" for rows rows of width parameters.
func valuesList(rows, width int) string {
	one := "(" + strings.Repeat("?,", width-1) + "?)"
	return strings.Repeat(one+",", rows-1) + one
}

// Known returns every recipient domain with its count, in name order. A row that is not a
// valid domain (which Record never writes) is left out rather than failing the whole set.
func (s *SQLite) Known(ctx context.Context) ([]engine.KnownDomain, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT domain, count FROM recipient_domains ORDER BY domain`)
	if err != nil {
		return nil, fmt.Errorf("history: known domains: %w", err)
	}
	defer rows.Close()
	return knownFrom(rows)
}

// Domain returns what is known about one recipient domain.
func (s *SQLite) Domain(ctx context.Context, name string) (Stat, bool, error) {
	d, err := address.ParseDomain(name)
	if err != nil {
		return Stat{}, false, fmt.Errorf("history: domain: %w", err)
	}
	st := Stat{Domain: d.ASCII}
	var first, last int64
	err = s.db.QueryRowContext(ctx, `SELECT count, first_seen, last_seen,
			(SELECT count(*) FROM sender_domains WHERE domain = ?1)
		FROM recipient_domains WHERE domain = ?1`, d.ASCII).Scan(&st.Count, &first, &last, &st.Senders)
	if errors.Is(err, sql.ErrNoRows) {
		return Stat{}, false, nil
	}
	if err != nil {
		return Stat{}, false, fmt.Errorf("history: domain %s: %w", d.ASCII, err)
	}
	st.FirstSeen, st.LastSeen = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
	return st, true, nil
}
