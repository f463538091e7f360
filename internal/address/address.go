package address

import (
	"strings"
	"unicode/utf8"
)

// Address is a parsed recipient: either a mailbox (Local is set) or a bare domain.
type Address struct {
	// Local is the local part as written (quoted local parts keep their quotes); empty for a
	// bare domain.
	Local string
	// Domain is the normalised domain.
	Domain Domain
}

// IsDomain reports whether the input was a bare domain rather than a mailbox.
func (a Address) IsDomain() bool { return a.Local == "" }

// String is the mailbox in ASCII form, or the domain for a bare domain.
func (a Address) String() string {
	if a.Local == "" {
		return a.Domain.ASCII
	}
	return a.Local + "@" + a.Domain.ASCII
}

// MaxInput bounds what Parse reads; longer input cannot be an address (RFC 5321 allows 256
// octets in a path, display names add some).
const MaxInput = 4096

// Parse reads an address as people and MTAs write it: "alice@army.ml", "<alice@army.ml>",
// `"Smith, Alice" <alice@army.ml>`, `"a b"@army.ml`, an SMTP path with a source route, or a
// bare domain ("army.ml"). The error names what is wrong.
func Parse(s string) (Address, error) {
	if len(s) > MaxInput {
		return Address{}, invalidf("input is %d octets long; an address is at most %d", len(s), MaxInput)
	}
	if !utf8.ValidString(s) {
		return Address{}, invalidf("invalid UTF-8 in %q", s)
	}
	spec, angled, err := addrSpec(strings.TrimSpace(s))
	if err != nil {
		return Address{}, err
	}
	if spec == "" {
		if angled {
			return Address{}, invalidf("empty address <>")
		}
		return Address{}, invalidf("empty input")
	}
	at := lastAt(spec)
	if at < 0 {
		if angled {
			return Address{}, invalidf("no @ in address %q", spec)
		}
		d, err := ParseDomain(spec)
		return Address{Domain: d}, err
	}
	local, dom := spec[:at], spec[at+1:]
	// The domain first: in "@@" or "alice@" what is missing is the domain, whatever the
	// text before the @.
	if dom == "" {
		return Address{}, invalidf("no domain after @ in %q", spec)
	}
	if lastAt(local) >= 0 {
		return Address{}, invalidf("more than one @ in %q (an @ in the local part must be inside a quoted string)", spec)
	}
	if err := checkLocal(local); err != nil {
		return Address{}, err
	}
	if strings.TrimSpace(dom) != dom {
		return Address{}, invalidf("space around the domain in %q", spec)
	}
	d, err := ParseDomain(dom)
	if err != nil {
		return Address{}, err
	}
	return Address{Local: local, Domain: d}, nil
}

// addrSpec finds the addr-spec in s: the part between angle brackets when there are
// any (after a display name), else s itself. A source route ("@a,@b:") is dropped.
func addrSpec(s string) (spec string, angled bool, err error) {
	open := -1
	inQuote, escaped, comment := false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && (inQuote || comment > 0):
			escaped = true
		case inQuote:
			if c == '"' {
				inQuote = false
			}
		case comment > 0:
			switch c {
			case '(':
				comment++
			case ')':
				comment--
			}
		case c == '"':
			inQuote = true
		case c == '(' && open < 0:
			comment++
		case c == '<' && open < 0:
			open = i
		case c == '>' && open >= 0:
			if rest := strings.TrimSpace(s[i+1:]); rest != "" && !isComment(rest) {
				return "", true, invalidf("unexpected text %q after the address", shorten(rest))
			}
			return stripRoute(strings.TrimSpace(s[open+1 : i])), true, nil
		}
	}
	switch {
	case inQuote:
		return "", false, invalidf("unterminated quoted string in %q", shorten(s))
	case open >= 0:
		return "", true, invalidf("missing > in %q", shorten(s))
	case strings.ContainsRune(s, '>'):
		return "", false, invalidf("> without < in %q", shorten(s))
	}
	return stripRoute(stripComments(s)), false, nil
}

// stripComments removes RFC 5322 comments outside quoted strings: "alice@army.mil (Alice)".
func stripComments(s string) string {
	if !strings.Contains(s, "(") {
		return s
	}
	var b strings.Builder
	inQuote, escaped, depth := false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && (inQuote || depth > 0):
			escaped = true
		case depth > 0:
			switch c {
			case '(':
				depth++
			case ')':
				depth--
			}
			continue
		case inQuote:
			inQuote = c != '"'
		case c == '"':
			inQuote = true
		case c == '(':
			depth++
			continue
		}
		if depth == 0 {
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}

func isComment(s string) bool { return strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") }

// stripRoute removes an obsolete source route, "@relay1,@relay2:user@host" (RFC 5321 4.1.2).
func stripRoute(s string) string {
	if strings.HasPrefix(s, "@") {
		if i := strings.IndexByte(s, ':'); i > 0 {
			return s[i+1:]
		}
	}
	return s
}

// lastAt is the index of the last '@' outside a quoted string, or -1.
func lastAt(s string) int {
	at, inQuote, escaped := -1, false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case escaped:
			escaped = false
		case c == '\\' && inQuote:
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case c == '@' && !inQuote:
			at = i
		}
	}
	return at
}

// checkLocal validates a local part: a quoted string, or a dot-atom of atext (RFC 5322
// 3.2.3, with UTF-8 allowed as RFC 6531 does).
func checkLocal(l string) error {
	if l == "" {
		return invalidf("empty local part before @")
	}
	if len(l) > 64 {
		// RFC 5321 4.5.3.1.1; MTAs refuse longer ones, so it is not a deliverable mailbox.
		return invalidf("local part is %d octets long; the limit is 64", len(l))
	}
	if l[0] == '"' {
		if len(l) < 2 || l[len(l)-1] != '"' {
			return invalidf("local part %q has text after its closing quote", l)
		}
		inner := l[1 : len(l)-1]
		for i := 0; i < len(inner); i++ {
			switch c := inner[i]; {
			case c == '\\':
				i++
				if i == len(inner) {
					return invalidf("local part %q ends with a lone backslash", l)
				}
			case c == '"':
				return invalidf("local part %q has an unescaped quote", l)
			case c < 0x20 && c != '\t' || c == 0x7f:
				return invalidf("local part %q has a control character", l)
			}
		}
		return nil
	}
	if l[0] == '.' || l[len(l)-1] == '.' || strings.Contains(l, "..") {
		return invalidf("local part %q has a misplaced dot", l)
	}
	for _, r := range l {
		if r < 0x80 && !isAtext(byte(r)) && r != '.' {
			return invalidf("character %q is not allowed in local part %q", r, l)
		}
	}
	return nil
}

func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}
