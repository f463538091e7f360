// Package content owns the content classifier: it reads one whole RFC 5322
// message as it streams and says which sensitive categories it carries
// (credentials, personal, medical, markings, travel, bulk, and custom ones from
// the config), with evidence counts and never the matched text.
//
// It is pure: no I/O but the reader it is given, no network, no files. Memory
// and time are bounded by Config.Limits: text goes through the matchers line by
// line (lines longer than maxLine are cut), only one attachment at a time is
// held (at most Limits.Extract.MaxInput bytes) for the extractor. A message
// over a limit gets Result.Skipped and a NotRead naming the limit; a part that
// cannot be read (broken encoding, unknown charset, corrupt attachment) is
// listed in NotRead and the rest of the message is still read.
//
// Each category's evidence and tuning are described on its matcher:
// credentials.go, personal.go, medical.go, markings.go, travel.go, bulk.go,
// custom.go.
package content

import (
	"sort"
	"strings"
)

// Category names a kind of sensitive content.
type Category string

// The built-in categories; a custom category is named by its config.
const (
	Credentials Category = "credentials"
	Personal    Category = "personal"
	Medical     Category = "medical"
	Markings    Category = "markings"
	Travel      Category = "travel"
	Bulk        Category = "bulk"
)

// Finding is one category found, with how many times each kind of evidence
// was seen. It never holds the matched text.
type Finding struct {
	Category Category
	Evidence map[string]int
}

// NotRead names a part of the message that was not read and why.
type NotRead struct {
	Part string // "attachment scan.pdf", "part 3 (text/plain)", "message"
	Why  string
}

// Result is what Classify found in one message.
type Result struct {
	Findings []Finding // sorted by category
	NotRead  []NotRead
	Skipped  bool // over the limits: not read to its end (Why in NotRead); Findings are what came before
}

// Has reports whether the category was found.
func (r Result) Has(c Category) bool {
	for _, f := range r.Findings {
		if f.Category == c {
			return true
		}
	}
	return false
}

// Names returns the category names found, sorted, for logs and metrics.
func (r Result) Names() []string {
	out := make([]string, 0, len(r.Findings))
	for _, f := range r.Findings {
		out = append(out, string(f.Category))
	}
	return out
}

// Sentence says in words what the message carries, e.g. "the message contains
// what looks like a password and a medical record". It is "" when nothing was
// found.
func (r Result) Sentence() string {
	if len(r.Findings) == 0 {
		return ""
	}
	phrases := make([]string, 0, len(r.Findings))
	for _, f := range r.Findings {
		phrases = append(phrases, phrase(f))
	}
	return "the message contains what looks like " + joinAnd(phrases)
}

// Describe says in plain words what categories named by their names (Result.Names, as a
// held message keeps them) are: "a password, key or token and a medical record". A
// custom category is named as such.
func Describe(names []string) string {
	phrases := make([]string, 0, len(names))
	for _, n := range names {
		if Category(n) == Credentials {
			phrases = append(phrases, "a password, key or token")
			continue
		}
		phrases = append(phrases, phrase(Finding{Category: Category(n)}))
	}
	return joinAnd(phrases)
}

func phrase(f Finding) string {
	switch f.Category {
	case Credentials:
		switch {
		case f.Evidence[evPassword] > 0:
			return "a password"
		case f.Evidence[evPrivateKey] > 0:
			return "a private key"
		case f.Evidence[evToken] > 0:
			return "an access token"
		case f.Evidence[evKeyFile] > 0:
			return "a key or password file"
		default:
			return "a password-protected attachment"
		}
	case Personal:
		return "personal data"
	case Medical:
		return "a medical record"
	case Markings:
		return "a classification or handling marking"
	case Travel:
		return "a travel itinerary"
	case Bulk:
		return "a bulk list of people"
	}
	return "content of the custom category " + string(f.Category)
}

func joinAnd(p []string) string {
	switch len(p) {
	case 1:
		return p[0]
	case 2:
		return p[0] + " and " + p[1]
	}
	return strings.Join(p[:len(p)-1], ", ") + " and " + p[len(p)-1]
}

// tally accumulates evidence for one message.
type tally map[Category]map[string]int

func (t tally) add(c Category, kind string, n int) {
	if n <= 0 {
		return
	}
	m := t[c]
	if m == nil {
		m = map[string]int{}
		t[c] = m
	}
	m[kind] += n
}

func (t tally) findings() []Finding {
	out := make([]Finding, 0, len(t))
	for c, ev := range t {
		out = append(out, Finding{Category: c, Evidence: ev})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Category < out[j].Category })
	return out
}
