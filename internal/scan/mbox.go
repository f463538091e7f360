package scan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// MboxFormat is an mbox file (mboxo or mboxrd: messages after `From sender date` lines,
// body lines beginning with "From " escaped with '>'). Detected by its first line being a
// From_ line.
var MboxFormat = Format{Name: "mbox", Detect: DetectMbox, New: func() Reader { return mboxReader{} }}

// withContent is the reader that classifies the flagged messages it reads with h.
func (mboxReader) withContent(h *contentHook) Reader { return mboxReader{content: h} }

// DetectMbox reports whether a source beginning with head is an mbox: it begins with
// "From " (a broken first From_ line is still an mbox, and reported as a Problem).
func DetectMbox(head []byte) bool {
	return bytes.HasPrefix(head, []byte("From "))
}

type mboxReader struct {
	content *contentHook // nil: headers only
}

// bodyKeep is how much of a body line the mbox reader looks at: enough for a From_ line.
const bodyKeep = 256

// Read gives the records of every message in the mbox. A From_ line that does not read as
// one (no sender and asctime date) is a Problem: when a header follows it, the message is
// read without its envelope; otherwise the reader goes on to the next good From_ line.
// Lines before the first From_ line are one Problem.
func (m mboxReader) Read(r io.Reader, name string, emit func(Record), skip func(Problem)) error {
	lr := newLineReader(r)
	if m.content != nil {
		lr.capture = &headerCapture{}
	}
	atStart, prevBlank := true, true
	skipping, skipFrom := false, int64(0) // passing over lines that belong to no message
	for {
		line, _, err := lr.next(bodyKeep)
		if errors.Is(err, io.EOF) {
			if skipping {
				flushSkipped(name, skipFrom, lr.n, skip)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: line %d: %w", name, lr.n+1, err)
		}
		blank := len(line) == 0
		isFrom := bytes.HasPrefix(line, []byte("From "))
		if !isFrom {
			if atStart && !skipping {
				skipping, skipFrom = true, lr.n
			}
			atStart, prevBlank = false, blank
			continue
		}
		sender, when, ok := parseFromLine(line)
		fromLine := lr.n
		if !ok {
			if !prevBlank && !atStart && !skipping {
				prevBlank = false // an unescaped "From " in a body (mboxo): body text
				continue
			}
			raw := clipRaw(string(line))
			// Is a header next? Then the message is there, only its From_ line is broken.
			next, long, err := lr.next(0)
			headerNext := err == nil && !long && fieldName(next) != ""
			if err == nil {
				lr.unread()
			}
			if !headerNext {
				if atStart {
					skip(Problem{Source: name, Line: fromLine, Text: fmt.Sprintf("broken From_ line %q: skipped to the next From_ line", raw)})
					atStart, skipping, skipFrom = false, true, fromLine+1
				}
				prevBlank = false // body text after a blank line, or lines in no message
				continue
			}
			skip(Problem{Source: name, Line: fromLine, Text: fmt.Sprintf("broken From_ line %q: the message after it is read without its envelope", raw)})
		}
		if skipping {
			flushSkipped(name, skipFrom, fromLine-1, skip)
			skipping = false
		}
		atStart = false
		// "From - date" (Thunderbird) and "From  date" name no sender: From: does.
		env := envelope{sender: sender, hasSender: ok && sender != "" && sender != "-", time: when}
		if lr.capture != nil {
			lr.capture.reset()
		}
		h, err := readHeader(lr, name, isSeparator, skip)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: line %d: %w", name, lr.n+1, err)
		}
		if !h.ended {
			skip(Problem{Source: name, Line: fromLine, Text: "truncated message: its header does not end"})
		}
		id := fmt.Sprintf("%s:%d", name, fromLine)
		if m.content == nil {
			emitMessage(&h, env, name, id, fromLine, emit, skip)
		} else {
			var recs []Record
			emitMessage(&h, env, name, id, fromLine, func(r Record) { recs = append(recs, r) }, skip)
			body := &mboxBody{lr: lr, prevBlank: true} // after the blank line ending the header
			if err == nil && h.ended {
				m.content.finish(recs, lr.capture, func() io.Reader { return body }, emit)
			} else {
				m.content.finish(recs, lr.capture, func() io.Reader { return bytes.NewReader(nil) }, emit)
			}
			if body.read {
				h.ended = body.prevBlank // the last line the body reader took
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		prevBlank = h.ended
	}
}

// flushSkipped reports the lines from-to (if any) as in no message.
func flushSkipped(name string, from, to int64, skip func(Problem)) {
	if from <= to {
		skip(Problem{Source: name, Line: from, Text: fmt.Sprintf("lines %d-%d are in no message (no good From_ line before them): skipped", from, to)})
	}
}

// isSeparator reports whether a line is a well-formed From_ line.
func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("From ")) {
		return false
	}
	_, _, ok := parseFromLine(line)
	return ok
}

// fromLayouts are the date forms of From_ lines: asctime, with a zone before the year
// (some writers add one), and without seconds.
var fromLayouts = []string{
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04:05 2006 -0700",
	"Mon Jan 2 15:04 2006",
}

// parseFromLine reads "From sender asctime-date" (the sender may be missing, as for the
// null sender); ok is false when the line is not one.
func parseFromLine(line []byte) (sender string, t time.Time, ok bool) {
	f := strings.Fields(string(line[len("From "):]))
	if len(f) < 5 || len(f) > 8 {
		return "", time.Time{}, false
	}
	if !isWeekday(f[0]) {
		sender, f = f[0], f[1:]
		if sender == "<>" {
			sender = ""
		}
	}
	date := strings.Join(f, " ")
	for _, layout := range fromLayouts {
		if t, err := time.Parse(layout, date); err == nil {
			return sender, t, true
		}
	}
	return "", time.Time{}, false
}

func isWeekday(s string) bool {
	switch s {
	case "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun":
		return true
	}
	return false
}
