package quarantine

import (
	"context"
	"fmt"
	"time"
)

// pgFlaggedRecipient is Recipient.Suspect in PostgreSQL's SQL, where intended is a text[].
var pgFlaggedRecipient = `(cardinality(r.intended) > 0 OR ` + pgASCIILower(`r.verdict`) +
	` IN ` + sqlList(suspectVerdicts) + `)`

// pgStatsSQL are Stats' queries for PostgreSQL. Keys tie in byte order, as in SQLite. The
// domain is what follows the last '@'.
var pgStatsSQL = statsSQL{
	byTechnique: `SELECT t, count(*) AS n
		FROM messages m JOIN recipients r ON r.message_id = m.id CROSS JOIN LATERAL unnest(r.techniques) AS t
		WHERE m.received >= $1 AND ` + pgFlaggedRecipient + ` AND t <> ''
		GROUP BY t ORDER BY n DESC, t COLLATE "C"`,
	topDomains: `SELECT d, count(*) AS n FROM (
			SELECT ` + pgASCIILower(`reverse(split_part(reverse(r.address), '@', 1))`) + ` AS d
			FROM messages m JOIN recipients r ON r.message_id = m.id
			WHERE m.received >= $1 AND ` + pgFlaggedRecipient + ` AND strpos(r.address, '@') > 0) AS f
		WHERE d <> '' GROUP BY d ORDER BY n DESC, d COLLATE "C" LIMIT $2`,
	byState: `SELECT e.to_state, count(*) AS n FROM events e
		WHERE e.seq = (SELECT max(seq) FROM events WHERE message_id = e.message_id)
		AND e.message_id IN (SELECT message_id FROM events WHERE to_state = $1 AND at >= $2)
		GROUP BY e.to_state ORDER BY n DESC, e.to_state COLLATE "C"`,
}

// Stats computes the statistics over the messages held at or after since, as SQLite.Stats
// does (see Stats for what each part counts).
func (s *Postgres) Stats(ctx context.Context, since time.Time) (Stats, error) {
	return collectStats(ctx, s.query, since, func() ([]DayCount, error) {
		// The "held" events per UTC day from since's day to today (by the store's clock).
		return heldPerDay(ctx, s.query, since, s.opt.now(), `SELECT at / $1, count(*) FROM events
			WHERE to_state = $2 AND at >= $3 GROUP BY at / $1`,
			dayMicros, Held.String(), micro(since))
	}, pgStatsSQL)
}

// RecentEvents returns the audit log of all messages, newest first: limit events (at most
// MaxListLimit; 0 or less means DefaultListLimit) after skipping offset of them.
func (s *Postgres) RecentEvents(ctx context.Context, limit, offset int) ([]Event, error) {
	out, err := queryEvents(ctx, s.query, `SELECT message_id, at, from_state, to_state, actor, remote, note
		FROM events ORDER BY seq DESC LIMIT $1 OFFSET $2`, listLimit(limit), max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("quarantine: recent events: %w", err)
	}
	return out, nil
}
