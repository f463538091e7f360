package quarantine

import (
	"context"
	"fmt"
	"time"
)

// Stats summarises the quarantine since a point in time, for the administrators' pages.
type Stats struct {
	// HeldPerDay counts the messages held on each UTC day from the day of since to today,
	// oldest first, with a zero for the days without any. It is read from the audit log, so
	// it survives Purge.
	HeldPerDay []DayCount
	// ByTechnique counts the flagged recipients per lookalike technique (a recipient with
	// two techniques counts for both), most first. Read from the stored recipients: purged
	// messages no longer count.
	ByTechnique []Count
	// TopDomains are the flagged recipients' domains (lower case), most first, at most
	// TopDomainsLimit of them. Read from the stored recipients, like ByTechnique.
	TopDomains []Count
	// ByState counts the messages held since then by their current state (the last state
	// in the audit log, so purged messages still count), most first.
	ByState []Count
}

// DayCount is a number for one UTC day; Day is its midnight, UTC.
type DayCount struct {
	Day time.Time
	N   int
}

// Count is a number for one key.
type Count struct {
	Key string
	N   int
}

// TopDomainsLimit is how many domains Stats.TopDomains holds at most.
const TopDomainsLimit = 10

const statsDay = 24 * time.Hour

// flaggedRecipient is the SQL condition for a recipient the guard did not simply let
// through: a verdict other than allow (guard.Verdict.String) or pass, or a likely intended
// domain. "invalid" (not an address at all) is not a lookalike and does not count.
const flaggedRecipient = `(r.intended <> '[]' OR lower(r.verdict) NOT IN ('', 'allow', 'pass', 'invalid'))`

// Stats computes the statistics over the messages held at or after since; see Stats for
// what each part counts.
func (s *SQLite) Stats(ctx context.Context, since time.Time) (Stats, error) {
	var st Stats
	var err error
	if st.HeldPerDay, err = s.heldPerDay(ctx, since); err != nil {
		return Stats{}, fmt.Errorf("quarantine: stats: held per day: %w", err)
	}
	from := micro(since)
	st.ByTechnique, err = s.statsCounts(ctx, `SELECT j.value, count(*) AS n
		FROM messages m JOIN recipients r ON r.message_id = m.id, json_each(r.techniques) j
		WHERE m.received >= ? AND `+flaggedRecipient+` AND j.type = 'text' AND j.value <> ''
		GROUP BY j.value ORDER BY n DESC, j.value`, from)
	if err != nil {
		return Stats{}, fmt.Errorf("quarantine: stats: by technique: %w", err)
	}
	// The domain is what follows the last '@': rtrim drops every trailing character that
	// is not an '@'.
	st.TopDomains, err = s.statsCounts(ctx, `SELECT lower(substr(r.address,
			length(rtrim(r.address, replace(r.address, '@', ''))) + 1)) AS d, count(*) AS n
		FROM messages m JOIN recipients r ON r.message_id = m.id
		WHERE m.received >= ? AND `+flaggedRecipient+` AND instr(r.address, '@') > 0
		GROUP BY d HAVING d <> '' ORDER BY n DESC, d LIMIT ?`, from, TopDomainsLimit)
	if err != nil {
		return Stats{}, fmt.Errorf("quarantine: stats: top domains: %w", err)
	}
	st.ByState, err = s.statsCounts(ctx, `SELECT e.to_state, count(*) AS n FROM events e
		WHERE e.seq = (SELECT max(seq) FROM events WHERE message_id = e.message_id)
		AND e.message_id IN (SELECT message_id FROM events WHERE to_state = ? AND at >= ?)
		GROUP BY e.to_state ORDER BY n DESC, e.to_state`, Held.String(), from)
	if err != nil {
		return Stats{}, fmt.Errorf("quarantine: stats: by state: %w", err)
	}
	return st, nil
}

// heldPerDay counts the "held" events per UTC day from since's day to today (by the
// store's clock), zeros included.
func (s *SQLite) heldPerDay(ctx context.Context, since time.Time) ([]DayCount, error) {
	first := since.UTC().Truncate(statsDay)
	last := s.opt.now().UTC().Truncate(statsDay)
	if last.Before(first) {
		last = first
	}
	const dayMicros = int64(statsDay / time.Microsecond)
	rows, err := s.db.QueryContext(ctx, `SELECT at / ?, count(*) FROM events
		WHERE to_state = ? AND at >= ? GROUP BY at / ?`,
		dayMicros, Held.String(), micro(since), dayMicros)
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

func (s *SQLite) statsCounts(ctx context.Context, query string, args ...any) ([]Count, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
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
func (s *SQLite) RecentEvents(ctx context.Context, limit, offset int) ([]Event, error) {
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	rows, err := s.db.QueryContext(ctx, `SELECT message_id, at, from_state, to_state, actor, remote, note
		FROM events ORDER BY seq DESC LIMIT ? OFFSET ?`, limit, max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("quarantine: recent events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		var from, to string
		if err := rows.Scan(&e.MessageID, &at, &from, &to, &e.Actor, &e.Remote, &e.Note); err != nil {
			return nil, fmt.Errorf("quarantine: recent events: %w", err)
		}
		e.At = fromMicro(at)
		if e.From, err = parseStoredState(from); err != nil {
			return nil, fmt.Errorf("quarantine: recent events: %w", err)
		}
		if e.To, err = parseStoredState(to); err != nil {
			return nil, fmt.Errorf("quarantine: recent events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("quarantine: recent events: %w", err)
	}
	return out, nil
}
