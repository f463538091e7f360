package quarantine

import (
	"context"
	"time"
)

// ReportingStore is a Store that also reports statistics and the whole audit log, for the
// administrators' pages: both implementations are.
type ReportingStore interface {
	Store
	Stats(ctx context.Context, since time.Time) (Stats, error)
	RecentEvents(ctx context.Context, limit, offset int) ([]Event, error)
}

var (
	_ ReportingStore = (*SQLite)(nil)
	_ ReportingStore = (*Postgres)(nil)
)

// Open opens the PostgreSQL quarantine at dsn when dsn is not "", else the SQLite one at
// path.
func Open(ctx context.Context, dsn, path string, opts ...Option) (ReportingStore, error) {
	if dsn != "" {
		return OpenPostgres(ctx, dsn, opts...)
	}
	return OpenSQLite(path, opts...)
}
