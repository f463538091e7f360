// Package pgdb is how rcptguard opens its PostgreSQL databases: one pool per store, a
// connection string that is never quoted in an error (it may hold the password), durable
// commits, and each store's append-only migrations applied in one transaction under an
// advisory lock, with a version table of its own, so that nodes may start at once and the
// stores (quarantine, history, sessions) share one database without touching each other's
// tables.
package pgdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rcptguard/rcptguard/internal/sqlitedb"
)

// ErrNewerSchema is wrapped by the error for a database whose schema a newer rcptguard
// wrote; the same error as SQLite's.
var ErrNewerSchema = sqlitedb.ErrNewerSchema

// Schema is one store's tables.
type Schema struct {
	// Store names the store in errors: "quarantine", "history", "session store".
	Store string
	// VersionTable is the one-row table that holds how many Migrations were applied.
	VersionTable string
	// Lock is the key of the advisory lock the migrations hold; one per store.
	Lock int64
	// Migrations take the schema from version i to i+1. Append only: never edit one
	// that has been released.
	Migrations []string
}

// Open connects to the database at dsn (a postgres:// URL or a key=value connection
// string, as libpq reads them; the PG* environment variables fill in what it leaves out)
// with at most maxConns connections (0: pgx's default), and brings s up to date.
func Open(ctx context.Context, dsn string, maxConns int32, s Schema) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error may quote the DSN, password included: say only what is wrong.
		var pe *pgconn.ParseConfigError
		if errors.As(err, &pe) && pe.Unwrap() != nil {
			return nil, fmt.Errorf("%s: PostgreSQL connection string: %w", s.Store, pe.Unwrap())
		}
		return nil, fmt.Errorf("%s: PostgreSQL connection string: cannot parse it", s.Store)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.AfterConnect = ensureSynchronousCommit
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: open PostgreSQL database: %w", s.Store, err)
	}
	if _, _, err := Migrate(ctx, pool, s); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%s: open PostgreSQL database %s on %s: %w",
			s.Store, cfg.ConnConfig.Database, cfg.ConnConfig.Host, err)
	}
	return pool, nil
}

// ensureSynchronousCommit sets synchronous_commit on for a connection where it is off, so
// that a commit (a held message's above all) is durable when it returns. The stronger
// settings (remote_write, remote_apply) and "local" are the administrator's choice and
// stay.
func ensureSynchronousCommit(ctx context.Context, conn *pgx.Conn) error {
	var sc string
	if err := conn.QueryRow(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&sc); err != nil {
		return err
	}
	if sc == "off" {
		_, err := conn.Exec(ctx, `SET synchronous_commit = on`)
		return err
	}
	return nil
}

// Migrate brings s up to date in one transaction and reports the version before and
// after. A version newer than s knows is refused (ErrNewerSchema), and so is a version
// table with more than one row.
func Migrate(ctx context.Context, pool *pgxpool.Pool, s Schema) (from, to int, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.Lock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		table := pgx.Identifier{s.VersionTable}.Sanitize()
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (version integer NOT NULL)`); err != nil {
			return fmt.Errorf("version table: %w", err)
		}
		var rows int
		if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(max(version), 0) FROM `+table).Scan(&rows, &from); err != nil {
			return fmt.Errorf("version: %w", err)
		}
		if rows > 1 {
			return fmt.Errorf("%s has %d rows; want one", s.VersionTable, rows)
		}
		if from > len(s.Migrations) {
			return fmt.Errorf("%w: the %s's schema is at version %d, this rcptguard knows up to %d: upgrade rcptguard",
				ErrNewerSchema, s.Store, from, len(s.Migrations))
		}
		for v := from; v < len(s.Migrations); v++ {
			if _, err := tx.Exec(ctx, s.Migrations[v]); err != nil {
				return fmt.Errorf("%s schema migration %d: %w", s.Store, v+1, err)
			}
		}
		var err error
		if rows == 0 {
			_, err = tx.Exec(ctx, `INSERT INTO `+table+` (version) VALUES ($1)`, len(s.Migrations))
		} else {
			_, err = tx.Exec(ctx, `UPDATE `+table+` SET version = $1`, len(s.Migrations))
		}
		if err != nil {
			return fmt.Errorf("version: %w", err)
		}
		return nil
	})
	if err != nil {
		return from, from, err
	}
	return from, len(s.Migrations), nil
}
