package knownfile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/address"
)

// knownLines makes n distinct, realistic lines: mixed suffixes, some counts absent, some
// comments, a few IDN names, CRLF on some lines.
func knownLines(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"army", "navy", "mail", "contoso", "fabrikam", "example", "bank", "shop", "news", "cloud", "north", "data", "büro", "stadt"}
	suffixes := []string{"com", "mil", "gov", "co.uk", "com.au", "de", "fr", "org", "net", "ml", "io"}
	var b bytes.Buffer
	b.Grow(n * 32)
	for i := range n {
		w := words[rng.IntN(len(words))]
		if rng.IntN(50) != 0 && strings.ContainsAny(w, "üö") {
			w = "mail" // IDN names are about 1 in 350
		}
		fmt.Fprintf(&b, "%s%d.%s", w, i, suffixes[rng.IntN(len(suffixes))])
		switch rng.IntN(10) {
		case 0:
		case 1:
			fmt.Fprintf(&b, "\t%d # imported", rng.IntN(1000))
		default:
			fmt.Fprintf(&b, " %d", rng.IntN(100000))
		}
		if i%7 == 0 {
			b.WriteByte('\r')
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// BenchmarkRead1M reads a file of one million distinct domains (about 24 MB).
func BenchmarkRead1M(b *testing.B) {
	data := knownLines(1_000_000)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		entries, err := Read(bytes.NewReader(data), "known.txt")
		if err != nil || len(entries) != 1_000_000 {
			b.Fatal(len(entries), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ns/line")
}

// BenchmarkLoad1M loads a file of one million distinct domains, as the commands do: the
// lines are counted first and the list is made at its size.
func BenchmarkLoad1M(b *testing.B) {
	data := knownLines(1_000_000)
	path := filepath.Join(b.TempDir(), "known.txt")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		entries, err := Load(path)
		if err != nil || len(entries) != 1_000_000 {
			b.Fatal(len(entries), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ns/line")
}

// BenchmarkParseLine is the sequential part of a line: fields and count, not the domain.
func BenchmarkParseLine(b *testing.B) {
	line := []byte("  contoso1234.co.uk\t 4567  # imported\r")
	for b.Loop() {
		if _, ok, err := parseLine(line); !ok || err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseDomain is address.ParseDomain on the names of a known file, for scale.
func BenchmarkParseDomain(b *testing.B) {
	var names []string
	for l := range bytes.Lines(knownLines(1000)) {
		names = append(names, string(bytes.Fields(l)[0]))
	}
	i := 0
	for b.Loop() {
		if _, err := address.ParseDomain(names[i%len(names)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
