package content

import (
	"strings"
	"unicode/utf8"
)

// lineText is one line with what the matchers check first, computed in one
// pass over its bytes (newLine): the matchers run their expressions only on
// the lines whose digits, hints and flags say they may match.
type lineText struct {
	raw     string
	lowered string // strings.ToLower(raw), made on first use (lower)
	low     bool   // lowered is made
	digits  int    // how many ASCII digits
	hints   hint
	flags   lineFlag
}

// lineFlag says which bytes and shapes a line has.
type lineFlag uint16

const (
	flagBlank        lineFlag = 1 << iota // nothing but white space
	flagColonEq                           // ':' or '=' (or, past ASCII, maybe '：')
	flagDash                              // '-'
	flagAt                                // '@'
	flagSlashes                           // "//"
	flagUpper                             // an ASCII capital
	flagToken                             // '_', or a word starting AKIA, AIza, xox or eyJ
	flagUpperPair                         // two ASCII capitals in a row
	flagConfirm                           // a word starting "conf"
	flagAllLineFlags                      // the end of the list
)

// anyFlags is every flag a line past ASCII is given: it is then the
// matchers' expressions, not the flags, that decide.
const anyFlags = flagAllLineFlags - 1 - flagBlank

// has says whether the line may have a context's keyword.
func (l *lineText) has(h hint) bool { return l.hints&h != 0 }

// is says whether the line may have the shape of a flag.
func (l *lineText) is(f lineFlag) bool { return l.flags&f != 0 }

// lower is the line in lower case.
func (l *lineText) lower() string {
	if !l.low {
		l.lowered, l.low = strings.ToLower(l.raw), true
	}
	return l.lowered
}

// byte classes for newLine.
const (
	cDigit = 1 << iota
	cUpper
	cLower
	cWord // '_'
	cSpace
	cHigh // past ASCII

	cWordAny = cDigit | cUpper | cLower | cWord
)

var byteClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = cDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = cUpper
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = cLower
	}
	t['_'] = cWord
	for _, c := range " \t\r\n\v\f" {
		t[c] = cSpace
	}
	for c := utf8.RuneSelf; c < 256; c++ {
		t[c] = cHigh
	}
	return t
}()

// newLine analyses one line. A line of ASCII bytes is read once, word by
// word, each word's hints looked up by its first hintKey bytes packed in an
// integer; a line with other bytes takes the general way (lower case, then
// lineHints) and every flag.
func newLine(l string) lineText {
	var flags lineFlag
	var hints hint
	digits := 0
	var upper, pair uint8
	blank := true
	for i := 0; i < len(l); {
		c := l[i]
		cl := byteClass[c]
		if cl&cWordAny == 0 {
			switch {
			case cl&cHigh != 0:
				return slowLine(l)
			case cl&cSpace != 0:
			case c == ':' || c == '=':
				flags |= flagColonEq
			case c == '-':
				flags |= flagDash
			case c == '@':
				flags |= flagAt
			case c == '/' && i+1 < len(l) && l[i+1] == '/':
				flags |= flagSlashes
			}
			if cl&cSpace == 0 {
				blank = false
			}
			i++
			continue
		}
		// A word: [0-9A-Za-z_]+, as \w in the expressions.
		blank = false
		if c == 'A' || c == 'x' || c == 'e' {
			flags |= tokenStart(l[i:])
		}
		start := i
		var key uint32
		var prev uint8
		for ; i < len(l); i++ {
			c = l[i]
			cl = byteClass[c]
			if cl&cWordAny == 0 {
				break
			}
			if i-start < hintKey {
				key = key<<8 | uint32(c|(cl&cUpper)<<4) // cUpper<<4 is 0x20: lower case
			} else if cl == cLower {
				prev = 0 // the common case past the key: nothing to count
				continue
			}
			digits += int(cl & cDigit)
			upper |= cl
			pair |= prev & cl
			prev = cl & cUpper
		}
		n := i - start
		if n < hintKey {
			key |= uint32(n) << 24 // shorter keys stay apart from longer ones
		}
		hints |= asciiHints.get(key)
		if key == 'c'<<24|'o'<<16|'n'<<8|'f' {
			flags |= flagConfirm
		}
	}
	if upper&cUpper != 0 {
		flags |= flagUpper
	}
	if pair&cUpper != 0 {
		flags |= flagUpperPair
	}
	if upper&cWord != 0 {
		flags |= flagToken
	}
	if blank {
		flags |= flagBlank
	}
	return lineText{raw: l, digits: digits, hints: hints, flags: flags}
}

// tokenStart is flagToken for a word that starts like an access token.
func tokenStart(w string) lineFlag {
	if len(w) >= 3 && (w[0] == 'A' && len(w) >= 4 && (w[1:4] == "KIA" || w[1:4] == "Iza") ||
		w[:3] == "xox" || w[:3] == "eyJ") {
		return flagToken
	}
	return 0
}

// slowLine is newLine for a line with bytes past ASCII.
func slowLine(l string) lineText {
	lower := strings.ToLower(l)
	ln := lineText{raw: l, lowered: lower, low: true, digits: countDigits(l), hints: lineHints(lower), flags: anyFlags}
	if strings.TrimSpace(l) == "" {
		ln.flags |= flagBlank
	}
	return ln
}

// hintSet maps the packed first bytes of ASCII hint words to their hints:
// open addressing in a fixed array, no hashing of strings.
type hintSet struct {
	keys  [512]uint32
	hints [512]hint
}

func hintSlot(key uint32) uint32 { return key * 0x9E3779B1 >> 23 }

func (s *hintSet) put(key uint32, h hint) {
	for i := hintSlot(key); ; i = (i + 1) & 511 {
		if s.keys[i] == key || s.keys[i] == 0 {
			s.keys[i] = key
			s.hints[i] |= h
			return
		}
	}
}

func (s *hintSet) get(key uint32) hint {
	for i := hintSlot(key); ; i = (i + 1) & 511 {
		switch s.keys[i] {
		case key:
			return s.hints[i]
		case 0:
			return 0
		}
	}
}

// packKey is the key newLine makes of an ASCII word's first bytes.
func packKey(w string) uint32 {
	var key uint32
	n := min(len(w), hintKey)
	for i := 0; i < n; i++ {
		key = key<<8 | uint32(w[i])
	}
	if n < hintKey {
		key |= uint32(n) << 24
	}
	return key
}

// asciiHints holds hintTable's ASCII keys (filled with it, in hints.go).
var asciiHints hintSet
