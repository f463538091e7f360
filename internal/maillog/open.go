package maillog

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
)

// Open opens a log file for reading, and decompresses it transparently when it is
// gzip-compressed (as logrotate leaves maillog.2.gz). The format is told by the file's
// first bytes, not by its name.
func Open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("maillog: %w", err)
	}
	br := bufio.NewReaderSize(f, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && err != io.EOF {
		f.Close()
		return nil, fmt.Errorf("maillog: %s: %w", path, err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("maillog: %s: %w", path, err)
		}
		return &file{Reader: zr, close: func() error { zr.Close(); return f.Close() }}, nil
	}
	return &file{Reader: br, close: f.Close}, nil
}

type file struct {
	io.Reader
	close func() error
}

func (f *file) Close() error { return f.close() }
