package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rcptguard/rcptguard/internal/pgdb"
)

// postgresMigrations are the PostgreSQL schema, in order. Append only. The table lives
// in the quarantine's database, beside its tables, with a version table of its own.
var postgresMigrations = []string{
	`CREATE TABLE admin_sessions (
		id_hash    bytea  NOT NULL PRIMARY KEY,
		user_name  text   NOT NULL,
		created    bigint NOT NULL,
		last_used  bigint NOT NULL,
		expires    bigint NOT NULL,
		remote     text   NOT NULL,
		user_agent text   NOT NULL,
		pass_fp    bytea  NOT NULL
	);
	CREATE INDEX admin_sessions_expires ON admin_sessions (expires);
	CREATE INDEX admin_sessions_last_used ON admin_sessions (last_used);`,
	// 2: the attempts to sign in (attempts.go), per client or user key, Unix microseconds.
	`CREATE TABLE signin_attempts (
		key text   NOT NULL,
		at  bigint NOT NULL
	);
	CREATE INDEX signin_attempts_key_at ON signin_attempts (key, at);
	CREATE INDEX signin_attempts_at ON signin_attempts (at);`,
}

// pgMigrationLock is the advisory lock key the session migrations hold: "rgsess" in
// ASCII, apart from the quarantine's.
const pgMigrationLock = 0x726773657373

// maxPoolConns bounds the pool: sessions are small, quick queries.
const maxPoolConns = 4

// Postgres is the Store in PostgreSQL, shared by every node that uses the database.
// Each operation is one statement, so nodes need no coordination: a session deleted on
// one node is gone for all.
type Postgres struct {
	pool *pgxpool.Pool
}

var _ Store = (*Postgres)(nil)

// OpenPostgres connects to the database at dsn (as quarantine.OpenPostgres reads it) and
// brings the session table up to date.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	pool, err := pgdb.Open(ctx, dsn, maxPoolConns, pgdb.Schema{Store: "session store",
		VersionTable: "admin_sessions_version", Lock: pgMigrationLock, Migrations: postgresMigrations})
	if err != nil {
		return nil, err
	}
	return &Postgres{pool: pool}, nil
}

// Create stores a new session.
func (p *Postgres) Create(ctx context.Context, se Session) error {
	_, err := p.pool.Exec(ctx, `INSERT INTO admin_sessions
		(id_hash, user_name, created, last_used, expires, remote, user_agent, pass_fp) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		se.IDHash, se.User, micros(se.Created), micros(se.LastUsed), micros(se.Expires), se.Remote,
		clip(se.UserAgent, maxUserAgent), se.PassFingerprint)
	if err != nil {
		return fmt.Errorf("session store: create: %w", err)
	}
	return nil
}

// Get returns the session, or ErrNotFound.
func (p *Postgres) Get(ctx context.Context, idHash []byte) (Session, error) {
	var se Session
	var created, lastUsed, expires int64
	err := p.pool.QueryRow(ctx, `SELECT id_hash, user_name, created, last_used, expires, remote, user_agent, pass_fp
		FROM admin_sessions WHERE id_hash = $1`, idHash).Scan(&se.IDHash, &se.User, &created, &lastUsed, &expires,
		&se.Remote, &se.UserAgent, &se.PassFingerprint)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("session store: get: %w", err)
	}
	se.Created, se.LastUsed, se.Expires = fromMicros(created), fromMicros(lastUsed), fromMicros(expires)
	return se, nil
}

// Touch records a use.
func (p *Postgres) Touch(ctx context.Context, idHash []byte, at time.Time) error {
	tag, err := p.pool.Exec(ctx, `UPDATE admin_sessions SET last_used = GREATEST(last_used, $1) WHERE id_hash = $2`,
		micros(at), idHash)
	if err != nil {
		return fmt.Errorf("session store: touch: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Delete removes the session.
func (p *Postgres) Delete(ctx context.Context, idHash []byte) error {
	if _, err := p.pool.Exec(ctx, `DELETE FROM admin_sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("session store: delete: %w", err)
	}
	return nil
}

// Purge removes the ended sessions.
func (p *Postgres) Purge(ctx context.Context, now, idleSince time.Time) (int64, error) {
	tag, err := p.pool.Exec(ctx, `DELETE FROM admin_sessions WHERE expires <= $1 OR last_used <= $2`,
		micros(now), micros(idleSince))
	if err != nil {
		return 0, fmt.Errorf("session store: purge: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Close closes the connections.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}
