package extract

import (
	"errors"
	"io"
)

// errFull stops an extractor once MaxText bytes are written; Text turns it
// into Info.Truncated.
var errFull = errors.New("text limit reached")

// textOut writes at most left bytes to w.
type textOut struct {
	w    io.Writer
	left int64
	cut  bool
	err  error // the writer's own error
	last byte  // last byte written, to avoid doubled separators
	pend byte  // separator to write before the next text
}

func (t *textOut) Write(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := t.flush(); err != nil {
		return 0, err
	}
	full := false
	if int64(len(p)) > t.left {
		p = p[:t.left]
		t.cut, full = true, true
	}
	n, err := t.w.Write(p)
	t.left -= int64(n)
	if n > 0 {
		t.last = p[n-1]
	}
	if err != nil {
		t.err = err
		return n, err
	}
	if full || t.left == 0 && t.cut {
		return n, errFull
	}
	return n, nil
}

func (t *textOut) str(s string) error {
	_, err := t.Write([]byte(s))
	return err
}

// sep asks for a separator (space, tab or newline, the stronger kept) before
// the next text; none at the start or after a newline.
func (t *textOut) sep(c byte) error {
	if t.last == 0 || t.last == '\n' || t.last == c && t.pend == 0 {
		return nil
	}
	if rank(c) > rank(t.pend) {
		t.pend = c
	}
	return nil
}

func rank(c byte) int {
	switch c {
	case ' ':
		return 1
	case '\t':
		return 2
	case '\n':
		return 3
	}
	return 0
}

// flush writes the pending separator.
func (t *textOut) flush() error {
	c := t.pend
	if c == 0 {
		return nil
	}
	t.pend = 0
	_, err := t.Write([]byte{c})
	return err
}
