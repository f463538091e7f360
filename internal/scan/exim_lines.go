package scan

import (
	"bufio"
	"bytes"
	"container/list"
	"io"
	"strings"
	"unicode/utf8"
)

// This file holds what the line-based readers of this package (exim, sendmail and the CSV
// exports) share: lines of bounded length and a bounded set of open messages.

// boundedLineMax is the longest line a reader looks at; a longer one is a Problem.
const boundedLineMax = 1 << 20

// openMessagesMax bounds the messages a log reader keeps open (seen arriving or deferred,
// not yet completed): memory stays constant however long the log is.
const openMessagesMax = 100_000

// readBoundedLines calls fn for every line of r without its line ending, numbered from 1.
// A line longer than boundedLineMax or holding NUL bytes (binary data) is reported through
// skip and not passed on; the lines after it still are.
func readBoundedLines(r io.Reader, name string, skip func(Problem), fn func(line []byte, n int64)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var n int64
	var long []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if !tooLong {
				if len(long)+len(chunk) > boundedLineMax {
					tooLong, long = true, long[:0]
				} else {
					long = append(long, chunk...)
				}
			}
			continue
		}
		if len(chunk) > 0 || len(long) > 0 || tooLong {
			n++
			line := chunk
			if len(long) > 0 {
				if len(long)+len(chunk) > boundedLineMax {
					tooLong = true
				}
				long = append(long, chunk...)
				line = long
			}
			switch {
			case tooLong:
				skip(Problem{Source: name, Line: n, Text: "line longer than 1 MiB skipped"})
			case bytes.IndexByte(line, 0) >= 0:
				skip(Problem{Source: name, Line: n, Text: "binary data (NUL bytes) skipped"})
			default:
				line = bytes.TrimSuffix(line, []byte{'\n'})
				line = bytes.TrimSuffix(line, []byte{'\r'})
				fn(line, n)
			}
			tooLong, long = false, long[:0]
			if cap(long) > 4*boundedLineMax {
				long = nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// cleanAddress trims what sources put around an address (spaces, angle brackets) and
// reports whether what is left can be a recipient: valid UTF-8, no control characters or
// spaces, an @ with something on both sides.
func cleanAddress(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "<")
	s = strings.TrimSuffix(s, ">")
	if s == "" || len(s) > 1024 || !utf8.ValidString(s) {
		return s, false
	}
	for _, c := range s {
		if c <= ' ' || c == 0x7f || c == utf8.RuneError {
			return s, false
		}
	}
	at := strings.LastIndexByte(s, '@')
	return s, at > 0 && at < len(s)-1
}

// cleanSender is cleanAddress for a sender: the null sender (<>) is "".
func cleanSender(s string) string {
	a, ok := cleanAddress(s)
	if !ok {
		if a == "" || !utf8.ValidString(a) {
			return ""
		}
	}
	return a
}

// openSet keeps at most max open entries by key, the oldest evicted first.
type openSet[V any] struct {
	max int
	m   map[string]*list.Element
	l   list.List
}

type openEntry[V any] struct {
	key string
	v   V
}

func newOpenSet[V any](max int) *openSet[V] {
	return &openSet[V]{max: max, m: make(map[string]*list.Element)}
}

func (o *openSet[V]) get(key string) (V, bool) {
	if e, ok := o.m[key]; ok {
		return e.Value.(*openEntry[V]).v, true
	}
	var zero V
	return zero, false
}

// put adds key (which must not be open) and returns the entries evicted to keep the bound.
func (o *openSet[V]) put(key string, v V, evicted func(key string, v V)) {
	o.m[key] = o.l.PushBack(&openEntry[V]{key, v})
	for o.l.Len() > o.max {
		e := o.l.Front()
		oe := e.Value.(*openEntry[V])
		o.l.Remove(e)
		delete(o.m, oe.key)
		evicted(oe.key, oe.v)
	}
}

func (o *openSet[V]) remove(key string) {
	if e, ok := o.m[key]; ok {
		o.l.Remove(e)
		delete(o.m, key)
	}
}

// drain calls fn for every open entry, oldest first, and empties the set.
func (o *openSet[V]) drain(fn func(key string, v V)) {
	for e := o.l.Front(); e != nil; e = e.Next() {
		oe := e.Value.(*openEntry[V])
		fn(oe.key, oe.v)
	}
	o.l.Init()
	clear(o.m)
}
