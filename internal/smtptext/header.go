package smtptext

import (
	"io"
	"mime"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
)

// HeaderText is a header field's value as people read it: unfolded, its RFC 2047 encoded
// words decoded (in every charset the WHATWG encoding standard names), as one trimmed line
// of printable characters (OneLine), at most max bytes (Clip). Whatever the value holds
// (raw 8-bit bytes, NUL, encoded line breaks), the result is valid UTF-8 without control
// characters, fit for a database text column, a log line or a page.
func HeaderText(value string, max int) string {
	s := strings.NewReplacer("\r\n", "", "\n", "", "\r", "").Replace(value) // unfold
	s = strings.TrimSpace(s)
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		s = d
	}
	return Clip(strings.TrimSpace(OneLine(s)), max)
}

// wordDecoder decodes encoded words in every charset the WHATWG encoding standard names
// (Go's mime package alone knows only UTF-8, ISO-8859-1 and US-ASCII).
var wordDecoder = mime.WordDecoder{
	CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
		enc, err := htmlindex.Get(charset)
		if err != nil {
			return nil, err
		}
		return enc.NewDecoder().Reader(r), nil
	},
}
