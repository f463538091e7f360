// Package sqlitedb opens rcptguard's SQLite databases (the history, the quarantine) the
// one way they are opened: the pure-Go driver, WAL mode with synchronous=FULL (a commit
// survives a power cut; readers never wait for the writer), a busy timeout for other
// processes on the same file, foreign keys, write transactions that lock at BEGIN, and
// schema migrations applied in one transaction; files private to rcptguard's user (0600),
// checked before the driver maps them. It owns one table, health, for Probe.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver "sqlite"
)

const (
	// BusyTimeout is how long a writer waits for another process's write lock.
	BusyTimeout = 10 * time.Second
	// MaxConns bounds the pool: readers run in parallel in WAL mode, and each connection
	// holds its own page cache.
	MaxConns = 4
)

// ErrNewerSchema is wrapped by the error for a database written by a newer rcptguard.
var ErrNewerSchema = errors.New("database schema is newer than this rcptguard")

// Open opens the database at path, creating it if needed, and brings its schema up to
// migrations (see Migrate). It returns the database and the file's absolute path. The
// error names the file, and the folder when that is the likely cause.
func Open(path string, migrations []string) (*sql.DB, string, error) {
	if path == "" {
		return nil, "", errors.New("open SQLite database: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	if err := CheckFiles(abs); err != nil {
		return nil, "", fmt.Errorf("open SQLite database %s: %w%s", abs, err, folderHint(abs))
	}
	if err := createPrivate(abs); err != nil {
		return nil, "", fmt.Errorf("open SQLite database %s: %w%s", abs, err, folderHint(abs))
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, "", fmt.Errorf("open SQLite database %s: %w", abs, err)
	}
	db.SetMaxOpenConns(MaxConns)
	db.SetMaxIdleConns(MaxConns)
	ctx, cancel := context.WithTimeout(context.Background(), BusyTimeout+5*time.Second)
	defer cancel()
	if _, _, err := Migrate(ctx, db, migrations); err != nil {
		db.Close()
		return nil, "", fmt.Errorf("open SQLite database %s: %w%s", abs, err, folderHint(abs))
	}
	return db, abs, nil
}

// dsn is the driver's name for the file at the absolute path abs with our settings: a
// file: URI, so that no character of the path is taken for a parameter.
func dsn(abs string) string {
	q := url.Values{}
	for _, p := range []string{
		fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()),
		"journal_mode(WAL)",
		"synchronous(FULL)",
		"foreign_keys(1)",
	} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate") // a write transaction takes the write lock at BEGIN
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// folderHint explains the most common cause of a failed open: SQLite in WAL mode must
// create path-wal and path-shm beside the database, so the folder must be writable even
// when the file exists.
func folderHint(path string) string {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Sprintf(" (folder %s: %v)", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Sprintf(" (%s is not a folder)", dir)
	}
	f, err := os.CreateTemp(dir, ".rcptguard-probe-*")
	if err != nil {
		return fmt.Sprintf(" (folder %s is not writable, and SQLite must create %s-wal and %[2]s-shm there)",
			dir, filepath.Base(path))
	}
	f.Close()
	os.Remove(f.Name())
	return ""
}

// Migrate brings the schema of db up to len(list) in one transaction: list[i] takes the
// schema from version i to version i+1, and either every missing migration is applied
// and recorded, or none. It returns the versions before and after. A database at a higher
// version than len(list) is refused (ErrNewerSchema) and left untouched.
func Migrate(ctx context.Context, db *sql.DB, list []string) (from, to int, err error) {
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
