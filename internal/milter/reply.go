package milter

import (
	gomilter "github.com/d--j/go-milter"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/smtptext"
)

// The headers a warning adds.
const (
	VerdictHeader = "X-Rcptguard-Verdict"
	ReasonHeader  = "X-Rcptguard-Reason"
)

// Text limits: MTAs and SMTP clients handle replies of a few hundred characters well.
const (
	maxText   = 500 // reply text
	maxReason = 400 // the reason in the header, before encoding
)

// response turns a guard reply into a milter reply, its text in the ASCII shape
// (smtptext.ReplyText: the milter is not told whether the client said SMTPUTF8). The
// library doubles every "%" in the text (the MTA reads it as a format: Sendmail's
// smfi_setreply rule) and makes a text with line breaks a multi-line reply; ReplyText
// leaves none.
func response(r guard.Reply) (*gomilter.Response, error) {
	return gomilter.RejectWithCodeAndReason(uint16(r.Code), r.Enhanced+" "+smtptext.ReplyText(r.Text, false, maxText))
}

// replyFor is the guard's reply for verdict v, with the reason cut to maxReason so that
// what the guard adds after it (the request to check the recipients) survives.
func replyFor(v guard.Verdict, reason string) guard.Reply {
	return guard.ReplyFor(v, smtptext.ReplyText(reason, false, maxReason))
}

// tempFail is the reply when rcptguard cannot decide.
var tempFail = func() *gomilter.Response {
	r, err := response(guard.TempFail)
	if err != nil {
		return gomilter.RespTempFail // 451 4.7.1 from the MTA; cannot happen
	}
	return r
}()

// headerValue makes text the value of the header field name (smtptext.HeaderValue, folded
// with "\n ": the library sends LF, the MTA writes its own line ends).
func headerValue(name, text string) string {
	return smtptext.HeaderValue(name, text, maxReason, "\n ")
}
