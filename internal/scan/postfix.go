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
// Postfix lines with invalid UTF-8 are Problems; the reader goes on after them. Lines are
// cut and parsed by split workers running in parallel (postfix_chunks.go,
// postfix_split.go); emit and skip are called on the caller's goroutine, in the order of
// the lines.

import (
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
	err := p.consume(r)
	p.q.finish(p)
	return err
}

// postfixParser is the state of one Read.
type postfixParser struct {
	name  string
	emit  func(Record)
	skip  func(Problem)
	clock postfixClock
	q     postfixQueue

	lineNo  int64
	key     []byte // scratch for host/queue ID
	scratch []byte // scratch for a record's strings
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
	p.skip(Problem{Source: p.name, Line: p.lineNo, Text: text})
}

// badLines reports a run of lines that were not log lines as one Problem.
func (p *postfixParser) badLines(from, to int64) {
	text := "not a syslog or Postfix log line (binary data?): skipped"
	if to > from {
		text = strconv.FormatInt(to-from+1, 10) + " lines (to line " +
			strconv.FormatInt(to, 10) + ") that are not syslog or Postfix log lines (binary data?): skipped"
	}
	p.skip(Problem{Source: p.name, Line: from, Text: text})
}

// item handles one line the splitter found of interest.
func (p *postfixParser) item(buf []byte, it *postfixItem) {
	p.lineNo = it.line
	switch it.kind {
	case postfixBad:
		p.badLines(it.line, it.lineTo)
		return
	case postfixProblem:
		p.problem(it.problem)
		return
	}
	b := buf[it.start:it.end]
	t, ok := p.clock.parse(b[:it.tsEnd])
	if !ok {
		p.problem("unreadable timestamp: line skipped")
		return
	}
	p.key = append(append(append(p.key[:0], b[it.hostStart:it.hostEnd]...), '/'), b[it.qid:it.qidEnd]...)
	switch it.kind {
	case postfixTo:
		p.delivery(t, b, it)
	case postfixFrom:
		p.sender(t, b, it)
	case postfixRemoved:
		if m := p.q.get(p.key); m != nil {
			p.q.close(p, m)
		}
	}
	p.q.sweep(p, t)
}

// sender handles "from=<a@b>, size=1, nrcpt=1 (queue active)" and
// "from=<a@b>, status=expired, returned to sender".
func (p *postfixParser) sender(t time.Time, b []byte, it *postfixItem) {
	m := p.q.open(p, p.key, t)
	if from := b[it.addr[0]:it.addr[1]]; m.sender != string(from) {
		m.sender = string(from)
	}
	if it.expired {
		p.q.expire(p, m, t, b[it.reply[0]:it.reply[1]])
	}
}

// delivery handles "to=<a@b>, orig_to=<c@d>, relay=r, delay=1, ..., status=sent (reply)".
func (p *postfixParser) delivery(t time.Time, b []byte, it *postfixItem) {
	m := p.q.open(p, p.key, t)
	to, origTo, relay, reply := b[it.addr[0]:it.addr[1]], b[it.origTo[0]:it.origTo[1]], b[it.relay[0]:it.relay[1]], b[it.reply[0]:it.reply[1]]
	// One allocation for the four strings.
	p.scratch = append(append(append(append(p.scratch[:0], to...), origTo...), relay...), reply...)
	all := string(p.scratch)
	r := postfixRcpt{time: t, line: p.lineNo, outcome: it.outcome}
	r.to, all = all[:len(to)], all[len(to):]
	r.origTo, all = all[:len(origTo)], all[len(origTo):]
	r.relay, r.reply = all[:len(relay)], all[len(relay):]
	p.q.status(p, m, r)
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
