package content

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/extract"
)

// Limits bound the cost of one message. Zero fields take the defaults.
type Limits struct {
	MaxMessage int64          // bytes of message read at most (default 25 MiB)
	MaxParts   int            // MIME parts (default 500)
	MaxDepth   int            // MIME nesting, message/rfc822 included (default 10)
	MaxTime    time.Duration  // per message (default 2s)
	Extract    extract.Limits // attachment text extraction
}

// Custom is a category of the operator's: it is found when keywords and
// pattern matches together occur at least Min times (default 1) in the text.
// Keywords match case-insensitively as whole words; Patterns are RE2.
type Custom struct {
	Name     string
	Keywords []string
	Patterns []string
	Min      int
}

// Config configures a Classifier.
type Config struct {
	Limits   Limits
	Markings []string // extra marking banners, matched case-sensitively at line start
	Custom   []Custom
}

// Classifier classifies messages. It is safe for concurrent use.
type Classifier struct {
	limits       Limits
	markings     []string
	bannerStarts *bannerStarts // of defaultMarkings and markings
	custom       []customMatcher
}

const (
	defaultMaxMessage = 25 << 20
	defaultMaxParts   = 500
	defaultMaxDepth   = 10
	defaultMaxTime    = 2 * time.Second
)

// New validates the config (custom names, RE2 patterns) and returns a
// Classifier.
func New(c Config) (*Classifier, error) {
	l := c.Limits
	if l.MaxMessage <= 0 {
		l.MaxMessage = defaultMaxMessage
	}
	if l.MaxParts <= 0 {
		l.MaxParts = defaultMaxParts
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = defaultMaxDepth
	}
	if l.MaxTime <= 0 {
		l.MaxTime = defaultMaxTime
	}
	l.Extract = extractDefaults(l.Extract)
	compileAll()
	cl := &Classifier{limits: l}
	for _, m := range c.Markings {
		m = strings.TrimSpace(m)
		if m == "" {
			return nil, fmt.Errorf("content: empty marking")
		}
		cl.markings = append(cl.markings, m)
	}
	cl.bannerStarts = newBannerStarts(defaultMarkings, cl.markings)
	seen := map[string]bool{}
	for i, cu := range c.Custom {
		name := strings.TrimSpace(cu.Name)
		if name == "" {
			return nil, fmt.Errorf("content: custom category %d has no name", i+1)
		}
		if builtin(Category(name)) || seen[name] {
			return nil, fmt.Errorf("content: custom category %q: name already used", name)
		}
		seen[name] = true
		m, err := newCustom(cu)
		if err != nil {
			return nil, err
		}
		cl.custom = append(cl.custom, m)
	}
	return cl, nil
}

func builtin(c Category) bool {
	switch c {
	case Credentials, Personal, Medical, Markings, Travel, Bulk:
		return true
	}
	return false
}

func newCustom(cu Custom) (customMatcher, error) {
	m := customMatcher{name: Category(strings.TrimSpace(cu.Name)), min: cu.Min}
	if m.min <= 0 {
		m.min = 1
	}
	if len(cu.Keywords) == 0 && len(cu.Patterns) == 0 {
		return m, fmt.Errorf("content: custom category %q has neither keywords nor patterns", m.name)
	}
	if len(cu.Keywords) > 0 {
		q := make([]string, 0, len(cu.Keywords))
		for _, k := range cu.Keywords {
			k = strings.TrimSpace(k)
			if k == "" {
				return m, fmt.Errorf("content: custom category %q: empty keyword", m.name)
			}
			q = append(q, k)
		}
		m.keywords = keywordRegexp(q)
	}
	for _, p := range cu.Patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return m, fmt.Errorf("content: custom category %q: pattern %q is not valid RE2: %w", m.name, p, err)
		}
		m.patterns = append(m.patterns, re)
	}
	return m, nil
}
