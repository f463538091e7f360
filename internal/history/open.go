package history

import "context"

// Open opens the PostgreSQL history at dsn when dsn is not "" (the quarantine's database:
// quarantine.postgres, so that every node learns from the mail of all), else the SQLite
// one at path.
func Open(ctx context.Context, dsn, path string) (Store, error) {
	if dsn != "" {
		p, err := OpenPostgres(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	s, err := OpenSQLite(path)
	if err != nil {
		return nil, err
	}
	return s, nil
}
