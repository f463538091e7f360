package policyd

import (
	"mime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// WarnHeader is the header that a warned recipient adds to the message.
const WarnHeader = "X-Rcptguard-Verdict"

// Text limits: an action is one line, and Postfix and SMTP clients handle replies of a
// few hundred characters well.
const (
	maxText   = 500 // reply text or header value
	maxReason = 400 // the guard's reason, leaving room for what ReplyFor adds
)

// tooManyAction answers a recipient beyond MaxRecipients; RFC 5321 section 4.5.3.1.10:
// the client sends the others in a new transaction.
const tooManyAction = "452 4.5.3 Too many recipients for one message; please send the others in another message"

// rcptAction is the answer at RCPT for an enforced verdict. A warning adds a header here,
// because Postfix cannot PREPEND at END-OF-MESSAGE (access(5)); a hold is decided at
// END-OF-MESSAGE.
func rcptAction(v guard.Verdict, reason string) string {
	switch v {
	case guard.Allow, guard.Hold:
		return "DUNNO"
	case guard.Warn:
		return warnAction(reason)
	}
	return replyAction(guard.ReplyFor(v, clip(clean(reason), maxReason)))
}

// eomAction is the answer at END-OF-MESSAGE for a message's enforced verdict.
func eomAction(v guard.Verdict, reason string) string {
	switch v {
	case guard.Allow, guard.Warn:
		return "DUNNO"
	}
	return replyAction(guard.ReplyFor(v, clip(clean(reason), maxReason)))
}

// replyAction renders a reply as an access(5) action: "550 5.7.1 text". SMTP replies are
// ASCII (RFC 5321 section 2.4; the policy request does not say whether the client
// negotiated SMTPUTF8), and Postfix passes 8-bit text through unchanged, so every other
// character becomes '?', as Postfix's own printable() does.
func replyAction(r guard.Reply) string {
	text := clean(r.Text)
	if !isASCII(text) {
		text = strings.Map(func(c rune) rune {
			if c >= utf8.RuneSelf {
				return '?'
			}
			return c
		}, text)
	}
	return strconv.Itoa(r.Code) + " " + r.Enhanced + " " + clip(text, maxText)
}

// warnAction prepends one header with the verdict and the reason (Postfix takes one
// action per answer, so one header). It does not name the recipient: every recipient
// sees the header, and the warned one may be a Bcc.
func warnAction(reason string) string {
	text := clean(reason)
	if isASCII(text) {
		text = clip(text, maxText-len("warn; "))
	} else {
		// RFC 2047 encoded words; Q-encoding can triple the length.
		text = mime.QEncoding.Encode("utf-8", clip(text, (maxText-len("warn; "))/3-20))
	}
	return "PREPEND " + WarnHeader + ": warn; " + text
}

// clean turns text into one line of printable characters: control characters and
// invalid UTF-8 become spaces.
func clean(s string) string {
	ok := utf8.ValidString(s)
	for i := 0; ok && i < len(s); i++ {
		ok = s[i] >= ' ' && s[i] != 0x7f
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == utf8.RuneError || (r >= 0x80 && r < 0xa0) {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// clip shortens s to at most n bytes, on a character boundary, marking the cut with "...".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
