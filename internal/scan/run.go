package scan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/rcptguard/rcptguard/internal/content"
)

// RunOptions say how sources are read.
type RunOptions struct {
	Stdin    io.Reader // for the source "-"
	Workers  int       // sources read at once (default: the number of CPUs)
	Progress *Progress // nil: none
	// Force, when set, reads every file source with this format instead of telling it
	// by content (`scan --aliases`: AliasesFormat, whose content is too plain to detect).
	Force *Format
	// Content, when set, classifies each message of a mail archive (mbox, Maildir, .eml)
	// that has a flagged recipient: the report then gives its categories. Log formats have
	// no content.
	Content *content.Classifier
	hook    *contentHook
}

// Run reads every source into t, several at once, and says what became of each (in the
// order given). A source that cannot be opened or that no format recognises has its
// Error set; a truncated or corrupt compressed stream, or a reader's error, is a Problem
// in t and the source keeps what was read before it.
func Run(sources []string, t *Tally, o RunOptions) []SourceResult {
	results := make([]SourceResult, len(sources))
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if o.Content != nil {
		o.hook = &contentHook{cl: o.Content, flagged: t.wouldFlag}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(sources)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = runOne(sources[i], t, o)
			}
		}()
	}
	for i := range sources {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// sink batches one source's records into the tally.
type sink struct {
	t       *Tally
	name    string // the source as given (a directory's files are read as one)
	batch   []Record
	records int64
	skipped int64
}

func (s *sink) emit(r Record) {
	s.records++
	s.batch = append(s.batch, r)
	if len(s.batch) == cap(s.batch) {
		s.flush()
	}
}

func (s *sink) skip(p Problem) {
	s.skipped++
	s.t.Skip(p)
}

func (s *sink) flush() {
	s.t.addFrom(s.name, s.batch)
	clear(s.batch)
	s.batch = s.batch[:0]
}

func runOne(name string, t *Tally, o RunOptions) (res SourceResult) {
	res.Name = name
	s := &sink{t: t, name: name, batch: make([]Record, 0, 512)}
	defer func() {
		s.flush()
		t.EndSource(name)
		res.Records, res.Problems = s.records, s.skipped
	}()
	var in io.Reader
	var size int64 = -1
	if name == "-" {
		if o.Stdin == nil {
			res.Error = "-: no standard input"
			return res
		}
		in = o.Stdin
	} else {
		fi, err := os.Stat(name)
		if err != nil {
			res.Error = err.Error()
			return res
		}
		if fi.IsDir() {
			return runDir(name, s, res, o.hook)
		}
		f, err := os.Open(name)
		if err != nil {
			res.Error = err.Error()
			return res
		}
		defer f.Close()
		in, size = f, fi.Size()
	}
	var read atomic.Int64
	var lines atomic.Int64
	if o.Progress != nil {
		done := o.Progress.Start(name, size, &read, &lines)
		defer done()
	}
	dec, kind, release, err := Decompress(&counter{r: in, n: &read})
	res.Compression = kind
	if err != nil {
		s.skip(Problem{Source: name, Line: 0, Text: streamError(kind, err)})
		return res
	}
	defer release()
	if kind != "" {
		// Decompress in a goroutine of its own, so that one compressed source keeps two
		// cores busy: one inflating, one reading records.
		pr, pw := io.Pipe()
		done := make(chan struct{})
		src := dec
		go func() {
			defer close(done)
			_, err := io.CopyBuffer(pw, src, make([]byte, 256<<10))
			pw.CloseWithError(err)
		}()
		defer func() {
			pr.CloseWithError(errStopped) // the reader may have stopped before the end
			<-done
		}()
		dec = pr
	}
	br := bufio.NewReaderSize(&lineCounter{r: dec, n: &lines}, HeadSize+4096)
	head, herr := br.Peek(HeadSize)
	f, ok := Detect(head)
	if o.Force != nil {
		f, ok = *o.Force, true
	}
	if !ok {
		res.Bytes = read.Load()
		if herr != nil && herr != io.EOF && herr != bufio.ErrBufferFull {
			// The stream broke before a format could be told: a problem, not a
			// source of an unknown kind.
			s.skip(Problem{Source: name, Line: lines.Load(), Text: streamError(kind, herr)})
			return res
		}
		res.Error = fmt.Sprintf("%s: no format recognised (expected one of: %s)", name, FormatNames())
		return res
	}
	res.Format = f.Name
	rd := f.New()
	if cr, ok := rd.(contentReader); ok && o.hook != nil {
		rd = cr.withContent(o.hook)
		t.markContent()
	}
	err = rd.Read(br, name, s.emit, s.skip)
	res.Bytes = read.Load()
	if err != nil {
		if kind != "" {
			s.skip(Problem{Source: name, Line: lines.Load(), Text: streamError(kind, err)})
		} else {
			s.skip(Problem{Source: name, Line: lines.Load(), Text: "reading stopped: " + err.Error()})
		}
	}
	return res
}

func runDir(name string, s *sink, res SourceResult, ch *contentHook) SourceResult {
	var f Format
	for _, g := range Formats() {
		if g.Dir != nil && g.DetectDir != nil && g.DetectDir(name) {
			f = g
			break
		}
	}
	if f.Dir == nil {
		for _, g := range Formats() {
			if g.Dir != nil && g.DetectDir == nil {
				f = g
				break
			}
		}
	}
	if f.Dir == nil {
		res.Error = fmt.Sprintf("%s: a directory no format reads (expected a directory of: %s)", name, dirFormats())
		return res
	}
	res.Format = f.Name
	dir := f.Dir
	if ch != nil && f.dirContent != nil {
		dir = func(path string, emit func(Record), skip func(Problem)) error {
			return f.dirContent(path, ch, emit, skip)
		}
		s.t.markContent()
	}
	if err := dir(name, s.emit, s.skip); err != nil {
		s.skip(Problem{Source: name, Text: "reading stopped: " + err.Error()})
	}
	return res
}

func dirFormats() string {
	var names []byte
	for _, f := range Formats() {
		if f.Dir != nil {
			if len(names) > 0 {
				names = append(names, ", "...)
			}
			names = append(names, f.Name...)
		}
	}
	if len(names) == 0 {
		return "(no format reads directories)"
	}
	return string(names)
}

var errStopped = errors.New("reading stopped")

// counter counts the bytes read from a source (before decompression).
type counter struct {
	r io.Reader
	n *atomic.Int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// lineCounter counts the lines of the decompressed stream.
type lineCounter struct {
	r io.Reader
	n *atomic.Int64
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(bytes.Count(p[:n], []byte{'\n'})))
	return n, err
}
