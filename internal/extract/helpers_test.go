package extract

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
	"testing"
)

// entry is one file of a generated zip.
type entry struct {
	name string
	data []byte
	enc  bool // set the encrypted flag
}

func makeZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.enc {
			h.Flags |= 1
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const wordNS = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`

func para(text string) string {
	return `<w:p><w:r><w:t xml:space="preserve">` + text + `</w:t></w:r></w:p>`
}

func makeDocx(t testing.TB, body string, extra ...entry) []byte {
	doc := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ` + wordNS + `><w:body>` + body + `</w:body></w:document>`
	es := []entry{
		{name: "[Content_Types].xml", data: []byte(`<Types/>`)},
		{name: "word/document.xml", data: []byte(doc)},
	}
	return makeZip(t, append(es, extra...)...)
}

func makeXlsx(t testing.TB, rows [][]string) []byte {
	var shared []string
	index := map[string]int{}
	var sheet strings.Builder
	sheet.WriteString(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	for r, row := range rows {
		fmt.Fprintf(&sheet, `<row r="%d">`, r+1)
		for c, v := range row {
			i, ok := index[v]
			if !ok {
				i = len(shared)
				index[v] = i
				shared = append(shared, v)
			}
			fmt.Fprintf(&sheet, `<c r="%c%d" t="s"><v>%d</v></c>`, 'A'+c, r+1, i)
		}
		sheet.WriteString(`</row>`)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	var ss strings.Builder
	ss.WriteString(`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	for _, s := range shared {
		ss.WriteString(`<si><t>` + s + `</t></si>`)
	}
	ss.WriteString(`</sst>`)
	return makeZip(t,
		entry{name: "[Content_Types].xml", data: []byte(`<Types/>`)},
		entry{name: "xl/workbook.xml", data: []byte(`<workbook/>`)},
		entry{name: "xl/sharedStrings.xml", data: []byte(ss.String())},
		entry{name: "xl/worksheets/sheet1.xml", data: []byte(sheet.String())},
	)
}

func makePptx(t testing.TB, slides ...string) []byte {
	es := []entry{
		{name: "[Content_Types].xml", data: []byte(`<Types/>`)},
		{name: "ppt/presentation.xml", data: []byte(`<p:presentation xmlns:p="p"/>`)},
	}
	for i, s := range slides {
		x := `<p:sld xmlns:p="p" xmlns:a="a"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>` + s + `</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`
		es = append(es, entry{name: fmt.Sprintf("ppt/slides/slide%d.xml", i+1), data: []byte(x)})
	}
	return makeZip(t, es...)
}

// pdfObj is one object of a generated PDF: its dictionary and stream.
type pdfObj struct {
	dict   string
	stream []byte
}

// makePDF writes a PDF with the given objects, a correct xref unless
// breakXref, and the trailer's extra entries.
func makePDF(objs []pdfObj, trailer string, breakXref bool) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offs := []int{}
	for i, o := range objs {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n", i+1)
		if o.stream != nil {
			fmt.Fprintf(&b, "<< %s /Length %d >>\nstream\n", o.dict, len(o.stream))
			b.Write(o.stream)
			b.WriteString("\nendstream\n")
		} else {
			b.WriteString(o.dict + "\n")
		}
		b.WriteString("endobj\n")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		if breakXref {
			o += 7
		}
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, trailer, xref)
	return b.Bytes()
}

func flate(p []byte) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write(p)
	w.Close()
	return b.Bytes()
}

// textPDF is a one-page PDF with the given content stream.
func textPDF(content []byte, filter string) []byte {
	dict := ""
	if filter != "" {
		dict = "/Filter /" + filter
	}
	return makePDF([]pdfObj{
		{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		{dict: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
		{dict: "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>"},
		{dict: dict, stream: content},
	}, "", false)
}

// run calls Text on data.
func run(t testing.TB, data []byte, kind Kind, l Limits) (string, Info, error) {
	t.Helper()
	var out bytes.Buffer
	info, err := Text(&out, bytes.NewReader(data), int64(len(data)), kind, l)
	return out.String(), info, err
}
