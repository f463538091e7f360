package quarantine

import (
	"context"
	"fmt"
	"time"
)

// ReportingStore is a Store that also reports statistics and the whole audit log, for the
// administrators' pages: both implementations are.
type ReportingStore interface {
	Store
	Stats(ctx context.Context, since time.Time) (Stats, error)
	RecentEvents(ctx context.Context, limit, offset int) ([]Event, error)
	// Ping reports whether the database answers a query now.
	Ping(ctx context.Context) error
}

// Ping reads from the database.
func (s *SQLite) Ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE 0`).Scan(&n); err != nil {
		return fmt.Errorf("quarantine: %w", err)
	}
	return nil
}

// Ping reads from the database.
func (s *Postgres) Ping(ctx context.Context) error {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE false`).Scan(&n); err != nil {
		return fmt.Errorf("quarantine: %w", err)
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
