package quarantine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rcptguard/rcptguard/internal/pgdb"
)

// Postgres is the Store in a PostgreSQL database, for several rcptguard nodes sharing it.
//
// Every guarantee the package gives across nodes rests on the database alone, never on a
// lock in one process:
//   - Transition and Release are one UPDATE ... WHERE state = from, with the audit event
//     in the same transaction: of two nodes acting on the same held message, the second
//     waits for the first's commit, then finds the state changed and gets a
//     *ConflictError.
//   - NextDelivery claims with UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED),
//     so concurrent workers on any nodes never claim the same message twice, and never
//     wait for each other.
//   - The delivery updates (Delivered, DeliveryFailed, RetryDelivery, DeliveryUnknown,
//     RecoverDeliveries) lock the message's row (SELECT ... FOR UPDATE) before checking
//     its delivery state.
//   - Hold's deduplication rests on a unique index on dedupe_key over the held messages:
//     of two nodes holding the same submission at once, one inserts and the other returns
//     its ID (INSERT ... ON CONFLICT DO NOTHING, then the lookup).
//   - Migrations run in one transaction under an advisory lock, so nodes may start at
//     once.
//
// Durability: Hold returns after the commit, which PostgreSQL makes durable with its
// defaults (fsync on, synchronous_commit on, or remote_write/remote_apply with standbys).
// A connection whose synchronous_commit is off is set to on when it is opened; fsync off
// (fine for a throwaway test server) cannot be fixed by a client and loses held mail on a
// crash of the server's machine: never run production that way.
//
// Times are stored as Unix microseconds (UTC), like SQLite's, so that Get and List return
// the same values from either store. Search and the sender filter of List ignore ASCII
// case only, as SQLite's LIKE and NOCASE do, whatever the database's locale.
type Postgres struct {
	pool *pgxpool.Pool
	opt  options
}

var _ Store = (*Postgres)(nil)

// OpenPostgres connects to the PostgreSQL database at dsn (a postgres:// URL or a
// key=value connection string, as libpq reads them; the PG* environment variables fill
// in what it leaves out) and brings the quarantine's schema up to date. A database
// written by a newer rcptguard is refused (ErrNewerSchema). The tables live in the
// connection's search_path (by default the schema public).
func OpenPostgres(ctx context.Context, dsn string, opts ...Option) (*Postgres, error) {
	pool, err := pgdb.Open(ctx, dsn, 0, schema(postgresMigrations))
	if err != nil {
		return nil, err
	}
	return &Postgres{pool: pool, opt: defaultOptions(opts)}, nil
}

// Close closes the connections.
func (s *Postgres) Close() error {
	s.pool.Close()
	return nil
}

// querier is what the pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inTx runs fn in a transaction (READ COMMITTED) and commits it if fn returns nil.
func (s *Postgres) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, fn)
}

// retryable reports whether err is a deadlock or serialization failure, after which the
// whole transaction may simply run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// notNil turns a nil list into an empty one, as SQLite's JSON arrays come back.
func notNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// Hold stores the message, its raw content and its "held" event in one transaction.
func (s *Postgres) Hold(ctx context.Context, m Message, raw io.Reader) (string, error) {
	content, now, err := prepareHold(&m, raw, s.opt)
	if err != nil {
		return "", err
	}
	if content == nil {
		content = []byte{} // nil would be NULL
	}
	// A held message with the same key may leave the held state between our failed
	// insert and the lookup of its ID: then insert again.
	for attempt := 0; ; attempt++ {
		var again bool
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			var err error
			again, err = s.hold(ctx, tx, &m, content, now)
			return err
		})
		if err != nil {
			return "", fmt.Errorf("quarantine: hold message from <%s>: %w", m.Sender, err)
		}
		if !again {
			return m.ID, nil
		}
		if attempt == 10 {
			return "", fmt.Errorf("quarantine: hold message from <%s>: the held message with its dedupe key keeps changing", m.Sender)
		}
	}
}

// hold inserts the message unless a held one has its dedupe key; then it sets m.ID to
// that one's. again is true when that one left the held state meanwhile.
func (s *Postgres) hold(ctx context.Context, tx pgx.Tx, m *Message, content []byte, now time.Time) (again bool, err error) {
	if m.Notice != NoticeNone && m.Notice != NoticePending {
		if m.DedupeKey != "" { // as SQLite: a retried submission gets its ID all the same
			if id, found, err := heldWithKey(ctx, tx, m.DedupeKey); err != nil || found {
				if found {
					m.ID = id
				}
				return false, err
			}
		}
		return false, fmt.Errorf("hold with notice %q", m.Notice)
	}
	tag, err := tx.Exec(ctx, `INSERT INTO messages (id, received, adapter, sender, auth_user,
			client_addr, queue_id, subject, size, state, expires_at, changed_at, dedupe_key, notice,
			content, content_skipped)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (dedupe_key) WHERE dedupe_key <> '' AND state = 'held' DO NOTHING`,
		m.ID, micro(m.Received), m.Adapter, m.Sender, m.AuthUser, m.ClientAddr, m.QueueID,
		m.Subject, m.Size, Held.String(), micro(m.ExpiresAt), micro(now), m.DedupeKey, string(m.Notice),
		strings.Join(m.Content, ","), m.ContentSkipped)
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		// Held already (the insert waited for the other transaction's commit): the
		// client retried a submission that we, or another node, had committed.
		id, found, err := heldWithKey(ctx, tx, m.DedupeKey)
		if err != nil {
			return false, err
		}
		if !found {
			return true, nil
		}
		m.ID = id
		return false, nil
	}
	var b pgx.Batch
	for i, r := range m.Recipients {
		b.Queue(`INSERT INTO recipients (message_id, idx, address, verdict, intended, techniques,
				reason, situation) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			m.ID, i, r.Address, r.Verdict, notNil(r.Intended), notNil(r.Techniques), r.Reason, r.Situation)
	}
	b.Queue(`INSERT INTO raw_content (message_id, content) VALUES ($1, $2)`, m.ID, content)
	queueEvent(&b, Event{At: now, MessageID: m.ID, From: None, To: Held,
		Actor: m.Adapter, Remote: m.ClientAddr, Note: "held"})
	return false, tx.SendBatch(ctx, &b).Close()
}

// heldWithKey finds the held message with dedupe key key.
func heldWithKey(ctx context.Context, q querier, key string) (id string, found bool, err error) {
	err = q.QueryRow(ctx, `SELECT id FROM messages WHERE dedupe_key = $1 AND state = 'held'`, key).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	return id, err == nil, err
}

const pgInsertEvent = `INSERT INTO events (message_id, at, from_state, to_state, actor, remote, note)
	VALUES ($1, $2, $3, $4, $5, $6, $7)`

func queueEvent(b *pgx.Batch, e Event) {
	b.Queue(pgInsertEvent, e.MessageID, micro(e.At), e.From.String(), e.To.String(), e.Actor, e.Remote, e.Note)
}

func pgEvent(ctx context.Context, tx pgx.Tx, e Event) error {
	_, err := tx.Exec(ctx, pgInsertEvent,
		e.MessageID, micro(e.At), e.From.String(), e.To.String(), e.Actor, e.Remote, e.Note)
	return err
}

// queryMessages runs a query that selects messageColumns and loads each message's
// recipients.
func (s *Postgres) queryMessages(ctx context.Context, query string, args ...any) ([]Message, error) {
	return queryMessages(ctx, s.query, arrayListColumn, func(ids []string) (string, []any) {
		return `SELECT message_id, address, verdict, intended, techniques, reason, situation
			FROM recipients WHERE message_id = ANY($1) ORDER BY message_id, idx`, []any{ids}
	}, query, args...)
}

// Get returns the message without its raw content.
func (s *Postgres) Get(ctx context.Context, id string) (Message, error) {
	return getMessage(ctx, s.queryMessages, `SELECT `+messageColumns+` FROM messages WHERE id = $1`, id)
}

// Raw returns the message's raw content.
func (s *Postgres) Raw(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := s.pool.QueryRow(ctx, `SELECT content FROM raw_content WHERE message_id = $1`, id).Scan(&b)
	return rawContent(id, b, err, errors.Is(err, pgx.ErrNoRows))
}

// pgASCIILower is the SQL expression for expr with ASCII letters in lower case (and every
// other character as it is), whatever the database's locale.
func pgASCIILower(expr string) string {
	return `translate(` + expr + `, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`
}

// asciiLower is s with ASCII letters in lower case.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// List returns the messages that match f, newest first.
func (s *Postgres) List(ctx context.Context, f Filter) ([]Message, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.State != None {
		if !f.State.Valid() {
			return nil, fmt.Errorf("quarantine: list: invalid state %v", f.State)
		}
		where = append(where, `state = `+arg(f.State.String()))
	}
	if f.Sender != "" {
		where = append(where, pgASCIILower(`sender`)+` = `+arg(asciiLower(f.Sender)))
	}
	if f.Search != "" {
		p := arg(likePattern(asciiLower(f.Search)))
		where = append(where, `(`+pgASCIILower(`sender`)+` LIKE `+p+` ESCAPE '\' OR `+
			pgASCIILower(`subject`)+` LIKE `+p+` ESCAPE '\' OR EXISTS (
			SELECT 1 FROM recipients r WHERE r.message_id = messages.id AND `+
			pgASCIILower(`r.address`)+` LIKE `+p+` ESCAPE '\'))`)
	}
	q := `SELECT ` + messageColumns + ` FROM messages`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY received DESC, seq DESC LIMIT ` + arg(listLimit(f.Limit)) + ` OFFSET ` + arg(max(f.Offset, 0))
	l, err := s.queryMessages(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("quarantine: list: %w", err)
	}
	return l, nil
}

// Transition moves message id from from to to, if it is in from, with its audit event.
func (s *Postgres) Transition(ctx context.Context, id string, from, to State, actor, remote, note string) error {
	if err := checkTransition(from, to); err != nil {
		return err
	}
	err := s.transition(ctx, id, from, to, transitionEvent(s.opt.now(), id, from, to, actor, remote, note))
	return wrapUnexpected(err, "quarantine: %s %s to %s", id, from, to)
}

// transition is the compare-and-set: the UPDATE takes the row's lock, and a concurrent
// one waits for this transaction to end and then finds the state changed.
func (s *Postgres) transition(ctx context.Context, id string, from, to State, e Event, also ...func(pgx.Tx) error) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE messages SET state = $1, changed_at = $2 WHERE id = $3 AND state = $4`,
			to.String(), micro(e.At), id, from.String())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var cur string
			err := tx.QueryRow(ctx, `SELECT state FROM messages WHERE id = $1`, id).Scan(&cur)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("%w: %s", ErrNotFound, id)
			}
			if err != nil {
				return err
			}
			return conflict(id, from, cur)
		}
		for _, f := range also {
			if err := f(tx); err != nil {
				return err
			}
		}
		return pgEvent(ctx, tx, e)
	})
}

// Audit returns the message's events, oldest first.
func (s *Postgres) Audit(ctx context.Context, id string) ([]Event, error) {
	out, err := queryEvents(ctx, s.query, `SELECT message_id, at, from_state, to_state, actor, remote, note
		FROM events WHERE message_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("quarantine: audit %s: %w", id, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return out, nil
}

// Expiring returns the Held messages that expire at or before before, soonest first.
func (s *Postgres) Expiring(ctx context.Context, before time.Time) ([]Message, error) {
	l, err := s.queryMessages(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE state = $1 AND expires_at <= $2 ORDER BY expires_at, seq`, Held.String(), micro(before))
	if err != nil {
		return nil, fmt.Errorf("quarantine: expiring: %w", err)
	}
	return l, nil
}

// Purge deletes the messages not Held whose last transition is before olderThan, with
// their recipients and raw content; their audit events are kept. Messages whose
// re-injection is not settled (pending, sending, committing, failed, unknown) stay.
func (s *Postgres) Purge(ctx context.Context, olderThan time.Time) (int, error) {
	for attempt := 0; ; attempt++ {
		tag, err := s.pool.Exec(ctx, `DELETE FROM messages WHERE state <> $1 AND changed_at < $2
			AND delivery NOT IN ('pending', 'sending', 'committing', 'failed', 'unknown')`,
			Held.String(), micro(olderThan))
		if err == nil {
			return int(tag.RowsAffected()), nil
		}
		// Two nodes purging at once may deadlock on the rows both delete.
		if !retryable(err) || attempt == 3 {
			return 0, fmt.Errorf("quarantine: purge: %w", err)
		}
	}
}
