package content

import (
	"bytes"
	"errors"
	"io"

	"golang.org/x/net/html"
)

// maxHTMLToken bounds one HTML token (a tag with its attributes, a comment, or a run of
// text between tags); a longer one makes the part "not read".
const maxHTMLToken = 256 << 10

var errHTMLToken = errors.New("an HTML token is longer than 256 KiB")

// htmlText writes the text of an HTML document to w as it is read: text between tags,
// entities decoded, a line break at block elements and a tab at table cells, nothing from
// script, style, head, title or comments.
//
// It reads the document token by token with the rules of golang.org/x/net/html's
// tokenizer, which it replaced at about twice the speed (BenchmarkHTMLText): where a tag ends (quoted
// attribute values, self-closing tags), comments (<!-->, --!>), declarations, and the
// raw text of script, style, textarea, title and the like, which runs to its end tag.
// TestHTMLTextAgrees holds the two to the same text. One difference is on purpose: a
// script ends at its first </script>, without the escaping rules a browser applies after
// <!-- inside it, so that the text after it is read (and maybe matched), never hidden.
func htmlText(w io.Writer, r io.Reader) error {
	h := htmlScan{r: r, w: w, buf: make([]byte, 0, 32<<10)}
	return h.run()
}

type htmlScan struct {
	r    io.Reader
	w    io.Writer
	buf  []byte
	pos  int  // the next byte of buf to read
	eof  bool // r is at its end
	skip int  // inside script, style, head or title
	raw  string
	out  []byte // scratch for a text token
}

// fill reads more of the document behind buf[pos:]; it reports whether any came.
func (h *htmlScan) fill() (bool, error) {
	if h.eof {
		return false, nil
	}
	if h.pos > 0 {
		n := copy(h.buf, h.buf[h.pos:])
		h.buf, h.pos = h.buf[:n], 0
	}
	if len(h.buf) > maxHTMLToken {
		return false, errHTMLToken
	}
	if len(h.buf) == cap(h.buf) {
		h.buf = append(h.buf, make([]byte, cap(h.buf))...)[:len(h.buf)]
	}
	n, err := h.r.Read(h.buf[len(h.buf):cap(h.buf)])
	h.buf = h.buf[:len(h.buf)+n]
	switch {
	case err == io.EOF:
		h.eof = true
	case err != nil:
		return n > 0, err
	}
	return n > 0 || !h.eof, nil
}

func (h *htmlScan) run() error {
	for {
		if h.raw != "" {
			if err := h.rawText(); err != nil {
				return err
			}
			continue
		}
		end, err := h.textEnd()
		if err != nil {
			return err
		}
		if end-h.pos > maxHTMLToken {
			return errHTMLToken
		}
		if end > h.pos {
			if err := h.text(h.buf[h.pos:end], true, false); err != nil {
				return err
			}
			h.pos = end
		}
		if h.pos >= len(h.buf) {
			return nil // the end of the document
		}
		done, err := h.markup()
		if err != nil || done {
			return err
		}
	}
}

// textEnd is where the text from pos ends: at a '<' that starts a tag, an end tag, a
// comment or a declaration, or at the end of the document.
func (h *htmlScan) textEnd() (int, error) {
	from := h.pos
	for {
		i := bytes.IndexByte(h.buf[from:], '<')
		if i >= 0 {
			at := from + i
			if at+1 < len(h.buf) {
				if c := h.buf[at+1]; isLetter(c) || c == '/' || c == '!' || c == '?' {
					return at, nil
				}
				from = at + 1 // a '<' of the text
				continue
			}
			from = at // the byte after '<' is not here yet
		} else {
			from = len(h.buf)
		}
		if h.eof {
			return len(h.buf), nil
		}
		from -= h.pos
		more, err := h.fill()
		if err != nil {
			return 0, err
		}
		from += h.pos
		if !more {
			return len(h.buf), nil
		}
	}
}

// markup reads the tag, end tag, comment or declaration at pos ("<" and a letter, '/',
// '!' or '?'). done says that the document ends inside it.
func (h *htmlScan) markup() (done bool, err error) {
	for {
		b := h.buf[h.pos:]
		var n int   // the markup's length when whole
		ok := false // it is whole in b
		atEOF := h.eof
		switch c := b[1]; {
		case isLetter(c):
			if read, err := h.tag(b, 1); read || err != nil {
				return false, err
			}
		case c == '/':
			if len(b) < 3 {
				break
			}
			switch c := b[2]; {
			case c == '>':
				n, ok = 3, true // "</>" is nothing
			case isLetter(c):
				if read, err := h.tag(b, 2); read || err != nil {
					return false, err
				}
			default:
				n, ok = untilAngle(b, 2) // a bogus comment
			}
		case c == '!':
			if len(b) < 4 {
				break
			}
			if b[2] == '-' && b[3] == '-' {
				n, ok = scanComment(b, 4)
			} else {
				n, ok = untilAngle(b, 2) // <!DOCTYPE ...> and other declarations
			}
		default: // '?'
			n, ok = untilAngle(b, 1)
		}
		if ok {
			if n > maxHTMLToken {
				return false, errHTMLToken
			}
			h.pos += n
			return false, nil
		}
		if atEOF {
			// The document ends inside it: the tokenizer stops there, and gives only a
			// "</" at the very end as text.
			if len(b) == 2 && b[1] == '/' {
				return true, h.text(b, true, false)
			}
			return true, nil
		}
		if len(b) > maxHTMLToken {
			return false, errHTMLToken
		}
		if _, err := h.fill(); err != nil {
			return false, err
		}
	}
}

// tagKind is what htmlText does with a tag.
type tagKind uint8

const (
	tagOther tagKind = iota
	tagSkip          // script, style, head, title: their content is not text
	tagBlock         // a line break
	tagCell          // a tab
)

// tagOf tells what a tag named name (any case) is to htmlText, and the name of a raw text
// element (whose content runs to its end tag), "" for others.
func tagOf(name []byte) (kind tagKind, raw string) {
	var lower [16]byte
	if len(name) > len(lower) {
		return tagOther, ""
	}
	for i, c := range name {
		lower[i] = lowerByte(c)
	}
	switch string(lower[:len(name)]) { // no allocation: a comparison with constants
	case "script":
		return tagSkip, "script"
	case "style":
		return tagSkip, "style"
	case "title":
		return tagSkip, "title"
	case "head":
		return tagSkip, ""
	case "iframe":
		return tagOther, "iframe"
	case "noembed":
		return tagOther, "noembed"
	case "noframes":
		return tagOther, "noframes"
	case "noscript":
		return tagOther, "noscript"
	case "plaintext":
		return tagOther, "plaintext"
	case "textarea":
		return tagOther, "textarea"
	case "xmp":
		return tagOther, "xmp"
	case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
		"blockquote", "pre", "hr", "section", "article", "header", "footer", "dt", "dd":
		return tagBlock, ""
	case "td", "th":
		return tagCell, ""
	}
	return tagOther, ""
}

// tag reads the start tag (name at start 1) or end tag (at 2) that b begins with; read
// false when b ends before it does.
func (h *htmlScan) tag(b []byte, start int) (read bool, err error) {
	n, t, ok := scanTag(b, start, start == 1)
	switch {
	case !ok:
		return false, nil
	case n > maxHTMLToken:
		return true, errHTMLToken
	}
	h.pos += n
	if start == 1 {
		return true, h.startTag(b[1:t.nameEnd], t)
	}
	return true, h.endTag(b[2:t.nameEnd])
}

// startTag handles a start tag named name (any case).
func (h *htmlScan) startTag(name []byte, t tagInfo) error {
	kind, raw := tagOf(name)
	if raw != "" {
		h.raw = raw
	}
	if kind == tagSkip && !t.selfClosing {
		h.skip++
		return nil
	}
	return h.blockBreak(kind)
}

// endTag handles an end tag named name (any case).
func (h *htmlScan) endTag(name []byte) error {
	kind, _ := tagOf(name)
	if kind == tagSkip {
		if h.skip > 0 {
			h.skip--
		}
		return nil
	}
	return h.blockBreak(kind)
}

var (
	lineBreak = []byte{'\n'}
	cellBreak = []byte{'\t'}
)

// blockBreak writes a line break for a block element, a tab for a table cell (inside
// skipped elements too, as before).
func (h *htmlScan) blockBreak(kind tagKind) error {
	var err error
	switch kind {
	case tagBlock:
		_, err = h.w.Write(lineBreak)
	case tagCell:
		_, err = h.w.Write(cellBreak)
	}
	return err
}

// rawText reads the raw text of h.raw's element, up to its end tag (left for the main
// loop) or the end of the document.
func (h *htmlScan) rawText() error {
	name := h.raw
	from := h.pos
	for {
		end := -1
		if name != "plaintext" {
			end, from = rawEnd(h.buf, from, name)
		}
		if end >= 0 || h.eof {
			if end < 0 {
				end = len(h.buf)
			}
			h.raw = ""
			if end-h.pos > maxHTMLToken {
				return errHTMLToken
			}
			if end > h.pos {
				// textarea and title decode their entities; the others are as written.
				rcdata := name == "textarea" || name == "title"
				if err := h.text(h.buf[h.pos:end], rcdata, true); err != nil {
					return err
				}
			}
			h.pos = end
			return nil
		}
		if len(h.buf)-h.pos > maxHTMLToken {
			return errHTMLToken
		}
		from -= h.pos
		if _, err := h.fill(); err != nil {
			return err
		}
		from += h.pos
	}
}

// rawEnd finds "</name" and a space, '/' or '>' in b from from, any case: where it starts,
// or -1 and where to look again once more has come.
func rawEnd(b []byte, from int, name string) (end, again int) {
	for {
		i := bytes.Index(b[from:], []byte("</"))
		if i < 0 {
			return -1, max(from, len(b)-1)
		}
		at := from + i
		j := at + 2
		if len(b)-j < len(name)+1 {
			return -1, at
		}
		if asciiFold(b[j:j+len(name)], name) {
			switch b[j+len(name)] {
			case ' ', '\n', '\r', '\t', '\f', '/', '>':
				return at, at
			}
		}
		from = at + 1
	}
}

// text writes a text token unless inside script, style, head or title: entities decoded
// (decode), CR LF and CR as LF, and NUL as U+FFFD in raw text (raw), as the tokenizer
// gives them.
func (h *htmlScan) text(t []byte, decode, raw bool) error {
	if h.skip > 0 {
		return nil
	}
	if bytes.IndexByte(t, '\r') < 0 && (!decode || bytes.IndexByte(t, '&') < 0) && (!raw || bytes.IndexByte(t, 0) < 0) {
		_, err := h.w.Write(t)
		return err
	}
	out := h.out[:0]
	for i := 0; i < len(t); i++ { // CR LF and CR as LF
		c := t[i]
		if c == '\r' {
			c = '\n'
			if i+1 < len(t) && t[i+1] == '\n' {
				i++
			}
		}
		out = append(out, c)
	}
	if raw && bytes.IndexByte(out, 0) >= 0 {
		out = bytes.ReplaceAll(out, []byte{0}, []byte("\uFFFD"))
	}
	if decode && bytes.IndexByte(out, '&') >= 0 {
		out = []byte(html.UnescapeString(string(out))) // the tokenizer's own decoding
	}
	h.out = out[:0]
	_, err := h.w.Write(out)
	return err
}

// tagInfo is what scanTag learns of a tag.
type tagInfo struct {
	nameEnd     int  // the name is b[start:nameEnd]
	selfClosing bool // a start tag ending "/>" (not an unquoted value's "/")
}

// scanTag reads the tag in b whose name starts at start (after "<" or "</"), with the
// tokenizer's rules for attributes: ok false when b ends before the tag does. n is the
// tag's length with its '>'.
func scanTag(b []byte, start int, startTag bool) (n int, t tagInfo, ok bool) {
	j := start
	for ; ; j++ {
		if j >= len(b) {
			return 0, t, false
		}
		if c := b[j]; isHTMLSpace(c) || c == '/' || c == '>' {
			break
		}
	}
	t.nameEnd = j
	if isHTMLSpace(b[j]) {
		j++
	}
	// The attributes, for the self-closing test: the tokenizer keeps the first of each
	// name (any case), and the last one kept must not end on the '/' before '>'.
	var spanBuf [8][3]int // name start, name end, value end
	spans := spanBuf[:0]
	for {
		j = skipHTMLSpace(b, j)
		if j >= len(b) {
			return 0, t, false
		}
		if b[j] == '>' {
			j++
			break
		}
		// The attribute's name: to a space, '/', '>' or '=' (an '=' first is part of it).
		ks := j
		for ; ; j++ {
			if j >= len(b) {
				return 0, t, false
			}
			c := b[j]
			if c == '=' && j == ks {
				continue
			}
			if isHTMLSpace(c) || c == '/' || c == '>' || c == '=' {
				break
			}
		}
		ke := j
		ve := j
		j = skipHTMLSpace(b, j)
		if j >= len(b) {
			return 0, t, false
		}
		switch c := b[j]; {
		case c == '/':
			j++
		case c == '=':
			j = skipHTMLSpace(b, j+1)
			if j >= len(b) {
				return 0, t, false
			}
			switch q := b[j]; q {
			case '>':
			case '"', '\'':
				k := bytes.IndexByte(b[j+1:], q)
				if k < 0 {
					return 0, t, false
				}
				ve = j + 1 + k
				j = ve + 1
			default:
				for j++; ; j++ {
					if j >= len(b) {
						return 0, t, false
					}
					if isHTMLSpace(b[j]) {
						ve = j
						j++
						break
					}
					if b[j] == '>' {
						ve = j
						break
					}
				}
			}
		}
		if startTag && ke > ks {
			spans = append(spans, [3]int{ks, ke, ve})
		}
	}
	// j is past '>': the byte before it is '/', and not the last kept value's last byte.
	t.selfClosing = startTag && b[j-2] == '/' && (len(spans) == 0 || j-2 != lastKept(b, spans)-1)
	return j, t, true
}

// lastKept is the value end of the last attribute whose name (any case) no attribute
// before it has.
func lastKept(b []byte, spans [][3]int) int {
	for i := len(spans) - 1; i >= 0; i-- {
		kept := true
		for _, s := range spans[:i] {
			if sameName(b[s[0]:s[1]], b[spans[i][0]:spans[i][1]]) {
				kept = false
				break
			}
		}
		if kept {
			return spans[i][2]
		}
	}
	return -1 // unreachable: the first is always kept
}

// scanComment reads a comment whose text starts at from (after "<!--"), with the
// tokenizer's rules: it ends at "-->", "--!>", or a '>' right after the opening ("<!-->",
// "<!--->"). ok false when b ends first.
func scanComment(b []byte, from int) (n int, ok bool) {
	dashes, beginning := 0, true
	for j := from; j < len(b); j++ {
		switch b[j] {
		case '-':
			dashes++
			continue
		case '>':
			if dashes >= 2 || beginning {
				return j + 1, true
			}
		case '!':
			if dashes >= 2 {
				j++
				if j >= len(b) {
					return 0, false
				}
				switch b[j] {
				case '>':
					return j + 1, true
				case '-':
					dashes, beginning = 1, false
					continue
				}
			}
		}
		dashes, beginning = 0, false
	}
	return 0, false
}

// untilAngle reads to the next '>' from from: a declaration or a bogus comment.
func untilAngle(b []byte, from int) (n int, ok bool) {
	if i := bytes.IndexByte(b[from:], '>'); i >= 0 {
		return from + i + 1, true
	}
	return 0, false
}

// sameName says whether two attribute names are the same but for the case of ASCII
// letters (the tokenizer's lower case).
func sameName(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lowerByte(a[i]) != lowerByte(b[i]) {
			return false
		}
	}
	return true
}

// lowerByte is c in lower case when it is an ASCII capital.
func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// asciiFold says whether b is name (lower case) with any of its letters in capitals.
func asciiFold(b []byte, name string) bool {
	for i := range len(name) {
		if lowerByte(b[i]) != name[i] {
			return false
		}
	}
	return true
}

func skipHTMLSpace(b []byte, j int) int {
	for j < len(b) && isHTMLSpace(b[j]) {
		j++
	}
	return j
}

func isHTMLSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' }

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
