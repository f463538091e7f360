package intake

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"

	"github.com/emersion/go-smtp"
)

// Replies of the intake's own. Every failure is temporary: Postfix keeps the message
// and tries again.
var (
	replyDenied  = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Only the local Postfix hands mail to the intake"}
	replyNoMail  = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "Send MAIL FROM first"}
	replyNoRcpt  = &smtp.SMTPError{Code: 503, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "Send RCPT TO first"}
	replyTryLate = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Temporary failure: the message cannot be held now, please try again later"}
	replyClientGone = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Message data incomplete"}
)

// session is one connection from Postfix.
type session struct {
	srv    *Server
	client netip.Addr // invalid when not TCP
	helo   string

	from  string
	opts  smtp.MailOptions
	rcpts []string
	mail  bool
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	ss := &session{srv: s, helo: c.Hostname()}
	if a, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		ss.client = a.AddrPort().Addr().Unmap()
	}
	return ss, nil
}

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	ss.Reset()
	if !ss.srv.allowed(ss.client) {
		return replyDenied
	}
	ss.from, ss.mail = from, true
	if opts != nil {
		ss.opts = smtp.MailOptions{Size: opts.Size, UTF8: opts.UTF8, Body: opts.Body}
	}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !ss.mail {
		return replyNoMail
	}
	ss.rcpts = append(ss.rcpts, to)
	return nil
}

// Data reads the message in full (in memory, or in a spool file past the spool's
// threshold) and takes it in (take.go).
func (ss *session) Data(r io.Reader) error {
	if !ss.mail {
		io.Copy(io.Discard, r)
		return replyNoMail
	}
	if len(ss.rcpts) == 0 {
		io.Copy(io.Discard, r)
		return replyNoRcpt
	}
	s := ss.srv
	buf := s.Spool.New()
	defer buf.Close()
	if _, err := io.Copy(buf, r); err != nil {
		if se := (*smtp.SMTPError)(nil); errors.As(err, &se) {
			return se // 552: too big
		}
		s.log.Warn("intake: the message could not be read or spooled; answered 451", "err", err)
		return replyClientGone
	}
	ctx, cancel := context.WithTimeout(context.Background(), HoldTimeout)
	defer cancel()
	content, release, err := s.Spool.ReadBack(ctx, buf)
	if err != nil {
		s.log.Warn("intake: the message could not be read back from the spool; answered 451", "err", err)
		return replyTryLate
	}
	defer release()
	return ss.take(ctx, content)
}

func (ss *session) Reset() {
	ss.from, ss.opts, ss.rcpts, ss.mail = "", smtp.MailOptions{}, nil, false
}

func (ss *session) Logout() error { return nil }

// localID names a message whose Postfix queue ID is unknown, in the Received field and
// the log.
func localID() string { return "intake." + strconv.FormatUint(rand.Uint64()>>16, 36) }
