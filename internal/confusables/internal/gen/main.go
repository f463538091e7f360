//go:build ignore

// Command gen writes ../../confusables.txt, the reduced UTS #39 confusables
// table embedded by package confusables.
//
// Usage (from internal/confusables, via go generate):
//
//	go run ./internal/gen/main.go [-src FILE] [-o confusables.txt]
//
// The input is either Unicode's confusables.txt itself or a Go source file
// holding the same data as a map literal (lines of the form
// `0x00000430: "a",`, preceded by the original Unicode header as comments).
// By default it reads the copy of Unicode 13.0.0's table found in the module
// cache at github.com/mtibben/confusables@v0.0.0-20210201002637-9d1b0723b659/
// tables.go; only the Unicode data and header are taken from it, no code.
//
// Reduction rule: an entry SRC -> TARGET is kept when
//
//  1. SRC is not ASCII (ASCII folding is hand-written in fold.go), and
//  2. IDNA allows SRC in a label: "a"+SRC passes UTS #46 lookup mapping and
//     validation (non-transitional, STD3 rules, no Bidi rule), possibly
//     after being mapped (upper case, compatibility forms such as U+217C
//     SMALL ROMAN NUMERAL FIFTY are mapped, and kept, so that Skeleton also
//     works on unmapped input). This drops controls, spaces, punctuation,
//     most symbols and everything else IDNA disallows.
//  3. SRC is its own NFD. Skeleton decomposes its input first, so a
//     precomposed source (e.g. U+00F6) could never be looked up.
//  4. TARGET, lower-cased, is not SRC itself (e.g. U+A77A -> U+A779, small
//     to capital insular d): Skeleton lower-cases, so such entries are
//     no-ops that would only make the folding loop.
//
// The output uses the confusables.txt line format, `SRC ; TARGET ; MA`,
// sorted by SRC, with the Unicode copyright header kept on top.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

const defaultModule = "github.com/mtibben/confusables@v0.0.0-20210201002637-9d1b0723b659"

var (
	goMapLine = regexp.MustCompile(`^\s*0x([0-9A-Fa-f]+):\s*(".*"),\s*$`)
	txtLine   = regexp.MustCompile(`^\s*([0-9A-Fa-f]{4,6})\s*;\s*([0-9A-Fa-f ]+?)\s*;`)
)

func main() {
	src := flag.String("src", "", "input: confusables.txt or a Go map of it (default: module cache copy)")
	out := flag.String("o", "confusables.txt", "output file")
	flag.Parse()
	if *src == "" {
		modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			log.Fatalf("go env GOMODCACHE: %v", err)
		}
		*src = filepath.Join(strings.TrimSpace(string(modcache)), defaultModule, "tables.go")
	}
	data, err := os.ReadFile(*src)
	if err != nil {
		log.Fatal(err)
	}
	header, table := parse(data)
	if len(table) < 1000 || len(header) == 0 {
		log.Fatalf("%s: found %d entries and %d header lines; wrong input?", *src, len(table), len(header))
	}
	keep := reduce(table)

	var b bytes.Buffer
	for _, h := range header {
		fmt.Fprintln(&b, strings.TrimSpace("# "+h))
	}
	fmt.Fprintf(&b, "#\n# Reduced by internal/confusables/internal/gen for rcptguard: %d of %d\n", len(keep), len(table))
	b.WriteString("# entries kept (non-ASCII NFD sources that IDNA allows or maps in a label).\n")
	b.WriteString("# See LICENSE-DATA.txt. Format: SRC ; TARGET ; MA (hex code points).\n\n")
	for _, r := range keep {
		fmt.Fprintf(&b, "%04X ; %s ; MA\n", r, hexRunes(table[r]))
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s: %d entries (from %d)", *out, len(keep), len(table))
}

// parse reads either input format and returns the Unicode header lines
// (without comment markers) and the mapping.
func parse(data []byte) (header []string, table map[rune]string) {
	table = make(map[rune]string)
	inHeader := true
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if m := goMapLine.FindStringSubmatch(line); m != nil {
			inHeader = false
			r, err1 := strconv.ParseUint(m[1], 16, 32)
			t, err2 := strconv.Unquote(m[2])
			if err1 != nil || err2 != nil {
				log.Fatalf("bad line %q", line)
			}
			table[rune(r)] = t
			continue
		}
		if m := txtLine.FindStringSubmatch(line); m != nil {
			inHeader = false
			r, err := strconv.ParseUint(m[1], 16, 32)
			if err != nil {
				log.Fatalf("bad line %q", line)
			}
			var t []rune
			for _, f := range strings.Fields(m[2]) {
				v, err := strconv.ParseUint(f, 16, 32)
				if err != nil {
					log.Fatalf("bad line %q", line)
				}
				t = append(t, rune(v))
			}
			table[rune(r)] = string(t)
			continue
		}
		if !inHeader {
			continue
		}
		// Header: "# ..." in confusables.txt, "// ..." in the Go file, where
		// it starts after the generator's own preamble.
		switch {
		case strings.HasPrefix(line, "#"):
			header = append(header, strings.TrimSpace(strings.TrimPrefix(line, "#")))
		case strings.HasPrefix(line, "//"):
			h := strings.TrimSpace(strings.TrimPrefix(line, "//"))
			if strings.HasPrefix(h, "confusables.txt") {
				header = header[:0]
			}
			if len(header) > 0 || strings.HasPrefix(h, "confusables.txt") {
				header = append(header, h)
			}
		}
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	for len(header) > 0 && header[len(header)-1] == "" {
		header = header[:len(header)-1]
	}
	return header, table
}

// reduce applies the rule from the package comment and returns the kept
// sources in ascending order.
func reduce(table map[rune]string) []rune {
	p := idna.New(idna.MapForLookup(), idna.Transitional(false))
	var keep []rune
	for r := range table {
		if r < 0x80 {
			continue
		}
		if _, err := p.ToUnicode("a" + string(r)); err != nil {
			continue
		}
		if !norm.NFD.IsNormalString(string(r)) || strings.ToLower(table[r]) == string(r) {
			continue
		}
		keep = append(keep, r)
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i] < keep[j] })
	return keep
}

func hexRunes(s string) string {
	var f []string
	for _, r := range s {
		f = append(f, fmt.Sprintf("%04X", r))
	}
	return strings.Join(f, " ")
}
