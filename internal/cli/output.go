package cli

import (
	"bufio"
	"strconv"
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// writer prints decisions as text lines or as JSON lines.
type writer struct {
	out  *bufio.Writer
	json bool
	buf  []byte
}

func (w *writer) write(d guard.Decision) {
	if w.json {
		w.buf = d.AppendJSON(w.buf[:0])
	} else {
		w.buf = appendText(w.buf[:0], d)
	}
	w.buf = append(w.buf, '\n')
	w.out.Write(w.buf)
}

// appendText writes `alice@army.ml  hold  Did you mean army.mil? ...`.
func appendText(b []byte, d guard.Decision) []byte {
	b = appendPrintable(b, d.Input)
	b = append(b, "  "...)
	b = append(b, d.Verdict.String()...)
	if d.Monitor && d.Verdict != guard.Allow && d.Verdict != guard.Invalid {
		b = append(b, " (monitor)"...)
	}
	if d.Reason != "" {
		b = append(b, "  "...)
		b = append(b, d.Reason...)
	}
	return b
}

// appendPrintable writes s with control characters and invalid UTF-8 escaped, so that a
// hostile input cannot forge or garble output lines.
func appendPrintable(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\x`...)
			b = strconv.AppendUint(b, uint64(s[i]), 16)
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029:
			q := strconv.QuoteRune(r)
			b = append(b, q[1:len(q)-1]...)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}
