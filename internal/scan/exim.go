package scan

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
)

// EximFormat is the Exim main log (mainlog): "<=" arrivals, "=>" and "->" deliveries,
// "**" failures, "==" deferrals and "Completed", correlated by message ID.
var EximFormat = Format{
	Name:   "exim",
	Detect: detectExim,
	New:    func() Reader { return &eximReader{max: openMessagesMax} },
}

type eximReader struct {
	max int // open messages kept; tests lower it
}

// eximMessage is what is known of a message not yet completed.
type eximMessage struct {
	sender   string
	line     int64
	deferred deferrals // recipients whose last word is a deferral
}

func (m *eximMessage) settle(rcpt string) { m.deferred.settle(rcpt) }

func (m *eximMessage) deferRcpt(r Record) { m.deferred.add(r) }

func (x *eximReader) Read(r io.Reader, name string, emit func(Record), skip func(Problem)) error {
	open := newOpenSet[*eximMessage](x.max)
	evicted := func(id string, m *eximMessage) {
		skip(Problem{Source: name, Line: m.line, Text: fmt.Sprintf(
			"message %s not completed before %d newer messages: dropped from memory, %d deferred recipient(s) reported as deferred",
			id, x.max, len(m.deferred))})
		for _, d := range m.deferred {
			emit(d)
		}
	}
	err := readBoundedLines(r, name, skip, func(b []byte, n int64) {
		t, id, flag, rest, ok := parseEximLine(string(b))
		if !ok {
			return
		}
		m, known := open.get(id)
		switch flag {
		case "<=":
			if known {
				return
			}
			tok, _, _ := strings.Cut(rest, " ")
			open.put(id, &eximMessage{sender: cleanSender(tok), line: n}, evicted)
		case "Completed":
			if known {
				for _, d := range m.deferred {
					emit(d)
				}
				open.remove(id)
			}
		case "=>", "->", "**", "==":
			rec, ok := parseEximDelivery(flag, rest)
			if !ok {
				if rec.Recipient != "" {
					skip(Problem{Source: name, Line: n, Text: "unreadable recipient address in " + flag + " line"})
				}
				return
			}
			rec.Time, rec.Message, rec.Source, rec.Line = t, id, name, n
			if known {
				rec.Sender = m.sender
			}
			if flag == "==" {
				if !known {
					m = &eximMessage{line: n}
					open.put(id, m, evicted)
				}
				m.deferRcpt(rec)
				return
			}
			if known {
				m.settle(rec.Recipient)
			}
			emit(rec)
		}
	})
	open.drain(func(_ string, m *eximMessage) {
		for _, d := range m.deferred {
			emit(d)
		}
	})
	return err
}

// parseEximLine splits "2026-12-04 10:00:00[.mmm] [+0100] [[pid]] ID FLAG rest".
func parseEximLine(s string) (t time.Time, id, flag, rest string, ok bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' {
		return
	}
	var err error
	t, err = time.ParseInLocation("2006-01-02 15:04:05", s[:19], time.Local)
	if err != nil {
		return
	}
	s = s[19:]
	if len(s) > 0 && s[0] == '.' { // log_selector = +millisec
		i := 1
		frac := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if i <= 9 {
				frac = frac*10 + int(s[i]-'0')
			}
			i++
		}
		for j := min(i, 10); j < 10; j++ {
			frac *= 10
		}
		t = t.Add(time.Duration(frac))
		s = s[i:]
	}
	s = strings.TrimLeft(s, " ")
	if len(s) >= 5 && (s[0] == '+' || s[0] == '-') && allDigits(s[1:5]) { // log_timezone
		if z, err := time.Parse("-0700", s[:5]); err == nil {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), z.Location())
		}
		s = strings.TrimLeft(s[5:], " ")
	}
	if strings.HasPrefix(s, "[") { // log_selector = +pid
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return
		}
		s = strings.TrimLeft(s[end+1:], " ")
	}
	id, s, _ = strings.Cut(s, " ")
	if !eximID(id) {
		return
	}
	if s == "Completed" || strings.HasPrefix(s, "Completed ") {
		return t, id, "Completed", "", true
	}
	if len(s) < 3 || s[2] != ' ' {
		return
	}
	switch f := s[:2]; f {
	case "<=", "=>", "->", "**", "==":
		return t, id, f, s[3:], true
	}
	return
}

// eximID reports whether s is an Exim message ID: 6-6-2 base-62 characters, or 6-11-4
// since Exim 4.97.
func eximID(s string) bool {
	var parts [3]int
	switch len(s) {
	case 16:
		parts = [3]int{6, 6, 2}
	case 23:
		parts = [3]int{6, 11, 4}
	default:
		return false
	}
	i := 0
	for p, l := range parts {
		if p > 0 {
			if s[i] != '-' {
				return false
			}
			i++
		}
		for j := 0; j < l; j++ {
			c := s[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return false
			}
			i++
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseEximDelivery reads "addr [<orig>] [(parent)] R=... T=... H=host [ip] C="reply"" or
// "addr ...: reply" of a delivery, failure or deferral line. ok is false for a local
// delivery (a pipe, a file, a bare local part) and for an unreadable address (then the
// returned record's Recipient is not empty).
func parseEximDelivery(flag, rest string) (rec Record, ok bool) {
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return rec, false
	}
	addr := strings.TrimSuffix(fields[0], ":")
	if strings.HasPrefix(addr, ":") { // :blackhole:, :fail:, :defer:
		return rec, false
	}
	if !strings.Contains(addr, "@") && len(fields) > 1 && strings.HasPrefix(fields[1], "<") {
		addr = strings.TrimSuffix(fields[1], ":")
	}
	if !strings.Contains(addr, "@") || strings.HasPrefix(addr, "|") || strings.HasPrefix(addr, "/") {
		return rec, false
	}
	addr, ok = cleanAddress(addr)
	rec.Recipient = addr
	if !ok {
		return rec, false
	}
	for i, f := range fields {
		if h, found := strings.CutPrefix(f, "H="); found {
			h = strings.TrimSuffix(h, ":")
			if i+1 < len(fields) && strings.HasPrefix(fields[i+1], "[") {
				h += " " + strings.TrimSuffix(fields[i+1], ":")
			}
			rec.Relay = h
			break
		}
	}
	switch flag {
	case "=>", "->":
		rec.Outcome = Sent
		if i := strings.Index(rest, ` C="`); i >= 0 {
			c := rest[i+4:]
			if j := strings.IndexByte(c, '"'); j >= 0 {
				c = c[:j]
			}
			rec.Reply = c
		}
	case "**", "==":
		rec.Outcome = Bounced
		if flag == "==" {
			rec.Outcome = Deferred
		}
		if _, reply, found := strings.Cut(rest, ": "); found {
			if _, after, found := strings.Cut(reply, "mail server after "); found {
				if _, r, found := strings.Cut(after, ": "); found {
					reply = r
				}
			}
			rec.Reply = reply
		}
		if flag == "**" && strings.Contains(rest, "retry timeout exceeded") {
			rec.Outcome = Expired
		}
	}
	return rec, true
}

// detectExim: a line in head is an Exim main log line with a message ID and a flag.
func detectExim(head []byte) bool {
	for len(head) > 0 {
		line := head
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		if _, _, _, _, ok := parseEximLine(strings.TrimSuffix(string(line), "\r")); ok {
			return true
		}
	}
	return false
}
