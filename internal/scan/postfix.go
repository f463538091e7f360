package scan

// The Postfix log reader. It reads syslog files (RFC 3164 "Dec  4 10:00:00 host
// postfix/smtp[123]: ..." and RFC 3339 "2026-12-04T10:00:00.123456+00:00 host ...") and
// the file Postfix writes itself with maillog_file (the same line form), and correlates by
// queue ID on each host:
//
//	QUEUEID: from=<sender>, size=..., nrcpt=N (queue active)         qmgr: the sender
//	QUEUEID: to=<rcpt>, [orig_to=<alias>,] relay=..., status=sent (reply)   a delivery agent
//	QUEUEID: from=<sender>, status=expired, returned to sender     qmgr: given up
//	QUEUEID: removed                                               qmgr: the end
//
// It emits one Record per recipient of a queue ID, with that recipient's final status:
// sent, bounced and expired are final and emitted when read; a deferral is held and
// replaced by the next status of the same recipient, so a message deferred twice and then
// sent is one Sent record. A recipient still deferred when its queue ID is removed, when
// the source ends, or when the queue ID is evicted, is emitted as Deferred (the last word
// the log has). The recipient is to= (where the mail went); orig_to= (the address before
// alias or virtual rewriting) goes to OrigRecipient when it differs, and is not counted as a
// recipient of its own. Lines of other programs in a shared syslog file are passed over;
// Postfix lines are those whose tag holds a '/' ("postfix/smtp", "postfix-out/smtpd").
//
// Memory is bounded whatever the size of the source: at most PostfixMaxOpen queue IDs are
// held open, and a queue ID not seen for PostfixMaxAge of log time is evicted (each
// eviction is a Problem). Lines over 1 MiB, lines that are not log lines (binary data) and
// Postfix lines with invalid UTF-8 are Problems; the reader goes on after them.

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"strconv"
	"time"
)

// PostfixFormat is the Postfix log format.
var PostfixFormat = Format{Name: "postfix", Detect: detectPostfix, New: func() Reader { return &PostfixReader{} }}

// Bounds of the Postfix reader.
const (
	// PostfixMaxLine is the longest line read; a longer one is a Problem.
	PostfixMaxLine = 1 << 20
	// PostfixMaxOpen is how many queue IDs are held open at most by default.
	PostfixMaxOpen = 200_000
	// PostfixMaxAge is how long (in log time) a queue ID not seen again stays open by
	// default: longer than Postfix's default maximal_queue_lifetime (5 days) plus retries.
	PostfixMaxAge = 7 * 24 * time.Hour
)

// PostfixReader reads one Postfix log. The zero value is ready to use.
type PostfixReader struct {
	// Now dates RFC 3164 timestamps, which have no year: the first such line is in Now's
	// year, or in the year before if that would put it more than a day after Now; later
	// lines roll over to the next year when the month goes back. Zero: the source's
	// modification time when r has a Stat method (an *os.File), else time.Now().
	Now time.Time
	// Location is the zone of RFC 3164 timestamps; nil: time.Local.
	Location *time.Location
	// MaxOpen and MaxAge bound the open queue IDs; 0: PostfixMaxOpen, PostfixMaxAge.
	MaxOpen int
	MaxAge  time.Duration
}

// Read implements Reader.
func (pr *PostfixReader) Read(r io.Reader, name string, emit func(Record), skip func(Problem)) error {
	p := newPostfixParser(pr, name, emit, skip)
	if p.clock.now.IsZero() {
		p.clock.now = time.Now()
		if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
			if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
				p.clock.now = fi.ModTime()
			}
		}
	}
	err := p.readLines(r)
	p.flushBad()
	p.q.finish(p)
	return err
}

// readLines splits r into lines without copying them, in a buffer of PostfixMaxLine.
func (p *postfixParser) readLines(r io.Reader) error {
	buf := make([]byte, 256<<10) // grows to PostfixMaxLine+1 for long lines
	start, end := 0, 0
	long := false // in the middle of a line longer than PostfixMaxLine
	for {
		n, err := r.Read(buf[end:])
		end += n
		for start < end {
			nl := bytes.IndexByte(buf[start:end], '\n')
			if nl < 0 {
				break
			}
			line := buf[start : start+nl]
			start += nl + 1
			if long {
				long = false
				continue // the end of the long line, counted already
			}
			p.lineNo++
			p.line(line)
		}
		if err != nil {
			if start < end && !long { // a last line without a newline
				p.lineNo++
				p.line(buf[start:end])
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if start == 0 && end == len(buf) && len(buf) <= PostfixMaxLine {
			buf = append(buf, make([]byte, min(len(buf), PostfixMaxLine+1-len(buf)))...)
			continue
		}
		if start == 0 && end == len(buf) { // a line longer than PostfixMaxLine
			p.lineNo++
			p.problem("line longer than 1 MiB skipped")
			long, end = true, 0
			continue
		}
		if long {
			start, end = 0, 0
			continue
		}
		end = copy(buf, buf[start:end])
		start = 0
	}
}

// postfixParser is the state of one Read.
type postfixParser struct {
	name  string
	emit  func(Record)
	skip  func(Problem)
	clock postfixClock
	q     postfixQueue

	lineNo  int64
	badFrom int64 // the first of a run of lines that are not log lines; 0: none
	badTo   int64
	key     []byte // scratch for host/queue ID
}

func newPostfixParser(pr *PostfixReader, name string, emit func(Record), skip func(Problem)) *postfixParser {
	p := &postfixParser{name: name, emit: emit, skip: skip}
	p.clock.now = pr.Now
	p.clock.loc = pr.Location
	if p.clock.loc == nil {
		p.clock.loc = time.Local
	}
	p.q.init(pr.MaxOpen, pr.MaxAge)
	return p
}

func (p *postfixParser) problem(text string) {
	p.flushBad()
	p.skip(Problem{Source: p.name, Line: p.lineNo, Text: text})
}

// flushBad reports a run of lines that were not log lines as one Problem.
func (p *postfixParser) flushBad() {
	if p.badFrom == 0 {
		return
	}
	text := "not a syslog or Postfix log line (binary data?): skipped"
	if p.badTo > p.badFrom {
		text = strconv.FormatInt(p.badTo-p.badFrom+1, 10) + " lines (to line " +
			strconv.FormatInt(p.badTo, 10) + ") that are not syslog or Postfix log lines (binary data?): skipped"
	}
	line := p.badFrom
	p.badFrom, p.badTo = 0, 0
	p.skip(Problem{Source: p.name, Line: line, Text: text})
}

// line handles one line (without its newline).
func (p *postfixParser) line(b []byte) {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	if len(b) == 0 {
		return
	}
	h, ok := postfixHeader(b)
	if !ok {
		if p.badFrom == 0 {
			p.badFrom = p.lineNo
		}
		p.badTo = p.lineNo
		return
	}
	if p.badFrom != 0 {
		p.flushBad()
	}
	if !h.postfix {
		return // another program's line in a shared syslog file
	}
	qid, payload, ok := postfixQueueID(b[h.msg:])
	if !ok {
		return
	}
	var kind byte
	switch {
	case hasPrefixStr(payload, "to=<"):
		kind = 't'
	case hasPrefixStr(payload, "from=<"):
		kind = 'f'
	case string(payload) == "removed":
		kind = 'r'
	default:
		return
	}
	t, ok := p.clock.parse(b[:h.tsEnd])
	if !ok {
		p.problem("unreadable timestamp: line skipped")
		return
	}
	p.key = append(append(append(p.key[:0], b[h.hostStart:h.hostEnd]...), '/'), qid...)
	switch kind {
	case 't':
		p.delivery(t, payload)
	case 'f':
		p.sender(t, payload)
	case 'r':
		if m := p.q.get(p.key); m != nil {
			p.q.close(p, m)
		}
	}
	p.q.sweep(p, t)
}

// sender handles "from=<a@b>, size=1, nrcpt=1 (queue active)" and
// "from=<a@b>, status=expired, returned to sender".
func (p *postfixParser) sender(t time.Time, payload []byte) {
	from, rest, ok := postfixAngle(payload[len("from="):])
	if !ok {
		p.problem("Postfix from= line without a readable address: skipped")
		return
	}
	if !validUTF8(payload) {
		p.problem("invalid UTF-8 in a Postfix from= line: skipped")
		return
	}
	m := p.q.open(p, p.key, t)
	if m.sender != string(from) {
		m.sender = string(from)
	}
	if hasPrefixStr(rest, ", status=expired") {
		p.q.expire(p, m, t, postfixReply(rest[len(", status=expired"):]))
	}
}

// delivery handles "to=<a@b>, orig_to=<c@d>, relay=r, delay=1, ..., status=sent (reply)".
func (p *postfixParser) delivery(t time.Time, payload []byte) {
	d, ok := postfixDelivery(payload)
	if !ok {
		p.problem("Postfix to= line without a readable recipient and status: skipped")
		return
	}
	var out Outcome
	switch string(d.status) {
	case "sent":
		out = Sent
	case "bounced":
		out = Bounced
	case "deferred", "SOFTBOUNCE":
		out = Deferred
	case "expired":
		out = Expired
	default: // deliverable, undeliverable: address verification probes, not mail
		return
	}
	if !validUTF8(payload) {
		p.problem("invalid UTF-8 in a Postfix to= line: skipped")
		return
	}
	m := p.q.open(p, p.key, t)
	p.q.status(p, m, postfixRcpt{
		time: t, line: p.lineNo, outcome: out,
		to: string(d.to), origTo: string(d.origTo), relay: string(d.relay), reply: string(d.reply),
	})
}

// record emits one recipient of m.
func (p *postfixParser) record(m *postfixMsg, r *postfixRcpt) {
	orig := r.origTo
	if orig == r.to {
		orig = ""
	}
	p.emit(Record{
		Time: r.time, Sender: m.sender, Recipient: r.to, OrigRecipient: orig,
		Outcome: r.outcome, Relay: r.relay, Reply: r.reply,
		Message: m.key, Source: p.name, Line: r.line,
	})
}

func hasPrefixStr(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }
