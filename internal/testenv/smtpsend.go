package testenv

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// SendTimeout bounds the connection and each command of SMTPSend.
const SendTimeout = 2 * time.Minute

// Reply is one SMTP reply. Code 0 means the command was not sent.
type Reply struct {
	Code     int    // e.g. 250, 451, 550
	Enhanced string // enhanced status code such as "5.7.1", or ""
	Text     string // reply text without code and enhanced code; lines joined by "\n"
}

// String renders the reply as "550 5.7.1 text".
func (r Reply) String() string {
	s := fmt.Sprintf("%03d", r.Code)
	if r.Enhanced != "" {
		s += " " + r.Enhanced
	}
	if r.Text != "" {
		s += " " + r.Text
	}
	return s
}

// OK reports whether the reply is a 2xx or 3xx success.
func (r Reply) OK() bool { return r.Code >= 200 && r.Code < 400 }

// RcptResult is the server's reply to one RCPT TO.
type RcptResult struct {
	Rcpt string
	Reply
}

// SendResult records the server's replies to one SMTPSend transaction.
// The text of successful MAIL and RCPT replies is not kept (Code 250 only).
type SendResult struct {
	Mail  Reply        // reply to MAIL FROM (or to the greeting/EHLO if those failed)
	Rcpts []RcptResult // one per RCPT TO sent, in order
	Data  Reply        // reply to DATA or to the end of data; Code 0 if not reached
}

// Rcpt returns the reply to RCPT TO:<addr>.
func (r SendResult) Rcpt(addr string) (Reply, bool) {
	for _, rr := range r.Rcpts {
		if rr.Rcpt == addr {
			return rr.Reply, true
		}
	}
	return Reply{}, false
}

// Accepted returns the recipients the server accepted at RCPT.
func (r SendResult) Accepted() []string {
	var out []string
	for _, rr := range r.Rcpts {
		if rr.OK() {
			out = append(out, rr.Rcpt)
		}
	}
	return out
}

// Rejected returns the RCPT replies that were not successes.
func (r SendResult) Rejected() []RcptResult {
	var out []RcptResult
	for _, rr := range r.Rcpts {
		if !rr.OK() {
			out = append(out, rr)
		}
	}
	return out
}

// Delivered reports whether the server took the message (2xx after DATA).
func (r SendResult) Delivered() bool { return r.Data.Code >= 200 && r.Data.Code < 300 }

// QueueID returns the queue ID from a Postfix-style "queued as ID" reply
// to the end of data, or "".
func (r SendResult) QueueID() string {
	_, id, ok := strings.Cut(r.Data.Text, "queued as ")
	if !ok {
		return ""
	}
	if f := strings.Fields(id); len(f) > 0 {
		return f[0]
	}
	return ""
}

// SMTPSend opens an SMTP connection to addr and sends one message to every
// recipient, recording the reply to MAIL, to each RCPT and to DATA. Unlike
// smtp.SendMail it goes on after a rejected recipient and sends DATA if at
// least one was accepted. SMTP error replies are recorded in the result, not
// returned; err is for connection and protocol failures. Bare LF in msg is
// sent as CRLF.
func SMTPSend(addr, from string, rcpts []string, msg []byte) (SendResult, error) {
	var res SendResult
	conn, err := net.DialTimeout("tcp", addr, SendTimeout)
	if err != nil {
		return res, err
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	c.CommandTimeout = SendTimeout
	c.SubmissionTimeout = SendTimeout

	// record files an SMTP error reply into *r and reports whether err was
	// one; other errors are returned as they are.
	record := func(r *Reply, err error) (bool, error) {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			*r = replyFromError(se)
			return true, nil
		}
		return false, err
	}

	if err := c.Mail(from, nil); err != nil {
		if _, err := record(&res.Mail, err); err != nil {
			return res, err
		}
		_ = c.Quit()
		return res, nil
	}
	res.Mail = Reply{Code: 250}

	accepted := 0
	for _, rcpt := range rcpts {
		rr := RcptResult{Rcpt: rcpt, Reply: Reply{Code: 250}}
		if err := c.Rcpt(rcpt, nil); err != nil {
			if _, err := record(&rr.Reply, err); err != nil {
				return res, err
			}
		} else {
			accepted++
		}
		res.Rcpts = append(res.Rcpts, rr)
	}
	if accepted == 0 {
		_ = c.Reset()
		_ = c.Quit()
		return res, nil
	}

	w, err := c.Data()
	if err != nil {
		if _, err := record(&res.Data, err); err != nil {
			return res, err
		}
		_ = c.Quit()
		return res, nil
	}
	if _, err := w.Write(msg); err != nil {
		return res, err
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		if _, err := record(&res.Data, err); err != nil {
			return res, err
		}
	} else {
		res.Data = replyFromText(250, resp.StatusText)
	}
	_ = c.Quit()
	return res, nil
}

func replyFromError(se *smtp.SMTPError) Reply {
	r := Reply{Code: se.Code, Text: se.Message}
	if ec := se.EnhancedCode; ec[0] > 0 {
		r.Enhanced = fmt.Sprintf("%d.%d.%d", ec[0], ec[1], ec[2])
	}
	return r
}

// replyFromText splits a leading enhanced status code off text.
func replyFromText(code int, text string) Reply {
	r := Reply{Code: code, Text: text}
	if first, rest, ok := strings.Cut(text, " "); ok {
		if _, ok := parseEnhanced(first); ok {
			r.Enhanced, r.Text = first, rest
		}
	}
	return r
}
