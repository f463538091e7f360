package intake

import (
	"cmp"
	"context"
	"errors"
	"net"
	"time"

	"github.com/emersion/go-smtp"
)

// replyReinjectDown: the re-injection service cannot be reached or broke off.
var replyReinjectDown = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 1},
	Message: "The re-injection service is unavailable, try again later"}

// reinject hands a message that needs no holding to the re-injection service, all
// recipients or none: a refused recipient is the whole message's answer (Postfix's own
// re-injection smtpd refuses nothing from the intake unless it is misconfigured), so that
// no recipient is dropped once Postfix is told 250. It returns the service's reply.
func (s *Server) reinject(ctx context.Context, from string, opts smtp.MailOptions, rcpts []string, trace string, content []byte) (string, *smtp.SMTPError) {
	timeout := cmp.Or(s.ReinjectTimeout, DefaultReinjectTimeout)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Reinject)
	if err != nil {
		return "", replyReinjectDown
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = timeout, timeout
	if err := c.Hello(s.Hostname); err != nil {
		return "", reinjectError(err)
	}
	opts.Size = int64(len(trace) + len(content))
	if err := c.Mail(from, &opts); err != nil {
		return "", reinjectError(err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			return "", reinjectError(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return "", reinjectError(err)
	}
	if _, err := w.Write([]byte(trace)); err == nil {
		_, err = w.Write(content)
	}
	if err != nil {
		return "", reinjectError(err) // no final dot: the service discards what it got
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", reinjectError(err)
	}
	c.CommandTimeout = min(timeout, 5*time.Second)
	c.Quit()
	return resp.StatusText, nil
}

// reinjectError is Postfix's answer for a failed re-injection: the service's own 4xx or
// 5xx reply, or a temporary failure.
func reinjectError(err error) *smtp.SMTPError {
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code < 400 || se.Code > 599 || se.Code == 421 {
		return replyReinjectDown
	}
	return &smtp.SMTPError{Code: se.Code, EnhancedCode: se.EnhancedCode, Message: "Re-injection service: " + se.Message}
}
