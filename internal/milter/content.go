package milter

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"strings"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/smtptext"
)

// content collects one message's raw content (header fields, the blank line, the body)
// for the quarantine, up to max bytes. Past max it keeps nothing and remembers that the
// message was too large to hold.
type content struct {
	buf     bytes.Buffer
	max     int64
	over    bool // more than max bytes came
	inBody  bool // the blank line after the header fields is written
	subject *string
}

// header adds one header field as the MTA sent it: name, and value without the line
// break that ends the field. leadSpace says the MTA kept the value's leading white space
// (SMFIP_HDR_LEADSPC); otherwise it ate one space (not a tab) after the colon, the
// Sendmail rule, and header puts it back, except before a tab or a line break, where
// there most likely was none. Line breaks inside a folded value, LF as Postfix sends
// them, become CRLF.
func (c *content) header(name, value string, leadSpace bool) {
	if name == "" {
		return
	}
	if strings.EqualFold(name, "Subject") && c.subject == nil {
		c.subject = &value
	}
	sep := ""
	if !leadSpace && value != "" && !strings.ContainsRune("\t\r\n", rune(value[0])) {
		sep = " "
	}
	c.write(name + ":" + sep + crlf(value) + "\r\n")
}

// endHeader writes the blank line between the header fields and the body, once.
func (c *content) endHeader() {
	if !c.inBody {
		c.inBody = true
		c.write("\r\n")
	}
}

// body adds a body chunk as the MTA sent it (with CRLF line ends: the milter protocol's).
func (c *content) body(chunk []byte) {
	c.endHeader()
	if c.room(len(chunk)) {
		c.buf.Write(chunk)
	}
}

func (c *content) write(s string) {
	if c.room(len(s)) {
		c.buf.WriteString(s)
	}
}

// room reports whether n more bytes fit; when they do not, it drops what it has.
func (c *content) room(n int) bool {
	if c.over {
		return false
	}
	if int64(c.buf.Len())+int64(n) > c.max {
		c.over = true
		c.buf = bytes.Buffer{}
		return false
	}
	return true
}

// raw returns the message's content, or an error wrapping quarantine.ErrTooLarge.
func (c *content) raw() (io.Reader, error) {
	if c.over {
		return nil, fmt.Errorf("%w: more than %d bytes", quarantine.ErrTooLarge, c.max)
	}
	c.endHeader()
	return bytes.NewReader(c.buf.Bytes()), nil
}

// crlf makes every line break in s a CRLF.
func crlf(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// maxSubject bounds the decoded subject kept with a held message.
const maxSubject = 1000

// subjectText is the message's first Subject field, unfolded, with RFC 2047 encoded words
// decoded, as one line of printable text; "" when there is none.
func (c *content) subjectText() string {
	if c.subject == nil {
		return ""
	}
	s := strings.NewReplacer("\r\n", "", "\n", "", "\r", "").Replace(*c.subject) // unfold
	s = strings.TrimSpace(s)
	if d, err := subjectDecoder.DecodeHeader(s); err == nil {
		s = d
	}
	return smtptext.Clip(strings.TrimSpace(smtptext.OneLine(s)), maxSubject)
}

// subjectDecoder decodes encoded words in every charset the WHATWG encoding standard
// names (Go's mime package alone knows only UTF-8, ISO-8859-1 and US-ASCII).
var subjectDecoder = mime.WordDecoder{
	CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
		enc, err := htmlindex.Get(charset)
		if err != nil {
			return nil, err
		}
		return enc.NewDecoder().Reader(r), nil
	},
}
