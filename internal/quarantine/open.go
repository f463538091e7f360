package quarantine

import (
	"context"
	"fmt"
	"time"

	"github.com/rcptguard/rcptguard/internal/sqlitedb"
)

// ReportingStore is a Store that also reports statistics and the whole audit log, and
// keeps the organisation-wide trust, for the administrators' pages: both implementations
// are.
type ReportingStore interface {
	Store
	TrustStore
	Stats(ctx context.Context, since time.Time) (Stats, error)
	RecentEvents(ctx context.Context, limit, offset int) ([]Event, error)
	// Health reports whether the database takes a write now: one tiny committed
	// transaction (and, for SQLite, the files' check that comes before any access).
	Health(ctx context.Context) error
}

// Health checks the files and commits a tiny write (sqlitedb.Probe).
func (s *SQLite) Health(ctx context.Context) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := sqlitedb.Probe(ctx, s.db, s.path); err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	return nil
}

// Checker is a store that can tell, without touching its database, whether touching it
// is safe now (SQLite: an unwritable -shm file would end the process on the driver's
// next access). Callers check before work that is not itself a hold.
type Checker interface{ Usable() error }

var _ Checker = (*SQLite)(nil)

// Usable checks, without touching the database, that its files can be written
// (sqlitedb.CheckFiles): the driver's access to an unwritable -shm file ends the process.
func (s *SQLite) Usable() error {
	if err := sqlitedb.CheckFiles(s.path); err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	return nil
}

// Health commits a tiny write to the health table.
func (s *Postgres) Health(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS health (id integer PRIMARY KEY, checked_at timestamptz NOT NULL)`)
	if err == nil {
		_, err = s.pool.Exec(ctx, `INSERT INTO health (id, checked_at) VALUES (1, now())
			ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`)
	}
	if err != nil {
		return fmt.Errorf("quarantine: write to PostgreSQL: %w", err)
	}
	return nil
}

var (
	_ ReportingStore = (*SQLite)(nil)
	_ ReportingStore = (*Postgres)(nil)
)

// FileName is the SQLite quarantine's file name in rcptguard's data folder.
const FileName = "quarantine.db"

// Open opens the PostgreSQL quarantine at dsn when dsn is not "", else the SQLite one at
// path.
func Open(ctx context.Context, dsn, path string, opts ...Option) (ReportingStore, error) {
	if dsn != "" {
		return OpenPostgres(ctx, dsn, opts...)
	}
	return OpenSQLite(path, opts...)
}
