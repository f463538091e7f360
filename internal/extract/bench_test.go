package extract

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

func benchText(b *testing.B, data []byte, kind Kind) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Text(io.Discard, bytes.NewReader(data), int64(len(data)), kind, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDocx reads a ~1 MB docx (compressed size; MB/s of the attachment).
func BenchmarkDocx(b *testing.B) {
	var body strings.Builder
	for i := 0; body.Len() < 20<<20; i++ {
		body.WriteString(para(fmt.Sprintf("Paragraph %d: the quarterly figures for region %d were reviewed on %d March.", i, i%97, i%28+1)))
	}
	data := makeDocx(b, body.String())
	b.Logf("docx: %d bytes", len(data))
	benchText(b, data, Docx)
}

// BenchmarkPDF reads a ~1 MB PDF of Flate content streams.
func BenchmarkPDF(b *testing.B) {
	var objs []pdfObj
	size := 0
	for p := 0; size < 1<<20; p++ {
		var c strings.Builder
		c.WriteString("BT /F1 10 Tf 72 720 Td\n")
		for l := 0; l < 60; l++ {
			fmt.Fprintf(&c, "(Line %d of page %d: shipment %d left the depot at %02d:%02d.) Tj 0 -12 Td\n", l, p, p*60+l, l%24, p%60)
			fmt.Fprintf(&c, "[(Ref) -300 (%08X)] TJ T*\n", p*l)
		}
		c.WriteString("ET\n")
		z := flate([]byte(c.String()))
		size += len(z)
		objs = append(objs, pdfObj{dict: "/Filter /FlateDecode", stream: z})
	}
	data := makePDF(objs, "", false)
	b.Logf("pdf: %d bytes", len(data))
	benchText(b, data, PDF)
}
