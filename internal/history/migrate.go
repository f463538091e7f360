package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations are the SQLite schema, in order: migrations[i] takes the schema from version
// i to version i+1. Append only; never edit a migration that has been released.
var migrations = []string{
	// 1: recipient domains and, per recipient domain, the sender domains that wrote to it.
	// Times are Unix microseconds (UTC).
	`CREATE TABLE recipient_domains (
		domain     TEXT    NOT NULL PRIMARY KEY,
		count      INTEGER NOT NULL CHECK (count >= 0),
		first_seen INTEGER NOT NULL,
		last_seen  INTEGER NOT NULL
	) STRICT, WITHOUT ROWID;
	CREATE TABLE sender_domains (
		domain        TEXT    NOT NULL REFERENCES recipient_domains (domain) ON DELETE CASCADE,
		sender_domain TEXT    NOT NULL,
		count         INTEGER NOT NULL CHECK (count >= 0),
		first_seen    INTEGER NOT NULL,
		last_seen     INTEGER NOT NULL,
		PRIMARY KEY (domain, sender_domain)
	) STRICT, WITHOUT ROWID;`,
}

// ErrNewerSchema is wrapped by the error for a database written by a newer rcptguard.
var ErrNewerSchema = errors.New("database schema is newer than this rcptguard")

// migrate brings the schema of db up to len(list) in one transaction: either every
// missing migration is applied and recorded, or none. It returns the versions before and
// after. A database at a higher version than len(list) is refused and left untouched.
func migrate(ctx context.Context, db *sql.DB, list []string) (from, to int, err error) {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (see dsn): one migrator at a time
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT`); err != nil {
		return 0, 0, err
	}
	var rows int
	if err := tx.QueryRowContext(ctx,
		`SELECT count(*), coalesce(max(version), 0) FROM schema_version`).Scan(&rows, &from); err != nil {
		return 0, 0, err
	}
	if rows > 1 {
		return from, from, fmt.Errorf("schema_version has %d rows; want one", rows)
	}
	if from > len(list) {
		return from, from, fmt.Errorf("%w: the database is at schema version %d, this rcptguard knows "+
			"versions up to %d; upgrade rcptguard, or use another database file", ErrNewerSchema, from, len(list))
	}
	if from == len(list) {
		return from, from, nil // nothing to do; the rollback releases the write lock
	}
	for v := from; v < len(list); v++ {
		if _, err := tx.ExecContext(ctx, list[v]); err != nil {
			return from, from, fmt.Errorf("schema migration %d: %w", v+1, err)
		}
	}
	if rows == 0 {
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, len(list))
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(list))
	}
	if err != nil {
		return from, from, err
	}
	if err := tx.Commit(); err != nil {
		return from, from, err
	}
	return from, len(list), nil
}
