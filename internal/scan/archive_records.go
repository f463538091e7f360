package scan

import (
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// recipientFields are the header fields whose addresses are a message's recipients, in
// the order their records are given: the header's, then the envelope's where a delivering
// server wrote it down.
var recipientFields = []string{
	"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc",
	"x-original-to", "delivered-to", "envelope-to",
}

// envelope is what a container says of a message besides its header (an mbox's From_
// line): the envelope sender and the time it was stored.
type envelope struct {
	sender    string
	hasSender bool
	time      time.Time
}

// addrParser parses address lists, decoding RFC 2047 display names in every charset the
// WHATWG encoding standard names; an unknown charset leaves the name undecoded rather than
// losing the address (only the address matters here).
var addrParser = mail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
		enc, err := htmlindex.Get(charset)
		if err != nil {
			return r, nil
		}
		return enc.NewDecoder().Reader(r), nil
	},
}}

// emitMessage gives one Record per distinct recipient address of the message whose kept
// header is h. fallbackID names the message when it has no Message-ID; start is the line
// the message begins on.
func emitMessage(h *messageHeader, env envelope, name, fallbackID string, start int64, emit func(Record), skip func(Problem)) {
	id := fallbackID
	if f := h.first("message-id"); f != nil && strings.TrimSpace(f.value) != "" {
		id = clipRaw(strings.TrimSpace(f.value))
	}
	when := env.time
	if f := h.first("date"); f != nil {
		if t, err := mail.ParseDate(f.value); err == nil {
			when = t
		} else {
			skip(Problem{Source: name, Line: f.line, Text: fmt.Sprintf("Date: %q unreadable: message kept without its date", clipRaw(f.value))})
		}
	}
	sender := messageSender(h, env)
	seen := map[string]bool{}
	n := 0
	for _, fname := range recipientFields {
		for _, f := range h.fields {
			if f.name != fname {
				continue
			}
			value := f.value
			if !utf8.ValidString(value) {
				skip(Problem{Source: name, Line: f.line, Text: fieldTitle(fname) + ": invalid UTF-8 (read with the bad bytes replaced)"})
				value = strings.ToValidUTF8(value, "\uFFFD")
			}
			addrs, bad := parseAddressList(value)
			if len(bad) > 0 {
				skip(Problem{Source: name, Line: f.line, Text: fmt.Sprintf("%s: unreadable address list %q (%d address(es) read from it)", fieldTitle(fname), clipRaw(value), len(addrs))})
			}
			for _, a := range addrs {
				key := strings.ToLower(a)
				if seen[key] {
					continue
				}
				seen[key] = true
				n++
				emit(Record{Time: when, Sender: sender, Recipient: a, Outcome: Unknown, Message: id, Source: name, Line: f.line})
			}
		}
	}
	if n == 0 {
		skip(Problem{Source: name, Line: start, Text: "message " + id + " names no recipient"})
	}
}

// fieldTitle spells a lower-case field name as headers usually do ("resent-to": "Resent-To").
func fieldTitle(lower string) string {
	switch lower {
	case "cc":
		return "Cc"
	case "x-original-to":
		return "X-Original-To"
	}
	parts := strings.Split(lower, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

// messageSender is the envelope sender where the message says it (Return-Path,
// X-Envelope-From, the mbox From_ line), else the From: field's first address; "" when
// none or null ("<>").
func messageSender(h *messageHeader, env envelope) string {
	for _, n := range []string{"return-path", "x-envelope-from"} {
		if f := h.first(n); f != nil {
			return envelopeAddress(f.value)
		}
	}
	if env.hasSender {
		return env.sender
	}
	if f := h.first("from"); f != nil {
		if addrs, _ := parseAddressList(strings.ToValidUTF8(f.value, "\uFFFD")); len(addrs) > 0 {
			return addrs[0]
		}
	}
	return ""
}

// envelopeAddress reads an envelope address as headers and From_ lines write it
// ("<a@b>", "a@b", "<>" for the null sender).
func envelopeAddress(v string) string {
	v = strings.TrimSpace(v)
	if a, err := addrParser.Parse(v); err == nil {
		return a.Address
	}
	v = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
	if strings.ContainsAny(v, " \t<>\"") || !utf8.ValidString(v) {
		return clipRaw(v)
	}
	return v
}

// parseAddressList returns the addresses of an address list (groups flattened, display
// names dropped). When the list as a whole does not parse, it is cut at its top-level
// commas and each piece read alone: the addresses that parse are kept, the rest returned
// as bad, so one broken address does not hide a lookalike next to it.
func parseAddressList(v string) (addrs, bad []string) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	if list, err := addrParser.ParseList(v); err == nil {
		for _, a := range list {
			addrs = append(addrs, a.Address)
		}
		return addrs, nil
	}
	for _, piece := range splitTopLevel(v) {
		p := strings.TrimSpace(piece)
		if p == "" {
			continue
		}
		// A group's name ("Team: a@b" or "a@b;") around its first and last member.
		if i := strings.IndexByte(p, ':'); i > 0 && !strings.ContainsAny(p[:i], "<\"@") {
			p = strings.TrimSpace(p[i+1:])
		}
		p = strings.TrimSpace(strings.TrimSuffix(p, ";"))
		if p == "" {
			continue
		}
		if a, err := addrParser.Parse(p); err == nil {
			addrs = append(addrs, a.Address)
		} else {
			bad = append(bad, p)
		}
	}
	return addrs, bad
}

// splitTopLevel cuts an address list at the commas outside quotes, angle brackets and
// comments.
func splitTopLevel(v string) []string {
	var out []string
	depth, angle, quoted, escaped := 0, false, false, false
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && (quoted || depth > 0):
			escaped = true
		case quoted:
			quoted = c != '"'
		case c == '"':
			quoted = true
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case c == ',' && !angle:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}
