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
	// 2: each sender's own history: per sender address and recipient domain, with first
	// and last seen. No reference to recipient_domains: it also counts domains the
	// organisation's history refuses. Pruned by last_seen (PruneSenders).
	`CREATE TABLE sender_history (
		sender     TEXT    NOT NULL,
		domain     TEXT    NOT NULL,
		count      INTEGER NOT NULL CHECK (count >= 0),
		first_seen INTEGER NOT NULL,
		last_seen  INTEGER NOT NULL,
		PRIMARY KEY (sender, domain)
	) STRICT, WITHOUT ROWID;
	CREATE INDEX sender_history_last_seen ON sender_history (last_seen);`,
	// 3: the generation of the organisation's history: one number that every Record of
	// recipient domains raises, so that a daemon notices mail learned by another process
	// (history import) without reading the whole set (Store.Generation).
	`CREATE TABLE generation (
		id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
		n  INTEGER NOT NULL
	) STRICT;
	INSERT INTO generation (id, n) VALUES (1, 0);`,
}

// ErrNewerSchema is wrapped by the error for a database written by a newer rcptguard.
var ErrNewerSchema = sqlitedb.ErrNewerSchema

// migrate brings a database's schema up to date (sqlitedb.Migrate).
var migrate = sqlitedb.Migrate
