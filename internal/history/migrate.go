package history

import "github.com/rcptguard/rcptguard/internal/sqlitedb"

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
var ErrNewerSchema = sqlitedb.ErrNewerSchema

// migrate brings a database's schema up to date (sqlitedb.Migrate).
var migrate = sqlitedb.Migrate
