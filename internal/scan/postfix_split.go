package scan

import (
	"bytes"
	"errors"
	"io"
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/maillog"
)

// The Postfix reader works on two goroutines: a splitter reads the source in chunks,
// cuts them into lines and keeps only the lines of interest (a queue ID's from=, to= and
// removed, and what is wrong), and the caller's goroutine correlates them and calls emit
// and skip. Most lines of a Postfix log are of no interest, so the two share the work.

// Kinds of postfixItem.
const (
	postfixTo      = 't'
	postfixFrom    = 'f'
	postfixRemoved = 'r'
	postfixBad     = 'b' // lines line to lineTo are not log lines
	postfixProblem = 'p' // line is a problem: problem says what
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

// postfixChunk is a buffer of whole lines and the items found in it.
type postfixChunk struct {
	buf   []byte
	items []postfixItem
	err   error // the read error that ended the source (not io.EOF); the last chunk
}

const postfixChunkSize = 1 << 20

// consume runs the splitter over r and handles its items in order.
func (p *postfixParser) consume(r io.Reader) error {
	full := make(chan *postfixChunk, 2)
	free := make(chan *postfixChunk, 4)
	for range 4 {
		free <- &postfixChunk{}
	}
	done := make(chan struct{})
	defer close(done) // an emit that panics must not leave the splitter blocked
	go postfixSplit(r, free, full, done)
	for c := range full {
		for i := range c.items {
			p.item(c.buf, &c.items[i])
		}
		if c.err != nil {
			return c.err
		}
		free <- c
	}
	return nil
}

// postfixSplitter is the splitter's state.
type postfixSplitter struct {
	line    int64
	badFrom int64 // the first of a run of lines that are not log lines; 0: none
	badTo   int64
	items   []postfixItem
}

// postfixSplit reads r into the free chunks and sends them, with their items, to full;
// it closes full at the end of r.
func postfixSplit(r io.Reader, free <-chan *postfixChunk, full chan<- *postfixChunk, done <-chan struct{}) {
	defer close(full)
	var s postfixSplitter
	var carry []byte  // the start of a line cut by the end of the last chunk
	skipping := false // in a line longer than PostfixMaxLine, reported already
	size := 16 << 10  // bytes to read into the next chunk; grows to postfixChunkSize
	for {
		var c *postfixChunk
		select {
		case c = <-free:
		case <-done:
			return
		}
		if cap(c.buf) < len(carry)+size {
			c.buf = make([]byte, 0, len(carry)+2*size)
		}
		buf := append(c.buf[:0], carry...)
		n, err := io.ReadAtLeast(r, buf[len(buf):len(buf)+size], 1)
		if n == size && size < postfixChunkSize {
			size *= 2 // a big source: bigger chunks, fewer hand-overs
		}
		buf = buf[:len(buf)+n]
		s.items = c.items[:0]
		start := 0
		if skipping {
			nl := bytes.IndexByte(buf, '\n')
			if nl < 0 {
				start = len(buf)
			} else {
				start, skipping = nl+1, false
			}
		}
		for {
			nl := bytes.IndexByte(buf[start:], '\n')
			if nl < 0 {
				break
			}
			s.split(buf, start, start+nl)
			start += nl + 1
		}
		carry = append(carry[:0], buf[start:]...)
		eof := err != nil
		if eof {
			if len(carry) > 0 && !skipping {
				s.split(buf, start, len(buf))
			}
			s.endBad()
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = nil
			}
			c.err = err
		} else if len(carry) > PostfixMaxLine {
			s.endBad()
			s.line++
			s.items = append(s.items, postfixItem{line: s.line, kind: postfixProblem, problem: postfixLongLine})
			carry, skipping = carry[:0], true
		}
		c.buf, c.items = buf, s.items
		select {
		case full <- c:
		case <-done:
			return
		}
		if eof {
			return
		}
	}
}

// endBad ends a run of lines that are not log lines.
func (s *postfixSplitter) endBad() {
	if s.badFrom != 0 {
		s.items = append(s.items, postfixItem{line: s.badFrom, lineTo: s.badTo, kind: postfixBad})
		s.badFrom = 0
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
