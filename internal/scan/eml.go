package scan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// EMLFormat is one message in a file of its own (a .eml file, a Maildir file): a header,
// a blank line, a body. Detected by its beginning being header fields, at least one of them
// one every stored message has.
var EMLFormat = Format{Name: "eml", Detect: DetectEML, New: func() Reader { return emlReader{} }}

// withContent is the reader that classifies the message it reads, when flagged, with h.
func (emlReader) withContent(h *contentHook) Reader { return emlReader{content: h} }

// mailFields are fields that begin or fill the header of stored messages; DetectEML wants
// one of them so that other "name: value" text (an aliases file) is not taken for mail.
var mailFields = map[string]bool{
	"from": true, "to": true, "cc": true, "date": true, "subject": true, "message-id": true,
	"received": true, "return-path": true, "delivered-to": true, "x-original-to": true,
	"mime-version": true, "content-type": true, "sender": true, "reply-to": true,
	"dkim-signature": true, "arc-seal": true, "authentication-results": true, "x-mailer": true,
	"user-agent": true, "envelope-to": true, "x-envelope-from": true, "resent-to": true,
	"resent-from": true, "resent-date": true, "in-reply-to": true, "references": true,
}

// DetectEML reports whether a source beginning with head is one message: every line of
// head up to the blank line ending the header (or head's last whole line) is a header
// field or a continuation, the first a field, and one names a field of stored mail.
func DetectEML(head []byte) bool {
	head = bytes.TrimPrefix(head, utf8BOM) // some Windows tools save messages with one
	lines := bytes.Split(head, []byte("\n"))
	if len(head) > 0 && head[len(head)-1] != '\n' && len(lines) > 1 {
		lines = lines[:len(lines)-1] // a cut last line proves nothing
	}
	known := false
	for i, l := range lines {
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) == 0 {
			return i > 0 && known
		}
		if l[0] == ' ' || l[0] == '\t' {
			if i == 0 {
				return false
			}
			continue
		}
		n := fieldName(l)
		if n == "" {
			return false
		}
		known = known || mailFields[strings.ToLower(n)]
	}
	return known
}

// utf8BOM is the byte order mark some tools write at the start of a UTF-8 file.
var utf8BOM = []byte("\xef\xbb\xbf")

type emlReader struct {
	content *contentHook // nil: the header only
}

// Read gives the records of one message. It reads the header only: the body is left
// unread (it can be large and holds nothing the report uses).
func (e emlReader) Read(r io.Reader, name string, emit func(Record), skip func(Problem)) error {
	return readOneMessage(r, name, filepath.Base(name), e.content, emit, skip)
}

// readOneMessage reads the header of the message in r and gives its records; fallbackID
// names the message when it has no Message-ID. With ch, a flagged message is classified:
// its body is then read too.
func readOneMessage(r io.Reader, name, fallbackID string, ch *contentHook, emit func(Record), skip func(Problem)) error {
	lr := newLineReader(r)
	lr.skipBOM()
	if ch != nil {
		lr.capture = &headerCapture{}
	}
	h, err := readHeader(lr, name, nil, skip)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: line %d: %w", name, lr.n+1, err)
	}
	if !h.ended {
		skip(Problem{Source: name, Line: lr.n, Text: "truncated message: its header does not end"})
	}
	if ch == nil {
		emitMessage(&h, envelope{}, name, fallbackID, 1, emit, skip)
		return nil
	}
	var recs []Record
	emitMessage(&h, envelope{}, name, fallbackID, 1, func(r Record) { recs = append(recs, r) }, skip)
	ch.finish(recs, lr.capture, func() io.Reader { return lr.br }, emit)
	return nil
}

// ReadEMLDir reads a folder of messages, one per file (.eml files, a journaling archive),
// with its subfolders, in name order. Files are taken by content, not name: a file that
// begins with a From_ line is read as an mbox, one that does not begin like a message is
// a Problem, as is one that cannot be read; hidden files
// (".name") are passed over. The error is only for the folder itself not being readable.
func ReadEMLDir(path string, emit func(Record), skip func(Problem)) error {
	return readEMLDir(path, nil, emit, skip)
}

// readEMLDir is ReadEMLDir classifying the flagged messages with ch (when not nil).
func readEMLDir(path string, ch *contentHook, emit func(Record), skip func(Problem)) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == path {
				return err
			}
			skip(Problem{Source: p, Text: "not readable: " + err.Error()})
			return nil
		}
		if p != path && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		readMessageFile(p, true, ch, emit, skip)
		return nil
	})
}

// readMessageFile reads one message file, plain or compressed (gzip, bzip2, xz or zstd,
// as Dovecot's mail_compress plugin stores Maildir files); check says to make sure it
// begins like a message.
func readMessageFile(p string, check bool, ch *contentHook, emit func(Record), skip func(Problem)) {
	f, err := os.Open(p)
	if err != nil {
		skip(Problem{Source: p, Text: "not readable: " + err.Error()})
		return
	}
	defer f.Close()
	dr, _, release, err := Decompress(f)
	if err != nil {
		skip(Problem{Source: p, Text: "not readable: " + err.Error()})
		return
	}
	defer release()
	r, ok := dr.(*bufio.Reader) // a plain file: Decompress's own buffer
	if !ok {
		r = bufio.NewReaderSize(dr, 64<<10)
	}
	if check {
		head, err := r.Peek(64 << 10)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			skip(Problem{Source: p, Text: "not readable: " + err.Error()})
			return
		}
		switch {
		case DetectMbox(head): // a message saved with its From_ line (or a whole mbox)
			if err := (mboxReader{content: ch}).Read(r, p, emit, skip); err != nil {
				skip(Problem{Source: p, Text: err.Error()})
			}
			return
		case !DetectEML(head):
			skip(Problem{Source: p, Line: 1, Text: "not a message (no mail header at its start): skipped"})
			return
		}
	}
	if err := readOneMessage(r, p, filepath.Base(p), ch, emit, skip); err != nil {
		skip(Problem{Source: p, Text: err.Error()})
	}
}

// sortedNames lists a folder's entries by name.
func sortedNames(dir string) ([]fs.DirEntry, error) {
	es, err := os.ReadDir(dir)
	sort.Slice(es, func(i, j int) bool { return es[i].Name() < es[j].Name() })
	return es, err
}
