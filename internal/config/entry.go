package config

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/rcptguard/rcptguard/internal/address"
)

// Entry is one item of own_domains, protect, allow or block: a domain, or a whole namespace.
//
// In the file and on the command line, an entry starting with "." is a namespace (".mil",
// ".army.mil"), and so is a single label ("mil"): no mail domain has a single label. A
// namespace contains its own name and every name below it.
type Entry struct {
	Name      string // ASCII (A-label) form, lowercase, without a leading or trailing dot
	Namespace bool   // the whole namespace Name, not only the domain Name
	Line      int    // line in the config file; 0 when it came from a flag or from code
}

// String is the entry as written in a config: "army.mil" or ".mil".
func (e Entry) String() string {
	if e.Namespace {
		return "." + e.Name
	}
	return e.Name
}

// Matches reports whether domain d is this entry, or is in this namespace.
func (e Entry) Matches(d address.Domain) bool {
	if e.Namespace {
		return d.Under(e.Name)
	}
	return d.ASCII == e.Name
}

// UnmarshalYAML implements yaml.Unmarshaler, so that an Entry can be read from any YAML
// document; its errors name the line.
func (e *Entry) UnmarshalYAML(n *yaml.Node) error {
	v, err := entryFromNode(n)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", err.Line, err.Msg)}}
	}
	*e = v
	return nil
}

func entryFromNode(n *yaml.Node) (Entry, *Error) {
	line := n.Line
	n = resolve(n)
	switch {
	case n.Kind != yaml.ScalarNode:
		return Entry{}, &Error{Line: line, Msg: "want a domain such as army.mil or a namespace such as .mil, got " + describe(n)}
	case n.ShortTag() == "!!null":
		return Entry{}, &Error{Line: line, Msg: "empty entry"}
	case n.ShortTag() != "!!str":
		return Entry{}, &Error{Line: line, Msg: fmt.Sprintf("want a domain such as army.mil or a namespace such as .mil, got %s (YAML reads it as %s; quote it if it is a name)",
			shorten(n.Value), strings.TrimPrefix(n.ShortTag(), "!!"))}
	}
	e, err := parseEntry(n.Value)
	if err != nil {
		err.Line = line
		return Entry{}, err
	}
	e.Line = line
	return e, nil
}

// parseEntry reads the entry syntax shared by the file and the command line.
func parseEntry(s string) (Entry, *Error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return Entry{}, &Error{Msg: "empty entry"}
	case strings.HasPrefix(s, "*."):
		return Entry{}, &Error{Msg: fmt.Sprintf("wildcard %q: write %q for the namespace", shorten(s), shorten(s[1:]))}
	case strings.Contains(s, "@"):
		return Entry{}, &Error{Msg: fmt.Sprintf("%q is an address; write only its domain", shorten(s))}
	}
	name, ns := strings.CutPrefix(s, ".")
	d, err := address.ParseName(name)
	if err != nil {
		return Entry{}, &Error{Msg: fmt.Sprintf("invalid domain %q: %s", shorten(s), addressReason(err)), Err: err}
	}
	if !strings.Contains(d.ASCII, ".") {
		ns = true // a single label is a top-level namespace: "ml" means ".ml"
	}
	return Entry{Name: d.ASCII, Namespace: ns}, nil
}

// addressReason is an address error's text without the "invalid: " that every one starts
// with, since the message around it already says so.
func addressReason(err error) string {
	s := err.Error()
	if errors.Is(err, address.ErrInvalid) {
		s = strings.TrimPrefix(s, address.ErrInvalid.Error()+": ")
	}
	return s
}

// dedupe drops repeated entries (same name, same kind), keeping the first and its line.
func dedupe(entries []Entry) []Entry {
	type key struct {
		name string
		ns   bool
	}
	seen := make(map[key]bool, len(entries))
	out := entries[:0]
	for _, e := range entries {
		k := key{e.Name, e.Namespace}
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// ParseList reads a comma-separated command-line list ("army.mil, .mil, ml") with the
// entry syntax of the file. Spaces around items are ignored and repeated entries merged; an
// empty item is an error naming its position. An empty or blank s is an empty list. The
// entries have Line 0. Whether a namespace is allowed depends on the list (own_domains
// takes none); Validate checks that once the list is in a Config.
func ParseList(s string) ([]Entry, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	items := strings.Split(s, ",")
	entries := make([]Entry, 0, len(items))
	for i, item := range items {
		if strings.TrimSpace(item) == "" {
			return nil, &Error{Msg: fmt.Sprintf("item %d of %d is empty (two commas, or a comma at an end?)", i+1, len(items))}
		}
		e, err := parseEntry(item)
		if err != nil {
			err.Msg = fmt.Sprintf("item %d: %s", i+1, err.Msg)
			return nil, err
		}
		entries = append(entries, e)
	}
	return dedupe(entries), nil
}
