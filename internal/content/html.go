package content

import (
	"errors"
	"io"

	"golang.org/x/net/html"
)

// maxHTMLToken bounds one HTML token (a tag with its attributes, or a run of
// text between tags); a longer one makes the part "not read".
const maxHTMLToken = 256 << 10

var errHTMLToken = errors.New("an HTML token is longer than 256 KiB")

// htmlText writes the text of an HTML document to w as it is read: text
// between tags, entities decoded, a line break at block elements, nothing
// from script, style, head or comments.
func htmlText(w io.Writer, r io.Reader) error {
	z := html.NewTokenizer(r)
	z.SetMaxBuf(maxHTMLToken)
	skip := 0
	nl := []byte{'\n'}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			err := z.Err()
			if err == io.EOF {
				return nil
			}
			if errors.Is(err, html.ErrBufferExceeded) {
				return errHTMLToken
			}
			return err
		case html.TextToken:
			if skip > 0 {
				continue
			}
			if _, err := w.Write(z.Text()); err != nil {
				return err
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
				"blockquote", "pre", "hr", "section", "article", "header", "footer", "dt", "dd":
				if _, err := w.Write(nl); err != nil {
					return err
				}
			case "td", "th":
				if _, err := w.Write([]byte{'\t'}); err != nil {
					return err
				}
			}
		}
	}
}
