package scan

import (
	"bytes"
	"time"

	"github.com/rcptguard/rcptguard/internal/maillog"
)

// postfixHead is the syslog part of a line, as offsets into it:
// "Dec  4 10:00:00 host postfix/smtp[123]: msg".
type postfixHead struct {
	tsEnd              int // the timestamp is line[:tsEnd]
	hostStart, hostEnd int
	msg                int  // the message starts at line[msg:]
	postfix            bool // the tag holds a '/': "postfix/smtp", "postfix-out/smtpd"
}

// postfixHeader finds the timestamp, host and tag of a line without parsing the time.
func postfixHeader(b []byte) (h postfixHead, ok bool) {
	if len(b) < 16 {
		return h, false
	}
	i := 0
	if c := b[0]; c >= '0' && c <= '9' { // RFC 3339: "2026-12-04T10:00:00[.123456](Z|+00:00)"
		if b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' {
			return h, false
		}
		i = bytes.IndexByte(b[:min(len(b), 40)], ' ')
		if i < 0 {
			return h, false
		}
	} else { // RFC 3164: "Dec  4 10:00:00[.123456]"
		if b[3] != ' ' || b[6] != ' ' || b[9] != ':' || b[12] != ':' || postfixMonth(b) == 0 {
			return h, false
		}
		i = 15
		if b[i] == '.' {
			i++
			for i < len(b) && b[i] >= '0' && b[i] <= '9' {
				i++
			}
		}
		if i >= len(b) || b[i] != ' ' {
			return h, false
		}
	}
	h.tsEnd = i
	for i < len(b) && b[i] == ' ' {
		i++
	}
	// The host, then the tag: "name[pid]: " or "name: ", in one pass.
	h.hostStart = i
	for i < len(b) && b[i] != ' ' {
		i++
	}
	if i == h.hostStart || i+1 >= len(b) {
		return h, false
	}
	h.hostEnd = i
	i++
	tagStart, slash, space, bracket := i, false, false, false
	for ; i+1 < len(b); i++ {
		switch b[i] {
		case ':':
			if b[i+1] == ' ' {
				if i == tagStart {
					return h, false
				}
				h.msg = i + 2
				// "host kernel: [123.4] x: y" has no tag: an ordinary line of another program.
				h.postfix = slash && !space
				return h, true
			}
		case '/':
			slash = slash || !bracket && i > tagStart
		case ' ':
			space = true
		case '[':
			bracket = true
		}
	}
	return h, false
}

// postfixMonth returns the month of "Mmm", or 0.
func postfixMonth(b []byte) time.Month {
	switch string(b[:3]) {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return 0
}

// postfixFields are the parts of a delivery line that a Record keeps.
type postfixFields struct {
	to, origTo, relay, status, reply []byte
}

// postfixDelivery parses "to=<a@b>, orig_to=<c@d>, relay=r, delay=1, ..., status=sent
// (reply)". to= and status= are required; Postfix writes orig_to= and relay= first and
// status= last, so the first ", status=" after them is the field (the reply may hold
// anything).
func postfixDelivery(b []byte) (d postfixFields, ok bool) {
	var rest []byte
	if d.to, rest, ok = maillog.Angle(b[len("to="):]); !ok || len(d.to) == 0 {
		return d, false
	}
	if hasPrefixStr(rest, ", orig_to=") {
		if d.origTo, rest, ok = maillog.Angle(rest[len(", orig_to="):]); !ok {
			return d, false
		}
	}
	if hasPrefixStr(rest, ", relay=") {
		rest = rest[len(", relay="):]
		end := bytes.Index(rest, []byte(", "))
		if end < 0 {
			return d, false
		}
		d.relay, rest = rest[:end], rest[end:]
	}
	i := bytes.Index(rest, []byte(", status="))
	if i < 0 {
		return d, false
	}
	rest = rest[i+len(", status="):]
	end := bytes.IndexByte(rest, ' ')
	if end < 0 {
		end = len(rest)
	}
	if end == 0 {
		return d, false
	}
	d.status = rest[:end]
	d.reply = postfixReply(rest[end:])
	return d, true
}

// postfixReply is the text after a status word: " (250 2.0.0 Ok)" gives "250 2.0.0 Ok";
// ", returned to sender" gives "returned to sender".
func postfixReply(b []byte) []byte {
	b = bytes.TrimLeft(b, " ,")
	if len(b) >= 2 && b[0] == '(' && b[len(b)-1] == ')' {
		b = b[1 : len(b)-1]
	}
	return b
}

// postfixClock turns timestamps into times, caching the last one (many lines share a
// second) and giving RFC 3164 timestamps a year.
type postfixClock struct {
	now   time.Time
	loc   *time.Location
	last  [48]byte // the last timestamp parsed
	lastN int
	lastT time.Time
	year  int        // the year of the last RFC 3164 line; 0 before the first
	month time.Month // its month
}

func (c *postfixClock) parse(ts []byte) (time.Time, bool) {
	if len(ts) == c.lastN && string(ts) == string(c.last[:c.lastN]) {
		return c.lastT, true
	}
	var t time.Time
	var ok bool
	if ts[0] >= '0' && ts[0] <= '9' {
		t, ok = postfixRFC3339(ts)
	} else {
		t, ok = c.rfc3164(ts)
	}
	if ok && len(ts) <= len(c.last) {
		c.lastN = copy(c.last[:], ts)
		c.lastT = t
	}
	return t, ok
}

func postfixRFC3339(ts []byte) (time.Time, bool) {
	s := string(ts)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.Parse("2006-01-02T15:04:05.999999999Z0700", s) // journalctl -o short-iso
	}
	return t, err == nil
}

// rfc3164 parses "Mmm dd hh:mm:ss[.frac]" (the day padded with a space or a zero).
func (c *postfixClock) rfc3164(b []byte) (time.Time, bool) {
	mon := postfixMonth(b)
	day, ok1 := postfixNum(b[4:6])
	hh, ok2 := postfixNum(b[7:9])
	mm, ok3 := postfixNum(b[10:12])
	ss, ok4 := postfixNum(b[13:15])
	if mon == 0 || !ok1 || !ok2 || !ok3 || !ok4 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, false
	}
	ns := 0
	if len(b) > 16 && b[15] == '.' {
		k := 0
		for _, d := range b[16:] {
			if k < 9 {
				ns = ns*10 + int(d-'0')
				k++
			}
		}
		for ; k < 9; k++ {
			ns *= 10
		}
	}
	year := c.yearOf(mon, day, hh, mm, ss)
	t := time.Date(year, mon, day, hh, mm, ss, ns, c.loc)
	if t.Day() != day { // Feb 30
		return time.Time{}, false
	}
	return t, true
}

// yearOf is the year of a line of month mon; it advances the clock.
func (c *postfixClock) yearOf(mon time.Month, day, hh, mm, ss int) int {
	if c.year == 0 {
		now := c.now.In(c.loc)
		c.year = now.Year()
		if time.Date(c.year, mon, day, hh, mm, ss, 0, c.loc).After(now.Add(24 * time.Hour)) {
			c.year--
		}
		c.month = mon
		return c.year
	}
	switch {
	case mon+6 <= c.month: // December, then January: a new year
		c.year++
	case c.month+6 <= mon: // a December line among January ones: out of order
		return c.year - 1
	}
	c.month = mon
	return c.year
}

// postfixNum parses two digits, or a space and a digit.
func postfixNum(b []byte) (int, bool) {
	hi, lo := b[0], b[1]
	if hi == ' ' {
		hi = '0'
	}
	if hi < '0' || hi > '9' || lo < '0' || lo > '9' {
		return 0, false
	}
	return int(hi-'0')*10 + int(lo-'0'), true
}

// detectPostfix reports whether head looks like a Postfix log: at least three lines (or
// every complete line, when fewer) are syslog lines of a Postfix program.
func detectPostfix(head []byte) bool {
	lines, postfix := 0, 0
	for len(head) > 0 {
		nl := bytes.IndexByte(head, '\n')
		if nl < 0 {
			break // a cut last line
		}
		line := bytes.TrimSuffix(head[:nl], []byte("\r"))
		head = head[nl+1:]
		if len(line) == 0 {
			continue
		}
		lines++
		h, ok := postfixHeader(line)
		if ok && h.postfix && bytes.Contains(line[h.hostEnd:h.msg], []byte("postfix")) {
			postfix++
			if postfix >= 3 {
				return true
			}
		}
	}
	return postfix > 0 && postfix == lines
}
