package policyd

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/smtptext"
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
	return replyAction(guard.ReplyFor(v, smtptext.PolicyText(reason, maxReason)))
}

// eomAction is the answer at END-OF-MESSAGE for a message's enforced verdict: with a
// filter (the quarantine intake), a held message is accepted and sent to it with
// "FILTER transport:destination"; without one it is refused.
func eomAction(v guard.Verdict, reason, filter string) string {
	switch v {
	case guard.Allow, guard.Warn:
		return "DUNNO"
	case guard.Hold:
		if filter != "" {
			return "FILTER " + filter
		}
	}
	return replyAction(guard.ReplyFor(v, smtptext.PolicyText(reason, maxReason)))
}

// ValidFilter checks the syntax of a FILTER next hop as access(5) takes it,
// "transport:destination" (e.g. "smtp:[127.0.0.1]:10026"): a master.cf service name
// (letters, digits, '-', '_', '.'), a colon and a destination, with no white space or
// control characters anywhere.
func ValidFilter(s string) error {
	transport, dest, ok := strings.Cut(s, ":")
	switch {
	case !ok:
		return fmt.Errorf("policyd: filter %q: want transport:destination", s)
	case transport == "":
		return fmt.Errorf("policyd: filter %q: no transport", s)
	case dest == "":
		return fmt.Errorf("policyd: filter %q: no destination", s)
	case len(s) > 256:
		return fmt.Errorf("policyd: filter %q...: too long", s[:32])
	}
	for _, c := range transport {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("policyd: filter %q: transport %q is not a master.cf service name", s, transport)
		}
	}
	for _, c := range dest {
		if c <= ' ' || c >= 0x7f {
			return fmt.Errorf("policyd: filter %q: destination has white space, control or non-ASCII characters", s)
		}
	}
	return nil
}

// replyAction renders a reply as an access(5) action: "550 5.7.1 text", the text in
// smtptext.PolicyText's ASCII shape.
func replyAction(r guard.Reply) string {
	return strconv.Itoa(r.Code) + " " + r.Enhanced + " " + smtptext.PolicyText(r.Text, maxText)
}

// warnAction prepends one header with the verdict and the reason (Postfix takes one
// action per answer, so one header). It does not name the recipient: every recipient
// sees the header, and the warned one may be a Bcc.
func warnAction(reason string) string {
	max := maxText - len("warn; ")
	if !smtptext.IsASCII(reason) {
		max = max/3 - 20 // RFC 2047 Q-encoding can triple the length
	}
	return "PREPEND " + WarnHeader + ": warn; " + smtptext.HeaderValue(WarnHeader, reason, max, "")
}
