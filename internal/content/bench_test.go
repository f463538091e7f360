package content

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// mixedCorpus generates messages of about 50 KB: plain text, HTML, and
// base64 attachments (CSV, and binary that the extractor seam gets).
func mixedCorpus(n int) [][]byte {
	rnd := rand.New(rand.NewSource(13))
	words := strings.Fields("the meeting budget invoice project team review quarter shipping order report please thanks regards schedule customer contract delivery update figures office")
	para := func(words int) string {
		var b strings.Builder
		for i := 0; i < words; i++ {
			if i > 0 {
				if i%12 == 0 {
					b.WriteString("\r\n")
				} else {
					b.WriteByte(' ')
				}
			}
			b.WriteString(wordsAt(rnd, words))
		}
		return b.String()
	}
	_ = words
	var out [][]byte
	for i := 0; i < n; i++ {
		var m bytes.Buffer
		fmt.Fprintf(&m, "From: a%d@example.com\r\nTo: b@example.net\r\nSubject: report %d\r\nMIME-Version: 1.0\r\n", i, i)
		switch i % 3 {
		case 0:
			m.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n")
			m.WriteString(para(7000))
		case 1:
			m.WriteString("Content-Type: text/html; charset=utf-8\r\n\r\n<html><body>")
			for j := 0; j < 60; j++ {
				fmt.Fprintf(&m, "<p style=\"margin:0\">%s</p><table><tr><td>%d</td><td>EUR %d.00</td></tr></table>\r\n", para(100), j, j*7)
			}
			m.WriteString("</body></html>\r\n")
		case 2:
			m.WriteString("Content-Type: multipart/mixed; boundary=bb\r\n\r\n--bb\r\nContent-Type: text/plain\r\n\r\n")
			m.WriteString(para(2000))
			var csv strings.Builder
			csv.WriteString("item,qty,price\r\n")
			for j := 0; j < 400; j++ {
				fmt.Fprintf(&csv, "widget %d,%d,%d.99\r\n", j, j%9, j%50)
			}
			m.WriteString("\r\n--bb\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=\"items.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
			m.WriteString(wrap(base64.StdEncoding.EncodeToString([]byte(csv.String()))))
			var lines []string
			for j := 0; j < 80; j++ {
				lines = append(lines, para(12))
			}
			m.WriteString("\r\n--bb\r\nContent-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document\r\nContent-Disposition: attachment; filename=\"report.docx\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
			m.WriteString(wrap(base64.StdEncoding.EncodeToString(docx(nil, lines...))))
			m.WriteString("\r\n--bb\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"scan.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
			m.WriteString(wrap(base64.StdEncoding.EncodeToString(simplePDF(lines))))
			m.WriteString("\r\n--bb--\r\n")
		}
		out = append(out, m.Bytes())
	}
	return out
}

var benchWords = strings.Fields("the meeting budget invoice project team review quarter shipping order report please thanks regards schedule customer contract delivery update figures office 2024 12 March Q3 +44 20 7946 0958 EUR 1,440.00 done.")

func wordsAt(rnd *rand.Rand, _ int) string { return benchWords[rnd.Intn(len(benchWords))] }

func wrap(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76])
		b.WriteString("\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

// BenchmarkClassify reports throughput in MB/s on the mixed corpus.
func BenchmarkClassify(b *testing.B) {
	c := classifier(b, Config{})
	corpus := mixedCorpus(30)
	total := 0
	for _, m := range corpus {
		total += len(m)
	}
	b.SetBytes(int64(total / len(corpus)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := c.Classify(context.Background(), bytes.NewReader(corpus[i%len(corpus)]))
		if r.Skipped {
			b.Fatalf("skipped: %+v", r.NotRead)
		}
	}
}

// TestMixedCorpusIsClean keeps the benchmark honest: its messages are
// ordinary and must trigger nothing.
func TestMixedCorpusIsClean(t *testing.T) {
	c := classifier(t, Config{})
	for i, m := range mixedCorpus(6) {
		if r := c.Classify(context.Background(), bytes.NewReader(m)); len(r.Findings) != 0 || len(r.NotRead) != 0 || r.Skipped {
			t.Errorf("message %d: %+v", i, r)
		}
	}
}

// simplePDF is a one-page PDF whose text is the lines (testenv.SimplePDF).
var simplePDF = testenv.SimplePDF
