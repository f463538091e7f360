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
		w.buf = appendJSON(w.buf[:0], d)
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

// appendJSON writes the decision as one JSON object:
// input, domain, display, verdict, intended, technique, score, reason, error, and the
// findings in detail.
func appendJSON(b []byte, d guard.Decision) []byte {
	b = append(b, `{"input":`...)
	b = appendString(b, d.Input)
	b = append(b, `,"domain":`...)
	b = appendString(b, d.Address.Domain.ASCII)
	b = append(b, `,"display":`...)
	b = appendString(b, d.Address.Domain.Display)
	b = append(b, `,"verdict":`...)
	b = appendString(b, d.Verdict.String())
	b = append(b, `,"monitor":`...)
	b = strconv.AppendBool(b, d.Monitor)
	b = append(b, `,"intended":[`...)
	for i, f := range d.Findings {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f.IntendedDisplay)
	}
	b = append(b, `],"technique":[`...)
	for i, t := range d.Techniques() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, t.String())
	}
	b = append(b, `],"score":`...)
	b = strconv.AppendFloat(b, round(d.Score), 'f', -1, 64)
	b = append(b, `,"reason":`...)
	b = appendString(b, d.Reason)
	b = append(b, `,"error":`...)
	if d.Err != nil {
		b = appendString(b, d.Err.Error())
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `,"findings":[`...)
	for i, f := range d.Findings {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"intended":`...)
		b = appendString(b, f.Intended)
		b = append(b, `,"technique":`...)
		b = appendString(b, f.Technique.String())
		b = append(b, `,"situation":`...)
		b = appendString(b, f.Situation.String())
		b = append(b, `,"score":`...)
		b = strconv.AppendFloat(b, round(f.Score), 'f', -1, 64)
		b = append(b, `,"detail":`...)
		b = appendString(b, f.Detail())
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	return b
}

func round(x float64) float64 { return float64(int(x*1000+0.5)) / 1000 }

// appendString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD, as encoding/json
// does; characters that break lines in JavaScript are escaped.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == 0x2028 || r == 0x2029:
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
