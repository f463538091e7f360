package policyd

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"maps"
	"testing"
)

// FuzzReadRequest: ReadRequest never panics, fails only with the documented errors, and
// a request it reads encodes to something that reads back the same.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		rcptReq("1.2.3.4", "bob@army.ml"), eomReq("1.2.3.4", 2), "", "\n", "a=b\n", "a=b\r\n\r\n",
		"a\n\n", "=\n\n", "a=b\na=c\n\n", "a=\x00\n\n", "a=b\rc\n\n", "a=b\n\nc=d\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(in), 16) // small: long lines take the slow path
		r, err := ReadRequest(br)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if len(r.Attrs) == 0 || len(r.Attrs) > MaxAttributes {
			t.Fatalf("%d attributes", len(r.Attrs))
		}
		enc, err := r.Encode()
		if err != nil {
			t.Fatalf("Encode(%q): %v", r.Attrs, err)
		}
		back, err := ReadRequest(bufio.NewReader(bytes.NewReader(enc)))
		if err != nil {
			t.Fatalf("reading back %q: %v", enc, err)
		}
		if !maps.Equal(r.Attrs, back.Attrs) {
			t.Fatalf("read back %q, want %q", back.Attrs, r.Attrs)
		}
	})
}
