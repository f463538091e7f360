package knownfile

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/rcptguard/rcptguard/internal/address"
)

type pair struct {
	domain string
	count  int64
}

func pairs(es []Entry) []pair {
	var ps []pair
	for _, e := range es {
		ps = append(ps, pair{e.Domain.ASCII, e.Count})
	}
	return ps
}

func TestRead(t *testing.T) {
	tests := []struct {
		name, in string
		want     []pair
	}{
		{"empty", "", nil},
		{"blank and comments", "\n# a comment\n   \n\t# indented comment\n", nil},
		{"count defaults to 1", "army.mil\n", []pair{{"army.mil", 1}}},
		{"counts", "army.mil 12\nnavy.mil\t7\ngmail.com 0\n", []pair{{"army.mil", 12}, {"navy.mil", 7}, {"gmail.com", 0}}},
		{"whitespace", "  army.mil   \t 12  \n\t navy.mil\t\n", []pair{{"army.mil", 12}, {"navy.mil", 1}}},
		{"trailing comments", "army.mil 3 # HQ\nnavy.mil# no space\n", []pair{{"army.mil", 3}, {"navy.mil", 1}}},
		{"CRLF", "army.mil 3\r\nnavy.mil\r\n\r\n# c\r\n", []pair{{"army.mil", 3}, {"navy.mil", 1}}},
		{"no final newline", "army.mil 3", []pair{{"army.mil", 3}}},
		{"byte order mark", "\ufeffarmy.mil 3\n", []pair{{"army.mil", 3}}},
		{"plus sign and zeros", "army.mil +007\n", []pair{{"army.mil", 7}}},
		{"normalised", "Army.MIL. 2\nbücher.de\nxn--bcher-kva.de 4\n", []pair{{"army.mil", 2}, {"xn--bcher-kva.de", 5}}},
		{"duplicates merge in first order", "b.com 1\na.com 2\nb.com 3\nA.com\n", []pair{{"b.com", 4}, {"a.com", 3}}},
		{"sum saturates", fmt.Sprintf("a.com %d\na.com %d\na.com 1\n", int64(math.MaxInt64), int64(math.MaxInt64)), []pair{{"a.com", math.MaxInt64}}},
		{"max count", fmt.Sprintf("a.com %d\n", int64(math.MaxInt64)), []pair{{"a.com", math.MaxInt64}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tt.in), "known.txt")
			if err != nil {
				t.Fatal(err)
			}
			if g := pairs(got); fmt.Sprint(g) != fmt.Sprint(tt.want) {
				t.Errorf("Read(%q) = %v, want %v", tt.in, g, tt.want)
			}
		})
	}
}

func TestReadKeepsTheDomainForm(t *testing.T) {
	got, err := Read(strings.NewReader("bücher.de\n"), "k")
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	if d := got[0].Domain; d.ASCII != "xn--bcher-kva.de" || d.Display != "bücher.de" || d.Suffix != "de" {
		t.Errorf("Domain = %+v", d)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"invalid count", "army.mil 1\n\nnavy.mil x\n", `known.txt:3: invalid count "x"`},
		{"fraction", "army.mil 1.5\n", `known.txt:1: invalid count "1.5"`},
		{"negative", "army.mil -3\n", `known.txt:1: invalid count "-3": negative`},
		{"very negative", "army.mil -99999999999999999999\n", `known.txt:1: invalid count "-99999999999999999999": negative`},
		{"too large", "army.mil 9223372036854775808\n", `known.txt:1: invalid count "9223372036854775808": larger than 9223372036854775807`},
		{"three fields", "# h\narmy.mil 3 4\n", `known.txt:2: too many fields; want DOMAIN [COUNT]`},
		{"count before domain", "army.mil\n3 army.mil\n", `known.txt:2: invalid count "army.mil"`},
		{"single label", "army.mil\nmil 3\n", `known.txt:2: invalid domain: "mil" is a single label, not a mail domain`},
		{"bad character", "ar_my.mil\n", `known.txt:1: invalid domain: character '_' is not allowed in a domain name ("ar_my.mil")`},
		{"address", "alice@army.mil\n", `known.txt:1: invalid domain: character '@' is not allowed in a domain name ("alice@army.mil")`},
		{"IP address", "10.0.0.1 4\n", `known.txt:1: invalid domain: "10.0.0.1" looks like an IP address, not a domain name`},
		{"invalid UTF-8", "a.com\n\xff.com\n", `known.txt:2: invalid domain: invalid UTF-8 in domain "\xff.com"`},
		{"too long line", "a.com\n" + strings.Repeat("x", MaxLine+1) + "\n", fmt.Sprintf("known.txt:2: line is longer than %d bytes", MaxLine)},
		{"a comment counts toward the limit", "a.com # " + strings.Repeat("x", MaxLine) + "\n", fmt.Sprintf("known.txt:1: line is longer than %d bytes", MaxLine)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tt.in), "known.txt")
			if err == nil || err.Error() != tt.want {
				t.Errorf("Read error = %v, want %q", err, tt.want)
			}
			if got != nil {
				t.Errorf("Read returned entries with an error: %v", pairs(got))
			}
		})
	}
}

func TestInvalidDomainWrapsAddressError(t *testing.T) {
	_, err := Read(strings.NewReader("a_b.com\n"), "k")
	var e *Error
	if !errors.Is(err, address.ErrInvalid) || !errors.As(err, &e) || e.Line != 1 || e.File != "k" {
		t.Errorf("err = %#v", err)
	}
}

// The first problem in file order wins, whichever batch or stage finds it.
func TestReadReportsTheFirstProblem(t *testing.T) {
	lines := make([]string, 10*batchLines)
	for i := range lines {
		lines[i] = fmt.Sprintf("d%d.example.com %d", i, i)
	}
	at := func(edits map[int]string) string {
		ls := append([]string(nil), lines...)
		for i, s := range edits {
			ls[i-1] = s
		}
		return strings.Join(ls, "\n")
	}
	tests := []struct {
		in   string
		want string
	}{
		{at(map[int]string{5000: "bad_domain.com", 9000: "x.com y"}), `k:5000: invalid domain`},
		{at(map[int]string{5000: "x.com y", 9000: "bad_domain.com"}), `k:5000: invalid count "y"`},
		{at(map[int]string{1025: "bad_domain.com", 1024: "x.com -1"}), `k:1024: invalid count "-1": negative`},
		{at(map[int]string{1025: "x.com -1", 1024: "bad_domain.com"}), `k:1024: invalid domain`},
		{at(map[int]string{3: "a_b.com", 10000: "c_d.com"}), `k:3: invalid domain`},
		{at(map[int]string{10 * batchLines: "c_d.com"}), fmt.Sprintf(`k:%d: invalid domain`, 10*batchLines)},
	}
	for i, tt := range tests {
		_, err := Read(strings.NewReader(tt.in), "k")
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("case %d: err = %v, want %q...", i, err, tt.want)
		}
	}
	got, err := Read(strings.NewReader(at(nil)), "k")
	if err != nil || len(got) != len(lines) || got[4321].Domain.ASCII != "d4321.example.com" || got[4321].Count != 4321 {
		t.Errorf("clean read: %d entries, %v", len(got), err)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReadStopsAfterAnInvalidDomain(t *testing.T) {
	in := "bad_domain.com\n" + strings.Repeat("d.example.com 1\n", 1_000_000)
	cr := &countingReader{r: strings.NewReader(in)}
	if _, err := Read(cr, "k"); err == nil {
		t.Fatal("no error")
	}
	if cr.n > len(in)/4 {
		t.Errorf("read %d of %d bytes after an error on line 1", cr.n, len(in))
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("a.com 1\nb.com 2\n"), iotest.ErrReader(boom))
	_, err := Read(r, "k")
	if !errors.Is(err, boom) || err.Error() != "k:3: read: boom" {
		t.Errorf("err = %v", err)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "known.txt")
	if err := os.WriteFile(path, []byte("army.mil 3\nnavy.mil x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || err.Error() != path+`:2: invalid count "x"` {
		t.Errorf("Load error = %v", err)
	}
	if err := os.WriteFile(path, []byte("army.mil 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := Load(path); err != nil || fmt.Sprint(pairs(got)) != "[{army.mil 3}]" {
		t.Errorf("Load = %v, %v", pairs(got), err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.txt")); !os.IsNotExist(err) {
		t.Errorf("Load(missing) = %v", err)
	}
}

// TestReadManyDomains reads more domains than one chunk of the merger and its first
// table hold, each repeated far from its first line: every one comes once, in the order
// of its first line, with the sum of its counts.
func TestReadManyDomains(t *testing.T) {
	const n = 20000
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "d%d.com %d\n", i, i)
	}
	for i := range n {
		if i%3 == 0 {
			fmt.Fprintf(&b, "D%d.com 1\n", i)
		}
	}
	got, err := Read(strings.NewReader(b.String()), "known.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d entries, want %d", len(got), n)
	}
	for i, e := range got {
		want := pair{fmt.Sprintf("d%d.com", i), int64(i)}
		if i%3 == 0 {
			want.count++
		}
		if p := (pair{e.Domain.ASCII, e.Count}); p != want {
			t.Fatalf("entry %d is %v, want %v", i, p, want)
		}
	}
}

func TestCountEntryLines(t *testing.T) {
	for in, want := range map[string]int{
		"": 0, "a": 1, "a\n": 1, "a\nb": 2, "\n\n": 0, "a\r\nb\r\n": 2, "# c\n  \t\r\n  # c\na # c\n": 1,
		"a b c\n\n  d\n#\n": 2,
	} {
		if got, err := countEntryLines(iotest.OneByteReader(strings.NewReader(in))); err != nil || got != want {
			t.Errorf("countEntryLines(%q) one byte at a time = %d, %v; want %d", in, got, err, want)
		}
		if got, err := countEntryLines(strings.NewReader(in)); err != nil || got != want {
			t.Errorf("countEntryLines(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

// TestLoadManyLines loads files whose lines are many more than their domains, and one
// with no line end at the end: the result is the same as Read's.
func TestLoadManyLines(t *testing.T) {
	var b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&b, "# comment %d\nd%d.com %d\n\nD%d.com\n", i, i%100, i, i%100)
	}
	b.WriteString("last.com 7")
	path := filepath.Join(t.TempDir(), "known.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	want, err := Read(strings.NewReader(b.String()), path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 101 || fmt.Sprint(pairs(got)) != fmt.Sprint(pairs(want)) {
		t.Errorf("Load: %d entries, want 101 as Read's", len(got))
	}
	if cap(got) > 2*len(got) {
		t.Errorf("Load keeps room for %d entries, for %d", cap(got), len(got))
	}
	if n, err := countEntryLines(strings.NewReader(b.String())); err != nil || n != 10001 {
		t.Errorf("countEntryLines = %d, %v; want 10001 (the comments and blank lines are not counted)", n, err)
	}
}
