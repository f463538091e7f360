package extract

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDocxParagraphsTableHeaders(t *testing.T) {
	body := para("Quarterly plan") +
		`<w:tbl><w:tr><w:tc>` + para("Password:") + `</w:tc><w:tc>` + para("hunter2 &amp; more") + `</w:tc></w:tr>` +
		`<w:tr><w:tc>` + para("PIN") + `</w:tc><w:tc>` + para("4711") + `</w:tc></w:tr></w:tbl>` +
		para("Regards")
	hdr := `<w:hdr ` + wordNS + `>` + para("CUI//SP-PRVCY") + `</w:hdr>`
	cmt := `<w:comments ` + wordNS + `><w:comment>` + para("see ssn") + `</w:comment></w:comments>`
	data := makeDocx(t, body, entry{name: "word/header1.xml", data: []byte(hdr)}, entry{name: "word/comments.xml", data: []byte(cmt)})
	for _, kind := range []Kind{Docx, Zip, Sniff("a.bin", data)} {
		got, info, err := run(t, data, kind, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		want := "Quarterly plan\nPassword:\thunter2 & more\nPIN\t4711\nRegards\nCUI//SP-PRVCY\nsee ssn\n"
		if got != want {
			t.Fatalf("%s: got %q, want %q", kind, got, want)
		}
		if info.Encrypted || info.Truncated {
			t.Fatalf("info %+v", info)
		}
	}
}

func TestDocxTruncated(t *testing.T) {
	var body strings.Builder
	for i := 0; i < 200; i++ {
		body.WriteString(para(fmt.Sprintf("line %03d of a long document", i)))
	}
	got, info, err := run(t, makeDocx(t, body.String()), Docx, Limits{MaxText: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Truncated || len(got) != 100 || !strings.HasPrefix(got, "line 000 of a long document\nline 001") {
		t.Fatalf("truncated=%v len=%d %q", info.Truncated, len(got), got)
	}
}

func TestDocxWithoutDocument(t *testing.T) {
	data := makeZip(t, entry{name: "word/other.xml", data: []byte("<x/>")})
	if _, _, err := run(t, data, Docx, Limits{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err %v, want ErrCorrupt", err)
	}
	// The same read as "zip" is an archive: its names.
	got, _, err := run(t, data, Zip, Limits{})
	if err != nil || got != "word/other.xml\n<x/>\n" {
		t.Fatalf("%q %v", got, err)
	}
}

func TestDocxBadXML(t *testing.T) {
	data := makeZip(t, entry{name: "[Content_Types].xml", data: []byte("<Types/>")},
		entry{name: "word/document.xml", data: []byte("<w:document><w:body><w:p><w:t>ok</w:t></w:p><w:p")})
	_, _, err := run(t, data, Zip, Limits{})
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "docx: word/document.xml") {
		t.Fatalf("err %v", err)
	}
}

func TestXlsx500Rows(t *testing.T) {
	rows := [][]string{{"Name", "Street", "City"}}
	for i := 1; i < 500; i++ {
		rows = append(rows, []string{fmt.Sprintf("Person %d", i), fmt.Sprintf("%d Main Street", i), "Springfield"})
	}
	data := makeXlsx(t, rows)
	got, info, err := run(t, data, Zip, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Rows != 500 {
		t.Fatalf("Rows %d, want 500", info.Rows)
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 500 || lines[0] != "Name\tStreet\tCity" || lines[499] != "Person 499\t499 Main Street\tSpringfield" {
		t.Fatalf("%d lines, first %q last %q", len(lines), lines[0], lines[len(lines)-1])
	}
}

func TestXlsxInlineAndNumbers(t *testing.T) {
	sheet := `<worksheet><sheetData><row><c t="inlineStr"><is><t>IBAN</t></is></c><c><v>42</v></c><c t="s"><v>99</v></c></row><row><c/></row></sheetData></worksheet>`
	data := makeZip(t, entry{name: "[Content_Types].xml", data: []byte("<Types/>")},
		entry{name: "xl/workbook.xml", data: []byte("<workbook/>")},
		entry{name: "xl/worksheets/sheet1.xml", data: []byte(sheet)})
	got, info, err := run(t, data, Xlsx, Limits{})
	if err != nil || got != "IBAN\t42\n" || info.Rows != 1 {
		t.Fatalf("%q %+v %v", got, info, err)
	}
}

func TestPptxSlidesInOrder(t *testing.T) {
	slides := make([]string, 11)
	for i := range slides {
		slides[i] = fmt.Sprintf("slide %d", i+1)
	}
	got, _, err := run(t, makePptx(t, slides...), Zip, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Join(slides, "\n") + "\n"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestOfficeBomb(t *testing.T) {
	zeros := make([]byte, 20<<20)
	data := makeZip(t, entry{name: "[Content_Types].xml", data: []byte("<Types/>")}, entry{name: "word/document.xml", data: zeros})
	start := time.Now()
	_, _, err := run(t, data, Zip, Limits{})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v, want ErrTooLarge", err)
	}
	if want := "docx: word/document.xml: zip entry inflates past 100x its size (a zip bomb?)"; !strings.Contains(err.Error(), want) {
		t.Fatalf("err %q does not say %q", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}
