package scan

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// SendmailFormat is Sendmail's syslog lines: "QUEUEID: from=<...>, ..., nrcpts=N" and
// "QUEUEID: to=<a>,<b>, ..., relay=..., dsn=X.Y.Z, stat=...", correlated by queue ID.
// Hand-overs to a loopback relay (the submission program giving mail to the local MTA)
// are not deliveries and are not reported: the MTA's own lines are.
var SendmailFormat = Format{
	Name:   "sendmail",
	Detect: detectSendmail,
	New:    func() Reader { return &sendmailReader{max: openMessagesMax, now: time.Now} },
}

type sendmailReader struct {
	max int
	now func() time.Time // the year of classic syslog stamps
}

type sendmailMessage struct {
	sender   string
	line     int64
	nrcpts   int // from nrcpts=, 0 when unknown
	settled  int
	deferred deferrals
}

func (m *sendmailMessage) settle(rcpt string) {
	m.settled++
	m.deferred.settle(rcpt)
}

func (m *sendmailMessage) deferRcpt(r Record) { m.deferred.add(r) }

func (s *sendmailReader) Read(r io.Reader, name string, emit func(Record), skip func(Problem)) error {
	open := newOpenSet[*sendmailMessage](s.max)
	now := s.now()
	evicted := func(qid string, m *sendmailMessage) {
		if m.nrcpts > 0 && m.settled >= m.nrcpts && len(m.deferred) == 0 {
			return
		}
		skip(Problem{Source: name, Line: m.line, Text: fmt.Sprintf(
			"queue ID %s still open after %d newer messages: dropped from memory, %d deferred recipient(s) reported as deferred",
			qid, s.max, len(m.deferred))})
		for _, d := range m.deferred {
			emit(d)
		}
	}
	err := readBoundedLines(r, name, skip, func(b []byte, n int64) {
		t, qid, body, ok := parseSendmailLine(string(b), now)
		if !ok {
			return
		}
		m, known := open.get(qid)
		kv := sendmailFields(body)
		if from, isFrom := kv["from"]; isFrom && strings.HasPrefix(body, "from=") {
			if known {
				m.sender = cleanSender(from)
				return
			}
			nr, _ := strconv.Atoi(kv["nrcpts"])
			open.put(qid, &sendmailMessage{sender: cleanSender(from), line: n, nrcpts: nr}, evicted)
			return
		}
		to, isTo := kv["to"]
		if !isTo || !strings.HasPrefix(body, "to=") {
			return
		}
		relay := strings.TrimSpace(kv["relay"])
		if loopbackRelay(relay) {
			return
		}
		outcome, reply, final := sendmailOutcome(kv["stat"], kv["dsn"])
		if !final && outcome == Unknown {
			return // queued, not yet tried
		}
		for _, a := range splitSendmailRecipients(to) {
			addr, ok := cleanAddress(a)
			if !ok {
				if strings.Contains(a, "@") {
					skip(Problem{Source: name, Line: n, Text: "unreadable recipient address in to="})
				}
				continue
			}
			rec := Record{Time: t, Recipient: addr, Outcome: outcome, Relay: relay, Reply: reply, Message: qid, Source: name, Line: n}
			if known {
				rec.Sender = m.sender
			}
			if outcome == Deferred {
				if !known {
					m, known = &sendmailMessage{line: n}, true
					open.put(qid, m, evicted)
				}
				m.deferRcpt(rec)
				continue
			}
			if known {
				m.settle(addr)
			}
			emit(rec)
		}
		if known && m.nrcpts > 0 && m.settled >= m.nrcpts && len(m.deferred) == 0 {
			open.remove(qid)
		}
	})
	open.drain(func(_ string, m *sendmailMessage) {
		for _, d := range m.deferred {
			emit(d)
		}
	})
	return err
}

// parseSendmailLine reads a syslog line of sendmail (or sm-mta): the time, the queue ID
// and what follows it.
func parseSendmailLine(s string, now time.Time) (t time.Time, qid, body string, ok bool) {
	i := strings.Index(s, "]: ")
	if i < 0 {
		return
	}
	open := strings.LastIndexByte(s[:i], '[')
	if open < 0 {
		return
	}
	sp := strings.LastIndexByte(s[:open], ' ')
	prog := s[sp+1 : open]
	if strings.HasPrefix(prog, "/") { // "/usr/sbin/sendmail[1]", not "postfix/sendmail[1]"
		prog = prog[strings.LastIndexByte(prog, '/')+1:]
	}
	if prog != "sendmail" && prog != "sm-mta" {
		return
	}
	qid, body, found := strings.Cut(s[i+3:], ": ")
	if !found || len(qid) < 8 || len(qid) > 20 || !alnum(qid) {
		return
	}
	return syslogTime(s, now), qid, body, true
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// syslogTime reads the stamp a syslog line begins with: "Dec  4 10:00:00" (the year the
// latest one not after now, plus a day of slack) or RFC 3339; zero when neither.
func syslogTime(s string, now time.Time) time.Time {
	if len(s) >= 15 && s[3] == ' ' && s[9] == ':' {
		if t, err := time.ParseInLocation("Jan _2 15:04:05", s[:15], time.Local); err == nil {
			t = t.AddDate(now.Year(), 0, 0)
			if t.After(now.Add(24 * time.Hour)) {
				t = t.AddDate(-1, 0, 0)
			}
			return t
		}
	}
	tok, _, _ := strings.Cut(s, " ")
	if t, err := time.Parse(time.RFC3339Nano, tok); err == nil {
		return t
	}
	return time.Time{}
}

// sendmailFields splits "to=<a>,<b>, delay=00:00:01, relay=x. [1.2.3.4], stat=Sent (ok)"
// into its keys: a piece that is not key=value belongs to the value before it, and
// everything after stat= is stat's (its text may hold ", "). Linear in the line's length.
func sendmailFields(body string) map[string]string {
	kv := make(map[string]string, 8)
	key, vstart := "", 0
	closeValue := func(end int) {
		if key != "" {
			kv[key] = body[vstart:end]
		}
	}
	pos := 0
	for key != "stat" {
		next := strings.Index(body[pos:], ", ")
		piece := body[pos:]
		if next >= 0 {
			piece = body[pos : pos+next]
		}
		if k, _, found := strings.Cut(piece, "="); found && k != "" && alnum(k) {
			closeValue(max(pos-2, vstart))
			key, vstart = k, pos+len(k)+1
		}
		if next < 0 {
			break
		}
		pos += next + 2
	}
	closeValue(len(body))
	return kv
}

func splitSendmailRecipients(to string) []string {
	var out []string
	for _, a := range strings.Split(to, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// sendmailOutcome maps stat= and dsn=: Sent, Deferred, and any other status final
// (a 5.x.x DSN, or a text like "User unknown") bounced. "queued" is not an outcome yet.
func sendmailOutcome(stat, dsn string) (o Outcome, reply string, final bool) {
	word, _, _ := strings.Cut(stat, " ")
	word = strings.TrimSuffix(word, ":")
	if open := strings.IndexByte(stat, '('); open >= 0 && strings.HasSuffix(stat, ")") {
		reply = stat[open+1 : len(stat)-1]
	} else {
		reply = stat
	}
	switch {
	case strings.EqualFold(word, "Sent"):
		return Sent, reply, true
	case strings.EqualFold(word, "Deferred") || strings.HasPrefix(dsn, "4"):
		return Deferred, reply, false
	case strings.EqualFold(word, "queued") || stat == "":
		return Unknown, reply, false
	}
	return Bounced, reply, true
}

// loopbackRelay: a hand-over to the MTA on this host ("[127.0.0.1] [127.0.0.1]").
func loopbackRelay(relay string) bool {
	h, _, _ := strings.Cut(relay, " ")
	h = strings.Trim(h, "[]")
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "IPv6:::1" || h == "::1"
}

// detectSendmail: sendmail's from=/to= lines, and more of them than Postfix lines (a
// Postfix log may hold a stray line of another program called sendmail).
func detectSendmail(head []byte) bool {
	sendmail, postfix := 0, 0
	for _, line := range strings.Split(string(head), "\n") {
		_, _, body, ok := parseSendmailLine(line, time.Time{})
		switch {
		case ok && (strings.HasPrefix(body, "from=") || strings.HasPrefix(body, "to=")):
			sendmail++
		case strings.Contains(line, " postfix/") || strings.Contains(line, " postfix["):
			postfix++
		}
	}
	return sendmail > 0 && sendmail >= postfix
}
