package watch

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Line is one change in one line of plain text, with the mail hosts before and after:
//
//	bank-army.ml (lookalike of army.mil): now accepts mail at mx.farm.example
//	fabrikam.com (known correspondent): MX moved from mx.fabrikam.com to mx.farm.example, which serves lookalikes: it may have changed hands
//
// Every name in it is cleaned: no control character, no line break, valid UTF-8.
func Line(c Change) string {
	who := clean(c.Domain)
	if c.Watched == Known {
		who += " (known correspondent)"
	} else if c.Of != "" {
		who += " (lookalike of " + clean(c.Of) + ")"
	} else {
		who += " (lookalike)"
	}
	b, a := hosts(c.Before.MX), hosts(c.After.MX)
	var what string
	switch c.Kind {
	case NewlyRegistered:
		what = "newly registered"
		if len(c.After.NS) > 0 {
			what += ", name servers " + hosts(c.After.NS)
		}
	case NowReceives:
		what = "now accepts mail at " + a
	case StopsReceiving:
		what = "no longer accepts mail (was " + b + ")"
		if c.After.NullMX {
			what = "no longer accepts mail: null MX (was " + b + ")"
		}
	case MXMoved:
		what = "MX moved from " + b + " to " + a
	case NSMoved:
		what = "name servers moved from " + hosts(c.Before.NS) + " to " + hosts(c.After.NS)
	case Gone:
		what = "gone (NXDOMAIN)"
		if len(c.Before.MX) > 0 {
			what += ", was receiving mail at " + b
		}
	case CameBack:
		what = "exists again after being gone"
		if len(c.After.MX) > 0 {
			what += ", receives mail at " + a
		}
	default:
		what = "changed (" + c.Kind.String() + ")"
	}
	if c.Owner {
		if len(c.FarmHosts) > 0 {
			what += ", which also serves lookalikes (" + hosts(c.FarmHosts) + ")"
		}
		what += ": it may have changed hands"
	}
	return who + ": " + what
}

// WriteText writes the changes one line each (Line); nothing when there are none.
func WriteText(w io.Writer, changes []Change) error {
	for _, c := range changes {
		if _, err := fmt.Fprintln(w, Line(c)); err != nil {
			return err
		}
	}
	return nil
}

// hosts lists host names for a line; "nothing" for an empty list.
func hosts(hs []string) string {
	if len(hs) == 0 {
		return "nothing"
	}
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = clean(h)
	}
	return strings.Join(out, ", ")
}

// clean makes a name read from DNS or the database safe on one line of a terminal or a
// mail: invalid UTF-8 and every control, format or separator character other than the
// space becomes U+FFFD.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == ' ' || (unicode.IsPrint(r) && !unicode.Is(unicode.Cf, r)) {
			return r
		}
		return '\uFFFD'
	}, s)
}
