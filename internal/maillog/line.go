package maillog

import (
	"bytes"
	"time"
)

// header is the syslog part of a line: "Nov 27 10:45:51 host postfix/smtp[123]: msg".
type header struct {
	time    time.Time
	host    []byte
	tag     []byte // "postfix/smtp", "postfix-out/submission/smtpd"
	program []byte // the tag's last part: "smtp"
	msg     int    // offset of the message
}

// header parses the timestamp, host and tag of a line.
func (p *parser) header(b []byte) (h header, ok bool) {
	var rest []byte
	if len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		h.time, rest, ok = rfc3339(b)
	} else {
		h.time, rest, ok = p.clock.syslog(b)
	}
	if !ok || len(rest) == 0 || rest[0] != ' ' {
		return h, false
	}
	rest = bytes.TrimLeft(rest, " ")
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 || sp > maxHost {
		return h, false
	}
	h.host, rest = rest[:sp], rest[sp+1:]
	// The tag: "name[pid]:" or "name:", then a space and the message.
	colon := bytes.Index(rest, []byte(": "))
	if colon <= 0 {
		if n := len(rest); n > 1 && rest[n-1] == ':' && bytes.IndexByte(rest, ' ') < 0 {
			colon = n - 1 // a tag with an empty message
		} else {
			return h, false
		}
	}
	tag := rest[:colon]
	if i := bytes.IndexByte(tag, '['); i >= 0 {
		if tag[len(tag)-1] != ']' || !digits(tag[i+1:len(tag)-1]) {
			return h, false
		}
		tag = tag[:i]
	}
	if len(tag) == 0 || bytes.IndexByte(tag, ' ') >= 0 {
		return h, false
	}
	h.tag = tag
	h.program = tag[bytes.LastIndexByte(tag, '/')+1:]
	if len(h.program) == 0 {
		return h, false
	}
	h.msg = len(b) - len(rest) + min(colon+2, len(rest))
	return h, true
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// rfc3339 parses a leading RFC 3339 timestamp, as rsyslog and Postfix's maillog_file may
// write it ("2026-11-27T10:45:51.123456+00:00"), or with a zone without a colon as
// journalctl -o short-iso does ("+0000").
func rfc3339(b []byte) (time.Time, []byte, bool) {
	end := bytes.IndexByte(b, ' ')
	if end < 0 {
		end = len(b)
	}
	if end > 40 {
		return time.Time{}, nil, false
	}
	s := string(b[:end])
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.Parse("2006-01-02T15:04:05.999999999Z0700", s)
	}
	return t, b[end:], err == nil
}

// clock turns syslog timestamps ("Nov 27 10:45:51", "Nov  7 10:45:51.123456"), which
// have no year, into times: see Options.Year and Options.Now.
type clock struct {
	opts  *Options
	year  int        // the current year; 0 before the first line
	month time.Month // the month of the last line
}

var months = map[string]time.Month{
	"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
	"Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12,
}

func (c *clock) syslog(b []byte) (time.Time, []byte, bool) {
	// "Mmm dd hh:mm:ss" with the day padded by a space or a zero.
	if len(b) < 15 || b[3] != ' ' || b[6] != ' ' || b[9] != ':' || b[12] != ':' {
		return time.Time{}, nil, false
	}
	mon, ok := months[string(b[:3])]
	if !ok {
		return time.Time{}, nil, false
	}
	day, ok1 := num(b[4:6])
	hh, ok2 := num(b[7:9])
	mm, ok3 := num(b[10:12])
	ss, ok4 := num(b[13:15])
	if !ok1 || !ok2 || !ok3 || !ok4 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, nil, false
	}
	rest, ns := b[15:], 0
	if len(rest) > 1 && rest[0] == '.' { // fraction of a second
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			if i <= 9 {
				ns = ns*10 + int(rest[i]-'0')
			}
			i++
		}
		if i == 1 {
			return time.Time{}, nil, false
		}
		for k := i; k <= 9; k++ {
			ns *= 10
		}
		rest = rest[i:]
	}
	year := c.yearOf(mon, day, hh, mm, ss)
	t := time.Date(year, mon, day, hh, mm, ss, ns, c.opts.Location)
	if t.Day() != day { // Feb 30
		return time.Time{}, nil, false
	}
	return t, rest, true
}

// yearOf is the year of a line of month mon, and advances the clock.
func (c *clock) yearOf(mon time.Month, day, hh, mm, ss int) int {
	if c.year == 0 {
		c.year = c.opts.Year
		if c.year == 0 {
			now := c.opts.Now.In(c.opts.Location)
			c.year = now.Year()
			if time.Date(c.year, mon, day, hh, mm, ss, 0, c.opts.Location).After(now.Add(24 * time.Hour)) {
				c.year--
			}
		}
		c.month = mon
		return c.year
	}
	switch {
	case mon+6 <= c.month: // December, then January: a new year
		c.year++
	case c.month+6 <= mon: // a December line among January ones: last year's, out of order
		return c.year - 1
	}
	c.month = mon
	return c.year
}

// num parses two digits, or a space and a digit.
func num(b []byte) (int, bool) {
	hi, lo := b[0], b[1]
	if hi == ' ' {
		hi = '0'
	}
	if hi < '0' || hi > '9' || lo < '0' || lo > '9' {
		return 0, false
	}
	return int(hi-'0')*10 + int(lo-'0'), true
}
