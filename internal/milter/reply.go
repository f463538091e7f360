package milter

import (
	"mime"
	"strings"

	gomilter "github.com/d--j/go-milter"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/smtptext"
)

// The headers a warning adds.
const (
	VerdictHeader = "X-Rcptguard-Verdict"
	ReasonHeader  = "X-Rcptguard-Reason"
)

// Text limits: MTAs and SMTP clients handle replies of a few hundred characters well, and
// a header line should stay under 78 characters (RFC 5322 section 2.1.1).
const (
	maxText   = 500 // reply text
	maxReason = 400 // the reason in the header, before encoding
	maxLine   = 78
)

// response turns a guard reply into a milter reply. The library doubles every "%" in the
// text (the MTA reads it as a format: Sendmail's smfi_setreply rule) and makes a text
// with line breaks a multi-line reply; clean leaves none.
func response(r guard.Reply) (*gomilter.Response, error) {
	return gomilter.RejectWithCodeAndReason(uint16(r.Code), r.Enhanced+" "+smtptext.Clip(smtptext.OneLine(r.Text), maxText))
}

// replyFor is the guard's reply for verdict v, with the reason cut to maxReason so that
// what the guard adds after it (the request to check the recipients) survives.
func replyFor(v guard.Verdict, reason string) guard.Reply {
	return guard.ReplyFor(v, smtptext.Clip(smtptext.OneLine(reason), maxReason))
}

// tempFail is the reply when rcptguard cannot decide.
var tempFail = func() *gomilter.Response {
	r, err := response(guard.TempFail)
	if err != nil {
		return gomilter.RespTempFail // 451 4.7.1 from the MTA; cannot happen
	}
	return r
}()

// headerValue makes text a header field value for a field named name: one line of
// printable characters, at most maxReason bytes, non-ASCII words as RFC 2047 encoded
// words, folded at spaces so that lines stay under maxLine characters where the words
// allow. Folding inserts "\n " (the library sends LF; the MTA writes its own line ends);
// no other line break can get in.
func headerValue(name, text string) string {
	words := strings.Fields(smtptext.Clip(smtptext.OneLine(text), maxReason))
	// Runs of non-ASCII words become one encoded word (or several, for a long run): the
	// white space between adjacent encoded words is not displayed (RFC 2047 section 6.2).
	var tokens []string
	for i := 0; i < len(words); {
		if smtptext.IsASCII(words[i]) {
			tokens = append(tokens, words[i])
			i++
			continue
		}
		j := i + 1
		for j < len(words) && !smtptext.IsASCII(words[j]) {
			j++
		}
		enc := mime.QEncoding.Encode("utf-8", strings.Join(words[i:j], " "))
		tokens = append(tokens, strings.Fields(enc)...)
		i = j
	}
	var b strings.Builder
	col := len(name) + 2 // "Name: "
	for i, t := range tokens {
		if i > 0 {
			if col+1+len(t) > maxLine {
				b.WriteString("\n ")
				col = 1
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(t)
		col += len(t)
	}
	return b.String()
}
