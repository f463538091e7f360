package scan

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// readSieve reads a Sieve script (RFC 5228) for its redirect actions: `redirect "addr";`,
// with tags before the address (`:copy` of RFC 3894, `:notify`, `:ret` ...). Its lexer
// knows comments (# and /* */), quoted strings with escapes, multi-line strings
// ("text:" ... "."), string lists and blocks; it reads the script in constant memory.
// The address is a redirect's last string; one built from variables ("${...}") cannot be
// known and is a Problem.
func readSieve(br *bufio.Reader, name string, emit func(Record), skip func(Problem)) error {
	lx := sieveLexer{br: br, line: 1, name: name, skip: skip}
	atCommand := true // the next identifier is a command
	inRedirect := false
	var last string // a redirect's last string argument
	var lastLine, cmdLine int64
	for {
		tok, err := lx.next()
		if errors.Is(err, io.EOF) {
			if inRedirect {
				skip(Problem{Source: name, Line: cmdLine, Text: "redirect not ended by ';' at the end of the script: skipped"})
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: line %d: %w", name, lx.line, err)
		}
		switch {
		case tok.kind == tokIdent && atCommand:
			atCommand = false
			inRedirect = strings.EqualFold(tok.text, "redirect")
			last, lastLine, cmdLine = "", 0, tok.line
		case tok.kind == tokString && inRedirect:
			last, lastLine = tok.text, tok.line
		case tok.kind == tokPunct && (tok.text == ";" || tok.text == "{" || tok.text == "}"):
			if inRedirect && tok.text == ";" {
				sieveTarget(last, lastLine, cmdLine, name, emit, skip)
			}
			atCommand, inRedirect = true, false
		}
	}
}

// sieveTarget gives the record of one redirect's address.
func sieveTarget(addr string, line, cmdLine int64, name string, emit func(Record), skip func(Problem)) {
	switch {
	case addr == "" && line == 0:
		skip(Problem{Source: name, Line: cmdLine, Text: "redirect without an address skipped"})
	case strings.Contains(addr, "${"):
		skip(Problem{Source: name, Line: line, Text: fmt.Sprintf("redirect to an address built from variables (%q): not known before delivery", clipRaw(addr))})
	case !utf8.ValidString(addr):
		skip(Problem{Source: name, Line: line, Text: "redirect address with invalid UTF-8 skipped"})
	case !strings.Contains(addr, "@"):
		// a local user: nothing leaves
	default:
		a, err := addrParser.Parse(addr)
		if err != nil {
			skip(Problem{Source: name, Line: line, Text: fmt.Sprintf("unreadable redirect address %q skipped", clipRaw(addr))})
			return
		}
		emit(Record{Sender: name, Recipient: a.Address, Outcome: Unknown, Message: fmt.Sprintf("%s:%d", name, cmdLine), Source: name, Line: line})
	}
}

type tokKind int

const (
	tokIdent tokKind = iota
	tokString
	tokTag
	tokNumber
	tokPunct
)

type sieveToken struct {
	kind tokKind
	text string
	line int64
}

// sieveLexer cuts a Sieve script into tokens. A string is kept up to maxLine bytes (a
// longer one is a Problem and kept cut).
type sieveLexer struct {
	br   *bufio.Reader
	line int64
	name string
	skip func(Problem)
}

func (lx *sieveLexer) read() (byte, error) {
	c, err := lx.br.ReadByte()
	if c == '\n' && err == nil {
		lx.line++
	}
	return c, err
}

func (lx *sieveLexer) next() (sieveToken, error) {
	for {
		c, err := lx.read()
		if err != nil {
			return sieveToken{}, err
		}
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		case c == '#':
			if err := lx.skipLine(); err != nil {
				return sieveToken{}, err
			}
		case c == '/':
			if n, _ := lx.br.Peek(1); len(n) == 1 && n[0] == '*' {
				if err := lx.skipBracketComment(); err != nil {
					return sieveToken{}, err
				}
				continue
			}
			return sieveToken{kind: tokPunct, text: "/", line: lx.line}, nil
		case c == '"':
			return lx.quoted()
		case c == ':':
			return sieveToken{kind: tokTag, text: lx.word(""), line: lx.line}, nil
		case isIdentByte(c):
			start := lx.line
			w := lx.word(string(c))
			if strings.EqualFold(w, "text") {
				if n, _ := lx.br.Peek(1); len(n) == 1 && n[0] == ':' {
					lx.br.ReadByte()
					return lx.multiline(start)
				}
			}
			if c >= '0' && c <= '9' {
				return sieveToken{kind: tokNumber, text: w, line: start}, nil
			}
			return sieveToken{kind: tokIdent, text: w, line: start}, nil
		default:
			return sieveToken{kind: tokPunct, text: string(c), line: lx.line}, nil
		}
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// word reads the rest of an identifier (or a tag's name, or a number with its K/M/G).
func (lx *sieveLexer) word(start string) string {
	var b strings.Builder
	b.WriteString(start)
	for b.Len() < 256 {
		n, err := lx.br.Peek(1)
		if err != nil || !isIdentByte(n[0]) {
			break
		}
		lx.br.ReadByte()
		b.WriteByte(n[0])
	}
	return b.String()
}

func (lx *sieveLexer) skipLine() error {
	for {
		c, err := lx.read()
		if err != nil || c == '\n' {
			return err
		}
	}
}

func (lx *sieveLexer) skipBracketComment() error {
	lx.br.ReadByte() // the '*'
	var prev byte
	for {
		c, err := lx.read()
		if err != nil {
			return err
		}
		if prev == '*' && c == '/' {
			return nil
		}
		prev = c
	}
}

// quoted reads a quoted string after its opening '"'.
func (lx *sieveLexer) quoted() (sieveToken, error) {
	start := lx.line
	var b strings.Builder
	cut := false
	for {
		c, err := lx.read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				lx.skip(Problem{Source: lx.name, Line: start, Text: "string not closed at the end of the script"})
			}
			return sieveToken{}, err
		}
		if c == '\\' {
			if c, err = lx.read(); err != nil {
				return sieveToken{}, err
			}
		} else if c == '"' {
			if cut {
				lx.skip(Problem{Source: lx.name, Line: start, Text: "string over 1 MB cut"})
			}
			return sieveToken{kind: tokString, text: b.String(), line: start}, nil
		}
		if b.Len() < maxLine {
			b.WriteByte(c)
		} else {
			cut = true
		}
	}
}

// multiline reads a "text:" string: the rest of the line, then lines up to one holding
// only "."; a line beginning ".." stands for one beginning ".".
func (lx *sieveLexer) multiline(start int64) (sieveToken, error) {
	if err := lx.skipLine(); err != nil {
		return sieveToken{}, err
	}
	lr := &lineReader{br: lx.br}
	var b strings.Builder
	for {
		line, _, err := lr.next(0)
		if err != nil {
			if errors.Is(err, io.EOF) {
				lx.skip(Problem{Source: lx.name, Line: start, Text: "text: string not ended by a '.' line at the end of the script"})
			}
			return sieveToken{}, err
		}
		lx.line++
		if string(line) == "." {
			return sieveToken{kind: tokString, text: strings.TrimSuffix(b.String(), "\n"), line: start}, nil
		}
		if len(line) > 1 && line[0] == '.' && line[1] == '.' {
			line = line[1:]
		}
		if b.Len()+len(line) < maxLine {
			b.Write(line)
			b.WriteByte('\n')
		}
	}
}
