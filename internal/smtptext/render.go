package smtptext

import (
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// The guard's reasons leave rcptguard in three shapes, each made here and nowhere else:
//
//   - PolicyText: a Postfix policy action's text. Postfix's rules make it ASCII: the
//     request does not say whether the client negotiated SMTPUTF8, and Postfix passes
//     8-bit text on unchanged.
//   - ReplyText: an SMTP reply's text. UTF-8 only where the client said SMTPUTF8 for the
//     transaction (RFC 6531 section 3.7.4.2), ASCII otherwise.
//   - HeaderValue: a header field's value, non-ASCII words as RFC 2047 encoded words,
//     folded (RFC 5322 section 2.2.3).
//
// Every shape is one line of printable characters (OneLine) at most max bytes (Clip)
// before encoding. In the ASCII shapes a word with non-ASCII letters that is a domain in
// display form (a reason names the domains: "bücher.mil") is written in its ASCII form
// ("xn--bcher-kva.mil"); any other non-ASCII character becomes '?', as Postfix's own
// printable() does.

// PolicyText is text fit for a Postfix policy action (REJECT, DEFER, a reply code).
func PolicyText(s string, max int) string { return ReplyText(s, false, max) }

// ReplyText is text fit for an SMTP reply line; utf8 says the client negotiated SMTPUTF8.
func ReplyText(s string, utf8 bool, max int) string {
	s = OneLine(s)
	if !utf8 {
		s = toASCII(s)
	}
	return Clip(s, max)
}

// toASCII writes the domains among s's words in their ASCII form and replaces any other
// non-ASCII character with '?'.
func toASCII(s string) string {
	if IsASCII(s) {
		return s
	}
	words := strings.Split(s, " ")
	for i, w := range words {
		if IsASCII(w) {
			continue
		}
		// The domain: the word without surrounding punctuation, after an address's '@'.
		core := strings.TrimLeft(strings.TrimRight(w, ".,;:?!)>\"'"), "(<\"'")
		start := strings.Index(w, core)
		if at := strings.LastIndexByte(core, '@'); at >= 0 {
			start, core = start+at+1, core[at+1:]
		}
		if strings.Contains(core, ".") {
			if a, err := idna.Lookup.ToASCII(core); err == nil {
				w = w[:start] + a + w[start+len(core):]
			}
		}
		words[i] = strings.Map(func(c rune) rune {
			if c >= utf8.RuneSelf {
				return '?'
			}
			return c
		}, w)
	}
	return strings.Join(words, " ")
}

// HeaderValue makes text the value of a header field named name: one line of printable
// characters, at most max bytes before encoding, runs of non-ASCII words as RFC 2047
// encoded words, folded at spaces with fold ("\r\n " on the wire, "\n " for a milter,
// whose MTA writes its own line ends) so that lines stay under 78 characters where the
// words allow. With fold "" the value stays on one line (a Postfix PREPEND action is one
// line). No other line break can get in.
func HeaderValue(name, text string, max int, fold string) string {
	words := strings.Fields(Clip(OneLine(text), max))
	// Runs of non-ASCII words become one encoded word (or several, for a long run): the
	// white space between adjacent encoded words is not displayed (RFC 2047 section 6.2).
	var tokens []string
	for i := 0; i < len(words); {
		if IsASCII(words[i]) {
			tokens = append(tokens, words[i])
			i++
			continue
		}
		j := i + 1
		for j < len(words) && !IsASCII(words[j]) {
			j++
		}
		enc := mime.QEncoding.Encode("utf-8", strings.Join(words[i:j], " "))
		tokens = append(tokens, strings.Fields(enc)...)
		i = j
	}
	var b strings.Builder
	col := len(name) + 2 // "Name: "
	for i, t := range tokens {
		if i > 0 {
			if fold != "" && col+1+len(t) > maxLine {
				b.WriteString(fold)
				col = 1
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(t)
		col += len(t)
	}
	return b.String()
}

// maxLine is the line length header fields are folded to (RFC 5322 section 2.1.1).
const maxLine = 78
