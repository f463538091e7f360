package scan

import (
	"bytes"
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/maillog"
)

// The Postfix reader works on several goroutines (postfix_chunks.go): a reader cuts the
// source into chunks of whole lines, split workers cut each chunk into lines and keep only
// the lines of interest (a queue ID's from=, to= and removed, and what is wrong) with line
// numbers relative to their chunk, and the caller's goroutine takes the chunks in order,
// stitches what crosses a chunk boundary, correlates the lines and calls emit and skip.
// Most lines of a Postfix log are of no interest, so the splitting is most of the work.

// Kinds of postfixItem.
const (
	postfixTo      = 't'
	postfixFrom    = 'f'
	postfixRemoved = 'r'
	postfixBad     = 'b' // lines line to lineTo are not log lines
	postfixProblem = 'p' // line is a problem: problem says what
	postfixBreak   = 'k' // line is the chunk's first line that ends a run of bad lines
)

// postfixItem is a line of interest, as offsets into its chunk's buffer.
type postfixItem struct {
	line, lineTo       int64
	start, end         int   // the line is buf[start:end]; the offsets below are in the line
	tsEnd              int32 // the timestamp is line[:tsEnd]
	hostStart, hostEnd int32
	qid, qidEnd        int32
	// From the message: the address of to= or from=, and for to= lines the rest.
	addr, origTo, relay, reply [2]int32
	kind                       byte
	outcome                    Outcome
	expired                    bool // a from= line: status=expired, returned to sender
	problem                    string
}

// postfixSplitter is a split worker's state for one chunk; lines count from the chunk's
// first line, 1.
type postfixSplitter struct {
	line    int64
	badFrom int64 // the first of a run of lines that are not log lines; 0: none
	badTo   int64
	broke   bool // a line that ends a run of bad lines was seen in the chunk
	items   []postfixItem
}

// splitChunk cuts c.buf[c.start:c.end] into lines and fills c.items, c.lines and
// c.tailFrom, c.tailTo (a run of bad lines open at the chunk's end, not in c.items).
func (s *postfixSplitter) splitChunk(c *postfixChunk) {
	*s = postfixSplitter{items: c.items[:0]}
	buf, start := c.buf[:c.end], c.start
	for {
		nl := bytes.IndexByte(buf[start:], '\n')
		if nl < 0 {
			break
		}
		s.split(buf, start, start+nl)
		start += nl + 1
	}
	if start < len(buf) { // the source's last line, without a newline
		s.split(buf, start, len(buf))
	}
	if c.longLine { // the reader cut a line longer than PostfixMaxLine after these
		s.endBad()
		s.line++
		s.problem(postfixLongLine)
	}
	c.items, c.lines, c.tailFrom, c.tailTo = s.items, s.line, s.badFrom, s.badTo
}

// endBad ends a run of lines that are not log lines; the chunk's first such end is marked
// by a postfixBreak item.
func (s *postfixSplitter) endBad() {
	if s.badFrom != 0 {
		s.items = append(s.items, postfixItem{line: s.badFrom, lineTo: s.badTo, kind: postfixBad})
		s.badFrom = 0
	}
	if !s.broke {
		s.broke = true
		s.items = append(s.items, postfixItem{line: s.line, kind: postfixBreak})
	}
}

// split looks at the line buf[start:end] (without its newline).
func (s *postfixSplitter) split(buf []byte, start, end int) {
	s.line++
	if end > start && buf[end-1] == '\r' {
		end--
	}
	b := buf[start:end]
	if len(b) == 0 {
		return
	}
	if len(b) > PostfixMaxLine {
		s.endBad()
		s.items = append(s.items, postfixItem{line: s.line, kind: postfixProblem, problem: postfixLongLine})
		return
	}
	h, ok := postfixHeader(b)
	if !ok {
		if s.badFrom == 0 {
			s.badFrom = s.line
		}
		s.badTo = s.line
		return
	}
	s.endBad()
	if !h.postfix {
		return // another program's line in a shared syslog file
	}
	qid, payload, ok := maillog.QueueID(b[h.msg:])
	if !ok {
		return
	}
	it := postfixItem{
		line: s.line, start: start, end: end,
		tsEnd: int32(h.tsEnd), hostStart: int32(h.hostStart), hostEnd: int32(h.hostEnd),
		qid: int32(h.msg), qidEnd: int32(h.msg + len(qid)),
	}
	switch {
	case hasPrefixStr(payload, "to=<"):
		it.kind = postfixTo
		d, ok := postfixDelivery(payload)
		if !ok {
			s.problem("Postfix to= line without a readable recipient and status: skipped")
			return
		}
		switch string(d.status) {
		case "sent":
			it.outcome = Sent
		case "bounced":
			it.outcome = Bounced
		case "deferred", "SOFTBOUNCE":
			it.outcome = Deferred
		case "expired":
			it.outcome = Expired
		default: // deliverable, undeliverable: address verification probes, not mail
			return
		}
		if !utf8.Valid(payload) {
			s.problem("invalid UTF-8 in a Postfix to= line: skipped")
			return
		}
		it.addr, it.origTo, it.relay, it.reply = postfixSpan(b, d.to), postfixSpan(b, d.origTo), postfixSpan(b, d.relay), postfixSpan(b, d.reply)
	case hasPrefixStr(payload, "from=<"):
		it.kind = postfixFrom
		from, rest, ok := maillog.Angle(payload[len("from="):])
		if !ok {
			s.problem("Postfix from= line without a readable address: skipped")
			return
		}
		if !utf8.Valid(payload) {
			s.problem("invalid UTF-8 in a Postfix from= line: skipped")
			return
		}
		it.addr = postfixSpan(b, from)
		if hasPrefixStr(rest, ", status=expired") {
			it.expired = true
			it.reply = postfixSpan(b, postfixReply(rest[len(", status=expired"):]))
		}
	case string(payload) == "removed":
		it.kind = postfixRemoved
	default:
		return
	}
	s.items = append(s.items, it)
}

const postfixLongLine = "line longer than 1 MiB skipped"

func (s *postfixSplitter) problem(text string) {
	s.items = append(s.items, postfixItem{line: s.line, kind: postfixProblem, problem: text})
}

// postfixSpan is where sub is in b (sub is a part of b, or empty).
func postfixSpan(b, sub []byte) [2]int32 {
	if len(sub) == 0 {
		return [2]int32{}
	}
	o := cap(b) - cap(sub)
	return [2]int32{int32(o), int32(o + len(sub))}
}
