package scan

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkMbox reads an mbox of 2,000 messages with 20-line headers and 10 KB bodies.
func BenchmarkMbox(b *testing.B) {
	data := benchMbox()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		n := 0
		if err := MboxFormat.New().Read(bytes.NewReader(data), "m", func(Record) { n++ }, func(Problem) {}); err != nil || n != 6000 {
			b.Fatalf("%v, %d records", err, n)
		}
	}
}

// BenchmarkMboxContent reads the same mbox with content checks on and every message
// flagged: each is classified (the worst case of `scan --content on`).
func BenchmarkMboxContent(b *testing.B) {
	data := benchMbox()
	ch := &contentHook{cl: testClassifier(b, 0), flagged: func([]Record) bool { return true }}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		n := 0
		if err := (mboxReader{}).withContent(ch).Read(bytes.NewReader(data), "m", func(r Record) {
			if r.Content != nil {
				n++
			}
		}, func(Problem) {}); err != nil || n != 6000 {
			b.Fatalf("%v, %d records with content", err, n)
		}
	}
}

func benchMbox() []byte {
	var buf bytes.Buffer
	for i := range 2000 {
		fmt.Fprintf(&buf, "From s%d@example.org Fri Dec  4 08:00:00 2026\n", i)
		fmt.Fprintf(&buf, "Return-Path: <s%d@example.org>\nFrom: S <s%d@example.org>\nTo: a@example.com, B <b%d@gmai.com>\nCc: c@example.net\n", i, i, i)
		fmt.Fprintf(&buf, "Date: Fri, 4 Dec 2026 08:00:00 +0000\nMessage-ID: <%d@example.org>\nSubject: s\n", i)
		for j := range 13 {
			fmt.Fprintf(&buf, "Received: from h%d.example.org by mx.example.org; Fri, 4 Dec 2026 08:00:00 +0000\n", j)
		}
		buf.WriteString("\n")
		for range 128 {
			buf.WriteString("body body body body body body body body body body body body body body body body\n")
		}
	}
	return buf.Bytes()
}
