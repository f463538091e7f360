package content

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/net/html"
)

// refHTMLText is htmlText as it was, on golang.org/x/net/html's tokenizer: what the
// reader of our own must give (TestHTMLTextAgrees, FuzzHTMLText).
func refHTMLText(w io.Writer, r io.Reader) error {
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

// htmlPieces are the bits random documents are made of: tags with every kind of
// attribute, text with entities, comments of every shape, declarations, the raw text
// elements with tags and near end tags inside, CRs and NULs.
var htmlPieces = []string{
	"<p>", "</p>", "<P CLASS=x>", "<div style=\"a>b\">", "<br/>", "<br />", "<img src=a/>", "<img alt='x/'/>",
	"<a href=\"x\" href=y>", "<td>", "</TD>", "<th>", "<tr>", "<table border=1>", "<li>", "<h1>", "</H1>",
	"<span =x>", "<b a = \"1\" c='2' d=3 e>", "<p a=/>", "<x-y z>", "<head>", "</head>", "<head/>",
	"<script>", "</script>", "<SCRIPT type=text/javascript>", "</script >", "</scripts>", "</scr", "<script/>",
	"<style>", "</style>", "<title>", "</title>", "<title/>", "<textarea>", "</textarea>", "<noscript>",
	"</noscript>", "<xmp>", "</xmp>", "<iframe>", "</iframe>", "<plaintext>",
	"<!-- a comment -->", "<!---->", "<!-->", "<!--->", "<!-- x --!>", "<!-- - -- >x-->", "<!--a--!-b-->",
	"<!DOCTYPE html>", "<!doctype x>", "<?xml version=\"1.0\"?>", "<![CDATA[x]]>", "</>", "</ x>", "</1>",
	"<", "< p>", "<1>", "a < b", "x<", "&amp;", "&lt;b&gt;", "&nbsp;", "&eacute;", "&#39;", "&#x41;", "&copy",
	"&amp", "&", "&#;", "&notanentity;", "Password: x7!kQ", "hello world", "Ünïcode ☃", "\r\n", "\r", "\n",
	"\x00", "\t", " ", "a=b", "'", "\"", "/", ">", "-->", "--",
}

func randomHTML(rnd *rand.Rand, pieces int) string {
	var b strings.Builder
	for range pieces {
		b.WriteString(htmlPieces[rnd.Intn(len(htmlPieces))])
	}
	s := b.String()
	if rnd.Intn(4) == 0 {
		s = s[:rnd.Intn(len(s)+1)] // cut anywhere: inside a tag, a comment, a raw text
	}
	return s
}

// scriptEscapes says whether s may put a script in the escaped states a browser (and
// x/net's tokenizer) applies after "<!--" inside it, where the two readers differ on
// purpose (htmlText's doc comment).
func scriptEscapes(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "<script") && strings.Contains(l, "<!--")
}

func runHTML(t testing.TB, f func(io.Writer, io.Reader) error, r io.Reader) (string, error) {
	var out bytes.Buffer
	err := f(&out, r)
	return out.String(), err
}

// TestHTMLTextAgrees holds htmlText to the tokenizer it replaced on random documents,
// read whole, in halves and a byte at a time: the same text, the same errors.
func TestHTMLTextAgrees(t *testing.T) {
	rnd := rand.New(rand.NewSource(3))
	for n := 0; n < 20000; n++ {
		doc := randomHTML(rnd, 1+rnd.Intn(30))
		if scriptEscapes(doc) {
			continue
		}
		want, werr := runHTML(t, refHTMLText, strings.NewReader(doc))
		for name, r := range map[string]io.Reader{
			"whole":   strings.NewReader(doc),
			"halves":  iotest.HalfReader(strings.NewReader(doc)),
			"onebyte": iotest.OneByteReader(strings.NewReader(doc)),
		} {
			got, err := runHTML(t, htmlText, r)
			if got != want || (err == nil) != (werr == nil) {
				t.Fatalf("%s: %q:\n got %q, %v\nwant %q, %v", name, doc, got, err, want, werr)
			}
		}
	}
}

// TestHTMLTextTokenLimit: a tag, comment or run of text longer than maxHTMLToken makes
// the part not read, as before; a long document of short tokens is read.
func TestHTMLTextTokenLimit(t *testing.T) {
	for _, doc := range []string{
		"<p title=\"" + strings.Repeat("x", maxHTMLToken+10) + "\">",
		"<!--" + strings.Repeat("x", maxHTMLToken+10) + "-->",
		strings.Repeat("x", maxHTMLToken+10),
		"<script>" + strings.Repeat("x", maxHTMLToken+10) + "</script>",
	} {
		if _, err := runHTML(t, htmlText, strings.NewReader(doc)); !errors.Is(err, errHTMLToken) {
			t.Errorf("%.20q...: %v", doc, err)
		}
	}
	long := strings.Repeat("<p>Password: x7!kQ2</p>\n", 100000)
	got, err := runHTML(t, htmlText, strings.NewReader(long))
	if err != nil || strings.Count(got, "Password: x7!kQ2") != 100000 {
		t.Errorf("long document: %v, %d lines", err, strings.Count(got, "Password"))
	}
}

// FuzzHTMLText: any input ends without a panic, and gives the tokenizer's text.
func FuzzHTMLText(f *testing.F) {
	rnd := rand.New(rand.NewSource(9))
	for range 20 {
		f.Add(randomHTML(rnd, 20))
	}
	f.Fuzz(func(t *testing.T, doc string) {
		got, err := runHTML(t, htmlText, strings.NewReader(doc))
		if scriptEscapes(doc) {
			return
		}
		want, werr := runHTML(t, refHTMLText, strings.NewReader(doc))
		if got != want || (err == nil) != (werr == nil) {
			t.Fatalf("%q:\n got %q, %v\nwant %q, %v", doc, got, err, want, werr)
		}
	})
}

// BenchmarkHTMLText compares the reader with the tokenizer it replaced on an HTML mail of
// about 50 KB.
func BenchmarkHTMLText(b *testing.B) {
	var doc strings.Builder
	doc.WriteString("<html><head><style>p { margin: 0 }</style></head><body>")
	for doc.Len() < 50<<10 {
		doc.WriteString(`<p style="margin:0;font-family:Calibri">The quarterly budget review &amp; the shipping schedule are attached.</p>` +
			"\r\n<table><tr><td class=\"x\">Invoice</td><td>EUR 1,440.00</td></tr></table>\r\n")
	}
	doc.WriteString("</body></html>")
	for _, bc := range []struct {
		name string
		f    func(io.Writer, io.Reader) error
	}{{"htmlText", htmlText}, {"x-net-html", refHTMLText}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(doc.Len()))
			for b.Loop() {
				if err := bc.f(io.Discard, strings.NewReader(doc.String())); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
