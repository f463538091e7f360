package quarantine

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rcptguard/rcptguard/internal/pgdb"
)

// postgresMigrations are the PostgreSQL schema, in order: postgresMigrations[i] takes the
// schema from version i to version i+1. Append only; never edit a migration that has been
// released.
//
// The logical schema is SQLite's (migrations): the same tables and columns, times as Unix
// microseconds (UTC) in bigint, with PostgreSQL's own types where they fit: text[] for
// the lists SQLite keeps as JSON arrays, bytea for the raw content, identity columns for
// the order of insertion (SQLite's rowid and AUTOINCREMENT).
var postgresMigrations = []string{
	// 1: everything SQLite's migrations 1 and 2 hold. The dedupe index is unique: of two
	// nodes holding the same submission at once, one inserts, the other finds its ID.
	`CREATE TABLE messages (
		id             text    NOT NULL PRIMARY KEY,
		seq            bigint  GENERATED ALWAYS AS IDENTITY UNIQUE,
		received       bigint  NOT NULL,
		adapter        text    NOT NULL,
		sender         text    NOT NULL,
		auth_user      text    NOT NULL,
		client_addr    text    NOT NULL,
		queue_id       text    NOT NULL,
		subject        text    NOT NULL,
		size           bigint  NOT NULL CHECK (size >= 0),
		state          text    NOT NULL CHECK (state IN ('held', 'released-as-addressed',
			'released-corrected', 'discarded', 'expired')),
		expires_at     bigint  NOT NULL,
		changed_at     bigint  NOT NULL,
		dedupe_key     text    NOT NULL DEFAULT '',
		release_to     text[]  NOT NULL DEFAULT '{}',
		delivery       text    NOT NULL DEFAULT ''
			CHECK (delivery IN ('', 'pending', 'sending', 'committing', 'sent', 'failed', 'unknown')),
		attempts       integer NOT NULL DEFAULT 0,
		last_error     text    NOT NULL DEFAULT '',
		next_attempt   bigint  NOT NULL DEFAULT 0,
		delivered_at   bigint  NOT NULL DEFAULT 0,
		delivery_reply text    NOT NULL DEFAULT '',
		notice         text    NOT NULL DEFAULT '' CHECK (notice IN ('', 'pending', 'sent', 'failed')),
		notice_error   text    NOT NULL DEFAULT '',
		notice_next    bigint  NOT NULL DEFAULT 0,
		reminder_sent  bigint  NOT NULL DEFAULT 0
	);
	CREATE INDEX messages_received ON messages (received);
	CREATE INDEX messages_state_expires ON messages (state, expires_at);
	CREATE INDEX messages_state_changed ON messages (state, changed_at);
	CREATE UNIQUE INDEX messages_dedupe ON messages (dedupe_key) WHERE dedupe_key <> '' AND state = 'held';
	CREATE INDEX messages_delivery ON messages (delivery, next_attempt) WHERE delivery <> '';
	CREATE INDEX messages_notice ON messages (notice, notice_next) WHERE notice = 'pending';
	CREATE TABLE recipients (
		message_id text    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
		idx        integer NOT NULL,
		address    text    NOT NULL,
		verdict    text    NOT NULL,
		intended   text[]  NOT NULL,
		techniques text[]  NOT NULL,
		reason     text    NOT NULL,
		situation  text    NOT NULL DEFAULT '',
		PRIMARY KEY (message_id, idx)
	);
	CREATE TABLE raw_content (
		message_id text  NOT NULL PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
		content    bytea NOT NULL
	);
	CREATE TABLE events (
		seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		message_id text   NOT NULL,
		at         bigint NOT NULL,
		from_state text   NOT NULL,
		to_state   text   NOT NULL,
		actor      text   NOT NULL,
		remote     text   NOT NULL,
		note       text   NOT NULL
	);
	CREATE INDEX events_message ON events (message_id, seq);
	CREATE INDEX events_held ON events (at) WHERE to_state = 'held';
	CREATE TABLE confirmations (
		sender       text   NOT NULL, -- lower case
		domain       text   NOT NULL, -- ASCII, lower case
		confirmed_at bigint NOT NULL,
		message_id   text   NOT NULL,
		PRIMARY KEY (sender, domain)
	);`,
	// 2: SQLite's migration 3: the notice claims.
	`ALTER TABLE messages
		ADD COLUMN notice_attempts   integer NOT NULL DEFAULT 0,
		ADD COLUMN notice_claimed    bigint  NOT NULL DEFAULT 0,
		ADD COLUMN reminder_state    text    NOT NULL DEFAULT ''
			CHECK (reminder_state IN ('', 'pending', 'sent', 'failed')),
		ADD COLUMN reminder_error    text    NOT NULL DEFAULT '',
		ADD COLUMN reminder_next     bigint  NOT NULL DEFAULT 0,
		ADD COLUMN reminder_attempts integer NOT NULL DEFAULT 0,
		ADD COLUMN reminder_claimed  bigint  NOT NULL DEFAULT 0,
		ADD COLUMN return_state      text    NOT NULL DEFAULT ''
			CHECK (return_state IN ('', 'pending', 'sent', 'failed')),
		ADD COLUMN return_error      text    NOT NULL DEFAULT '',
		ADD COLUMN return_next       bigint  NOT NULL DEFAULT 0,
		ADD COLUMN return_attempts   integer NOT NULL DEFAULT 0,
		ADD COLUMN return_claimed    bigint  NOT NULL DEFAULT 0;
	UPDATE messages SET reminder_state = 'sent' WHERE reminder_sent <> 0;
	CREATE INDEX messages_return ON messages (return_state, return_next) WHERE return_state = 'pending';`,
	// 3: SQLite's migration 4: organisation-wide trust.
	`CREATE TABLE trusted_domains (
		domain     text    NOT NULL PRIMARY KEY, -- ASCII, lower case
		trusted_at bigint  NOT NULL,
		actor      text    NOT NULL,
		remote     text    NOT NULL,
		note       text    NOT NULL,
		forced     boolean NOT NULL
	);
	CREATE TABLE trust_events (
		seq    bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		at     bigint  NOT NULL,
		domain text    NOT NULL,
		action text    NOT NULL CHECK (action IN ('trust', 'untrust')),
		actor  text    NOT NULL,
		remote text    NOT NULL,
		note   text    NOT NULL,
		forced boolean NOT NULL
	);
	ALTER TABLE confirmations ADD COLUMN first_confirmed bigint NOT NULL DEFAULT 0;
	UPDATE confirmations SET first_confirmed = confirmed_at;
	CREATE INDEX confirmations_domain ON confirmations (domain);`,
	// 5: as SQLite's 5, the hand-overs to the quarantine intake.
	`CREATE TABLE handovers (
		queue_id    text   NOT NULL PRIMARY KEY,
		at          bigint NOT NULL,
		sender      text   NOT NULL,
		auth_user   text   NOT NULL,
		client_addr text   NOT NULL,
		recipients  jsonb  NOT NULL
	);
	CREATE INDEX handovers_at ON handovers (at);`,
	// 6: as SQLite's 6, the content categories of a held message.
	`ALTER TABLE messages
		ADD COLUMN content text NOT NULL DEFAULT '',
		ADD COLUMN content_skipped boolean NOT NULL DEFAULT false;`,
}

// pgMigrationLock is the key of the transaction-level advisory lock that serialises the
// migrations of nodes starting at once ("rcptguard" in ASCII, as a number).
const pgMigrationLock = 0x72637074677561

// schema is the quarantine's tables as of migrations (the tests open older ones).
func schema(migrations []string) pgdb.Schema {
	return pgdb.Schema{Store: "quarantine", VersionTable: "schema_version", Lock: pgMigrationLock, Migrations: migrations}
}

// migratePostgres brings the quarantine's tables up to migrations (pgdb.Migrate).
func migratePostgres(ctx context.Context, pool *pgxpool.Pool, migrations []string) (from, to int, err error) {
	return pgdb.Migrate(ctx, pool, schema(migrations))
}
