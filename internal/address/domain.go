// Package address parses recipient addresses and domain names as people and MTAs write
// them and normalises domains strictly: case, trailing dot, UTS #46 mapping (the IDNA
// lookup profile with the Bidi rule and DNS length checks), an ASCII (punycode) and a
// display (Unicode) form, and a public-suffix split.
//
// It owns the question "what domain is this, exactly?" and nothing else: it knows no
// candidates, no policy and no protocol. Every error it returns names what is wrong with
// the input; it never panics and never returns a half-valid Domain.
package address

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Limits from RFC 1035 section 2.3.4, counted in octets of the ASCII form.
const (
	MaxLabelOctets = 63
	MaxNameOctets  = 253
)

// ErrInvalid is wrapped by every error this package returns, so callers can tell bad input
// from other failures with errors.Is.
var ErrInvalid = errors.New("invalid")

// lookup maps and validates as the IDNA lookup profile does (UTS #46 non-transitional
// mapping, STD3 rules, hyphen and joiner checks, the Bidi rule). Lengths and empty labels
// are checked by ParseDomain itself so that the error can name the label.
var lookup = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false))

// display converts validated ASCII names back to Unicode for people to read.
var display = idna.New(idna.MapForLookup(), idna.Transitional(false))

// Domain is a validated, normalised domain name.
type Domain struct {
	// ASCII is the lowercase A-label form without a trailing dot: "xn--gmil-63d.com".
	ASCII string
	// Display is the Unicode form: "gmаil.com".
	Display string
	// Suffix is the public suffix of ASCII ("com", "co.uk"). For a top-level domain that the
	// public suffix list does not know, it is the last label.
	Suffix string
	// Listed reports whether Suffix is an ICANN entry of the public suffix list, that is,
	// whether mail to this suffix can exist at all.
	Listed bool
}

// Pre is the part of the ASCII name before its public suffix: "us.ibm" for "us.ibm.com".
// It is empty when the name is itself a public suffix.
func (d Domain) Pre() string {
	if len(d.ASCII) <= len(d.Suffix) {
		return ""
	}
	return d.ASCII[:len(d.ASCII)-len(d.Suffix)-1]
}

// DisplayPre is Pre in Unicode form.
func (d Domain) DisplayPre() string {
	pre := d.Pre()
	if pre == "" || !strings.Contains(pre, "xn--") {
		return pre
	}
	u, err := display.ToUnicode(pre)
	if err != nil {
		return pre
	}
	return u
}

// Registrable is the registrable domain (public suffix plus one label): the part an owner
// registers. It is empty when the name is itself a public suffix.
func (d Domain) Registrable() string {
	pre := d.Pre()
	if pre == "" {
		return ""
	}
	if i := strings.LastIndexByte(pre, '.'); i >= 0 {
		pre = pre[i+1:]
	}
	return pre + "." + d.Suffix
}

// Under reports whether d is ns or a name below it (ns in ASCII, lowercase, no dots at
// the ends).
func (d Domain) Under(ns string) bool {
	return d.ASCII == ns || strings.HasSuffix(d.ASCII, "."+ns)
}

func (d Domain) String() string { return d.ASCII }

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// ParseDomain validates and normalises a domain name as a recipient domain: it must have at
// least two labels and must not be an address literal or an IP address.
func ParseDomain(s string) (Domain, error) {
	ascii, err := normalise(s)
	if err != nil {
		return Domain{}, err
	}
	if !strings.Contains(ascii, ".") {
		return Domain{}, invalidf("%q is a single label, not a mail domain", ascii)
	}
	if isNumericTLD(ascii) {
		return Domain{}, invalidf("%q looks like an IP address, not a domain name", s)
	}
	return build(ascii), nil
}

// ParseName validates and normalises any domain name, including a single label such as a
// top-level domain ("mil"). Configuration uses it for namespaces.
func ParseName(s string) (Domain, error) {
	ascii, err := normalise(s)
	if err != nil {
		return Domain{}, err
	}
	if isNumericTLD(ascii) {
		return Domain{}, invalidf("%q looks like an IP address, not a domain name", s)
	}
	return build(ascii), nil
}

func build(ascii string) Domain {
	d := Domain{ASCII: ascii, Display: ascii}
	if strings.Contains(ascii, "xn--") {
		if u, err := display.ToUnicode(ascii); err == nil {
			d.Display = u
		}
	}
	d.Suffix, d.Listed = publicsuffix.PublicSuffix(ascii)
	if !d.Listed && strings.IndexByte(d.Suffix, '.') >= 0 {
		// A private entry (blogspot.com and the like): mail ownership follows the private
		// split, and the suffix is still a real one.
		d.Listed = true
	}
	return d
}

func isNumericTLD(ascii string) bool {
	tld := ascii[strings.LastIndexByte(ascii, '.')+1:]
	for i := 0; i < len(tld); i++ {
		if tld[i] < '0' || tld[i] > '9' {
			return false
		}
	}
	return true
}

// normalise returns the lowercase ASCII form of s, or an error naming what is wrong.
func normalise(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalidf("invalid UTF-8 in domain %q", s)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalidf("empty domain")
	}
	if s[0] == '[' {
		return "", invalidf("address literal %s is not a domain name", s)
	}
	if a, ok := plainASCII(s); ok {
		return a, nil
	}
	// UTS #46 maps the ideographic and fullwidth full stops to '.', so a trailing one of
	// those is a trailing dot too; map first, then strip one trailing dot.
	mapped, err := mapName(s)
	if err != nil {
		return "", err
	}
	mapped = strings.TrimSuffix(mapped, ".")
	if mapped == "" {
		return "", invalidf("empty domain")
	}
	var b strings.Builder
	b.Grow(len(mapped))
	for i, label := range strings.Split(mapped, ".") {
		if label == "" {
			return "", invalidf("empty label in %q", s)
		}
		a, err := lookup.ToASCII(label)
		if err != nil {
			return "", labelError(s, label, err)
		}
		if len(a) > MaxLabelOctets {
			return "", invalidf("label %q is %d octets long; the limit is %d", shorten(label), len(a), MaxLabelOctets)
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(a)
	}
	ascii := b.String()
	if strings.Contains(ascii, "xn--") {
		// The Bidi rule applies across labels: once one label is right-to-left, every
		// label must satisfy it.
		if _, err := lookup.ToASCII(mapped); err != nil {
			return "", invalidf("%q mixes right-to-left and other labels in a way the IDNA Bidi rule forbids", shorten(s))
		}
	}
	if len(ascii) > MaxNameOctets {
		return "", invalidf("name is %d octets long; the limit is %d", len(ascii), MaxNameOctets)
	}
	return ascii, nil
}

// mapName applies only the UTS #46 mapping (case folding, width, full stops), so that the
// split into labels sees what DNS will see.
func mapName(s string) (string, error) {
	for _, label := range strings.Split(s, ".") {
		if strings.EqualFold(label, "xn--") {
			return "", invalidf("label %q is an empty internationalised (A-)label", label)
		}
	}
	out, err := mapping.ToUnicode(s)
	if err != nil {
		// Name the label or the character at fault.
		for _, label := range strings.Split(s, ".") {
			if len(label) >= 4 && strings.EqualFold(label[:4], "xn--") {
				if _, e := mapping.ToUnicode(label); e != nil {
					return "", invalidf("label %q is not valid punycode, or decodes to characters a domain may not use", shorten(label))
				}
			}
		}
		for _, r := range s {
			if _, e := mapping.ToUnicode(string(r)); e != nil && r != '.' {
				return "", invalidf("disallowed character %q (U+%04X) in %q", r, r, shorten(s))
			}
		}
		return "", invalidf("%q: %v", shorten(s), strings.TrimPrefix(err.Error(), "idna: "))
	}
	return out, nil
}

var mapping = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.CheckHyphens(false), idna.CheckJoiners(false), idna.StrictDomainName(false))

func labelError(name, label string, err error) error {
	for _, r := range label {
		if r < 0x80 && !(r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return invalidf("character %q is not allowed in a domain name (%q)", r, name)
		}
	}
	switch {
	case strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-"):
		return invalidf("label %q starts or ends with a hyphen", label)
	case strings.HasPrefix(label, "xn--"):
		return invalidf("label %q is not valid punycode, or decodes to characters a domain may not use", label)
	case len(label) >= 4 && label[2:4] == "--":
		return invalidf("label %q has hyphens in the third and fourth positions", label)
	}
	for _, r := range label {
		switch {
		case r == 0x200c || r == 0x200d:
			return invalidf("label %q has an invisible joiner (U+%04X) where IDNA forbids it", shorten(label), r)
		case unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko):
			return invalidf("label %q mixes right-to-left and other characters in a way the IDNA Bidi rule forbids", shorten(label))
		}
	}
	return invalidf("label %q is not allowed in a domain name (IDNA)", shorten(label))
}

// shorten cuts s for an error message, on a character boundary.
func shorten(s string) string {
	if len(s) <= 40 {
		return s
	}
	i := 37
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// plainASCII is the fast path for the common case: letters, digits, hyphens and dots only,
// no A-labels. For such names the UTS #46 mapping is lowercasing and the only rules are
// the hyphen rules and the lengths; anything unusual goes the full IDNA way, which also
// writes the error message.
func plainASCII(s string) (string, bool) {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > MaxNameOctets {
		return "", false
	}
	upper := false
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			l := s[start:i]
			if l == "" || len(l) > MaxLabelOctets || l[0] == '-' || l[len(l)-1] == '-' ||
				len(l) >= 4 && l[2] == '-' && l[3] == '-' {
				return "", false
			}
			start = i + 1
			continue
		}
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
		case c >= 'A' && c <= 'Z':
			upper = true
		default:
			return "", false
		}
	}
	if upper {
		s = strings.ToLower(s)
	}
	return s, true
}
