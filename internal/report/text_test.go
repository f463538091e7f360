package report

import (
	"errors"
	"testing"
)

func TestTextHelpers(t *testing.T) {
	for in, want := range map[string]string{"army.ml": "army.ml", "a\x1b[31mb": `a\x1b[31mb`, "x\ny": `x\ny`, "gmаil.com": "gmаil.com", "\xff": `\xff`} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"=1+1": "'=1+1", "-x": "'-x", "@a": "'@a", "a=b": "a=b", "": ""} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
	if Plural(1, "domain") != "1 domain" || Plural(0, "domain") != "0 domains" {
		t.Error("Plural")
	}
	fail := errors.New("disk full")
	n := 0
	w := &ErrWriter{W: writerFunc(func(b []byte) (int, error) { n++; return 0, fail })}
	w.Write([]byte("a"))
	w.Write([]byte("b"))
	if w.Err != fail || n != 1 {
		t.Errorf("err %v after %d writes, want the first error after 1", w.Err, n)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
