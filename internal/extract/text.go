package extract

import (
	"bytes"
	"io"
)

// text copies a text attachment, counting its lines in Info.Rows.
func (x *job) text(r io.ReaderAt, size int64) error {
	buf := make([]byte, 32<<10)
	var off int64
	last := byte('\n')
	for off < size {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if n > 0 {
			p := buf[:n]
			x.info.Rows += bytes.Count(p, []byte{'\n'})
			last = p[n-1]
			if _, werr := x.out.Write(p); werr != nil {
				return werr
			}
			off += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if last != '\n' {
		x.info.Rows++
	}
	return nil
}
