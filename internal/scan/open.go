package scan

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// HeadSize is how much of a source (decompressed) the formats see to detect it.
const HeadSize = 64 << 10

// The magic numbers of the compressed formats read.
var magics = []struct {
	name  string
	magic []byte
}{
	{"gzip", []byte{0x1f, 0x8b}},
	{"bzip2", []byte("BZh")},
	{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}},
}

// Sniff names the compression that a stream beginning with head uses ("" for none).
func Sniff(head []byte) string {
	for _, m := range magics {
		if bytes.HasPrefix(head, m.magic) {
			return m.name
		}
	}
	return ""
}

// Decompress returns r decompressed according to its first bytes, the compression's
// name ("" for none), and a function that releases the decoder.
func Decompress(r io.Reader) (io.Reader, string, func(), error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(8)
	kind := Sniff(head)
	switch kind {
	case "gzip":
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, kind, nil, fmt.Errorf("gzip: %w", err)
		}
		return z, kind, func() { z.Close() }, nil
	case "bzip2":
		return bzip2.NewReader(br), kind, func() {}, nil
	case "xz":
		z, err := xz.NewReader(br)
		if err != nil {
			return nil, kind, nil, fmt.Errorf("xz: %w", err)
		}
		return z, kind, func() {}, nil
	case "zstd":
		z, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, kind, nil, fmt.Errorf("zstd: %w", err)
		}
		return z, kind, z.Close, nil
	}
	return br, "", func() {}, nil
}

// streamError names what went wrong in a compressed stream for a person.
func streamError(kind string, err error) string {
	if kind == "" {
		return fmt.Sprintf("reading stopped: %v", err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Sprintf("the %s stream is truncated (%v): the rest of this source is lost", kind, err)
	}
	return fmt.Sprintf("the %s stream is corrupt (%v): the rest of this source is lost", kind, err)
}
