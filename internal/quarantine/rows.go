package quarantine

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// rows is what *sql.Rows (through sqlRows) and pgx.Rows have in common: the shared
// scanning below reads either.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// sqlRows is *sql.Rows as rows.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// queryFunc runs a query of the store's dialect.
type queryFunc func(ctx context.Context, query string, args ...any) (rows, error)

// query runs query on the database, as a queryFunc.
func (s *SQLite) query(ctx context.Context, query string, args ...any) (rows, error) {
	r, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

// query runs query on the pool, as a queryFunc.
func (s *Postgres) query(ctx context.Context, query string, args ...any) (rows, error) {
	r, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// listLimit is a list's limit: at most MaxListLimit, DefaultListLimit for 0 or less.
func listLimit(limit int) int {
	if limit <= 0 {
		limit = DefaultListLimit
	}
	return min(limit, MaxListLimit)
}

// queryCounts runs a query that selects a key and a count.
func queryCounts(ctx context.Context, q queryFunc, query string, args ...any) ([]Count, error) {
	rows, err := q(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Key, &c.N); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// queryEvents runs a query that selects an event's columns: message_id, at, from_state,
// to_state, actor, remote, note.
func queryEvents(ctx context.Context, q queryFunc, query string, args ...any) ([]Event, error) {
	rows, err := q(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		var from, to string
		if err := rows.Scan(&e.MessageID, &at, &from, &to, &e.Actor, &e.Remote, &e.Note); err != nil {
			return nil, err
		}
		e.At = fromMicro(at)
		if e.From, err = parseStoredState(from); err != nil {
			return nil, err
		}
		if e.To, err = parseStoredState(to); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// dayMicros is a UTC day in microseconds: at / dayMicros numbers an event's day.
const dayMicros = int64(statsDay / time.Microsecond)

// heldPerDay runs query, which selects a day number (at / dayMicros) and the count of
// "held" events on it, and counts them per UTC day from since's day to now's, zeros
// included.
func heldPerDay(ctx context.Context, q queryFunc, since, now time.Time, query string, args ...any) ([]DayCount, error) {
	first := since.UTC().Truncate(statsDay)
	last := now.UTC().Truncate(statsDay)
	if last.Before(first) {
		last = first
	}
	rows, err := q(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n := map[int64]int{}
	for rows.Next() {
		var d int64
		var c int
		if err := rows.Scan(&d, &c); err != nil {
			return nil, err
		}
		n[d] = c
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []DayCount
	for d := first; !d.After(last); d = d.Add(statsDay) {
		out = append(out, DayCount{Day: d, N: n[micro(d)/dayMicros]})
	}
	return out, nil
}

// statsSQL are a dialect's queries for Stats. byTechnique takes the time since (in
// microseconds), topDomains that and TopDomainsLimit, byState Held and the time since.
type statsSQL struct {
	byTechnique, topDomains, byState string
}

// collectStats computes Stats from the held events per day (perDay) and the dialect's
// queries.
func collectStats(ctx context.Context, q queryFunc, since time.Time, perDay func() ([]DayCount, error), sq statsSQL) (Stats, error) {
	var st Stats
	var err error
	if st.HeldPerDay, err = perDay(); err != nil {
		return Stats{}, fmt.Errorf("quarantine: stats: held per day: %w", err)
	}
	from := micro(since)
	if st.ByTechnique, err = queryCounts(ctx, q, sq.byTechnique, from); err != nil {
		return Stats{}, fmt.Errorf("quarantine: stats: by technique: %w", err)
	}
	if st.TopDomains, err = queryCounts(ctx, q, sq.topDomains, from, TopDomainsLimit); err != nil {
		return Stats{}, fmt.Errorf("quarantine: stats: top domains: %w", err)
	}
	if st.ByState, err = queryCounts(ctx, q, sq.byState, Held.String(), from); err != nil {
		return Stats{}, fmt.Errorf("quarantine: stats: by state: %w", err)
	}
	return st, nil
}

// listColumn is how a dialect stores a list of strings in a column: scan returns what
// Scan writes the column into, and a func that then sets *l from it.
type listColumn func(l *[]string) (dest any, set func() error)

// jsonListColumn is SQLite's: a JSON array in text.
func jsonListColumn(l *[]string) (any, func() error) {
	var s string
	return &s, func() error { return json.Unmarshal([]byte(s), l) }
}

// arrayListColumn is PostgreSQL's: a text[], never NULL, read as an empty list when empty
// (as SQLite's JSON arrays come back).
func arrayListColumn(l *[]string) (any, func() error) {
	return l, func() error {
		*l = notNil(*l)
		return nil
	}
}

const messageColumns = `id, received, adapter, sender, auth_user, client_addr, queue_id, subject,
	size, state, expires_at, dedupe_key, release_to, delivery, attempts, last_error, next_attempt,
	delivered_at, delivery_reply, notice, notice_error, reminder_sent, notice_attempts, notice_claimed,
	reminder_state, reminder_error, reminder_next, reminder_attempts, reminder_claimed,
	return_state, return_error, return_next, return_attempts, return_claimed, content, content_skipped`

// queryMessages runs a query that selects messageColumns, then the query of their
// recipients that recipients makes for their IDs, and returns the messages with their
// recipients.
func queryMessages(ctx context.Context, q queryFunc, list listColumn, recipients func(ids []string) (string, []any),
	query string, args ...any) ([]Message, error) {
	rows, err := q(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	out, err := scanMessages(rows, list)
	rows.Close() // before the next query
	if err != nil || len(out) == 0 {
		return out, err
	}
	// Recipients of all the messages in one query.
	ids := make([]string, len(out))
	for i, m := range out {
		ids[i] = m.ID
	}
	rquery, rargs := recipients(ids)
	rrows, err := q(ctx, rquery, rargs...)
	if err != nil {
		return nil, err
	}
	return out, addRecipients(rrows, list, out)
}

// scanMessages reads the rows of a query that selects messageColumns, without their
// recipients. It leaves rows open.
func scanMessages(rows rows, list listColumn) ([]Message, error) {
	var out []Message
	for rows.Next() {
		var m Message
		var received, expires, next, delivered, reminder, noticeClaimed int64
		var state, delivery, notice, content string
		var rem, ret struct {
			state, errText string
			next, claimed  int64
			attempts       int
		}
		releaseTo, setReleaseTo := list(&m.ReleaseTo)
		if err := rows.Scan(&m.ID, &received, &m.Adapter, &m.Sender, &m.AuthUser, &m.ClientAddr,
			&m.QueueID, &m.Subject, &m.Size, &state, &expires, &m.DedupeKey, releaseTo, &delivery,
			&m.Attempts, &m.LastError, &next, &delivered, &m.DeliveryReply, &notice, &m.NoticeError,
			&reminder, &m.NoticeAttempts, &noticeClaimed,
			&rem.state, &rem.errText, &rem.next, &rem.attempts, &rem.claimed,
			&ret.state, &ret.errText, &ret.next, &ret.attempts, &ret.claimed, &content, &m.ContentSkipped); err != nil {
			return nil, err
		}
		m.NoticeClaimed = optMicro(noticeClaimed)
		if noticeClaimed != 0 {
			notice = string(NoticeSending)
		}
		m.Reminder = noticeSend(rem.state, rem.errText, rem.next, rem.attempts, rem.claimed)
		m.Return = noticeSend(ret.state, ret.errText, ret.next, ret.attempts, ret.claimed)
		if content != "" {
			m.Content = strings.Split(content, ",")
		}
		m.Received, m.ExpiresAt = fromMicro(received), fromMicro(expires)
		m.NextAttempt, m.DeliveredAt, m.ReminderSent = optMicro(next), optMicro(delivered), optMicro(reminder)
		m.Delivery, m.Notice = Delivery(delivery), Notice(notice)
		if err := setReleaseTo(); err != nil {
			return nil, fmt.Errorf("message %s: release_to: %w", m.ID, err)
		}
		var err error
		if m.State, err = ParseState(state); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// addRecipients reads the rows of a query that selects message_id, address, verdict,
// intended, techniques, reason, situation, in order, and appends each recipient to its
// message in l.
func addRecipients(rows rows, list listColumn, l []Message) error {
	defer rows.Close()
	index := make(map[string]int, len(l))
	for i, m := range l {
		index[m.ID] = i
	}
	for rows.Next() {
		var id string
		var r Recipient
		intended, setIntended := list(&r.Intended)
		techniques, setTechniques := list(&r.Techniques)
		if err := rows.Scan(&id, &r.Address, &r.Verdict, intended, techniques, &r.Reason, &r.Situation); err != nil {
			return err
		}
		if err := setIntended(); err != nil {
			return fmt.Errorf("recipient %s of %s: intended: %w", r.Address, id, err)
		}
		if err := setTechniques(); err != nil {
			return fmt.Errorf("recipient %s of %s: techniques: %w", r.Address, id, err)
		}
		i, ok := index[id]
		if !ok {
			continue
		}
		l[i].Recipients = append(l[i].Recipients, r)
	}
	return rows.Err()
}
