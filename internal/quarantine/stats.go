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

// flaggedRecipient is Recipient.Suspect in SQLite's SQL.
var flaggedRecipient = `(r.intended <> '[]' OR lower(r.verdict) IN ` + sqlList(suspectVerdicts) + `)`

// sqliteStatsSQL are Stats' queries for SQLite. The domain is what follows the last '@':
// rtrim drops every trailing character that is not an '@'.
var sqliteStatsSQL = statsSQL{
	byTechnique: `SELECT j.value, count(*) AS n
		FROM messages m JOIN recipients r ON r.message_id = m.id, json_each(r.techniques) j
		WHERE m.received >= ? AND ` + flaggedRecipient + ` AND j.type = 'text' AND j.value <> ''
		GROUP BY j.value ORDER BY n DESC, j.value`,
	topDomains: `SELECT lower(substr(r.address,
			length(rtrim(r.address, replace(r.address, '@', ''))) + 1)) AS d, count(*) AS n
		FROM messages m JOIN recipients r ON r.message_id = m.id
		WHERE m.received >= ? AND ` + flaggedRecipient + ` AND instr(r.address, '@') > 0
		GROUP BY d HAVING d <> '' ORDER BY n DESC, d LIMIT ?`,
	byState: `SELECT e.to_state, count(*) AS n FROM events e
		WHERE e.seq = (SELECT max(seq) FROM events WHERE message_id = e.message_id)
		AND e.message_id IN (SELECT message_id FROM events WHERE to_state = ? AND at >= ?)
		GROUP BY e.to_state ORDER BY n DESC, e.to_state`,
}

// Stats computes the statistics over the messages held at or after since; see Stats for
// what each part counts.
func (s *SQLite) Stats(ctx context.Context, since time.Time) (Stats, error) {
	return collectStats(ctx, s.query, since, func() ([]DayCount, error) {
		// The "held" events per UTC day from since's day to today (by the store's clock).
		return heldPerDay(ctx, s.query, since, s.opt.now(), `SELECT at / ?, count(*) FROM events
			WHERE to_state = ? AND at >= ? GROUP BY at / ?`,
			dayMicros, Held.String(), micro(since), dayMicros)
	}, sqliteStatsSQL)
}

// RecentEvents returns the audit log of all messages, newest first: limit events (at most
// MaxListLimit; 0 or less means DefaultListLimit) after skipping offset of them.
func (s *SQLite) RecentEvents(ctx context.Context, limit, offset int) ([]Event, error) {
	out, err := queryEvents(ctx, s.query, `SELECT message_id, at, from_state, to_state, actor, remote, note
		FROM events ORDER BY seq DESC LIMIT ? OFFSET ?`, listLimit(limit), max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("quarantine: recent events: %w", err)
	}
	return out, nil
}
