package scan

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/rcptguard/rcptguard/internal/smtptext"
)

// The mail archive readers (mbox, Maildir, a folder of .eml files, one .eml) read the
// header of each message only: a body is passed over line by line (an mbox) or not read at
// all (a file), so memory does not grow with it. They give one Record per recipient
// address of each message, with Outcome Unknown: an archive does not say what became of it.

// maxHeaderKept bounds the bytes of the header fields a message keeps (those naming
// recipients, the sender, the date and the Message-ID); a header past it is a Problem.
const maxHeaderKept = 4 << 20

// wantedFields are the header fields the archive readers keep, by lower-case name.
var wantedFields = map[string]bool{
	"to": true, "cc": true, "bcc": true,
	"resent-to": true, "resent-cc": true, "resent-bcc": true,
	"x-original-to": true, "delivered-to": true, "envelope-to": true,
	"return-path": true, "x-envelope-from": true, "from": true,
	"date": true, "message-id": true,
}

// headerField is one kept header field, unfolded.
type headerField struct {
	name  string // lower case
	value string
	line  int64 // the line it began on
}

// messageHeader is what readHeader kept of one message's header.
type messageHeader struct {
	fields []headerField
	ended  bool // the blank line ending the header was read
}

// fieldName returns the name of a header field line ("To" for "To: x"), or "" when the
// line is not one (a field name is printable ASCII without colon or space, RFC 5322 3.6.8).
func fieldName(line []byte) string {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return ""
	}
	for _, c := range line[:i] {
		if c < 33 || c > 126 {
			return ""
		}
	}
	return string(line[:i])
}

// readHeader reads one message's header from lr, up to and including the blank line that
// ends it. stop reports a line that ends the message early (an mbox's next separator): it
// is given back to lr, and the header is reported as not ended. A line that is neither a
// field nor a continuation ends the header too (the rest is taken as body), as a Problem.
func readHeader(lr *lineReader, name string, stop func([]byte) bool, skip func(Problem)) (messageHeader, error) {
	var h messageHeader
	kept := 0
	cur := -1 // index in h.fields of the field being continued, -1 when not kept
	inField := false
	for {
		line, long, err := lr.next(0)
		if err != nil {
			return h, err
		}
		if long {
			skip(Problem{Source: name, Line: lr.n, Text: "header line over 1 MB skipped"})
			cur = -1
			continue
		}
		if stop != nil && len(line) > 0 && stop(line) {
			lr.unread()
			return h, nil
		}
		if lr.capture != nil {
			lr.capture.add(line)
		}
		if len(line) == 0 {
			h.ended = true
			return h, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			if !inField {
				skip(Problem{Source: name, Line: lr.n, Text: "header continuation line with no field before it skipped"})
				continue
			}
			if cur >= 0 {
				if kept+len(line) > maxHeaderKept {
					skip(Problem{Source: name, Line: lr.n, Text: "header over 4 MB: rest of field skipped"})
					cur = -1
					continue
				}
				kept += len(line)
				h.fields[cur].value += " " + string(bytes.TrimSpace(line))
			}
			continue
		}
		fn := fieldName(line)
		if fn == "" {
			skip(Problem{Source: name, Line: lr.n, Text: fmt.Sprintf("not a header field (%q): rest of the message's header skipped", clipRaw(string(line)))})
			if lr.capture != nil {
				lr.capture.bodyFromLast(len(line)) // that line is the body's first
			}
			h.ended = true // reported here: not reported again as a header without an end
			return h, nil
		}
		inField, cur = true, -1
		lower := strings.ToLower(fn)
		if !wantedFields[lower] {
			continue
		}
		if kept+len(line) > maxHeaderKept {
			skip(Problem{Source: name, Line: lr.n, Text: "header over 4 MB: field " + fn + " skipped"})
			continue
		}
		kept += len(line)
		h.fields = append(h.fields, headerField{name: lower, value: strings.TrimSpace(string(line[len(fn)+1:])), line: lr.n})
		cur = len(h.fields) - 1
	}
}

// clipRaw cuts a raw value from a source for a Problem's text: one line, valid UTF-8, at
// most 120 bytes.
func clipRaw(s string) string {
	if len(s) > 480 {
		s = s[:480]
	}
	return smtptext.Clip(smtptext.OneLine(s), 120)
}

// first returns the first kept field of that name, or nil.
func (h *messageHeader) first(name string) *headerField {
	for i := range h.fields {
		if h.fields[i].name == name {
			return &h.fields[i]
		}
	}
	return nil
}
