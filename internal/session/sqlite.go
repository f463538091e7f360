package session

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rcptguard/rcptguard/internal/sqlitedb"
)

// FileName is the SQLite session store's file name in rcptguard's data folder.
const FileName = "sessions.db"

// sqliteMigrations are the SQLite schema, in order (sqlitedb.Migrate). Append only.
var sqliteMigrations = []string{
	`CREATE TABLE admin_sessions (
		id_hash    BLOB    NOT NULL PRIMARY KEY,
		user       TEXT    NOT NULL,
		created    INTEGER NOT NULL,
		last_used  INTEGER NOT NULL,
		expires    INTEGER NOT NULL,
		remote     TEXT    NOT NULL,
		user_agent TEXT    NOT NULL,
		pass_fp    BLOB    NOT NULL
	) STRICT, WITHOUT ROWID;
	CREATE INDEX admin_sessions_expires ON admin_sessions (expires);
	CREATE INDEX admin_sessions_last_used ON admin_sessions (last_used);`,
}

// SQLite is the Store in a SQLite database of its own, for one node.
type SQLite struct {
	db *sql.DB
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating it, mode 0600) the session database at path.
func OpenSQLite(path string) (*SQLite, error) {
	// sqlitedb creates it 0600, so its -wal and -shm files are the owner's only too.
	db, _, err := sqlitedb.Open(path, sqliteMigrations)
	if err != nil {
		return nil, fmt.Errorf("session store: %w", err)
	}
	return &SQLite{db: db}, nil
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// Create stores a new session.
func (s *SQLite) Create(ctx context.Context, se Session) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO admin_sessions
		(id_hash, user, created, last_used, expires, remote, user_agent, pass_fp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		se.IDHash, se.User, micros(se.Created), micros(se.LastUsed), micros(se.Expires), se.Remote,
		clip(se.UserAgent, maxUserAgent), se.PassFingerprint)
	if err != nil {
		return fmt.Errorf("session store: create: %w", err)
	}
	return nil
}

// Get returns the session, or ErrNotFound.
func (s *SQLite) Get(ctx context.Context, idHash []byte) (Session, error) {
	var se Session
	var created, lastUsed, expires int64
	err := s.db.QueryRowContext(ctx, `SELECT id_hash, user, created, last_used, expires, remote, user_agent, pass_fp
		FROM admin_sessions WHERE id_hash = ?`, idHash).Scan(&se.IDHash, &se.User, &created, &lastUsed, &expires,
		&se.Remote, &se.UserAgent, &se.PassFingerprint)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("session store: get: %w", err)
	}
	se.Created, se.LastUsed, se.Expires = fromMicros(created), fromMicros(lastUsed), fromMicros(expires)
	return se, nil
}

// Touch records a use.
func (s *SQLite) Touch(ctx context.Context, idHash []byte, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE admin_sessions SET last_used = max(last_used, ?) WHERE id_hash = ?`,
		micros(at), idHash)
	if err != nil {
		return fmt.Errorf("session store: touch: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("session store: touch: %w", err)
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Delete removes the session.
func (s *SQLite) Delete(ctx context.Context, idHash []byte) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM admin_sessions WHERE id_hash = ?`, idHash); err != nil {
		return fmt.Errorf("session store: delete: %w", err)
	}
	return nil
}

// Purge removes the ended sessions.
func (s *SQLite) Purge(ctx context.Context, now, idleSince time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM admin_sessions WHERE expires <= ? OR last_used <= ?`,
		micros(now), micros(idleSince))
	if err != nil {
		return 0, fmt.Errorf("session store: purge: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("session store: purge: %w", err)
	}
	return n, nil
}

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }
