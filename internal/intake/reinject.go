package intake

import (
	"context"
	"errors"

	"github.com/emersion/go-smtp"

	"github.com/rcptguard/rcptguard/internal/smtpout"
)

// replyReinjectDown: the re-injection service cannot be reached, broke off, or its answer
// is unknown.
var replyReinjectDown = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 1},
	Message: "The re-injection service is unavailable, try again later"}

// SetReinject puts a new re-injection service in force for the hand-backs from now on (a
// reload that changed quarantine.reinject).
func (s *Server) SetReinject(d smtpout.Destination) { s.reinjectNow.Store(&d) }

// reinject hands a message that needs no holding to the re-injection service (through
// smtpout, the one SMTP client), all recipients or none: a refused recipient is the whole
// message's answer (Postfix's own re-injection smtpd refuses nothing from the intake
// unless it is misconfigured), so that no recipient is dropped once Postfix is told 250.
// It returns the service's reply.
func (s *Server) reinject(ctx context.Context, from string, opts smtp.MailOptions, rcpts []string, trace string, content []byte) (string, *smtp.SMTPError) {
	ctx, cancel := context.WithTimeout(ctx, DefaultReinjectTimeout)
	defer cancel()
	dest := s.Reinject
	if p := s.reinjectNow.Load(); p != nil {
		dest = *p
	}
	c, err := smtpout.Dial(ctx, dest)
	if err != nil {
		return "", reinjectError(err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
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
	if err == nil {
		if _, err = w.Write([]byte(trace)); err == nil {
			_, err = w.Write(content)
		}
	}
	if err != nil {
		return "", reinjectError(err) // no end of data: the service discards what it got
	}
	reply, err := w.Close()
	if err != nil {
		return "", reinjectError(err)
	}
	c.Quit()
	return reply, nil
}

// reinjectError is Postfix's answer for a failed re-injection: the service's own 4xx or
// 5xx reply, or a temporary failure (also when the answer to the end of the data was
// lost: Postfix tries again, as it would with any next hop).
func reinjectError(err error) *smtp.SMTPError {
	var se *smtp.SMTPError
	if smtpout.Classify(err) == smtpout.Unknown || !errors.As(err, &se) || se.Code < 400 || se.Code > 599 || se.Code == 421 {
		return replyReinjectDown
	}
	return &smtp.SMTPError{Code: se.Code, EnhancedCode: se.EnhancedCode, Message: "Re-injection service: " + se.Message}
}
