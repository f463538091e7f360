// Package spool keeps a message that is being received in memory up to a threshold and
// in a temporary file beyond it, so that what a client sends costs the process at most
// about the threshold in memory, whatever its size. The files live in a folder of their
// own (the daemon's data_dir/spool, mode 0700, files 0600); each is removed when its
// message is done, and Open removes those a crashed process left behind.
package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// DefaultAbove is the threshold of a Dir made with a zero one.
const DefaultAbove = 256 << 10

// MaxReadBacks bounds how many spooled messages may be read back into memory at once
// (ReadBack): holding a message needs its whole content.
const MaxReadBacks = 4

// errClosed is the error of a Buffer used after Close.
var errClosed = errors.New("spool: buffer closed")

// filePrefix starts the name of every spool file; Open removes the files so named.
const filePrefix = "msg-"

// Dir is a spool folder and the threshold above which a Buffer moves to a file there.
type Dir struct {
	path  string
	above int64
	mem   atomic.Int64 // bytes held in memory by the Buffers of this Dir
	reads chan struct{}
}

// Open makes the folder path (0700) if needed, removes the spool files left in it, and
// returns a Dir that keeps up to above bytes of a message in memory (0: DefaultAbove).
func Open(path string, above int64) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("spool folder: %w", err)
	}
	if err := os.Chmod(path, 0o700); err != nil {
		return nil, fmt.Errorf("spool folder: %w", err)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("spool folder: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), filePrefix) && e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(path, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("stale spool file: %w", err)
			}
		}
	}
	return newDir(path, above), nil
}

func newDir(path string, above int64) *Dir {
	if above <= 0 {
		above = DefaultAbove
	}
	return &Dir{path: path, above: above, reads: make(chan struct{}, MaxReadBacks)}
}

var (
	tempOnce sync.Once
	tempDir  *Dir
)

// Temp is a Dir in the system's temporary folder with the default threshold, for servers
// that were given none. It removes nothing at start: the folder is not its own.
func Temp() *Dir {
	tempOnce.Do(func() { tempDir = newDir(os.TempDir(), DefaultAbove) })
	return tempDir
}

// Path is the folder.
func (d *Dir) Path() string { return d.path }

// InMemory is the number of bytes the Buffers of d now hold in memory.
func (d *Dir) InMemory() int64 { return d.mem.Load() }

// New returns an empty Buffer. Close it when the message is done.
func (d *Dir) New() *Buffer { return &Buffer{dir: d} }

// ReadBack returns b's whole content in memory. For a spooled Buffer it first waits
// (until ctx ends) for one of MaxReadBacks places, which release gives back; the bytes
// must not be used after release.
func (d *Dir) ReadBack(ctx context.Context, b *Buffer) (content []byte, release func(), err error) {
	if !b.Spooled() {
		return b.mem, func() {}, b.err
	}
	select {
	case d.reads <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("spool: waiting to read a large message back: %w", ctx.Err())
	}
	release = func() { <-d.reads }
	r, err := b.Reader()
	if err != nil {
		release()
		return nil, nil, err
	}
	content = make([]byte, b.n)
	if _, err := io.ReadFull(r, content); err != nil {
		release()
		return nil, nil, fmt.Errorf("spool: read back %s: %w", b.f.Name(), err)
	}
	return content, release, nil
}

// Buffer is one message: in memory up to its Dir's threshold, then in a file. It is not
// safe for concurrent use.
type Buffer struct {
	dir    *Dir
	mem    []byte
	f      *os.File
	n      int64
	err    error // the first write error: later writes fail with it
	closed bool
}

// Write appends p, moving the content to a file when it grows past the threshold. After
// a write error every later write fails with it.
func (b *Buffer) Write(p []byte) (int, error) {
	switch {
	case b.err != nil:
		return 0, b.err
	case b.closed:
		return 0, errClosed
	}
	if b.f == nil && b.n+int64(len(p)) <= b.dir.above {
		before := cap(b.mem)
		b.mem = append(b.mem, p...)
		b.dir.mem.Add(int64(cap(b.mem) - before))
		b.n += int64(len(p))
		return len(p), nil
	}
	if b.f == nil {
		if err := b.spill(); err != nil {
			b.err = err
			return 0, err
		}
	}
	n, err := b.f.Write(p)
	b.n += int64(n)
	if err != nil {
		b.err = fmt.Errorf("spool: write %s: %w", b.f.Name(), err)
		return n, b.err
	}
	return n, nil
}

// spill moves the content to a new file and lets the memory go.
func (b *Buffer) spill() error {
	f, err := os.CreateTemp(b.dir.path, filePrefix+"*")
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	b.f = f
	if _, err := f.Write(b.mem); err != nil {
		return fmt.Errorf("spool: write %s: %w", f.Name(), err)
	}
	b.freeMem()
	return nil
}

func (b *Buffer) freeMem() {
	b.dir.mem.Add(-int64(cap(b.mem)))
	b.mem = nil
}

// Len is the number of bytes written.
func (b *Buffer) Len() int64 { return b.n }

// Spooled reports whether the content is in a file.
func (b *Buffer) Spooled() bool { return b.f != nil }

// Reader reads the content from its start; each call starts again. It is valid until
// Close.
func (b *Buffer) Reader() (io.Reader, error) {
	switch {
	case b.err != nil:
		return nil, b.err
	case b.closed:
		return nil, errClosed
	case b.f == nil:
		return bytes.NewReader(b.mem), nil
	}
	return io.NewSectionReader(b.f, 0, b.n), nil
}

// Close lets the memory go and removes the file, if any. It may be called more than
// once.
func (b *Buffer) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	b.freeMem()
	if b.f == nil {
		return nil
	}
	name := b.f.Name()
	err := b.f.Close()
	if rerr := os.Remove(name); rerr != nil && err == nil {
		err = fmt.Errorf("spool: %w", rerr)
	}
	return err
}
