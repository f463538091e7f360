package content

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Custom categories (Config.Custom).
//
// Evidence: "keyword" (a configured keyword as a whole word, any case) and
// "pattern" (a match of a configured RE2 expression), counted over the whole
// message, subject included. The category is found when keywords and
// patterns together match at least Min times (default 1).
//
// Tuning: raise Min for common words; anchor patterns with \b.
const (
	evKeyword = "keyword"
	evPattern = "pattern"
)

type customMatcher struct {
	name     Category
	keywords *regexp.Regexp
	patterns []*regexp.Regexp
	min      int
}

// customCount is one custom category's matches in a message.
type customCount struct{ kw, pt int }

// keywordRegexp matches any of the keywords as whole words, any case.
func keywordRegexp(kws []string) *regexp.Regexp {
	alts := make([]string, 0, len(kws))
	for _, k := range kws {
		q := regexp.QuoteMeta(k)
		if r, _ := utf8.DecodeRuneInString(k); isWord(r) {
			q = `\b` + q
		}
		if r, _ := utf8.DecodeLastRuneInString(k); isWord(r) {
			q += `\b`
		}
		alts = append(alts, q)
	}
	return regexp.MustCompile(`(?i)(?:` + strings.Join(alts, "|") + `)`)
}

func isWord(r rune) bool { return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') }

func (m customMatcher) line(l *lineText, c *customCount) {
	if m.keywords != nil {
		c.kw += len(m.keywords.FindAllStringIndex(l.raw, -1))
	}
	for _, p := range m.patterns {
		c.pt += len(p.FindAllStringIndex(l.raw, -1))
	}
}

func (m customMatcher) end(t tally, c customCount) {
	if c.kw+c.pt >= m.min {
		t.add(m.name, evKeyword, c.kw)
		t.add(m.name, evPattern, c.pt)
	}
}
