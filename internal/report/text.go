// Package report holds what the commands' reports (`scan`, `squat`) share: text made safe
// for a terminal and for a spreadsheet, a writer that keeps its first error, and the HTML
// page's style and inline SVG bar charts. It knows nothing of what a report says.
package report

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// Clean escapes what could garble a terminal: control characters and invalid UTF-8.
func Clean(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' || r == unicode.ReplacementChar }) < 0 {
		return s
	}
	q := strconv.QuoteToGraphic(s)
	return q[1 : len(q)-1]
}

// Plural is "1 domain", "2 domains".
func Plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// Cell is a CSV cell that a spreadsheet will not run as a formula: a value starting with
// = + - @ or a tab or carriage return gets a quote in front.
func Cell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// ErrWriter writes to W until a write fails, then does nothing: Err is the first error,
// checked once at the end instead of after every line.
type ErrWriter struct {
	W   io.Writer
	Err error
}

func (e *ErrWriter) Write(b []byte) (int, error) {
	if e.Err != nil {
		return 0, e.Err
	}
	n, err := e.W.Write(b)
	e.Err = err
	return n, err
}

// WriteJSON writes v as one indented JSON document.
func WriteJSON(w io.Writer, v any) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(v)
}
