package quarantine

import (
	"context"
	"fmt"
	"time"
)

// pgFlaggedRecipient is flaggedRecipient for PostgreSQL, where intended is a text[].
var pgFlaggedRecipient = `(cardinality(r.intended) > 0 OR ` + pgASCIILower(`r.verdict`) +
	` NOT IN ('', 'allow', 'pass', 'invalid'))`

// Stats computes the statistics over the messages held at or after since, as SQLite.Stats
// does (see Stats for what each part counts). Keys tie in byte order, as in SQLite.
func (s *Postgres) Stats(ctx context.Context, since time.Time) (Stats, error) {
	var st Stats
	var err error
	if st.HeldPerDay, err = s.heldPerDay(ctx, since); err != nil {
		return Stats{}, fmt.Errorf("quarantine: stats: held per day: %w", err)
	}
	from := micro(since)
	st.ByTechnique, err = s.statsCounts(ctx, `SELECT t, count(*) AS n
		FROM messages m JOIN recipients r ON r.message_id = m.id CROSS JOIN LATERAL unnest(r.techniques) AS t
		WHERE m.received >= $1 AND `+pgFlaggedRecipient+` AND t <> ''
		GROUP BY t ORDER BY n DESC, t COLLATE "C"`, from)
	if err != nil {
		return Stats{}, fmt.Errorf("quarantine: stats: by technique: %w", err)
	}
	// The domain is what follows the last '@'.
	st.TopDomains, err = s.statsCounts(ctx, `SELECT d, count(*) AS n FROM (
			SELECT `+pgASCIILower(`reverse(split_part(reverse(r.address), '@', 1))`)+` AS d
			FROM messages m JOIN recipients r ON r.message_id = m.id
			WHERE m.received >= $1 AND `+pgFlaggedRecipient+` AND strpos(r.address, '@') > 0) AS f
		WHERE d <> '' GROUP BY d ORDER BY n DESC, d COLLATE "C" LIMIT $2`, from, TopDomainsLimit)
	if err != nil {
		return Stats{}, fmt.Errorf("quarantine: stats: top domains: %w", err)
	}
	st.ByState, err = s.statsCounts(ctx, `SELECT e.to_state, count(*) AS n FROM events e
		WHERE e.seq = (SELECT max(seq) FROM events WHERE message_id = e.message_id)
		AND e.message_id IN (SELECT message_id FROM events WHERE to_state = $1 AND at >= $2)
		GROUP BY e.to_state ORDER BY n DESC, e.to_state COLLATE "C"`, Held.String(), from)
	if err != nil {
		return Stats{}, fmt.Errorf("quarantine: stats: by state: %w", err)
	}
	return st, nil
}

// heldPerDay counts the "held" events per UTC day from since's day to today (by the
// store's clock), zeros included.
func (s *Postgres) heldPerDay(ctx context.Context, since time.Time) ([]DayCount, error) {
	first := since.UTC().Truncate(statsDay)
	last := s.opt.now().UTC().Truncate(statsDay)
	if last.Before(first) {
		last = first
	}
	const dayMicros = int64(statsDay / time.Microsecond)
	rows, err := s.pool.Query(ctx, `SELECT at / $1, count(*) FROM events
		WHERE to_state = $2 AND at >= $3 GROUP BY at / $1`,
		dayMicros, Held.String(), micro(since))
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

func (s *Postgres) statsCounts(ctx context.Context, query string, args ...any) ([]Count, error) {
	rows, err := s.pool.Query(ctx, query, args...)
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

// RecentEvents returns the audit log of all messages, newest first: limit events (at most
// MaxListLimit; 0 or less means DefaultListLimit) after skipping offset of them.
func (s *Postgres) RecentEvents(ctx context.Context, limit, offset int) ([]Event, error) {
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	out, err := s.queryEvents(ctx, `SELECT message_id, at, from_state, to_state, actor, remote, note
		FROM events ORDER BY seq DESC LIMIT $1 OFFSET $2`, limit, max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("quarantine: recent events: %w", err)
	}
	return out, nil
}
