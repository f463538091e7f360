package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// This file rewrites yaml.v3's errors into "file:line: problem" form, with the real line.

var (
	lineRE      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)^line (\d+): (.*)$`) })
	unknownRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)^field (.+) not found in type (\S+)$`) })
	duplicateRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?s)^mapping key (".*") already defined at line (\d+)$`)
	})
	typeRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile("(?s)^cannot unmarshal (\\S+)(?: `(.*)`)? into (\\S+)$")
	})
)

// parserProblems are yaml.v3's parser (not scanner) messages. yaml.v3 reports their lines
// 0-based (it adds one only for scanner errors), so they are off by one.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// decodeProblems are yaml.v3 messages raised after parsing, which carry no line.
var decodeProblems = []string{"unknown anchor", "anchor '", "!!binary", "map merge", "document contains excessive aliasing",
	"invalid map key", "invalid array", "cannot decode node", "attempted to go past"}

// isTypeError reports whether yaml.v3 read the whole document despite err.
func isTypeError(err error) bool {
	var te *yaml.TypeError
	return errors.As(err, &te)
}

// yamlErrors rewrites a yaml.v3 error into "file:line: problem" form.
func yamlErrors(err error, data []byte) []*Error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		errs := make([]*Error, 0, len(te.Errors))
		for _, s := range te.Errors {
			line, msg := 0, s
			if m := lineRE().FindStringSubmatch(s); m != nil {
				line, _ = strconv.Atoi(m[1])
				msg = m[2]
			}
			errs = append(errs, &Error{Line: line, Msg: oneLine(rewriteTypeError(msg))})
		}
		return errs
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := lineRE().FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	switch {
	case parserProblems[msg]:
		line++
	case line == 0 && !hasAnyPrefix(msg, decodeProblems):
		line = 1 // a scanner error on the first line, which yaml.v3 does not number
	case line == 0:
		line = locate(data, msg)
	}
	msg = "invalid YAML: " + oneLine(msg)
	if line > 0 && bytes.Contains(lineText(data, line), []byte("*.")) {
		msg += ` (in YAML "*" starts an alias: write ".mil", not "*.mil", for a namespace)`
	}
	return []*Error{{Line: line, Msg: msg, Err: err}}
}

// lineText is line n (1-based) of data.
func lineText(data []byte, n int) []byte {
	for ; n > 1; n-- {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil
		}
		data = data[i+1:]
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	}
	return data
}

// oneLine keeps a message on one line, so that each line of a joined error is one problem.
func oneLine(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

var anchorRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(unknown anchor|anchor) '(.*)' (referenced|value contains itself)$`)
})

// locate finds the line of an alias or anchor that a line-less message names; 0 if none.
func locate(data []byte, msg string) int {
	m := anchorRE().FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	token := "*" + m[2]
	if m[1] == "anchor" {
		token = "&" + m[2]
	}
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte(token))
		if i < 0 {
			return 0
		}
		i += off
		end := i + len(token)
		if (i == 0 || isSep(data[i-1])) && (end == len(data) || isSep(data[end])) {
			return lineOf(data, i)
		}
		off = i + 1
	}
}

func isSep(c byte) bool { return strings.IndexByte(" \t\r\n,[]{}:", c) >= 0 }

func rewriteTypeError(msg string) string {
	if m := unknownRE().FindStringSubmatch(msg); m != nil {
		key, where := m[1], ""
		if strings.HasSuffix(m[2], "rawPolicy") {
			where = " in policy"
		}
		return fmt.Sprintf("unknown key %q%s%s", shorten(key), where, suggest(key, where != ""))
	}
	if m := duplicateRE().FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("duplicate key %s (first at line %s)", m[1], m[2])
	}
	if m := typeRE().FindStringSubmatch(msg); m != nil {
		got := map[string]string{"!!seq": "a list", "!!map": "a mapping"}[m[1]]
		switch {
		case got != "":
		case m[1] == "!!str":
			got = strconv.Quote(m[2])
		default:
			got = m[2]
		}
		switch {
		case strings.HasSuffix(m[3], "rawFile"):
			return "the config must be a mapping of keys such as protect: and policy:, not " + got
		case m[3] == "string":
			return "a key must be a name, not " + got
		case strings.HasSuffix(m[3], "rawPolicy"):
			return "policy: want a mapping such as {protected: hold}, got " + got
		}
	}
	return msg
}

// suggest proposes the key that was probably meant, or returns "".
func suggest(key string, inPolicy bool) string {
	same, other, prefix := topKeys, policyKeys, "policy."
	if inPolicy {
		same, other, prefix = policyKeys, topKeys, "top-level "
	}
	for _, k := range other {
		if k == key {
			return fmt.Sprintf(" (did you mean %s%s?)", prefix, k)
		}
	}
	best, bestDist := "", 3
	for _, k := range same {
		if d := distance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" || len(key) < 3 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance between short ASCII keys.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
