package milter

import (
	"fmt"
	"io"
	"strings"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/smtptext"
	"github.com/rcptguard/rcptguard/internal/spool"
)

// content collects one message's raw content (header fields, the blank line, the body)
// for the quarantine, up to max bytes: in memory up to the spool's threshold, in a spool
// file beyond it. Past max it keeps nothing and remembers that the message was too large
// to hold. close lets it go (the file is removed); the session closes it when the
// message ends in any way.
type content struct {
	dir     *spool.Dir // nil: spool.Temp()
	buf     *spool.Buffer
	max     int64
	over    bool  // more than max bytes came
	err     error // the content could not be stored
	inBody  bool  // the blank line after the header fields is written
	subject *string
}

func newContent(sp *spool.Dir, max int64) *content {
	return &content{dir: sp, max: max}
}

// buffer is the content's buffer, made on first use.
func (c *content) buffer() *spool.Buffer {
	if c.buf == nil {
		if c.dir == nil {
			c.dir = spool.Temp()
		}
		c.buf = c.dir.New()
	}
	return c.buf
}

// close lets the content go; it may be called more than once.
func (c *content) close() {
	if c != nil && c.buf != nil {
		c.buf.Close()
	}
}

// header adds one header field as the MTA sent it: name, and value without the line
// break that ends the field. leadSpace says the MTA kept the value's leading white space
// (SMFIP_HDR_LEADSPC); otherwise it ate one space (not a tab) after the colon, the
// Sendmail rule, and header puts it back, except before a tab or a line break, where
// there most likely was none. Line breaks inside a folded value, LF as Postfix sends
// them, become CRLF.
func (c *content) header(name, value string, leadSpace bool) {
	if !fieldName(name) {
		return // not a header field the MTA would pass on; it sends none such
	}
	value = safelyFolded(value)
	if strings.EqualFold(name, "Subject") && c.subject == nil {
		c.subject = &value
	}
	sep := ""
	if !leadSpace && value != "" && !strings.ContainsRune("\t\r\n", rune(value[0])) {
		sep = " "
	}
	c.write(name + ":" + sep + crlf(value) + "\r\n")
}

// fieldName reports whether name is a header field name (RFC 5322 section 2.2).
func fieldName(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < '!' || c > '~' || c == ':' {
			return false
		}
	}
	return name != ""
}

// safelyFolded makes value safe as a folded header field value: a bare CR becomes a space, an
// empty line inside it is dropped (it would end the header section), and a line that does
// not begin with white space gets a space (it would start a field of its own). Values as
// MTAs send them come through unchanged.
func safelyFolded(value string) string {
	if !strings.ContainsAny(value, "\r\n") {
		return value
	}
	value = strings.ReplaceAll(strings.ReplaceAll(value, "\r\n", "\n"), "\r", " ")
	lines := strings.Split(value, "\n")
	out := lines[:1]
	for _, l := range lines[1:] {
		switch {
		case l == "":
			continue
		case l[0] != ' ' && l[0] != '\t':
			l = " " + l
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
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
		c.store(chunk)
	}
}

func (c *content) write(s string) {
	if c.room(len(s)) {
		c.store([]byte(s))
	}
}

func (c *content) store(b []byte) {
	if _, err := c.buffer().Write(b); err != nil && c.err == nil {
		c.err = err
	}
}

// room reports whether n more bytes fit; when they do not, it drops what it has.
func (c *content) room(n int) bool {
	if c.over || c.err != nil {
		return false
	}
	if c.buffer().Len()+int64(n) > c.max {
		c.over = true
		c.buf.Close()
		return false
	}
	return true
}

// stored returns the message's content, or an error wrapping quarantine.ErrTooLarge, or
// the error that kept it from being stored.
func (c *content) stored() (*spool.Buffer, error) {
	if c.over {
		return nil, fmt.Errorf("%w: more than %d bytes", quarantine.ErrTooLarge, c.max)
	}
	c.endHeader()
	if c.err != nil {
		return nil, c.err
	}
	return c.buffer(), nil
}

// raw reads the message's content from its start (see stored).
func (c *content) raw() (io.Reader, error) {
	b, err := c.stored()
	if err != nil {
		return nil, err
	}
	return b.Reader()
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
	return smtptext.HeaderText(*c.subject, maxSubject)
}
