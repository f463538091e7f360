// Package smtptext shapes the guard's sentences for SMTP replies and header fields: one
// line of printable text, cut to a length on a character boundary. Every adapter that puts
// text on the wire uses it, so none can let a line break or a control character through.
package smtptext

import (
	"strings"
	"unicode/utf8"
)

// OneLine turns text into one line of printable characters: control characters and
// invalid UTF-8 become spaces.
func OneLine(s string) string {
	ok := true
	for i := 0; ok && i < len(s); i++ {
		ok = s[i] >= ' ' && s[i] < 0x7f // printable ASCII: nothing to do
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == utf8.RuneError || (r >= 0x80 && r < 0xa0) {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Clip shortens s to at most n bytes, on a character boundary, marking the cut with "...".
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n-3, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// IsASCII reports whether s is all ASCII.
func IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
