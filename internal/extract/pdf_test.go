package extract

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const pageText = `BT /F1 12 Tf 72 720 Td (Patient: John Doe) Tj 0 -14 Td (Diagnosis \(ICD-10\): E11.9) Tj
T* [(Pass) -20 (word) -400 (hunter2)] TJ
<48656C6C6F2C20776F726C64> Tj
(caf\351 \\ back\
slash) '
ET`

const wantText = "Patient: John Doe\nDiagnosis (ICD-10): E11.9\nPassword hunter2Hello, world\ncafé \\ backslash\n"

func TestPDFUncompressed(t *testing.T) {
	data := textPDF([]byte(pageText), "")
	if k := Sniff("", data); k != PDF {
		t.Fatalf("sniffed %q", k)
	}
	got, info, err := run(t, data, PDF, Limits{})
	if err != nil || got != wantText || info.Encrypted {
		t.Fatalf("got %q, %+v, %v\nwant %q", got, info, err, wantText)
	}
}

func TestPDFFlate(t *testing.T) {
	got, _, err := run(t, textPDF(flate([]byte(pageText)), "FlateDecode"), PDF, Limits{})
	if err != nil || got != wantText {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestPDFUTF16(t *testing.T) {
	got, _, err := run(t, textPDF([]byte("BT <FEFF00500049004E003A00200031003200330034> Tj ET"), ""), PDF, Limits{})
	if err != nil || got != "PIN: 1234\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// The xref table is not used: a PDF with broken offsets is read by scanning.
func TestPDFBrokenXref(t *testing.T) {
	data := makePDF([]pdfObj{
		{dict: "<< /Type /Catalog >>"},
		{dict: "/Filter /FlateDecode", stream: flate([]byte("BT (SECRET//NOFORN) Tj ET"))},
	}, "", true)
	got, _, err := run(t, data, PDF, Limits{})
	if err != nil || got != "SECRET//NOFORN\n" {
		t.Fatalf("got %q, %v", got, err)
	}
	// Without any xref or trailer at all.
	cut := data[:bytes.Index(data, []byte("xref"))]
	got, _, err = run(t, cut, PDF, Limits{})
	if err != nil || got != "SECRET//NOFORN\n" {
		t.Fatalf("no xref: got %q, %v", got, err)
	}
}

func TestPDFEncrypted(t *testing.T) {
	data := makePDF([]pdfObj{
		{dict: "<< /Type /Catalog >>"},
		{dict: "", stream: []byte("\x8a\x91garbled")},
		{dict: "<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>"},
	}, "/Encrypt 3 0 R /ID [<01><01>]", false)
	got, info, err := run(t, data, PDF, Limits{})
	if !errors.Is(err, ErrEncrypted) || !info.Encrypted || got != "" {
		t.Fatalf("got %q, %+v, %v", got, info, err)
	}
}

func TestPDFNotRead(t *testing.T) {
	imageOnly := makePDF([]pdfObj{{dict: "/Type /XObject /Subtype /Image /Filter /DCTDecode", stream: []byte("\xff\xd8\xff\xe0")}}, "", false)
	cidText := textPDF([]byte("BT /F1 1 Tf <0024004800470003> Tj ET"), "")
	badFlate := textPDF([]byte("not zlib at all"), "FlateDecode")
	noEnd := []byte("%PDF-1.4\n1 0 obj << >> stream\nBT (x) Tj ET\n")
	for name, c := range map[string]struct {
		data []byte
		want error
	}{
		"image only":   {imageOnly, ErrUnsupported},
		"cid font":     {cidText, ErrUnsupported},
		"bad flate":    {badFlate, ErrCorrupt},
		"no endstream": {noEnd, ErrCorrupt},
		"no header":    {[]byte("hello"), ErrCorrupt},
	} {
		got, _, err := run(t, c.data, PDF, Limits{})
		if !errors.Is(err, c.want) || got != "" {
			t.Errorf("%s: got %q, %v, want %v", name, got, err, c.want)
		}
	}
}

func TestPDFFlateBomb(t *testing.T) {
	z := flate(make([]byte, 10<<20))
	_, _, err := run(t, textPDF(z, "FlateDecode"), PDF, Limits{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "zip bomb") {
		t.Fatalf("err %v", err)
	}
}

func TestPDFTruncatedText(t *testing.T) {
	content := strings.Repeat("BT (0123456789) Tj ET\n", 100)
	got, info, err := run(t, textPDF([]byte(content), ""), PDF, Limits{MaxText: 25})
	if err != nil || !info.Truncated || got != "0123456789\n0123456789\n012" {
		t.Fatalf("%q %+v %v", got, info, err)
	}
}
