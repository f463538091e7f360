package quarantine

import "github.com/rcptguard/rcptguard/internal/sqlitedb"

// migrations are the SQLite schema, in order: migrations[i] takes the schema from version
// i to version i+1. Append only; never edit a migration that has been released.
var migrations = []string{
	// 1: messages, their recipients, their raw content (apart, so that listing does not
	// read it) and the audit log. Times are Unix microseconds (UTC). Audit events have no
	// foreign key: they outlive purged messages.
	`CREATE TABLE messages (
		id          TEXT    NOT NULL PRIMARY KEY,
		received    INTEGER NOT NULL,
		adapter     TEXT    NOT NULL,
		sender      TEXT    NOT NULL,
		auth_user   TEXT    NOT NULL,
		client_addr TEXT    NOT NULL,
		queue_id    TEXT    NOT NULL,
		subject     TEXT    NOT NULL,
		size        INTEGER NOT NULL CHECK (size >= 0),
		state       TEXT    NOT NULL CHECK (state IN ('held', 'released-as-addressed',
			'released-corrected', 'discarded', 'expired')),
		expires_at  INTEGER NOT NULL,
		changed_at  INTEGER NOT NULL
	) STRICT;
	CREATE INDEX messages_received ON messages (received);
	CREATE INDEX messages_state_expires ON messages (state, expires_at);
	CREATE INDEX messages_state_changed ON messages (state, changed_at);
	CREATE TABLE recipients (
		message_id TEXT    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
		idx        INTEGER NOT NULL,
		address    TEXT    NOT NULL,
		verdict    TEXT    NOT NULL,
		intended   TEXT    NOT NULL, -- JSON array of strings
		techniques TEXT    NOT NULL, -- JSON array of strings
		reason     TEXT    NOT NULL,
		PRIMARY KEY (message_id, idx)
	) STRICT, WITHOUT ROWID;
	CREATE TABLE raw_content (
		message_id TEXT NOT NULL PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
		content    BLOB NOT NULL
	) STRICT;
	CREATE TABLE events (
		seq        INTEGER PRIMARY KEY AUTOINCREMENT,
		message_id TEXT    NOT NULL,
		at         INTEGER NOT NULL,
		from_state TEXT    NOT NULL,
		to_state   TEXT    NOT NULL,
		actor      TEXT    NOT NULL,
		remote     TEXT    NOT NULL,
		note       TEXT    NOT NULL
	) STRICT;
	CREATE INDEX events_message ON events (message_id, seq);`,
	// 2: re-injection of released messages, the sender's notice and reminder, submissions
	// held twice, the recipients' policy situation, and the domains senders confirmed.
	`ALTER TABLE messages ADD COLUMN dedupe_key TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN release_to TEXT NOT NULL DEFAULT '[]'; -- JSON array
	ALTER TABLE messages ADD COLUMN delivery TEXT NOT NULL DEFAULT ''
		CHECK (delivery IN ('', 'pending', 'sending', 'committing', 'sent', 'failed', 'unknown'));
	ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN next_attempt INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN delivered_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN delivery_reply TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN notice TEXT NOT NULL DEFAULT ''
		CHECK (notice IN ('', 'pending', 'sent', 'failed'));
	ALTER TABLE messages ADD COLUMN notice_error TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN notice_next INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN reminder_sent INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE recipients ADD COLUMN situation TEXT NOT NULL DEFAULT '';
	CREATE INDEX messages_dedupe ON messages (dedupe_key) WHERE dedupe_key <> '' AND state = 'held';
	CREATE INDEX messages_delivery ON messages (delivery, next_attempt) WHERE delivery <> '';
	CREATE INDEX messages_notice ON messages (notice, notice_next) WHERE notice = 'pending';
	CREATE TABLE confirmations (
		sender       TEXT    NOT NULL, -- lower case
		domain       TEXT    NOT NULL, -- ASCII, lower case
		confirmed_at INTEGER NOT NULL,
		message_id   TEXT    NOT NULL,
		PRIMARY KEY (sender, domain)
	) STRICT, WITHOUT ROWID;`,
	// 3: every notice (the first, the reminder, the return on expiry) is claimed before
	// it is sent and settled after (notices.go): the claim time and the attempts of each,
	// and the state, error and retry time of the reminder and of the return.
	`ALTER TABLE messages ADD COLUMN notice_attempts INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN notice_claimed INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN reminder_state TEXT NOT NULL DEFAULT ''
		CHECK (reminder_state IN ('', 'pending', 'sent', 'failed'));
	ALTER TABLE messages ADD COLUMN reminder_error TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN reminder_next INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN reminder_attempts INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN reminder_claimed INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN return_state TEXT NOT NULL DEFAULT ''
		CHECK (return_state IN ('', 'pending', 'sent', 'failed'));
	ALTER TABLE messages ADD COLUMN return_error TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN return_next INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN return_attempts INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE messages ADD COLUMN return_claimed INTEGER NOT NULL DEFAULT 0;
	UPDATE messages SET reminder_state = 'sent' WHERE reminder_sent <> 0;
	CREATE INDEX messages_return ON messages (return_state, return_next) WHERE return_state = 'pending';`,
	// 4: organisation-wide trust (trust.go): the trusted domains and the audit log of
	// every change (never deleted); when each sender first confirmed a domain, and the
	// confirmations by domain, for the proposals.
	`CREATE TABLE trusted_domains (
		domain     TEXT    NOT NULL PRIMARY KEY, -- ASCII, lower case
		trusted_at INTEGER NOT NULL,
		actor      TEXT    NOT NULL,
		remote     TEXT    NOT NULL,
		note       TEXT    NOT NULL,
		forced     INTEGER NOT NULL CHECK (forced IN (0, 1))
	) STRICT, WITHOUT ROWID;
	CREATE TABLE trust_events (
		seq    INTEGER PRIMARY KEY AUTOINCREMENT,
		at     INTEGER NOT NULL,
		domain TEXT    NOT NULL,
		action TEXT    NOT NULL CHECK (action IN ('trust', 'untrust')),
		actor  TEXT    NOT NULL,
		remote TEXT    NOT NULL,
		note   TEXT    NOT NULL,
		forced INTEGER NOT NULL CHECK (forced IN (0, 1))
	) STRICT;
	ALTER TABLE confirmations ADD COLUMN first_confirmed INTEGER NOT NULL DEFAULT 0;
	UPDATE confirmations SET first_confirmed = confirmed_at;
	CREATE INDEX confirmations_domain ON confirmations (domain);`,
	// 5: the policy service's hand-overs to the quarantine intake (handover.go), by
	// Postfix queue ID; recipients is a JSON array of objects.
	`CREATE TABLE handovers (
		queue_id    TEXT    NOT NULL PRIMARY KEY,
		at          INTEGER NOT NULL,
		sender      TEXT    NOT NULL,
		auth_user   TEXT    NOT NULL,
		client_addr TEXT    NOT NULL,
		recipients  TEXT    NOT NULL
	) STRICT, WITHOUT ROWID;
	CREATE INDEX handovers_at ON handovers (at);`,
	// 6: the content categories a held message carries (comma-separated names, content
	// rules, docs/content.md), and whether its content was over the limits.
	`ALTER TABLE messages ADD COLUMN content TEXT NOT NULL DEFAULT '';
	ALTER TABLE messages ADD COLUMN content_skipped INTEGER NOT NULL DEFAULT 0 CHECK (content_skipped IN (0, 1));`,
}

// ErrNewerSchema is wrapped by the error for a database written by a newer rcptguard.
var ErrNewerSchema = sqlitedb.ErrNewerSchema
