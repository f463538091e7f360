package maillog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// MaxLine is the longest line read, without its newline; longer lines are skipped.
const MaxLine = 64 << 10

// DefaultMaxQueue is the default cap of the queue-id map (Options.MaxQueue). An entry
// holds a host name (at most maxHost octets), a queue id (at most 32) and a sender (at
// most maxSender), so a full map takes some hundreds of megabytes at worst, and about a
// hundred bytes per entry for real logs.
const DefaultMaxQueue = 1_000_000

// Longer host names and senders make a line malformed: a DNS name has at most 253
// octets, an SMTP reverse path at most 256 (RFC 5321 section 4.5.3.1.3).
const (
	maxHost   = 255
	maxSender = 512
)

// Options say what a log does not: syslog timestamps have no year and no zone.
type Options struct {
	// Year is the year of the first syslog-format line; later lines roll over to the next
	// year when the month goes back (December, then January). 0: inferred from Now.
	Year int
	// Now is when the log was read, or better its file's modification time: with Year 0,
	// the first syslog line is in Now's year, or in the year before if that would put it
	// more than a day after Now. Zero: time.Now().
	Now time.Time
	// Location is the zone of syslog timestamps (nil: time.Local). RFC 3339 timestamps
	// carry their own.
	Location *time.Location
	// Failed also passes deferred and bounced delivery attempts to the callback; they are
	// counted either way.
	Failed bool
	// MaxQueue caps the queue-id -> sender map; the oldest entries are evicted first.
	// 0: DefaultMaxQueue.
	MaxQueue int
}

// Stats count what a log held.
type Stats struct {
	Lines      int // lines read
	Deliveries int // status=sent
	Deferred   int // status=deferred (or SOFTBOUNCE)
	Bounced    int // status=bounced
	// Skipped: lines not in a known log form, longer than MaxLine, or Postfix delivery and
	// sender lines that could not be read.
	Skipped int
}

// Delivery is one delivery attempt to one recipient.
type Delivery struct {
	Time    time.Time
	Host    string // the host that logged it
	QueueID string
	Agent   string // the delivery agent: smtp, lmtp, local, virtual, pipe, error, ...
	// From is the envelope sender. It is empty for the null sender and when the queue
	// manager's line for the message was not in the log (or was evicted).
	From   string
	To     string // the recipient, as logged (without angle brackets)
	OrigTo string // the recipient before aliasing or forwarding, if different
	Relay  string // e.g. "mx.army.mil[192.0.2.1]:25", "local", "none"
	Status string // "sent", "deferred" or "bounced"
}

// ReadPostfix reads a Postfix log and calls f for every delivered recipient (every
// status=sent line; with opts.Failed also deferred and bounced attempts), with the sender
// from the queue manager's from= line of the same queue id on the same host. Lines it
// cannot read are skipped and counted. It stops at the first error from r or f, and
// returns that error (f's wrapped with the line number); the stats are for the lines read
// so far.
func ReadPostfix(r io.Reader, opts Options, f func(Delivery) error) (Stats, error) {
	p := newParser(opts)
	br := bufio.NewReaderSize(r, MaxLine+1)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			p.st.Lines++
			p.st.Skipped++
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err == io.EOF {
				return p.st, nil
			}
			if err != nil {
				return p.st, fmt.Errorf("maillog: after line %d: %w", p.st.Lines, err)
			}
			continue
		}
		if len(line) > 0 {
			p.st.Lines++
			if d, ok := p.line(trimEOL(line)); ok {
				if ferr := f(d); ferr != nil {
					return p.st, fmt.Errorf("maillog: line %d: %w", p.st.Lines, ferr)
				}
			}
		}
		if err == io.EOF {
			return p.st, nil
		}
		if err != nil {
			return p.st, fmt.Errorf("maillog: after line %d: %w", p.st.Lines, err)
		}
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// parser is the state of one ReadPostfix.
type parser struct {
	opts    Options
	st      Stats
	clock   clock
	senders *senderMap
	host    string // the last host name, reused to save an allocation per line
}

func newParser(opts Options) *parser {
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.MaxQueue <= 0 {
		opts.MaxQueue = DefaultMaxQueue
	}
	p := &parser{opts: opts, senders: newSenderMap(opts.MaxQueue)}
	p.clock.opts = &p.opts
	return p
}

// line handles one line and returns the delivery to report, if any.
func (p *parser) line(b []byte) (Delivery, bool) {
	h, ok := p.header(b)
	if !ok {
		p.st.Skipped++
		return Delivery{}, false
	}
	msg := b[h.msg:]
	qid, payload, ok := QueueID(msg)
	if !ok || bytes.IndexByte(h.tag, '/') < 0 {
		return Delivery{}, false // not about a queued message, or not from Postfix
	}
	switch {
	case hasPrefix(payload, "to=<"):
		return p.delivery(h, qid, payload)
	case hasPrefix(payload, "from=<") && string(h.program) == "qmgr":
		from, _, ok := Angle(payload[len("from="):])
		if !ok || len(from) > maxSender {
			p.st.Skipped++
			return Delivery{}, false
		}
		p.senders.put(p.hostName(h.host), string(qid), string(from))
	case string(payload) == "removed":
		p.senders.remove(h.host, qid)
	}
	return Delivery{}, false
}

// hostName is host as a string, without a new allocation when it is the last one's.
func (p *parser) hostName(host []byte) string {
	if string(host) != p.host {
		p.host = string(host)
	}
	return p.host
}

func (p *parser) delivery(h header, qid, payload []byte) (Delivery, bool) {
	fs, ok := deliveryFields(payload)
	if !ok {
		p.st.Skipped++
		return Delivery{}, false
	}
	var status string
	switch string(fs.status) {
	case "sent":
		p.st.Deliveries++
		status = "sent"
	case "deferred", "SOFTBOUNCE":
		p.st.Deferred++
		status = "deferred"
	case "bounced":
		p.st.Bounced++
		status = "bounced"
	default: // deliverable, undeliverable (address probes), expired, ...: not mail
		return Delivery{}, false
	}
	if status != "sent" && !p.opts.Failed {
		return Delivery{}, false
	}
	from, _ := p.senders.get(h.host, qid)
	return Delivery{
		Time:    h.time,
		Host:    p.hostName(h.host),
		QueueID: string(qid),
		Agent:   string(h.program),
		From:    from,
		To:      string(fs.to),
		OrigTo:  string(fs.origTo),
		Relay:   string(fs.relay),
		Status:  status,
	}, true
}

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }
