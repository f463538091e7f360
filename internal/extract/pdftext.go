package extract

import (
	"bytes"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// operand is one operand of a content-stream operator.
type operand struct {
	str   []byte // string, or the strings of an array joined
	num   float64
	isNum bool
}

// maxOperands bounds the operand stack; operators take at most a few.
const maxOperands = 16

// contentText writes the text shown by one content stream's Tj, TJ, ' and "
// operators. It returns how many strings looked like two-byte glyph ids of a
// composite font (not read).
func (x *job) contentText(c []byte) (int, error) {
	var (
		ops      []operand
		inArray  bool
		arr      []byte
		cid      int
		lineText bool // text written since the last line break
	)
	push := func(o operand) {
		if len(ops) == maxOperands {
			copy(ops, ops[1:])
			ops = ops[:maxOperands-1]
		}
		ops = append(ops, o)
	}
	show := func(s []byte) error {
		t, ok := pdfString(s)
		if !ok {
			cid++
			return nil
		}
		if t == "" {
			return nil
		}
		lineText = true
		return x.out.str(t)
	}
	newline := func() error {
		if !lineText {
			return nil
		}
		lineText = false
		return x.out.sep('\n')
	}
	i := 0
	for i < len(c) {
		b := c[i]
		switch {
		case isPDFSpace(b):
			i++
		case b == '%':
			for i < len(c) && c[i] != '\n' && c[i] != '\r' {
				i++
			}
		case b == '(':
			s, n := literalString(c[i:])
			i += n
			if inArray {
				arr = append(arr, s...)
			} else {
				push(operand{str: s})
			}
		case b == '<' && i+1 < len(c) && c[i+1] == '<', b == '>' && i+1 < len(c) && c[i+1] == '>':
			i += 2
		case b == '<':
			s, n := hexString(c[i:])
			i += n
			if inArray {
				arr = append(arr, s...)
			} else {
				push(operand{str: s})
			}
		case b == '[':
			inArray, arr = true, arr[:0]
			i++
		case b == ']':
			if inArray {
				push(operand{str: append([]byte(nil), arr...)})
			}
			inArray = false
			i++
		case b == '/' || b == '{' || b == '}' || b == ')' || b == '>':
			i++
			for i < len(c) && !isPDFSpace(c[i]) && !isPDFDelim(c[i]) {
				i++
			}
		default:
			j := i
			for j < len(c) && !isPDFSpace(c[j]) && !isPDFDelim(c[j]) {
				j++
			}
			if j == i {
				j++
			}
			tok := c[i:j]
			i = j
			if f, ok := pdfNumber(tok); ok {
				if inArray {
					if f < -250 && len(arr) > 0 && arr[len(arr)-1] != ' ' {
						arr = append(arr, ' ')
					}
				} else {
					push(operand{num: f, isNum: true})
				}
				continue
			}
			if inArray {
				continue
			}
			var err error
			switch string(tok) {
			case "Tj", "TJ":
				if len(ops) > 0 && !ops[len(ops)-1].isNum {
					err = show(ops[len(ops)-1].str)
				}
			case "'", "\"":
				if err = newline(); err == nil && len(ops) > 0 && !ops[len(ops)-1].isNum {
					err = show(ops[len(ops)-1].str)
				}
			case "Td", "TD":
				if len(ops) >= 2 && ops[len(ops)-1].isNum && ops[len(ops)-1].num == 0 {
					if lineText {
						err = x.out.sep(' ')
					}
				} else {
					err = newline()
				}
			case "T*", "Tm", "ET":
				err = newline()
			case "ID": // inline image data up to EI
				e := bytes.Index(c[i:], []byte("EI"))
				if e < 0 {
					i = len(c)
				} else {
					i += e + 2
				}
			}
			ops = ops[:0]
			if err != nil {
				return cid, err
			}
		}
	}
	return cid, newline()
}

// pdfNumber parses a numeric token; operators are not tried.
func pdfNumber(tok []byte) (float64, bool) {
	c := tok[0]
	if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.') {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	return f, err == nil
}

func isPDFSpace(b byte) bool {
	return b == ' ' || b == '\n' || b == '\r' || b == '\t' || b == '\f' || b == 0
}

func isPDFDelim(b byte) bool {
	switch b {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// literalString reads a (string) with its escapes and balanced parentheses;
// it returns the bytes and how much of c it used.
func literalString(c []byte) ([]byte, int) {
	var out []byte
	depth := 0
	i := 0
	for i < len(c) {
		b := c[i]
		i++
		switch b {
		case '(':
			depth++
			if depth == 1 {
				continue
			}
		case ')':
			depth--
			if depth == 0 {
				return out, i
			}
		case '\\':
			if i >= len(c) {
				return out, i
			}
			e := c[i]
			i++
			switch e {
			case 'n':
				b = '\n'
			case 'r':
				b = '\r'
			case 't':
				b = '\t'
			case 'b':
				b = '\b'
			case 'f':
				b = '\f'
			case '\r':
				if i < len(c) && c[i] == '\n' {
					i++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && i < len(c) && c[i] >= '0' && c[i] <= '7'; k++ {
						v = v*8 + int(c[i]-'0')
						i++
					}
					b = byte(v)
				} else {
					b = e
				}
			}
		}
		out = append(out, b)
	}
	return out, i
}

// hexString reads a <hex string>.
func hexString(c []byte) ([]byte, int) {
	var out []byte
	hi, half := byte(0), false
	for i := 1; i < len(c); i++ {
		b := c[i]
		if b == '>' {
			if half {
				out = append(out, hi<<4)
			}
			return out, i + 1
		}
		v, ok := hexVal(b)
		if !ok {
			continue
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	return out, len(c)
}

func hexVal(b byte) (byte, bool) {
	switch {
	case b >= '0' && b <= '9':
		return b - '0', true
	case b >= 'a' && b <= 'f':
		return b - 'a' + 10, true
	case b >= 'A' && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}

// pdfString decodes a shown string: UTF-16BE with its BOM, else one byte a
// character (PDFDocEncoding, read as Latin-1). A string with NUL bytes is
// taken for two-byte glyph ids, which need the font's CMap: not ok.
func pdfString(s []byte) (string, bool) {
	if len(s) >= 2 && s[0] == 0xfe && s[1] == 0xff {
		u := make([]uint16, 0, len(s)/2)
		for i := 2; i+1 < len(s); i += 2 {
			u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
		}
		return printable(string(utf16.Decode(u))), true
	}
	if bytes.IndexByte(s, 0) >= 0 {
		return "", false
	}
	buf := make([]byte, 0, len(s))
	for _, b := range s {
		if b < 0x80 {
			buf = append(buf, b)
		} else {
			buf = utf8.AppendRune(buf, rune(b))
		}
	}
	return printable(string(buf)), true
}

// printable drops control characters but tab and newline.
func printable(s string) string {
	ok := true
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f {
			continue
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}
