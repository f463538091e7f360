package scan

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// fuzzReader checks what every reader must hold on any input: no panic, Detect answers,
// every Record has a readable recipient and its source's name, every Problem a line.
func fuzzReader(f *testing.F, format Format, seeds ...string) {
	for _, s := range seeds {
		data, err := os.ReadFile(filepath.Join("testdata", s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	f.Add([]byte("\x00\xff\xfe\n\n\r\n\"\"\","))
	f.Fuzz(func(t *testing.T, data []byte) {
		format.Detect(data)
		err := format.New().Read(bytes.NewReader(data), "fuzz", func(r Record) {
			if r.Recipient == "" || !utf8.ValidString(r.Recipient) || !utf8.ValidString(r.Sender) {
				t.Fatalf("record without a readable recipient: %+v", r)
			}
			if r.Source != "fuzz" || r.Line < 1 {
				t.Fatalf("record without its place: %+v", r)
			}
		}, func(p Problem) {
			if p.Source != "fuzz" || p.Line < 1 || p.Text == "" {
				t.Fatalf("problem without its place or text: %+v", p)
			}
		})
		_ = err // a CSV without its columns is an error; that is fine
	})
}

func FuzzEximReader(f *testing.F) { fuzzReader(f, EximFormat, "exim-mainlog.log") }
