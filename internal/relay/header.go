package relay

import (
	"bufio"
	"bytes"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/smtptext"
)

// maxHeaderScan is how much of a message's header is searched for X-Rcptguard-* fields
// to remove; a longer header is passed on as it is after that point.
const maxHeaderScan = 1 << 20

// traceHeaders are the fields this hop puts in front of the message: Received (RFC 5321
// 4.4, with RFC 3848 protocol names) and, for recipients with a warning, the verdict.
func (ss *session) traceHeaders(t *txn, now time.Time) string {
	var b strings.Builder
	tr := Trace{Helo: ss.helo, Client: ss.cc.addr, By: ss.srv.Hostname, Proto: "ESMTP", ID: t.id}
	if ss.tls {
		tr.Proto += "S"
	}
	if ss.authUser != "" {
		tr.Proto += "A"
	}
	var fwd []string
	for _, r := range t.rcpts {
		if r.code/100 == 2 {
			fwd = append(fwd, r.d.Input)
		}
	}
	if len(fwd) == 1 { // more would show Bcc recipients to the others
		tr.For = fwd[0]
	}
	b.WriteString(tr.Received(now))

	var reasons []string
	for _, r := range t.rcpts {
		if r.code/100 == 2 && r.d.Enforced() == guard.Warn && !slices.Contains(reasons, r.d.Reason) {
			reasons = append(reasons, r.d.Reason)
		}
	}
	if len(reasons) > 0 {
		// Reasons name domains, not addresses: a Bcc recipient's address stays hidden.
		b.WriteString("X-Rcptguard-Verdict: warn\r\n")
		b.WriteString("X-Rcptguard-Reason: " + smtptext.HeaderValue("X-Rcptguard-Reason", strings.Join(reasons, " "),
			maxReasonHeader, "\r\n ") + "\r\n")
	}
	return b.String()
}

// Trace is what the Received field of an rcptguard hop says (RFC 5321 4.4): the relay's,
// and the quarantine intake's.
type Trace struct {
	Helo   string     // the client's EHLO name, as it gave it
	Client netip.Addr // the client's address; invalid when unknown
	By     string     // this host's name
	Proto  string     // RFC 3848: ESMTP, ESMTPS, ESMTPA, ESMTPSA
	ID     string     // this hop's ID of the message
	For    string     // the one recipient, or "" (more would show Bcc recipients to the others)
}

// Received renders the field, with its CRLF.
func (tr Trace) Received(now time.Time) string {
	var b strings.Builder
	b.WriteString("Received: from " + heloName(tr.Helo))
	if lit := clientLiteral(tr.Client); lit != "" {
		b.WriteString(" (" + lit + ")")
	}
	b.WriteString("\r\n\tby " + tr.By + " (rcptguard) with " + tr.Proto + " id " + tr.ID)
	if tr.For != "" {
		b.WriteString("\r\n\tfor <" + tr.For + ">")
	}
	b.WriteString(";\r\n\t" + now.Format(time.RFC1123Z) + "\r\n")
	return b.String()
}

// heloName is the client's EHLO name if it looks like a domain or an address literal.
func heloName(h string) string {
	if h == "" || len(h) > 255 {
		return "unknown"
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte(".-_:[]", c) >= 0
		if !ok {
			return "unknown"
		}
	}
	return h
}

// replyText is text for a reply to the client: smtptext.ReplyText's ASCII shape, unless
// the client said SMTPUTF8 for the transaction.
func replyText(s string, utf8 bool) string { return smtptext.ReplyText(s, utf8, maxReplyText) }

// maxReplyText bounds one line of a reply's text.
const maxReplyText = 400

// maxReasonHeader bounds the reasons in the X-Rcptguard-Reason field before encoding.
const maxReasonHeader = 2000

// copyMessage copies the message from src to dst without the sender's X-Rcptguard-*
// header fields, and returns the read error, if any (dst remembers its own).
func copyMessage(dst *sideWriter, src io.Reader) error {
	br := bufio.NewReaderSize(src, 32<<10)
	skip, mid, seen := false, false, 0
	for seen < maxHeaderScan {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			if !mid { // chunk starts a line
				switch {
				case string(chunk) == "\r\n" || string(chunk) == "\n":
					seen = maxHeaderScan // end of header
					skip = false
				case chunk[0] == ' ' || chunk[0] == '\t':
					// continuation of the field before
				default:
					skip = hasPrefixFold(chunk, "x-rcptguard-")
				}
			}
			if !skip {
				dst.Write(chunk)
			}
			mid = chunk[len(chunk)-1] != '\n'
			seen += len(chunk)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil && err != bufio.ErrBufferFull {
			return err
		}
		if dst.err != nil {
			return nil
		}
	}
	_, err := br.WriteTo(dst)
	if dst.err != nil {
		return nil
	}
	return err
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && bytes.EqualFold(b[:len(prefix)], []byte(prefix))
}
