package scan

import (
	"hash/maphash"
	"strings"
	"sync"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/guard"
)

// Tally counts Records as they are read: it decides each distinct recipient domain once
// with the guard (the sender's own history is never asked: the question is what the
// policy says of the domain) and keeps counts for the flagged ones. Its memory grows with
// the distinct domains, the senders of flagged mail and the flagged messages, never with
// the size of the sources. It is safe for concurrent use.
type Tally struct {
	mu     sync.Mutex
	guard  *guard.Guard
	since  time.Time // zero: no lower bound
	until  time.Time // zero: no upper bound (exclusive)
	seed   maphash.Seed
	cache  map[string]*decided
	recent map[string]*window // per source: the messages seen lately
	// flagged messages: the most severe of their flagged recipients
	flagged map[uint64]*flaggedMsg

	Records, Messages       int64
	FlaggedRecords          int64
	Undated, Outside        int64 // left out by --since/--until
	NoDomain, InvalidDomain int64 // recipients the guard could not be asked about
	First, Last             time.Time
	Problems                []Problem // the first few
	ProblemCount            int64
	ProblemsPerSource       map[string]int64
	maxProblemsKept         int
	// ContentRules, with content checks on (RunOptions.Content), raise the verdict of a
	// flagged message in the prediction as serve would (guard.ContentRules.Escalate).
	ContentRules   guard.ContentRules
	contentChecked bool
}

// decided is the guard's answer for one domain, and its counts when it is flagged.
type decided struct {
	d       guard.Decision
	flagged bool
	invalid bool
	stat    *domainStat
}

type domainStat struct {
	name     string
	dec      *guard.Decision
	records  int64
	msgs     map[uint64]struct{}
	senders  map[string]int64 // messages per sender
	first    time.Time
	last     time.Time
	outcomes [5]int64 // by Outcome
}

type flaggedMsg struct {
	sender string
	time   time.Time
	dom    *domainStat // the most severe recipient's domain
	// content, when the message was classified, and where it was read
	content *Content
	id      string
	source  string
}

// window remembers the last messages of one source, so that a message with several
// recipients counts once; a message whose recipients are further apart than the window
// counts more than once (the total of messages is then an upper bound).
type window struct {
	seen map[string]struct{}
	ring []string
	pos  int
}

const windowSize = 1 << 14

// NewTally returns a tally deciding with g over [since, until) (zero: unbounded).
func NewTally(g *guard.Guard, since, until time.Time) *Tally {
	return &Tally{
		guard: g, since: since, until: until, seed: maphash.MakeSeed(),
		cache: map[string]*decided{}, recent: map[string]*window{}, flagged: map[uint64]*flaggedMsg{},
		ProblemsPerSource: map[string]int64{}, maxProblemsKept: 20,
	}
}

// Add counts records.
func (t *Tally) Add(rs ...Record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range rs {
		t.add(&rs[i], rs[i].Source)
	}
}

// addFrom counts records read from the source named top (a directory's files are one
// source: they share one window of recent messages, forgotten by EndSource(top)).
func (t *Tally) addFrom(top string, rs []Record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range rs {
		t.add(&rs[i], top)
	}
}

// Skip counts a problem (the first few are kept for the report).
func (t *Tally) Skip(p Problem) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ProblemCount++
	t.ProblemsPerSource[p.Source]++
	if len(t.Problems) < t.maxProblemsKept {
		t.Problems = append(t.Problems, p)
	}
}

// EndSource forgets what was kept to count one source's messages.
func (t *Tally) EndSource(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.recent, name)
}

func (t *Tally) add(r *Record, top string) {
	if !t.since.IsZero() || !t.until.IsZero() {
		if r.Time.IsZero() {
			t.Undated++
			return
		}
		if !t.since.IsZero() && r.Time.Before(t.since) || !t.until.IsZero() && !r.Time.Before(t.until) {
			t.Outside++
			return
		}
	}
	t.Records++
	t.countMessage(r, top)
	if !r.Time.IsZero() {
		if t.First.IsZero() || r.Time.Before(t.First) {
			t.First = r.Time
		}
		if r.Time.After(t.Last) {
			t.Last = r.Time
		}
	}
	dom := recipientDomain(r.Recipient)
	if dom == "" {
		t.NoDomain++
		return
	}
	c := t.cache[dom]
	if c == nil {
		c = t.decide(dom)
	}
	if c.invalid {
		t.InvalidDomain++
		return
	}
	if !c.flagged {
		return
	}
	t.FlaggedRecords++
	s := c.stat
	s.records++
	s.outcomes[min(int(r.Outcome), len(s.outcomes)-1)]++
	if !r.Time.IsZero() {
		if s.first.IsZero() || r.Time.Before(s.first) {
			s.first = r.Time
		}
		if r.Time.After(s.last) {
			s.last = r.Time
		}
	}
	key := t.messageKey(r)
	sender := strings.ToLower(r.Sender)
	if _, ok := s.msgs[key]; !ok {
		s.msgs[key] = struct{}{}
		s.senders[sender]++
	}
	m := t.flagged[key]
	if m == nil {
		m = &flaggedMsg{sender: sender, time: r.Time, dom: s}
		if r.Content != nil {
			m.content, m.id, m.source = r.Content, r.Message, r.Source
		}
		t.flagged[key] = m
		return
	}
	if s.dec.Verdict > m.dom.dec.Verdict {
		m.dom = s
	}
	if m.time.IsZero() || !r.Time.IsZero() && r.Time.Before(m.time) {
		m.time = r.Time
	}
}

// markContent says that a mail archive was read with content checks on: the report has
// a content part (a scan of logs only has none).
func (t *Tally) markContent() {
	t.mu.Lock()
	t.contentChecked = true
	t.mu.Unlock()
}

// wouldFlag reports whether one of rs would be counted (in the period) and flagged: the
// archive readers classify such a message's content.
func (t *Tally) wouldFlag(rs []Record) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range rs {
		r := &rs[i]
		if !t.since.IsZero() || !t.until.IsZero() {
			if r.Time.IsZero() || !t.since.IsZero() && r.Time.Before(t.since) || !t.until.IsZero() && !r.Time.Before(t.until) {
				continue
			}
		}
		dom := recipientDomain(r.Recipient)
		if dom == "" {
			continue
		}
		c := t.cache[dom]
		if c == nil {
			c = t.decide(dom)
		}
		if c.flagged {
			return true
		}
	}
	return false
}

func (t *Tally) decide(dom string) *decided {
	c := &decided{}
	t.cache[dom] = c
	d, err := address.ParseDomain(dom)
	if err != nil {
		c.invalid = true
		return c
	}
	c.d = t.guard.Decide(d)
	c.flagged = c.d.Verdict.Suspect()
	if c.flagged {
		c.stat = &domainStat{name: c.d.Address.Domain.ASCII, dec: &c.d, msgs: map[uint64]struct{}{}, senders: map[string]int64{}}
		if c.stat.name == "" {
			c.stat.name = dom
		}
	}
	return c
}

// countMessage counts r's message once per source (within the window).
func (t *Tally) countMessage(r *Record, top string) {
	if r.Message == "" {
		t.Messages++
		return
	}
	w := t.recent[top]
	if w == nil {
		w = &window{seen: map[string]struct{}{}}
		t.recent[top] = w
	}
	if _, ok := w.seen[r.Message]; ok {
		return
	}
	if len(w.ring) < windowSize {
		w.ring = append(w.ring, r.Message)
	} else {
		delete(w.seen, w.ring[w.pos])
		w.ring[w.pos] = r.Message
		w.pos = (w.pos + 1) % windowSize
	}
	w.seen[r.Message] = struct{}{}
	t.Messages++
}

// messageKey identifies r's message within the run: its source and Message, or its
// source and line when the source names no message.
func (t *Tally) messageKey(r *Record) uint64 {
	var h maphash.Hash
	h.SetSeed(t.seed)
	h.WriteString(r.Source)
	h.WriteByte(0)
	if r.Message != "" {
		h.WriteByte('m')
		h.WriteString(r.Message)
	} else {
		h.WriteByte('l')
		var b [8]byte
		for i := range b {
			b[i] = byte(r.Line >> (8 * i))
		}
		h.Write(b[:])
		if r.Line == 0 {
			h.WriteString(r.Recipient)
			h.WriteString(r.Time.String())
		}
	}
	return h.Sum64()
}

// recipientDomain is the lower-cased domain of an address as a source wrote it ("" for
// a local name with no domain).
func recipientDomain(rcpt string) string {
	rcpt = strings.TrimSpace(rcpt)
	rcpt = strings.TrimPrefix(rcpt, "<")
	rcpt = strings.TrimSuffix(rcpt, ">")
	at := strings.LastIndexByte(rcpt, '@')
	if at < 0 {
		return ""
	}
	dom := strings.TrimSuffix(rcpt[at+1:], ".")
	for i := 0; i < len(dom); i++ {
		if c := dom[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(dom)
		}
	}
	return dom
}
