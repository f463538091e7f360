package scan

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxLine is the longest line the archive and alias readers keep: a longer line is a
// Problem (in a header) or passed over (in a body), and the reader goes on after it.
const maxLine = 1 << 20

// lineReader reads a source line by line in constant memory: a line longer than maxLine
// is returned cut to its first maxLine bytes with long set, the rest of it read and
// dropped. It counts lines (1-based) and can give one line back (unread).
type lineReader struct {
	br      *bufio.Reader
	n       int64 // the number of the last line returned
	buf     []byte
	pending bool // unread was called: next returns buf again
	long    bool // the line in buf was over maxLine
	// capture, when set, keeps the raw lines readHeader reads (to classify the message).
	capture *headerCapture
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// skipBOM passes over a UTF-8 byte order mark at the start.
func (lr *lineReader) skipBOM() {
	if b, _ := lr.br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		lr.br.Discard(len(utf8BOM))
	}
}

// next returns the next line without its line ending (valid until the next call), whether
// it was over maxLine, and io.EOF after the last line. keep bounds how much of the line is
// kept (a body line needs only its start); 0 means maxLine.
func (l *lineReader) next(keep int) ([]byte, bool, error) {
	if l.pending {
		l.pending = false
		l.n++
		return l.buf, l.long, nil
	}
	if keep <= 0 || keep > maxLine {
		keep = maxLine
	}
	l.buf, l.long = l.buf[:0], false
	read := 0
	for {
		frag, err := l.br.ReadSlice('\n')
		read += len(frag)
		room := keep + 2 - len(l.buf) // +2: the line ending is trimmed below
		if len(frag) <= room {
			l.buf = append(l.buf, frag...)
		} else {
			if room > 0 {
				l.buf = append(l.buf, frag[:room]...)
			}
			if keep == maxLine {
				l.long = true
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) && read > 0 {
				break // a last line without a line ending
			}
			return nil, false, err
		}
		break
	}
	l.n++
	b := l.buf
	if len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	if len(b) > keep {
		b = b[:keep]
	}
	l.buf = b
	return b, l.long, nil
}

// unread makes the next call to next return the last line again.
func (l *lineReader) unread() {
	l.pending = true
	l.n--
}

// headerNext reports whether the next line (not read) begins like a header field, as far
// as the buffer's worth of it (64 KiB) tells.
func (l *lineReader) headerNext() bool {
	if l.pending {
		return false
	}
	b, _ := l.br.Peek(l.br.Size())
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return fieldName(bytes.TrimSuffix(b, []byte("\r"))) != ""
}
