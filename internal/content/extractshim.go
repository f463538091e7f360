package content

import (
	"bytes"
	"errors"
	"io"
	"path"
	"strings"
)

// This file is the seam to package extract (attachment text: docx, xlsx,
// pptx, pdf, zip). Until extract is on main the seam reads nothing: attachments
// that need it are listed as not read. When it is merged these declarations
// become aliases of extract's (Kind, Info, Limits, Text, Sniff, ErrEncrypted).

// ExtractLimits bound attachment text extraction (extract.Limits).
type ExtractLimits struct {
	MaxInput   int64 // bytes of one attachment read at most (default 20 MiB)
	MaxText    int64 // bytes of text produced at most (default 4 MiB)
	MaxEntries int   // zip entries looked at (default 2000)
	MaxRatio   int   // zip: uncompressed/compressed ratio above which an entry is a bomb (default 100)
}

type extractKind = string

type extractInfo struct {
	Encrypted bool
	Rows      int
	Truncated bool
}

var errExtractEncrypted = errors.New("encrypted")

var errNoExtractor = errors.New("no text extractor for this kind of attachment yet")

// extractText is extract.Text.
var extractText = func(w io.Writer, r io.ReaderAt, size int64, kind extractKind, l ExtractLimits) (extractInfo, error) {
	return extractInfo{}, errNoExtractor
}

// sniff is extract.Sniff: by content first, name second; "" unknown.
var sniff = func(name string, head []byte) extractKind {
	switch {
	case strings.HasPrefix(string(head), "%PDF-"):
		return "pdf"
	case strings.HasPrefix(string(head), "PK\x03\x04"):
		switch strings.ToLower(path.Ext(name)) {
		case ".docx":
			return "docx"
		case ".xlsx":
			return "xlsx"
		case ".pptx":
			return "pptx"
		}
		return "zip"
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".txt", ".csv", ".tsv", ".log", ".md":
		return "text"
	}
	return ""
}

func extractDefaults(l ExtractLimits) ExtractLimits {
	if l.MaxInput <= 0 {
		l.MaxInput = 20 << 20
	}
	if l.MaxText <= 0 {
		l.MaxText = 4 << 20
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 2000
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = 100
	}
	return l
}

func bytesReaderAt(b []byte) io.ReaderAt { return bytes.NewReader(b) }
