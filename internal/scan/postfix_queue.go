package scan

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// postfixMaxPending bounds the deferred recipients held for one queue ID; more are
// emitted as Deferred when read (Postfix itself holds at most some thousands).
const postfixMaxPending = 10_000

// postfixRcpt is one recipient's last status.
type postfixRcpt struct {
	time                     time.Time
	line                     int64
	outcome                  Outcome
	to, origTo, relay, reply string
}

// postfixMsg is an open queue ID.
type postfixMsg struct {
	key     string // host/QUEUEID
	sender  string
	seen    time.Time // the last line about it, in log time
	line    int64     // that line
	pending []postfixRcpt
}

// postfixQueue holds the open queue IDs of one source, bounded in number and in age.
type postfixQueue struct {
	ids       map[string]*postfixMsg
	maxOpen   int
	maxAge    time.Duration
	lastSweep time.Time
	last      *postfixMsg // the last one used: lines of a message often come together
}

func (q *postfixQueue) init(maxOpen int, maxAge time.Duration) {
	if maxOpen <= 0 {
		maxOpen = PostfixMaxOpen
	}
	if maxAge <= 0 {
		maxAge = PostfixMaxAge
	}
	q.ids, q.maxOpen, q.maxAge = map[string]*postfixMsg{}, maxOpen, maxAge
}

func (q *postfixQueue) get(key []byte) *postfixMsg {
	if q.last != nil && q.last.key == string(key) {
		return q.last
	}
	return q.ids[string(key)]
}

// open returns the queue ID key, opening it if needed, and marks it seen at t.
func (q *postfixQueue) open(p *postfixParser, key []byte, t time.Time) *postfixMsg {
	m := q.last
	if m == nil || m.key != string(key) {
		m = q.ids[string(key)]
	}
	if m == nil {
		if len(q.ids) >= q.maxOpen {
			q.evictOldest(p)
		}
		m = &postfixMsg{key: string(key)}
		q.ids[m.key] = m
	}
	m.seen, m.line = t, p.lineNo
	q.last = m
	return m
}

// status records one recipient's status: a final one is emitted, a deferral held.
func (q *postfixQueue) status(p *postfixParser, m *postfixMsg, r postfixRcpt) {
	i := slices.IndexFunc(m.pending, func(o postfixRcpt) bool { return o.to == r.to && o.origTo == r.origTo })
	if r.outcome == Deferred {
		switch {
		case i >= 0:
			m.pending[i] = r
		case len(m.pending) < postfixMaxPending:
			m.pending = append(m.pending, r)
		default:
			p.record(m, &r)
		}
		return
	}
	if i >= 0 {
		m.pending = slices.Delete(m.pending, i, i+1)
	}
	p.record(m, &r)
}

// expire handles qmgr's "from=<...>, status=expired, returned to sender": every recipient
// still deferred has expired.
func (q *postfixQueue) expire(p *postfixParser, m *postfixMsg, t time.Time, reply []byte) {
	for i := range m.pending {
		r := &m.pending[i]
		r.outcome, r.time, r.line, r.reply = Expired, t, p.lineNo, string(reply)
		p.record(m, r)
	}
	m.pending = nil
}

// close ends a queue ID ("removed"): recipients still deferred are emitted as such.
func (q *postfixQueue) close(p *postfixParser, m *postfixMsg) {
	for i := range m.pending {
		p.record(m, &m.pending[i])
	}
	delete(q.ids, m.key)
	if q.last == m {
		q.last = nil
	}
}

// evict ends a queue ID that was never closed, as a Problem.
func (q *postfixQueue) evict(p *postfixParser, m *postfixMsg, why string) {
	p.skip(Problem{Source: p.name, Line: m.line, Text: "queue ID " + m.key + " evicted without \"removed\" " + why})
	q.close(p, m)
}

// sweep evicts, once an hour of log time, the queue IDs not seen for maxAge.
func (q *postfixQueue) sweep(p *postfixParser, t time.Time) {
	if d := t.Sub(q.lastSweep); d >= 0 && d < time.Hour {
		return
	}
	q.lastSweep = t
	limit := t.Add(-q.maxAge)
	var old []*postfixMsg
	for _, m := range q.ids {
		if m.seen.Before(limit) {
			old = append(old, m)
		}
	}
	slices.SortFunc(old, func(a, b *postfixMsg) int { return cmp.Compare(a.line, b.line) })
	for _, m := range old {
		q.evict(p, m, "after "+q.maxAge.String()+" of log time without a line about it")
	}
}

// evictOldest makes room: it evicts the quarter of the open queue IDs seen least recently.
func (q *postfixQueue) evictOldest(p *postfixParser) {
	all := make([]*postfixMsg, 0, len(q.ids))
	for _, m := range q.ids {
		all = append(all, m)
	}
	slices.SortFunc(all, func(a, b *postfixMsg) int { return cmp.Compare(a.line, b.line) })
	why := "(more than " + strconv.Itoa(q.maxOpen) + " queue IDs open)"
	for _, m := range all[:max(1, len(all)/4)] {
		q.evict(p, m, why)
	}
}

// finish emits, at the end of the source, the recipients still deferred: the last word
// the log has. Queue IDs still open at the end are not Problems (mail in flight).
func (q *postfixQueue) finish(p *postfixParser) {
	all := make([]*postfixMsg, 0, len(q.ids))
	for _, m := range q.ids {
		all = append(all, m)
	}
	slices.SortFunc(all, func(a, b *postfixMsg) int { return cmp.Compare(a.line, b.line) })
	for _, m := range all {
		q.close(p, m)
	}
}
