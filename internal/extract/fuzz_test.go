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

func FuzzOOXML(f *testing.F) {
	f.Add(makeDocx(f, para("Password: x")+`<w:tbl><w:tr><w:tc>`+para("a")+`</w:tc></w:tr></w:tbl>`))
	f.Add(makeXlsx(f, [][]string{{"a", "b"}, {"c", "d"}}))
	f.Add(makePptx(f, "one", "two"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkErr(t, data, Zip)
		checkErr(t, data, Docx)
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
