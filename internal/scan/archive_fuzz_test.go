package scan

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// addSeeds adds the testdata files matching pattern to f's corpus.
func addSeeds(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
}

// checkOutput is a fuzz target's check on what a reader gave: every Record has a
// recipient and the source's name, every Problem the source's name.
func checkOutput(t *testing.T, name string) (func(Record), func(Problem)) {
	return func(r Record) {
			if r.Recipient == "" || r.Source != name || r.Outcome != Unknown {
				t.Fatalf("bad record %+v", r)
			}
		}, func(p Problem) {
			if p.Source != name || p.Text == "" {
				t.Fatalf("bad problem %+v", p)
			}
		}
}

func FuzzMbox(f *testing.F) {
	addSeeds(f, "mbox-*")
	f.Add([]byte("From a@b Thu Dec  3 10:00:00 2026\nTo: x\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		emit, skip := checkOutput(t, "m")
		if err := MboxFormat.New().Read(bytes.NewReader(data), "m", emit, skip); err != nil {
			t.Fatalf("error from a whole in-memory source: %v", err)
		}
	})
}

func FuzzEML(f *testing.F) {
	addSeeds(f, "eml-folder/*.eml")
	addSeeds(f, "maildir/cur/*")
	f.Fuzz(func(t *testing.T, data []byte) {
		DetectEML(data)
		emit, skip := checkOutput(t, "e")
		if err := EMLFormat.New().Read(bytes.NewReader(data), "e", emit, skip); err != nil {
			t.Fatalf("error from a whole in-memory source: %v", err)
		}
	})
}

func FuzzAddressList(f *testing.F) {
	for _, s := range []string{`a@b, "c, d" <e@f>`, "g: h@i, j@k;, l@", "=?utf-8?q?x?= <m@n>", `"\"" (c,) <o@p>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		addrs, _ := parseAddressList(v)
		for _, a := range addrs {
			if a == "" {
				t.Fatalf("empty address from %q", v)
			}
		}
	})
}

func FuzzAliases(f *testing.F) {
	addSeeds(f, "aliases-*")
	f.Fuzz(func(t *testing.T, data []byte) {
		emit, skip := checkOutput(t, "a")
		_ = ReadAliases(bytes.NewReader(data), "a", emit, skip) // an error is "not a forwards source"
		// Every kind's reader, whatever the content looks like.
		for _, kind := range []aliasKind{kindAliases, kindVirtual, kindList} {
			if err := readAliasLines(bytes.NewReader(data), "a", kind, emit, skip, func() error { return nil }); err != nil {
				t.Fatalf("%s: %v", kindNames[kind], err)
			}
		}
		if err := readSieve(bufio.NewReader(bytes.NewReader(data)), "a", emit, skip); err != nil {
			t.Fatalf("sieve: %v", err)
		}
	})
}
