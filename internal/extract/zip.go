package extract

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// minInflate is what any entry may inflate to whatever its ratio: tiny XML
// parts compress better than MaxRatio without being bombs.
const minInflate = 64 << 10

// zipped reads a zip container: an Office document when its entries say so
// (or kind says so), otherwise an archive.
func (x *job) zipped(r io.ReaderAt, size int64, kind Kind, depth int) error {
	if kind != Zip && isCFB(r, size) {
		return x.cfb(r, size, kind)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return fmt.Errorf("%s: %v: %w", kind, err, ErrCorrupt)
	}
	if kind == Zip {
		kind = officeKind(zr)
	}
	switch kind {
	case Docx:
		return x.docx(zr)
	case Xlsx:
		return x.xlsx(zr)
	case Pptx:
		return x.pptx(zr)
	}
	return x.archive(zr, depth)
}

// officeKind tells an Office document from a plain archive by its entries.
func officeKind(zr *zip.Reader) Kind {
	types := false
	var k Kind = Zip
	for _, f := range zr.File {
		switch f.Name {
		case "[Content_Types].xml":
			types = true
		case "word/document.xml":
			k = Docx
		case "xl/workbook.xml":
			k = Xlsx
		case "ppt/presentation.xml":
			k = Pptx
		}
	}
	if !types {
		return Zip
	}
	return k
}

// open opens one entry for reading, bounded by the ratio: a reader that fails
// with ErrTooLarge once the entry inflates past MaxRatio times its size.
func (x *job) open(kind Kind, f *zip.File) (io.ReadCloser, error) {
	if f.Flags&1 != 0 {
		x.info.Encrypted = true
		return nil, fmt.Errorf("%s: %s: password-protected entry: %w", kind, f.Name, ErrEncrypted)
	}
	max := x.maxInflate(int64(f.CompressedSize64))
	if f.UncompressedSize64 > uint64(max) {
		return nil, x.bomb(kind, f.Name)
	}
	if hard := 4 * x.l.MaxInput; max > hard {
		// Bounds the memory of one XML token and the time of one entry.
		if f.UncompressedSize64 > uint64(hard) {
			return nil, fmt.Errorf("%s: %s: %d bytes uncompressed, more than %d: %w", kind, f.Name, f.UncompressedSize64, hard, ErrTooLarge)
		}
		max = hard
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v: %w", kind, f.Name, err, ErrUnsupported)
	}
	return &boundedReader{r: rc, left: max, kind: kind, name: f.Name, x: x}, nil
}

func (x *job) maxInflate(compressed int64) int64 {
	m := compressed * int64(x.l.MaxRatio)
	if compressed > 0 && m/compressed != int64(x.l.MaxRatio) { // overflow
		m = 1 << 62
	}
	if m < minInflate {
		m = minInflate
	}
	return m
}

func (x *job) bomb(kind Kind, name string) error {
	return fmt.Errorf("%s: %s: zip entry inflates past %dx its size (a zip bomb?): %w", kind, name, x.l.MaxRatio, ErrTooLarge)
}

// boundedReader fails with ErrTooLarge past left bytes and turns read errors
// into ErrCorrupt naming the entry.
type boundedReader struct {
	r    io.ReadCloser
	left int64
	kind Kind
	name string
	x    *job
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more means the declared size lied.
		var one [1]byte
		if n, _ := b.r.Read(one[:]); n > 0 {
			return 0, b.x.bomb(b.kind, b.name)
		}
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, b.x.bomb(b.kind, b.name)
	}
	if err := b.x.spend(n, string(b.kind)+": "+b.name); err != nil {
		return 0, err
	}
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("%s: %s: %v: %w", b.kind, b.name, err, ErrCorrupt)
	}
	return n, err
}

func (b *boundedReader) Close() error { return b.r.Close() }

// readAll reads a whole (bounded) entry into memory, at most MaxInput bytes.
func (x *job) readAll(kind Kind, f *zip.File) ([]byte, error) {
	if f.UncompressedSize64 > uint64(x.l.MaxInput) {
		return nil, fmt.Errorf("%s: %s: %d bytes uncompressed: %w", kind, f.Name, f.UncompressedSize64, ErrTooLarge)
	}
	rc, err := x.open(kind, f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	_, err = io.Copy(&buf, io.LimitReader(rc, x.l.MaxInput+1))
	if err != nil {
		return nil, err
	}
	if int64(buf.Len()) > x.l.MaxInput {
		return nil, fmt.Errorf("%s: %s: more than %d bytes uncompressed: %w", kind, f.Name, x.l.MaxInput, ErrTooLarge)
	}
	return buf.Bytes(), nil
}

// archive writes the name of every entry as a line and the text of nested
// text, Office, PDF and zip entries (one level deep).
func (x *job) archive(zr *zip.Reader, depth int) error {
	for i, f := range zr.File {
		if i >= x.l.MaxEntries {
			x.info.Truncated = true
			return nil
		}
		if err := x.out.sep('\n'); err != nil {
			return err
		}
		if err := x.out.str(cleanName(f.Name) + "\n"); err != nil {
			return err
		}
		if f.Flags&1 != 0 {
			x.info.Encrypted = true
			continue
		}
		if depth > 0 || strings.HasSuffix(f.Name, "/") {
			continue
		}
		kind := Sniff(f.Name, nil)
		if kind == "" {
			continue
		}
		data, err := x.readAll(Zip, f)
		if err != nil {
			return err
		}
		kind = Sniff(f.Name, data)
		err = x.run(bytes.NewReader(data), int64(len(data)), kind, depth+1)
		if err == nil || errors.Is(err, errFull) || x.out.err != nil {
			if err != nil {
				return err
			}
			if err := x.out.sep('\n'); err != nil {
				return err
			}
			continue
		}
		if errors.Is(err, ErrEncrypted) {
			x.info.Encrypted = true
			continue
		}
		if errors.Is(err, ErrUnsupported) {
			continue
		}
		return fmt.Errorf("zip: %s: %w", f.Name, err)
	}
	return nil
}

// cleanName keeps an entry name on one line.
func cleanName(n string) string {
	n = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, n)
	if len(n) > 1024 {
		n = n[:1024]
	}
	return path.Clean("/" + n)[1:]
}
