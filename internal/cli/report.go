package cli

import (
	"bufio"
	"io"
	"os"
)

// reportOut is where a report goes (`scan`, `squat`): -o FILE, or standard output. It is
// opened before the long work starts, so that a wrong path fails at once.
type reportOut struct {
	w    io.Writer
	file *os.File
}

// openReport creates path, or takes stdout when path is "".
func openReport(path string, stdout io.Writer) (*reportOut, error) {
	if path == "" {
		return &reportOut{w: stdout}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &reportOut{w: f, file: f}, nil
}

// write writes the report through a buffer and closes the file: the error is the first of
// the write, the flush and the close.
func (o *reportOut) write(fn func(io.Writer) error) error {
	bw := bufio.NewWriterSize(o.w, 64<<10)
	err := fn(bw)
	if err == nil {
		err = bw.Flush()
	}
	if o.file != nil {
		if cerr := o.file.Close(); err == nil {
			err = cerr
		}
		o.file = nil
	}
	return err
}

// abandon closes and removes the file when no report will be written.
func (o *reportOut) abandon() {
	if o.file != nil {
		o.file.Close()
		os.Remove(o.file.Name())
		o.file = nil
	}
}
