// Package extract pulls plain text out of mail attachments with bounded cost:
// Office Open XML (.docx, .xlsx, .pptx), plain PDFs, zip archives and text.
//
// Everything is pure Go and reads only the io.ReaderAt it is given. Limits
// bound every step: the input read (MaxInput), the text produced (MaxText,
// Info.Truncated when cut), the zip entries looked at (MaxEntries), and the
// inflated size of every zip entry and PDF stream (MaxRatio times its
// compressed size: more is a zip bomb, ErrTooLarge naming the entry). Zip
// archives are followed one level deep (a zip inside a zip has its names
// listed, not its contents), and all entries and streams of one attachment
// together inflate to at most 10 x MaxInput. All scanning is linear in the
// input.
//
// PDFs: the file is scanned for stream objects (the xref table is not used,
// so a PDF with a broken or missing xref is still read); content streams that
// are uncompressed or FlateDecode give the strings of their Tj, TJ, ' and "
// operators (literal and hex strings, standard escapes, UTF-16BE with a BOM).
// Fonts and CMaps are not read: text is taken as PDFDocEncoding/Latin-1, and
// strings that look like two-byte glyph ids (composite fonts) are not guessed
// at; a PDF that yields no text for that reason, or holds only images, is
// ErrUnsupported. An /Encrypt entry outside the streams is ErrEncrypted.
//
// What cannot be read is an error (ErrTooLarge, ErrEncrypted, ErrUnsupported,
// ErrCorrupt, wrapped with the part and the reason), never a guess. Text
// already written before an error is real text of the attachment.
package extract

import (
	"errors"
	"fmt"
	"io"
)

// Limits bound the work done on one attachment. A zero field takes its default.
type Limits struct {
	MaxInput   int64 // bytes of the attachment read at most (default 20 MiB)
	MaxText    int64 // bytes of text produced at most (default 4 MiB)
	MaxEntries int   // zip entries looked at (default 2000)
	MaxRatio   int   // zip: uncompressed/compressed ratio above which an entry is a bomb (default 100)
}

// Default limits.
const (
	DefaultMaxInput   = 20 << 20
	DefaultMaxText    = 4 << 20
	DefaultMaxEntries = 2000
	DefaultMaxRatio   = 100
)

func (l Limits) withDefaults() Limits {
	if l.MaxInput <= 0 {
		l.MaxInput = DefaultMaxInput
	}
	if l.MaxText <= 0 {
		l.MaxText = DefaultMaxText
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultMaxRatio
	}
	return l
}

// Kind is the format of an attachment.
type Kind string

// The kinds Text reads.
const (
	Docx Kind = "docx"
	Xlsx Kind = "xlsx"
	Pptx Kind = "pptx"
	PDF  Kind = "pdf"
	Zip  Kind = "zip"
	Txt  Kind = "text"
)

// Info says what was found besides the text.
type Info struct {
	Encrypted bool // encrypted PDF, or a zip with encrypted (password-protected) entries
	Rows      int  // xlsx rows with a value; lines of a text attachment
	Truncated bool // the text was cut at Limits.MaxText (or entries at MaxEntries)
}

// The errors Text returns, wrapped with details.
var (
	ErrTooLarge    = errors.New("too large")
	ErrEncrypted   = errors.New("encrypted")
	ErrUnsupported = errors.New("unsupported")
	ErrCorrupt     = errors.New("corrupt")
)

// Text returns the text of an attachment of the given kind, written to w as it
// is extracted (bounded by Limits.MaxText), or an error saying why it could not
// be read (ErrTooLarge, ErrEncrypted, ErrUnsupported, ErrCorrupt wrapped with
// details). A zip whose entries name an Office document is read as that document.
func Text(w io.Writer, r io.ReaderAt, size int64, kind Kind, l Limits) (Info, error) {
	l = l.withDefaults()
	var info Info
	if size < 0 {
		return info, fmt.Errorf("%s: negative size: %w", kind, ErrCorrupt)
	}
	if size > l.MaxInput {
		return info, fmt.Errorf("%s: %d bytes, more than the %d read at most: %w", kind, size, l.MaxInput, ErrTooLarge)
	}
	x := &job{out: &textOut{w: w, left: l.MaxText}, l: l, info: &info}
	err := x.run(r, size, kind, 0)
	if err == nil {
		err = x.out.flush()
	}
	info.Truncated = info.Truncated || x.out.cut
	if errors.Is(err, errFull) {
		err = nil
	}
	if err == nil && x.out.err != nil {
		err = x.out.err
	}
	return info, err
}

// job is one call of Text: its output, limits and findings.
type job struct {
	out  *textOut
	l    Limits
	info *Info

	xmlParts []string // XML parts read, bounded by MaxEntries
	inflated int64    // bytes inflated so far, bounded by inflateBudget
}

// inflateBudget bounds the bytes inflated for one attachment, all entries
// and streams together: it bounds the time of an archive of many entries
// that each stay under the ratio.
func (l Limits) inflateBudget() int64 { return 10 * l.MaxInput }

// spend counts n inflated bytes against the budget.
func (x *job) spend(n int, what string) error {
	x.inflated += int64(n)
	if x.inflated > x.l.inflateBudget() {
		return fmt.Errorf("%s: more than %d bytes inflated in all: %w", what, x.l.inflateBudget(), ErrTooLarge)
	}
	return nil
}

func (x *job) run(r io.ReaderAt, size int64, kind Kind, depth int) error {
	switch kind {
	case Docx, Xlsx, Pptx, Zip:
		return x.zipped(r, size, kind, depth)
	case PDF:
		return x.pdf(r, size)
	case Txt:
		return x.text(r, size)
	}
	return fmt.Errorf("kind %q: %w", kind, ErrUnsupported)
}
