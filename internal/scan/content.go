package scan

import (
	"bytes"
	"context"
	"io"

	"github.com/rcptguard/rcptguard/internal/content"
)

// Content is what the content classifier found in a flagged message of a mail archive
// (docs/scan.md, "Content"): the categories it carries, or that it was over the
// classifier's limits and not checked. Log formats have no content: their records have none.
type Content struct {
	Categories []string
	Skipped    bool
	NotRead    string // why the message was not checked, when Skipped
}

// contentHook classifies the messages of mail archives that have a flagged recipient.
type contentHook struct {
	cl *content.Classifier
	// flagged reports whether one of a message's records is counted and flagged.
	flagged func([]Record) bool
}

// maxHeaderCapture bounds the raw header an archive reader keeps to classify a message;
// a larger header makes the message skipped.
const maxHeaderCapture = 1 << 20

// headerCapture keeps the raw lines of one message's header, at most maxHeaderCapture bytes.
type headerCapture struct {
	buf  []byte
	over bool
}

func (c *headerCapture) reset() { c.buf, c.over = c.buf[:0], false }

func (c *headerCapture) add(line []byte) {
	if c.over || len(c.buf)+len(line)+2 > maxHeaderCapture {
		c.over = true
		return
	}
	c.buf = append(append(c.buf, line...), '\r', '\n')
}

// finish gives the records of one message: when the hook is set and the message has a
// flagged recipient, after classifying the message (its captured header, then body, read
// as it streams) and attaching the result to each record.
// bodyFromLast makes the last line added, of n bytes, the first of the body: a blank
// line goes before it.
func (c *headerCapture) bodyFromLast(n int) {
	if c.over || len(c.buf) < n+2 {
		return
	}
	if len(c.buf)+2 > maxHeaderCapture {
		c.over = true
		return
	}
	at := len(c.buf) - n - 2
	c.buf = append(c.buf, 0, 0)
	copy(c.buf[at+2:], c.buf[at:])
	c.buf[at], c.buf[at+1] = '\r', '\n'
}

func (h *contentHook) finish(recs []Record, hc *headerCapture, body func() io.Reader, emit func(Record)) {
	if len(recs) > 0 && h.flagged(recs) {
		c := h.classify(hc, body)
		for i := range recs {
			recs[i].Content = c
		}
	}
	for _, r := range recs {
		emit(r)
	}
}

func (h *contentHook) classify(hc *headerCapture, body func() io.Reader) *Content {
	if hc.over {
		return &Content{Skipped: true, NotRead: "its header is larger than 1 MiB"}
	}
	r := h.cl.Classify(context.Background(), io.MultiReader(bytes.NewReader(hc.buf), body()))
	c := &Content{Categories: r.Names(), Skipped: r.Skipped}
	if r.Skipped && len(r.NotRead) > 0 {
		c.NotRead = r.NotRead[len(r.NotRead)-1].Why
	}
	return c
}

// mboxBody reads the body of one mbox message from lr, line by line (lines cut at
// maxLine), up to the line that begins the next message, which it gives back to lr.
type mboxBody struct {
	lr        *lineReader
	buf       []byte
	off       int
	done      bool
	prevBlank bool
	read      bool // a line was read
	peeked    bool // the last line made the main loop look ahead at this one
}

func (b *mboxBody) Read(p []byte) (int, error) {
	for b.off == len(b.buf) {
		if b.done {
			return 0, io.EOF
		}
		line, _, err := b.lr.next(0)
		if err != nil {
			b.done = true
			return 0, io.EOF
		}
		// The reader's main loop looks at a body line's first bodyKeep bytes only (the
		// whole line after it looked ahead at it): so do these tests, and the line given
		// back is cut the same way.
		head := line
		if !b.peeked {
			head = line[:min(len(line), bodyKeep)]
		}
		b.peeked = false
		if bytes.HasPrefix(head, []byte("From ")) {
			stop := isSeparator(head)
			if !stop && b.prevBlank {
				stop, b.peeked = b.lr.headerNext(), true
			}
			if stop {
				b.lr.buf = head
				b.lr.unread()
				b.done = true
				return 0, io.EOF
			}
		}
		b.read, b.prevBlank = true, len(line) == 0
		b.buf = append(append(b.buf[:0], line...), '\r', '\n')
		b.off = 0
	}
	n := copy(p, b.buf[b.off:])
	b.off += n
	return n, nil
}
