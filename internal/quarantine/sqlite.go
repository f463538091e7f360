package quarantine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/rcptguard/rcptguard/internal/sqlitedb"
)

// SQLite is the Store in one SQLite database file, for a single node.
//
// The database runs in WAL mode with synchronous=FULL, so a held message survives a power
// cut once Hold has returned. Writes from this process are serialised by a mutex; other
// processes writing the same file wait up to the busy timeout. Transition's
// compare-and-set does not rely on the mutex: it is one UPDATE ... WHERE state = from in
// a BEGIN IMMEDIATE transaction, and holds across processes.
type SQLite struct {
	db      *sql.DB
	path    string
	opt     options
	writeMu sync.Mutex
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens the quarantine database at path, creating it if needed, and brings its
// schema up to date. A database written by a newer rcptguard is refused (ErrNewerSchema).
func OpenSQLite(path string, opts ...Option) (*SQLite, error) {
	db, abs, err := sqlitedb.Open(path, migrations)
	if err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	return &SQLite{db: db, path: abs, opt: defaultOptions(opts)}, nil
}

// Path is the absolute path of the database file.
func (s *SQLite) Path() string { return s.path }

// Close closes the database.
func (s *SQLite) Close() error { return s.db.Close() }

func micro(t time.Time) int64 { return t.UnixMicro() }

func fromMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }

// optMicro is fromMicro with 0 for the zero time.
func optMicro(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicro(us)
}

// optMicroOf is micro with 0 for the zero time.
func optMicroOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micro(t)
}

func jsonList(l []string) (string, error) {
	if l == nil {
		l = []string{}
	}
	b, err := json.Marshal(l)
	return string(b), err
}

// Hold stores the message, its raw content and its "held" event in one transaction.
func (s *SQLite) Hold(ctx context.Context, m Message, raw io.Reader) (string, error) {
	content, now, err := prepareHold(&m, raw, s.opt)
	if err != nil {
		return "", err
	}
	// A -shm file that cannot be written kills the process on the driver's next access
	// (SIGBUS): check first, so that the sender's MTA gets a temporary error instead.
	if err := s.Usable(); err != nil {
		return "", err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.hold(ctx, &m, content, now); err != nil {
		return "", fmt.Errorf("quarantine: hold message from <%s>: %w", m.Sender, err)
	}
	return m.ID, nil
}

func (s *SQLite) hold(ctx context.Context, m *Message, content []byte, now time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if m.DedupeKey != "" {
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM messages WHERE dedupe_key = ? AND state = 'held'`,
			m.DedupeKey).Scan(&id)
		if err == nil {
			m.ID = id // held already: the client retried a submission we had committed
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if m.Notice != NoticeNone && m.Notice != NoticePending {
		return fmt.Errorf("hold with notice %q", m.Notice)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO messages (id, received, adapter, sender, auth_user,
			client_addr, queue_id, subject, size, state, expires_at, changed_at, dedupe_key, notice,
			content, content_skipped)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, micro(m.Received), m.Adapter, m.Sender, m.AuthUser, m.ClientAddr, m.QueueID,
		m.Subject, m.Size, Held.String(), micro(m.ExpiresAt), micro(now), m.DedupeKey, string(m.Notice),
		strings.Join(m.Content, ","), m.ContentSkipped)
	if err != nil {
		return err
	}
	for i, r := range m.Recipients {
		intended, err := jsonList(r.Intended)
		if err != nil {
			return err
		}
		techniques, err := jsonList(r.Techniques)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO recipients (message_id, idx, address, verdict,
				intended, techniques, reason, situation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			m.ID, i, r.Address, r.Verdict, intended, techniques, r.Reason, r.Situation)
		if err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO raw_content (message_id, content) VALUES (?, ?)`,
		m.ID, content); err != nil {
		return err
	}
	if err := insertEvent(ctx, tx, Event{At: now, MessageID: m.ID, From: None, To: Held,
		Actor: m.Adapter, Remote: m.ClientAddr, Note: "held"}); err != nil {
		return err
	}
	return tx.Commit()
}

func insertEvent(ctx context.Context, tx *sql.Tx, e Event) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO events (message_id, at, from_state, to_state, actor,
			remote, note) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.MessageID, micro(e.At), e.From.String(), e.To.String(), e.Actor, e.Remote, e.Note)
	return err
}

// queryMessages runs a query that selects messageColumns and loads each message's
// recipients.
func (s *SQLite) queryMessages(ctx context.Context, query string, args ...any) ([]Message, error) {
	return queryMessages(ctx, s.query, jsonListColumn, func(ids []string) (string, []any) {
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		return `SELECT message_id, address, verdict, intended, techniques, reason, situation
			FROM recipients WHERE message_id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") +
			`) ORDER BY message_id, idx`, args
	}, query, args...)
}

// Get returns the message without its raw content.
func (s *SQLite) Get(ctx context.Context, id string) (Message, error) {
	return getMessage(ctx, s.queryMessages, `SELECT `+messageColumns+` FROM messages WHERE id = ?`, id)
}

// Raw returns the message's raw content.
func (s *SQLite) Raw(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT content FROM raw_content WHERE message_id = ?`, id).Scan(&b)
	return rawContent(id, b, err, errors.Is(err, sql.ErrNoRows))
}

// likePattern is a LIKE pattern (with ESCAPE '\') for a substring.
func likePattern(sub string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(sub) + "%"
}

// List returns the messages that match f, newest first.
func (s *SQLite) List(ctx context.Context, f Filter) ([]Message, error) {
	var where []string
	var args []any
	if f.State != None {
		if !f.State.Valid() {
			return nil, fmt.Errorf("quarantine: list: invalid state %v", f.State)
		}
		where = append(where, `state = ?`)
		args = append(args, f.State.String())
	}
	if f.Sender != "" {
		where = append(where, `sender = ? COLLATE NOCASE`)
		args = append(args, f.Sender)
	}
	if f.Search != "" {
		p := likePattern(f.Search)
		where = append(where, `(sender LIKE ? ESCAPE '\' OR subject LIKE ? ESCAPE '\' OR EXISTS (
			SELECT 1 FROM recipients r WHERE r.message_id = messages.id AND r.address LIKE ? ESCAPE '\'))`)
		args = append(args, p, p, p)
	}
	q := `SELECT ` + messageColumns + ` FROM messages`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY received DESC, rowid DESC LIMIT ? OFFSET ?`
	args = append(args, listLimit(f.Limit), max(f.Offset, 0))
	l, err := s.queryMessages(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("quarantine: list: %w", err)
	}
	return l, nil
}

// Transition moves message id from from to to, if it is in from, with its audit event.
func (s *SQLite) Transition(ctx context.Context, id string, from, to State, actor, remote, note string) error {
	if err := checkTransition(from, to); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	err := s.transition(ctx, id, from, to, transitionEvent(s.opt.now(), id, from, to, actor, remote, note))
	return wrapUnexpected(err, "quarantine: %s %s to %s", id, from, to)
}

func (s *SQLite) transition(ctx context.Context, id string, from, to State, e Event, also ...func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE messages SET state = ?, changed_at = ? WHERE id = ? AND state = ?`,
		to.String(), micro(e.At), id, from.String())
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT state FROM messages WHERE id = ?`, id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
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
	if err := insertEvent(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit()
}

// Audit returns the message's events, oldest first.
func (s *SQLite) Audit(ctx context.Context, id string) ([]Event, error) {
	out, err := queryEvents(ctx, s.query, `SELECT message_id, at, from_state, to_state, actor, remote, note
		FROM events WHERE message_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("quarantine: audit %s: %w", id, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return out, nil
}

// Expiring returns the Held messages that expire at or before before, soonest first.
func (s *SQLite) Expiring(ctx context.Context, before time.Time) ([]Message, error) {
	l, err := s.queryMessages(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE state = ? AND expires_at <= ? ORDER BY expires_at, rowid`, Held.String(), micro(before))
	if err != nil {
		return nil, fmt.Errorf("quarantine: expiring: %w", err)
	}
	return l, nil
}

// Purge deletes the messages not Held whose last transition is before olderThan, with
// their recipients and raw content; their audit events are kept.
func (s *SQLite) Purge(ctx context.Context, olderThan time.Time) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("quarantine: purge: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE state <> ? AND changed_at < ?
		AND delivery NOT IN ('pending', 'sending', 'committing', 'failed', 'unknown')`,
		Held.String(), micro(olderThan))
	if err != nil {
		return 0, fmt.Errorf("quarantine: purge: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("quarantine: purge: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("quarantine: purge: %w", err)
	}
	return int(n), nil
}
