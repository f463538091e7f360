package extract

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"testing/iotest"
)

// scanTokens lists what xmlScan gives, as text: "<name a=v>", "</name>", and
// the text between tags joined ("\r\n" as "\n", as encoding/xml gives it).
// Attributes listed are those named in attrs.
func scanTokens(r io.Reader, attrs ...string) ([]string, error) {
	s := newXMLScan(r)
	var out []string
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			out = append(out, strings.ReplaceAll(text.String(), "\r\n", "\n"))
			text.Reset()
		}
	}
	for {
		t, err := s.next()
		if err == io.EOF {
			flush()
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t.kind {
		case xmlText:
			text.Write(t.text)
		case xmlStart:
			flush()
			tag := "<" + t.name
			for _, a := range attrs {
				if v, ok := t.attr(a); ok {
					tag += " " + a + "=" + v
				}
			}
			out = append(out, tag+">")
		case xmlEnd:
			flush()
			out = append(out, "</"+t.name+">")
		}
	}
}

// refTokens is scanTokens by encoding/xml.
func refTokens(data []byte, attrs ...string) ([]string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var out []string
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			out = append(out, text.String())
			text.Reset()
		}
	}
	for {
		t, err := d.RawToken()
		if err == io.EOF {
			flush()
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t := t.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.StartElement:
			flush()
			tag := "<" + t.Name.Local
			for _, a := range attrs {
				for _, at := range t.Attr {
					if at.Name.Local == a {
						tag += " " + a + "=" + at.Value
						break
					}
				}
			}
			out = append(out, tag+">")
		case xml.EndElement:
			flush()
			out = append(out, "</"+t.Name.Local+">")
		}
	}
}

// randomXML is a well-formed Office-like part: namespaced elements, attributes
// with entities and '>' in their values, self-closing tags, text with
// entities and character references, comments, a CDATA section, CRLFs.
func randomXML(rnd *rand.Rand, size int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\r\n")
	b.WriteString(`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	texts := []string{"Password: x7!kQ", "a &amp; b", "&lt;tag&gt;", "caf&#233; &#x20AC;5", "q&quot;&apos;", "line\r\nbreak",
		"  ", "Ünïcode ☃", "", "4111 1111 1111 1111", "a&amp;amp;b"}
	for b.Len() < size {
		switch rnd.Intn(6) {
		case 0:
			fmt.Fprintf(&b, `<w:p w:rsidR="00%d"><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, rnd.Intn(999), texts[rnd.Intn(len(texts))])
		case 1:
			fmt.Fprintf(&b, `<w:tab/><w:br w:type="page" /><c r="A%d" t="%s"><v>%d</v></c>`, rnd.Intn(99), []string{"s", "n", "inlineStr"}[rnd.Intn(3)], rnd.Intn(50))
		case 2:
			b.WriteString(`<!-- a comment with <w:t>no text</w:t> -->`)
		case 3:
			fmt.Fprintf(&b, `<w:t><![CDATA[raw <b>&amp; %d]]></w:t>`, rnd.Intn(9))
		case 4:
			b.WriteString(`<w:tbl><w:tr><w:tc a="x &gt; y" b='1>0'><w:p><w:t>cell</w:t></w:p></w:tc></w:tr></w:tbl>`)
		case 5:
			b.WriteString("\r\n  ")
		}
	}
	b.WriteString(`</w:body></w:document>`)
	return b.Bytes()
}

// TestXMLScanAgrees holds xmlScan to encoding/xml on random well-formed parts,
// read whole, one byte at a time, and in odd pieces (tags, entities and CDATA
// cut by the buffer's end).
func TestXMLScanAgrees(t *testing.T) {
	rnd := rand.New(rand.NewSource(5))
	for i := 0; i < 200; i++ {
		data := randomXML(rnd, 200+rnd.Intn(200000))
		want, err := refTokens(data, "t", "type", "a", "b")
		if err != nil {
			t.Fatalf("encoding/xml: %v", err)
		}
		readers := map[string]io.Reader{
			"whole":   bytes.NewReader(data),
			"halves":  iotest.HalfReader(bytes.NewReader(data)),
			"odd":     &oddReader{data: data, rnd: rand.New(rand.NewSource(int64(i)))},
			"onebyte": iotest.OneByteReader(bytes.NewReader(data)),
		}
		for name, r := range readers {
			if name == "onebyte" && len(data) > 20000 {
				continue
			}
			got, err := scanTokens(r, "t", "type", "a", "b")
			if err != nil {
				t.Fatalf("%d %s: %v", i, name, err)
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				for k := range min(len(got), len(want)) {
					if got[k] != want[k] {
						t.Fatalf("%d %s: token %d: got %q, want %q", i, name, k, got[k], want[k])
					}
				}
				t.Fatalf("%d %s: %d tokens, want %d", i, name, len(got), len(want))
			}
		}
	}
}

// oddReader gives its data in pieces of random sizes.
type oddReader struct {
	data []byte
	rnd  *rand.Rand
}

func (r *oddReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(r.data), 1+r.rnd.Intn(300))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// TestXMLScanErrors: what is not XML is an error, never a token soup or a hang.
func TestXMLScanErrors(t *testing.T) {
	for _, in := range []string{"<w:t>open", "<w:p attr='x", "<!-- no end", "<![CDATA[ no end", "<?xml no end", "< w:t>", "<1a>", "<>",
		"<a>" + strings.Repeat("x", 100) + "<b " + strings.Repeat("y", maxXMLTag+10)} {
		_, err := scanTokens(strings.NewReader(in))
		if err == nil && !strings.HasPrefix(in, "<w:t>open") {
			t.Errorf("%.40q: no error", in)
		}
		if err != nil && !errors.Is(err, errXMLSyntax) && !errors.Is(err, errXMLTooLong) {
			t.Errorf("%.40q: %v", in, err)
		}
	}
	// Text left at the end is text: "<w:t>open" is a start tag and its text.
	if got, err := scanTokens(strings.NewReader("<w:t>open")); err != nil || strings.Join(got, "|") != "<t>|open" {
		t.Errorf("open text: %q %v", got, err)
	}
}

// FuzzXMLScan: any input ends (tokens or an error) without a panic, and input
// encoding/xml reads gives the same tokens.
func FuzzXMLScan(f *testing.F) {
	f.Add([]byte(`<w:p><w:t a="1&amp;2">x &lt; y</w:t><w:br/></w:p>`))
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x><![CDATA[<]]><!--c--></x>`))
	f.Add(randomXML(rand.New(rand.NewSource(1)), 2000))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := scanTokens(bytes.NewReader(data), "a", "t")
		want, rerr := refTokens(data, "a", "t")
		if err != nil || rerr != nil || !utf8Valid(data) || bytes.Contains(data, []byte("<!")) || bytes.ContainsRune(data, '\r') || oddNames(data) {
			// Only well-formed plain input is compared: DOCTYPEs, CRs and names with an
			// empty prefix or local part ("<:a>", "<a:>") are read differently on purpose.
			return
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

func oddNames(data []byte) bool {
	for i, c := range data {
		if c == ':' && (i == 0 || i+1 == len(data) || !nameByte(data[i-1]) || !nameStart(data[i+1])) {
			return true
		}
	}
	return bytes.Count(data, []byte(":")) > bytes.Count(data, []byte("<"))
}

func nameByte(c byte) bool { return nameStart(c) || c >= '0' && c <= '9' || c == '-' || c == '.' }

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "") == string(b) }

// BenchmarkXMLScan compares xmlScan with encoding/xml's RawToken on a 1 MB
// word/document.xml-like part.
func BenchmarkXMLScan(b *testing.B) {
	data := randomXML(rand.New(rand.NewSource(3)), 1<<20)
	b.Run("xmlScan", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			s := newXMLScan(bytes.NewReader(data))
			for {
				if _, err := s.next(); err != nil {
					break
				}
			}
		}
	})
	b.Run("encoding-xml", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			d := xml.NewDecoder(bytes.NewReader(data))
			for {
				if _, err := d.RawToken(); err != nil {
					break
				}
			}
		}
	})
}
