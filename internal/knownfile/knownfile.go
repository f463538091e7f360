// Package knownfile reads the known-correspondents file: the domains the organisation mails,
// with how many messages went to each.
//
// The format is one "DOMAIN [COUNT]" per line. COUNT is a non-negative decimal number, 1
// when absent. "#" starts a comment, on its own line or after the entries. Blank lines,
// extra spaces and tabs, CRLF line ends and a UTF-8 byte order mark are tolerated. A domain
// listed more than once gets the sum of its counts (saturating at the largest int64); any
// spelling of a domain that normalises to the same name counts as the same domain.
//
// The package parses and validates; it does not decide what a count means, and it does not
// learn counts from mail.
package knownfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/rcptguard/rcptguard/internal/address"
	"github.com/rcptguard/rcptguard/internal/engine"
	"github.com/rcptguard/rcptguard/internal/safefile"
)

// Entry is one known correspondent: its domain and the messages sent there (at least 0).
// It is the engine's own type, so that a million of them are handed to the engine as they
// are, not copied.
type Entry = engine.KnownDomain

// MaxLine bounds one line of the file, comment included.
const MaxLine = 1 << 20

// Error is a problem at one line of a known-correspondents file.
type Error struct {
	File string // the name given to Read
	Line int    // 1-based
	Msg  string // what is wrong
	Err  error  // the cause (an address error for an invalid domain), or nil
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

func (e *Error) Unwrap() error { return e.Err }

// Load reads the regular file at path (a FIFO or a device is refused at once rather than
// waited on); errors name it as given.
func Load(path string) ([]Entry, error) {
	f, err := safefile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Counting the entry lines first (the file is read twice, the second time from the
	// page cache) lets the list be made once at its size: with a million domains, growing
	// it would copy it again and again. Blank and comment lines are not counted; a domain
	// listed many times is, once for each line.
	lines, err := countEntryLines(f)
	if err != nil {
		return nil, &Error{File: path, Line: 1, Msg: "read: " + err.Error(), Err: err}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, &Error{File: path, Line: 1, Msg: "read: " + err.Error(), Err: err}
	}
	return read(f, path, lines)
}

// countEntryLines is the number of lines of r that are neither blank nor a comment.
func countEntryLines(r io.Reader) (int, error) {
	buf := make([]byte, 64<<10)
	n, start := 0, true // start: nothing but spaces seen in the line yet
	for {
		k, err := r.Read(buf)
		for b := buf[:k]; len(b) > 0; {
			c := b[0]
			switch {
			case c == '\n':
				start = true
			case !start:
				// The line is counted or not already: on to its end.
				if i := bytes.IndexByte(b, '\n'); i > 0 {
					b = b[i:]
					continue
				}
				b = b[len(b)-1:] // the last byte, not a line end
			case c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f':
			default:
				start = false
				if c != '#' {
					n++
				}
			}
			b = b[1:]
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// Read reads a known-correspondents file from r, streaming; name is the file's name in
// errors ("known.txt:12: invalid count \"x\""). Entries come in the order of each domain's
// first line. The first problem in file order stops the read.
//
// Normalising a domain is the main cost, so lines are parsed in batches on all CPUs while
// the reader goes on; the result is the same as a line-by-line read.
func Read(r io.Reader, name string) ([]Entry, error) {
	return read(r, name, 0)
}

// read is Read with the number of lines expected (0 when unknown), an upper bound of the
// number of entries.
func read(r io.Reader, name string, lines int) ([]Entry, error) {
	workers := runtime.GOMAXPROCS(0)
	work := make(chan *batch, workers)
	ordered := make(chan *batch, 2*workers)
	free := make(chan *batch, 4*workers) // merged batches, for the scanner to fill again
	stop := make(chan struct{})

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := range work {
				b.parse()
				close(b.done)
			}
		})
	}

	var scanErr error // the first line error of the scanner; read after ordered is closed
	go func() {
		defer close(ordered)
		defer close(work)
		scanErr = scan(r, name, free, func(b *batch) bool {
			select {
			case ordered <- b:
			case <-stop:
				return false
			}
			work <- b
			return true
		})
	}()

	m := newMerger(lines)
	var err error
	for b := range ordered { // in file order; drained to the end so that no goroutine blocks
		<-b.done
		if err == nil {
			if err = m.add(b, name); err != nil {
				close(stop)
			}
		}
		select {
		case free <- b:
		default:
		}
	}
	wg.Wait()
	if err == nil {
		err = scanErr // a problem after every line that was handed on
	}
	if err != nil {
		return nil, err
	}
	return m.result(), nil
}

const batchLines = 1024

// record is one entry line before its domain is normalised.
type record struct {
	line  int
	raw   string
	count int64
}

type batch struct {
	records []record
	domains []address.Domain
	hashes  []uint64 // of each domain's ASCII name, for the merger
	bad     int      // index of the first record whose domain is invalid, or -1
	err     error    // its error
	done    chan struct{}
}

func (b *batch) parse() {
	b.domains = slices.Grow(b.domains[:0], len(b.records))[:len(b.records)]
	b.hashes = slices.Grow(b.hashes[:0], len(b.records))[:len(b.records)]
	b.bad = -1
	for i, rec := range b.records {
		d, err := address.ParseDomain(rec.raw)
		if err != nil {
			b.bad, b.err = i, err
			return
		}
		b.domains[i] = d
		b.hashes[i] = maphash.String(seed, d.ASCII)
	}
}

// scan reads lines, checks their syntax and hands on batches of records in file order. It
// stops when emit returns false. Its error is for a line after everything handed on.
//
// It takes the batches to fill from free when there are some there: with a million lines,
// new ones would be 100 MB of garbage.
func scan(r io.Reader, name string, free <-chan *batch, emit func(*batch) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	next := func() *batch {
		select {
		case b := <-free:
			b.records, b.err = b.records[:0], nil
			b.done = make(chan struct{})
			return b
		default:
			return &batch{records: make([]record, 0, batchLines), done: make(chan struct{})}
		}
	}
	b := next()
	flush := func() bool {
		if len(b.records) == 0 {
			return true
		}
		ok := emit(b)
		b = next()
		return ok
	}
	line := 0
	for sc.Scan() {
		line++
		text := sc.Bytes()
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte("\ufeff"))
		}
		rec, ok, e := parseLine(text)
		if e != nil {
			if !flush() {
				return nil
			}
			return &Error{File: name, Line: line, Msg: e.Error()}
		}
		if !ok {
			continue
		}
		rec.line = line
		b.records = append(b.records, rec)
		if len(b.records) == batchLines && !flush() {
			return nil
		}
	}
	if !flush() {
		return nil
	}
	switch err := sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		return &Error{File: name, Line: line + 1, Msg: fmt.Sprintf("line is longer than %d bytes", MaxLine), Err: err}
	case err != nil:
		return &Error{File: name, Line: line + 1, Msg: "read: " + err.Error(), Err: err}
	}
	return nil
}

// parseLine reads "DOMAIN [COUNT] [# comment]"; ok is false for a blank or comment line.
// The domain is checked later (it is the costly part).
func parseLine(text []byte) (rec record, ok bool, err error) {
	if i := bytes.IndexByte(text, '#'); i >= 0 {
		text = text[:i]
	}
	var fields [2][]byte
	n := 0
	for f := range bytes.FieldsSeq(text) {
		if n == len(fields) {
			return record{}, false, errors.New("too many fields; want DOMAIN [COUNT]")
		}
		fields[n] = f
		n++
	}
	if n == 0 {
		return record{}, false, nil
	}
	rec = record{raw: string(fields[0]), count: 1}
	if n == 2 {
		f := fields[1]
		c, err := strconv.ParseInt(string(f), 10, 64)
		switch {
		case err == nil && c >= 0:
			rec.count = c
		case f[0] == '-' && (err == nil || errors.Is(err, strconv.ErrRange)):
			return record{}, false, fmt.Errorf("invalid count %q: negative", shorten(f))
		case errors.Is(err, strconv.ErrRange):
			return record{}, false, fmt.Errorf("invalid count %q: larger than %d", shorten(f), int64(math.MaxInt64))
		default:
			return record{}, false, fmt.Errorf("invalid count %q", shorten(f))
		}
	}
	return rec, true, nil
}

func shorten(b []byte) string {
	if len(b) <= 40 {
		return string(b)
	}
	return string(b[:37]) + "..."
}

// merger sums the counts of each domain, keeping the order of first appearance. It is an
// open-addressing table over entries, with hashes computed by the workers: with a million
// domains a Go map costs as much as normalising them.
type merger struct {
	entries []Entry
	hashes  []uint64 // hashes[i] is the hash of entries[i]
	slots   []uint32 // 0 for empty, else 1 + an index into entries; len is a power of two
}

var seed = maphash.MakeSeed()

// newMerger makes a merger sized for n entries.
func newMerger(n int) *merger {
	m := &merger{entries: make([]Entry, 0, n), hashes: make([]uint64, 0, n)}
	if n > 0 {
		m.grow(n)
	}
	return m
}

func (m *merger) add(b *batch, name string) error {
	for i, rec := range b.records {
		if i == b.bad {
			return &Error{File: name, Line: rec.line, Msg: "invalid domain: " + reason(b.err), Err: b.err}
		}
		m.insert(b.domains[i], b.hashes[i], rec.count)
	}
	return nil
}

func (m *merger) insert(d address.Domain, h uint64, count int64) {
	if 2*len(m.entries)+2 > len(m.slots) { // keep the load at most 1/2
		m.grow(len(m.entries) + 1)
	}
	mask := uint64(len(m.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := m.slots[i]
		if s == 0 {
			m.slots[i] = uint32(len(m.entries) + 1)
			m.entries = append(m.entries, Entry{Domain: d, Count: count})
			m.hashes = append(m.hashes, h)
			return
		}
		if j := s - 1; m.hashes[j] == h && m.entries[j].Domain.ASCII == d.ASCII {
			m.entries[j].Count = addSat(m.entries[j].Count, count)
			return
		}
	}
}

// grow makes the table big enough for n entries at most half full, and at least twice
// its size.
func (m *merger) grow(n int) {
	size := max(1024, 2*len(m.slots))
	for size < 2*n+2 {
		size *= 2
	}
	m.slots = make([]uint32, size)
	mask := uint64(size - 1)
	for j, h := range m.hashes {
		i := h & mask
		for m.slots[i] != 0 {
			i = (i + 1) & mask
		}
		m.slots[i] = uint32(j + 1)
	}
}

// result is the entries in order: nil for none, and a copy when the list was made much
// too big (a file of mostly comments, blank lines or repeated domains).
func (m *merger) result() []Entry {
	switch {
	case len(m.entries) == 0:
		return nil
	case len(m.entries) < cap(m.entries)/2:
		return slices.Clone(m.entries)
	}
	return m.entries
}

// reason is an address error without the "invalid: " every one starts with.
func reason(err error) string {
	return strings.TrimPrefix(err.Error(), address.ErrInvalid.Error()+": ")
}

// addSat adds two non-negative counts, saturating at math.MaxInt64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
