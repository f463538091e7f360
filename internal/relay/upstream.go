package relay

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/emersion/go-smtp"

	"github.com/rcptguard/rcptguard/internal/smtpout"
)

var (
	// replyUpstreamDown: the upstream cannot be reached or the connection broke. The
	// client keeps the mail and tries again.
	replyUpstreamDown = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 1}, Message: "Upstream server unavailable, try again later"}
	replyNoUTF8       = &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 6, 7}, Message: "The upstream server does not support SMTPUTF8"}
)

// upstream is a session with the upstream server.
type upstream struct {
	srv   *Server
	c     *smtpout.Conn
	raw   net.Conn // the TCP connection, under any TLS, tracked to be closed at shutdown
	dirty bool     // a transaction is open: RSET before the next MAIL
}

// SetUpstream puts a new upstream in force for the sessions that connect to it from now
// on (a reload that changed relay.upstream); the sessions under way keep theirs.
func (s *Server) SetUpstream(d smtpout.Destination) error {
	if err := d.Check(); err != nil {
		return fmt.Errorf("relay: Upstream: %w", err)
	}
	s.upstreamNow.Store(&d)
	return nil
}

// dialUpstream opens a session with the upstream as Server.Upstream says (TLS, AUTH),
// saying the relay's Hostname in EHLO unless the destination names its own.
func (s *Server) dialUpstream() (*upstream, error) {
	up := &upstream{srv: s}
	d := s.Upstream
	if p := s.upstreamNow.Load(); p != nil {
		d = *p
	}
	if d.Hostname == "" {
		d.Hostname = s.Hostname
	}
	if d.Timeout <= 0 {
		d.Timeout = s.upstreamTimeout()
	}
	d.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if !s.trackUpstream(raw) {
			raw.Close()
			return nil, net.ErrClosed
		}
		up.raw = raw
		return raw, nil
	}
	c, err := smtpout.Dial(context.Background(), d)
	if err != nil {
		if up.raw != nil {
			up.raw.Close()
			s.untrackUpstream(up.raw)
		}
		return nil, err
	}
	up.c = c
	return up, nil
}

// close drops the connection without QUIT: a message in progress is discarded.
func (up *upstream) close() {
	up.raw.Close()
	up.srv.untrackUpstream(up.raw)
}

// quit ends the session politely, with a short wait.
func (up *upstream) quit() {
	up.c.Quit()
	up.close()
}

// dropUpstream closes the upstream session after a failure.
func (ss *session) dropUpstream() {
	if ss.up != nil {
		ss.up.close()
		ss.up = nil
	}
}

// upstreamMail starts the transaction on the upstream, on the session of the previous
// transaction when there is one, else on a new one.
func (ss *session) upstreamMail(from string, opts *smtp.MailOptions) *smtp.SMTPError {
	upOpts := &smtp.MailOptions{Size: opts.Size, UTF8: opts.UTF8}
	for {
		reused := ss.up != nil
		if !reused {
			up, err := ss.srv.dialUpstream()
			if err != nil {
				ss.srv.logger().Warn("relay: upstream unavailable", "upstream", ss.srv.Upstream.Address, "err", err)
				return upstreamError(err)
			}
			ss.up = up
		}
		up := ss.up
		var err error
		if up.dirty {
			err = up.c.Reset()
		}
		if err == nil && opts.UTF8 {
			if !up.c.Extension("SMTPUTF8") {
				up.dirty = false
				return replyNoUTF8
			}
		}
		if err == nil {
			err = up.c.Mail(from, upOpts)
		}
		up.dirty = err == nil
		if err == nil {
			return nil
		}
		if se := relayedError(err); se != nil {
			return se
		}
		ss.dropUpstream()
		if !reused {
			return upstreamError(err)
		}
		// A kept session may have timed out upstream: try once on a new one.
	}
}

func (ss *session) upstreamRcpt(to string) *smtp.SMTPError {
	if ss.up == nil {
		return replyUpstreamDown
	}
	err := ss.up.c.Rcpt(to, nil)
	if err == nil {
		return nil
	}
	return ss.upstreamFailure(err)
}

// upstreamFailure maps an upstream error to the client's answer, and drops the upstream
// session unless the error was an ordinary SMTP reply.
func (ss *session) upstreamFailure(err error) *smtp.SMTPError {
	if se := relayedError(err); se != nil {
		return se
	}
	ss.dropUpstream()
	return upstreamError(err)
}

// relayedError returns the upstream's refusal as the client's answer, or nil when the
// upstream did not refuse with a reply the client may see as its own: smtpout.Classify
// says Permanent (a 5xx reply) or Temporary with a 4xx reply. 421 (the upstream is
// closing) is not relayed: it would tell the client that the relay is closing; nor is a
// refused AUTH (the relay's problem, not the client's, answered 451 by upstreamError).
func relayedError(err error) *smtp.SMTPError {
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code == 421 {
		return nil
	}
	switch c := smtpout.Classify(err); {
	case c == smtpout.Permanent && se.Code/100 == 5, c == smtpout.Temporary && se.Code/100 == 4:
		return &smtp.SMTPError{Code: se.Code, EnhancedCode: se.EnhancedCode, Message: "Upstream: " + replyText(se.Message, false)}
	}
	return nil
}

// upstreamError is the client's answer when the upstream failed other than by a reply
// relayedError relays: always temporary.
func upstreamError(err error) *smtp.SMTPError {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Upstream: " + replyText(se.Message, false)}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Upstream server timed out, try again later"}
	}
	return replyUpstreamDown
}
