package scan

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// readAliasLines reads a line-based forwards source: an alias map ("name: targets"), a
// virtual map ("pattern targets") or a list of targets (a .forward, a member file). As in
// Postfix's source files, a line whose first non-blank character is '#' is a comment, and
// a line beginning with white space continues the entry before it (maps only). check is
// called after each line: its error ends the reading.
func readAliasLines(r io.Reader, name string, kind aliasKind, emit func(Record), skip func(Problem), check func() error) error {
	lr := newLineReader(r)
	key, msg := "", "" // the entry being continued ("" when none)
	for {
		line, long, err := lr.next(0)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: line %d: %w", name, lr.n+1, err)
		}
		if err := check(); err != nil {
			return err
		}
		cont := len(line) > 0 && (line[0] == ' ' || line[0] == '\t')
		if long || !utf8.Valid(line) {
			what := "line over 1 MB"
			if !long {
				what = "invalid UTF-8"
			}
			skip(Problem{Source: name, Line: lr.n, Text: what + ": line skipped"})
			if !cont {
				key = ""
			}
			continue
		}
		t := strings.TrimSpace(string(line))
		if t == "" || t[0] == '#' {
			continue
		}
		if cont && kind != kindList {
			if key != "" {
				forwardTargets(t, kind, key, msg, name, lr.n, emit, skip)
			}
			continue
		}
		key, msg = "", fmt.Sprintf("%s:%d", name, lr.n)
		switch kind {
		case kindAliases:
			k := aliasKeyLen(t)
			if k == 0 {
				skip(Problem{Source: name, Line: lr.n, Text: fmt.Sprintf("not an alias entry (name: targets): %q", clipRaw(t))})
				continue
			}
			key = strings.Trim(strings.TrimSpace(t[:k-1]), `"`)
			forwardTargets(t[k:], kind, key, msg, name, lr.n, emit, skip)
		case kindVirtual:
			f := strings.Fields(t)
			if len(f) < 2 {
				skip(Problem{Source: name, Line: lr.n, Text: fmt.Sprintf("virtual map entry without a target: %q", clipRaw(t))})
				continue
			}
			key = f[0]
			forwardTargets(strings.TrimSpace(t[len(f[0]):]), kind, key, msg, name, lr.n, emit, skip)
		default:
			if i := strings.Index(t, " #"); i >= 0 {
				t = t[:i] // a member file's comment after the address
			}
			if i := strings.Index(t, "\t#"); i >= 0 {
				t = t[:i]
			}
			forwardTargets(t, kind, name, msg, name, lr.n, emit, skip)
		}
	}
}

// forwardTargets gives a Record for each forward address among comma-separated targets.
func forwardTargets(text string, kind aliasKind, from, msg, name string, line int64, emit func(Record), skip func(Problem)) {
	for _, item := range splitTopLevel(text) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		for _, a := range targetAddresses(item, kind, name, line, skip) {
			emit(Record{Sender: from, Recipient: a, Outcome: Unknown, Message: msg, Source: name, Line: line})
		}
	}
}

// targetAddresses returns the forward addresses one target stands for: none for a
// command, a file, a local user or an include (a Problem: not followed).
func targetAddresses(item string, kind aliasKind, name string, line int64, skip func(Problem)) []string {
	bare := strings.TrimPrefix(item, `"`)
	switch {
	case strings.HasPrefix(strings.ToLower(bare), ":include:"):
		path := strings.TrimSpace(strings.Trim(bare[len(":include:"):], `"`))
		skip(Problem{Source: name, Line: line, Text: fmt.Sprintf("%q is included, not followed: scan it with --aliases too", clipRaw(path))})
		return nil
	case bare == "" || bare[0] == '|' || bare[0] == '/' || bare[0] == '\\':
		return nil // a command, a file, a local delivery: nothing leaves
	case !strings.Contains(item, "@"):
		return nil // a local user (or a virtual domain's "anything")
	}
	if a, err := addrParser.Parse(item); err == nil {
		return []string{a.Address}
	}
	// "a@b c@d" (white space between targets), or a member file's "a@b Full Name".
	var out []string
	for i, f := range strings.Fields(item) {
		if !strings.Contains(f, "@") {
			if i == 0 {
				break
			}
			continue
		}
		a, err := addrParser.Parse(f)
		if err != nil {
			break
		}
		out = append(out, a.Address)
	}
	if len(out) == 0 {
		skip(Problem{Source: name, Line: line, Text: fmt.Sprintf("unreadable %s target %q skipped", kindNames[kind], clipRaw(item))})
	}
	return out
}
