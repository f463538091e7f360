package content

import (
	"bytes"
	"io"

	"github.com/rcptguard/rcptguard/internal/extract"
)

// The seam to package extract (attachment text: docx, xlsx, pptx, pdf, zip).

type extractKind = extract.Kind

// extractText is extract.Text; a variable so that a test can put a failing
// extractor in its place.
var extractText = extract.Text

// sniff is extract.Sniff: by content first, name second; "" unknown.
var sniff = extract.Sniff

var errExtractEncrypted = extract.ErrEncrypted

func bytesReaderAt(b []byte) io.ReaderAt { return bytes.NewReader(b) }

func extractDefaults(l extract.Limits) extract.Limits {
	if l.MaxInput <= 0 {
		l.MaxInput = extract.DefaultMaxInput
	}
	if l.MaxText <= 0 {
		l.MaxText = extract.DefaultMaxText
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = extract.DefaultMaxEntries
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = extract.DefaultMaxRatio
	}
	return l
}
