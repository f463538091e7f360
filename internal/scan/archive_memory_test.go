package scan

import (
	"io"
	"runtime"
	"strings"
	"testing"
)

// bodyStream is an mbox of one message whose body is n bytes of text in lines of
// lineLen bytes (0: one line), made as it is read, so the test itself holds no copy.
type bodyStream struct {
	head    string
	n, line int
	done    int
	col     int
}

func (b *bodyStream) Read(p []byte) (int, error) {
	if b.head != "" {
		k := copy(p, b.head)
		b.head = b.head[k:]
		return k, nil
	}
	if b.done >= b.n {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && b.done < b.n {
		c := byte('a' + b.done%26)
		if b.line > 0 && b.col == b.line {
			c, b.col = '\n', -1
		}
		p[k] = c
		k++
		b.done++
		b.col++
	}
	return k, nil
}

func TestMboxBodiesAreSkippedInConstantMemory(t *testing.T) {
	for _, lineLen := range []int{0, 100} {
		head := "From a@example.org Fri Dec  4 08:00:00 2026\nTo: b@gmai.com\n\n"
		src := &bodyStream{head: head, n: 96 << 20, line: lineLen}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		c := &collector{}
		if err := MboxFormat.New().Read(src, "m", c.emit, c.skip); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		if grown := after.TotalAlloc - before.TotalAlloc; grown > 8<<20 {
			t.Errorf("line length %d: reading a 96 MB body allocated %d MB", lineLen, grown>>20)
		}
		if len(c.recs) != 1 || len(c.probs) != 0 || !strings.Contains(c.recs[0], "b@gmai.com") {
			t.Errorf("line length %d: records %q problems %q", lineLen, c.recs, c.probs)
		}
	}
}
