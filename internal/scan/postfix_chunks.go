package scan

import (
	"bytes"
	"errors"
	"io"
	"runtime"
)

// The Postfix reader's pipeline. One goroutine reads the source into chunks cut after
// their last newline (the cut line's start is carried to the next chunk, and a line longer
// than PostfixMaxLine is skipped there); split workers cut chunks into items at the same
// time, each chunk on its own; the caller's goroutine takes the chunks in the order they
// were read, adds the lines of the chunks before to the items' line numbers, joins a run
// of bad lines that goes on from one chunk into the next, and hands the items to the
// parser. A fixed number of chunks are in flight: memory does not grow with the source.

// postfixChunk is a buffer of whole lines and the items found in it.
type postfixChunk struct {
	buf        []byte
	start, end int   // the lines are buf[start:end]
	longLine   bool  // a line longer than PostfixMaxLine follows the lines: a Problem
	err        error // the read error that ended the source (not io.EOF); the last chunk
	ready      chan struct{}

	// Filled by a split worker.
	items            []postfixItem
	lines            int64 // lines in the chunk, the long line included
	tailFrom, tailTo int64 // a run of bad lines open at the chunk's end; 0: none
}

// Settings of the pipeline; tests change them.
var (
	postfixChunkSize = 512 << 10 // bytes read into a chunk at most
	postfixFirstRead = 16 << 10  // bytes read into the first chunk; doubles up to postfixChunkSize
	postfixWorkers   = 0         // split workers; 0: runtime.GOMAXPROCS, at least 2
)

// consume reads r through the pipeline and handles its items in order.
func (p *postfixParser) consume(r io.Reader) error {
	workers := postfixWorkers
	if workers <= 0 {
		workers = max(2, runtime.GOMAXPROCS(0))
	}
	chunks := 2*workers + 2
	free := make(chan *postfixChunk, chunks)
	for range chunks {
		free <- &postfixChunk{ready: make(chan struct{}, 1)}
	}
	order := make(chan *postfixChunk, chunks) // the chunks in the order read
	work := make(chan *postfixChunk, chunks)
	done := make(chan struct{})
	defer close(done) // an emit that panics must not leave the reader blocked
	go postfixRead(r, free, order, work, done)
	for range workers {
		go func() {
			var s postfixSplitter
			for c := range work {
				s.splitChunk(c)
				c.ready <- struct{}{}
			}
		}()
	}
	var off, pendFrom, pendTo int64 // lines before the chunk; a run of bad lines not ended yet
	flush := func() {
		if pendFrom != 0 {
			p.item(nil, &postfixItem{line: pendFrom, lineTo: pendTo, kind: postfixBad})
			pendFrom = 0
		}
	}
	for c := range order {
		<-c.ready
		broke := false
		for i := range c.items {
			it := &c.items[i]
			it.line += off
			switch it.kind {
			case postfixBreak:
				flush()
				broke = true
				continue
			case postfixBad:
				it.lineTo += off
				if !broke && pendFrom != 0 { // the run goes on from the chunk before
					it.line = pendFrom
					pendFrom = 0
				}
			}
			p.item(c.buf, it)
		}
		if c.tailFrom != 0 {
			if broke || pendFrom == 0 {
				pendFrom = off + c.tailFrom
			}
			pendTo = off + c.tailTo
		}
		off += c.lines
		if c.err != nil {
			flush()
			return c.err
		}
		free <- c
	}
	flush()
	return nil
}

// postfixRead reads r into the free chunks and sends each to order and to work; it closes
// both at the end of r.
func postfixRead(r io.Reader, free <-chan *postfixChunk, order, work chan<- *postfixChunk, done <-chan struct{}) {
	defer close(work)
	defer close(order)
	var carry []byte                                // the start of a line cut by the end of the last chunk
	skipping := false                               // in a line longer than PostfixMaxLine, reported already
	size := min(postfixFirstRead, postfixChunkSize) // bytes to read into the next chunk; grows to postfixChunkSize
	for {
		var c *postfixChunk
		select {
		case c = <-free:
		case <-done:
			return
		}
		if cap(c.buf) < len(carry)+size {
			extra := 16 << 10
			if size < postfixChunkSize {
				extra = size // the next chunk reads twice as much
			}
			c.buf = make([]byte, 0, len(carry)+size+extra)
		}
		buf := append(c.buf[:0], carry...)
		n, err := io.ReadAtLeast(r, buf[len(buf):len(buf)+size], 1)
		if n == size && size < postfixChunkSize {
			size = min(2*size, postfixChunkSize) // a big source: bigger chunks, fewer hand-overs
		}
		buf = buf[:len(buf)+n]
		start := 0
		if skipping {
			nl := bytes.IndexByte(buf, '\n')
			if nl < 0 {
				start = len(buf)
			} else {
				start, skipping = nl+1, false
			}
		}
		end := len(buf)
		eof := err != nil
		c.longLine, c.err = false, nil
		if eof {
			carry = carry[:0]
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = nil
			}
			c.err = err
		} else {
			end = start + bytes.LastIndexByte(buf[start:], '\n') + 1
			carry = append(carry[:0], buf[end:]...)
			if len(carry) > PostfixMaxLine {
				carry, skipping, c.longLine = carry[:0], true, true
			}
		}
		c.buf, c.start, c.end = buf, start, end
		order <- c // never blocks: it holds as many as there are chunks
		work <- c
		if eof {
			return
		}
	}
}
