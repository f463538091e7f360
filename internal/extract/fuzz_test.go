package extract

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// fuzzLimits keep each fuzz input cheap.
var fuzzLimits = Limits{MaxInput: 1 << 20, MaxText: 64 << 10, MaxEntries: 50, MaxRatio: 100}

// checkErr fails on an error that is none of the documented kinds.
func checkErr(t *testing.T, data []byte, kind Kind) {
	var out bytes.Buffer
	info, err := Text(&out, bytes.NewReader(data), int64(len(data)), kind, fuzzLimits)
	if int64(out.Len()) > fuzzLimits.MaxText {
		t.Fatalf("%d bytes of text, more than MaxText", out.Len())
	}
	if err == nil {
		return
	}
	for _, e := range []error{ErrTooLarge, ErrEncrypted, ErrUnsupported, ErrCorrupt, io.ErrUnexpectedEOF} {
		if errors.Is(err, e) {
			if errors.Is(err, ErrEncrypted) && !info.Encrypted {
				t.Fatalf("ErrEncrypted without Info.Encrypted: %v", err)
			}
			return
		}
	}
	t.Fatalf("undocumented error: %v", err)
}

// FuzzOOXML fuzzes the XML of the parts (a zip's checksums would make
// mutations of a whole document useless) and the whole file as a zip.
func FuzzOOXML(f *testing.F) {
	f.Add([]byte(`<w:document><w:body>`+para("Password: x")+`<w:tbl><w:tr><w:tc>`+para("a")+`</w:tc></w:tr></w:tbl></w:body></w:document>`), uint8(0))
	f.Add([]byte(`<worksheet><sheetData><row><c t="s"><v>0</v></c><c t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>`), uint8(1))
	f.Add([]byte(`<sst><si><t>a</t><rPh><t>b</t></rPh></si></sst>`), uint8(2))
	f.Add([]byte(`<p:sld><a:p><a:r><a:t>one</a:t></a:r><a:br/></a:p></p:sld>`), uint8(3))
	f.Add(makeDocx(f, para("whole")), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		types := entry{name: "[Content_Types].xml", data: []byte("<Types/>")}
		var doc []byte
		switch which % 5 {
		case 0:
			doc = makeZip(t, types, entry{name: "word/document.xml", data: data})
		case 1:
			doc = makeZip(t, types, entry{name: "xl/workbook.xml", data: []byte("<w/>")},
				entry{name: "xl/sharedStrings.xml", data: []byte("<sst><si><t>s</t></si></sst>")},
				entry{name: "xl/worksheets/sheet1.xml", data: data})
		case 2:
			doc = makeZip(t, types, entry{name: "xl/workbook.xml", data: []byte("<w/>")},
				entry{name: "xl/sharedStrings.xml", data: data},
				entry{name: "xl/worksheets/sheet1.xml", data: []byte(`<w><row><c t="s"><v>0</v></c></row></w>`)})
		case 3:
			doc = makeZip(t, types, entry{name: "ppt/presentation.xml", data: []byte("<p/>")}, entry{name: "ppt/slides/slide1.xml", data: data})
		default:
			doc = data
		}
		checkErr(t, doc, Zip)
	})
}

func FuzzPDF(f *testing.F) {
	f.Add(textPDF([]byte(pageText), ""))
	f.Add(textPDF(flate([]byte(pageText)), "FlateDecode"))
	f.Add(makePDF([]pdfObj{{dict: "<< >>"}}, "/Encrypt 1 0 R", false))
	f.Add([]byte("%PDF-1.4\n1 0 obj << /Length 5 >> stream\n[(a) 1 (b)] TJ <4 1> Tj (\\101\\\n) ' ID x EI\nendstream"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkErr(t, data, PDF)
	})
}

func FuzzZip(f *testing.F) {
	inner := makeZip(f, entry{name: "a.txt", data: []byte("inner")})
	f.Add(makeZip(f, entry{name: "x.kdbx", data: []byte{1, 2}}, entry{name: "in.zip", data: inner}, entry{name: "s.txt", data: []byte("s"), enc: true}))
	f.Add(makeZip(f, entry{name: "doc.pdf", data: textPDF([]byte(pageText), "")}))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkErr(t, data, Zip)
		Sniff("f.bin", data)
	})
}
