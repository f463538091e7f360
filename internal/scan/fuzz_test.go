package scan

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-01-31", "2026-01-31T08:00:00Z", "2026-01-31T08:00:00+02:00", "2026-02-30", "", "31/01/2026", "2026-1-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		since, err := ParseDate(s, false)
		until, err2 := ParseDate(s, true)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("%q: since %v, until %v", s, err, err2)
		}
		if err != nil {
			if !strings.Contains(err.Error(), "is no date") {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if until.Before(since) || until.Sub(since) > 24*time.Hour {
			t.Fatalf("%q: since %v, until %v", s, since, until)
		}
	})
}

// Any bytes on standard input, compressed or not, end in records, problems or an error
// naming the source: never a crash or a hang.
func FuzzRunSource(f *testing.F) {
	f.Add(sample())
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0})
	f.Add([]byte("BZh91AY&SY"))
	f.Add([]byte{0xfd, '7', 'z', 'X', 'Z', 0, 0, 4})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0})
	f.Add([]byte("not a log"))
	g := testGuard(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ta := NewTally(g, time.Time{}, time.Time{})
		res := Run([]string{"-"}, ta, RunOptions{Stdin: bytes.NewReader(data), Workers: 1})
		if res[0].Error != "" && !strings.HasPrefix(res[0].Error, "-: ") {
			t.Fatalf("error %q does not name the source", res[0].Error)
		}
		r := Build(ta, res, Options{})
		var buf bytes.Buffer
		if err := WriteText(&buf, r); err != nil {
			t.Fatal(err)
		}
	})
}
