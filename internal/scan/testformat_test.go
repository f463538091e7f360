package scan

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// testlog is a tiny format for the tests, so that they depend on no real reader:
//
//	#testlog
//	2026-01-02T10:00:00Z|alice@corp.example|bob@gmai.com|sent|Q1
//
// A directory holding a file named ".testlog" is read as one source: each *.tl file in it.
const testlogHead = "#testlog\n"

func init() {
	Register(Format{
		Name:   "testlog",
		Detect: func(head []byte) bool { return bytes.HasPrefix(head, []byte(testlogHead)) },
		New:    func() Reader { return testlogReader{} },
		Dir: func(path string, emit func(Record), skip func(Problem)) (bool, error) {
			if _, err := os.Stat(filepath.Join(path, ".testlog")); err != nil {
				return false, nil
			}
			files, err := filepath.Glob(filepath.Join(path, "*.tl"))
			if err != nil {
				return true, err
			}
			for _, f := range files {
				fh, err := os.Open(f)
				if err != nil {
					return true, err
				}
				err = testlogReader{}.Read(fh, f, emit, skip)
				fh.Close()
				if err != nil {
					return true, err
				}
			}
			return true, nil
		},
	})
}

type testlogReader struct{}

func (testlogReader) Read(r io.Reader, name string, emit func(Record), skip func(Problem)) error {
	sc := bufio.NewScanner(r)
	var line int64
	for sc.Scan() {
		line++
		l := sc.Text()
		if line == 1 && l == strings.TrimSpace(testlogHead) || l == "" {
			continue
		}
		rec, ok := parseTestlog(l)
		if !ok {
			skip(Problem{Source: name, Line: line, Text: "not a testlog line"})
			continue
		}
		rec.Source, rec.Line = name, line
		emit(rec)
	}
	return sc.Err()
}

func parseTestlog(l string) (Record, bool) {
	f := strings.Split(l, "|")
	if len(f) != 5 {
		return Record{}, false
	}
	var r Record
	if f[0] != "" {
		t, err := time.Parse(time.RFC3339, f[0])
		if err != nil {
			return r, false
		}
		r.Time = t
	}
	r.Sender, r.Recipient, r.Message = f[1], f[2], f[4]
	for o := Unknown; o <= Expired; o++ {
		if o.String() == f[3] {
			r.Outcome = o
		}
	}
	return r, true
}

// testlog writes records as a testlog source.
func testlog(lines ...string) []byte {
	return []byte(testlogHead + strings.Join(lines, "\n") + "\n")
}

func tl(t time.Time, from, to, outcome, msg string) string {
	return t.Format(time.RFC3339) + "|" + from + "|" + to + "|" + outcome + "|" + msg
}

var _ = strconv.Itoa
