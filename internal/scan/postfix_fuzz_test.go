package scan

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// FuzzPostfix: whatever the log holds, the reader does not panic, every Record has a
// recipient and points at a line of the input that says so, the final statuses come in
// line order, and every Problem points at a line of the input.
func FuzzPostfix(f *testing.F) {
	for _, name := range []string{"testdata/postfix-syslog.log", "testdata/postfix-rfc3339.log"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		for line := range bytes.Lines(data) {
			f.Add(line)
		}
	}
	f.Add([]byte("Feb 30 10:00:00 h postfix/smtp[1]: ABCDE: to=<a@b>, status=sent (x)\n"))
	f.Add([]byte("2026-13-04T10:00:00Z h postfix/qmgr[1]: ABCDE: from=<\"a>b\"@c>, status=expired\n"))
	f.Add([]byte("Dec  4 10:00:00.1234567890123 h postfix/smtp[1]: ABCDE: to=<a@b>, orig_to=<, status=sent\r\n\x00\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Split(data, []byte("\n"))
		if len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1]
		}
		pr := &PostfixReader{Now: time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC), Location: time.UTC, MaxOpen: 3}
		last := int64(0)
		emit := func(r Record) {
			if r.Recipient == "" {
				t.Fatalf("record without a recipient: %+v", r)
			}
			if r.Line < 1 || r.Line > int64(len(lines)) {
				t.Fatalf("record line %d of %d lines", r.Line, len(lines))
			}
			text := string(lines[r.Line-1])
			switch r.Outcome {
			case Expired:
				if !strings.Contains(text, "status=expired") {
					t.Fatalf("expired record at line %d %q", r.Line, text)
				}
			default:
				if !strings.Contains(text, "to=<"+r.Recipient+">") {
					t.Fatalf("record %+v at line %d %q", r, r.Line, text)
				}
			}
			if r.Outcome != Deferred {
				if r.Line < last {
					t.Fatalf("final status at line %d after one at line %d", r.Line, last)
				}
				last = r.Line
			}
		}
		skip := func(p Problem) {
			if p.Line < 1 || p.Line > int64(len(lines)) || p.Text == "" || p.Source != "fuzz" {
				t.Fatalf("problem %+v of %d lines", p, len(lines))
			}
		}
		if err := pr.Read(bytes.NewReader(data), "fuzz", emit, skip); err != nil {
			t.Fatal(err)
		}
	})
}
