package relay

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-smtp"
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
	c     *smtp.Client
	raw   net.Conn // the TCP connection, under any TLS
	dirty bool     // a transaction is open: RSET before the next MAIL
}

func (s *Server) dialUpstream() (*upstream, error) {
	timeout := s.upstreamTimeout()
	raw, err := net.DialTimeout("tcp", s.Upstream, timeout)
	if err != nil {
		return nil, err
	}
	if !s.trackUpstream(raw) {
		raw.Close()
		return nil, net.ErrClosed
	}
	up := &upstream{srv: s, raw: raw}
	// Every deadline go-smtp sets or clears is capped: no read or write waits longer.
	conn := &cappedConn{Conn: raw, max: timeout}
	if s.UpstreamTLS == UpstreamSTARTTLS {
		cfg := &tls.Config{}
		if s.UpstreamTLSConfig != nil {
			cfg = s.UpstreamTLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(s.Upstream)
		}
		// go-smtp says EHLO localhost before STARTTLS, and our name after it.
		up.c, err = smtp.NewClientStartTLS(conn, cfg)
	} else {
		up.c = smtp.NewClient(conn)
	}
	if err == nil {
		up.c.CommandTimeout, up.c.SubmissionTimeout = timeout, timeout
		err = up.c.Hello(s.Hostname)
	}
	if err != nil {
		up.close()
		return nil, err
	}
	return up, nil
}

// close drops the connection without QUIT: a message in progress is discarded.
func (up *upstream) close() {
	up.raw.Close()
	up.srv.untrackUpstream(up.raw)
}

// quit ends the session politely, with a short wait.
func (up *upstream) quit() {
	up.c.CommandTimeout = min(up.c.CommandTimeout, 5*time.Second)
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
				ss.srv.logger().Warn("relay: upstream unavailable", "upstream", ss.srv.Upstream, "err", err)
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
			if ok, _ := up.c.Extension("SMTPUTF8"); !ok {
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

// relayedError returns the upstream's refusal as the client's answer, or nil when err is
// not a 4xx or 5xx reply. 421 (the upstream is closing) is not relayed: it would tell the
// client that the relay is closing.
func relayedError(err error) *smtp.SMTPError {
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code < 400 || se.Code > 599 || se.Code == 421 {
		return nil
	}
	return &smtp.SMTPError{Code: se.Code, EnhancedCode: se.EnhancedCode, Message: "Upstream: " + replyText(se.Message, false)}
}

// upstreamError is the client's answer when the upstream failed other than by a reply:
// always temporary.
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

// cappedConn caps every deadline at max from now: go-smtp clears deadlines after each
// command and sets none while a message is written.
type cappedConn struct {
	net.Conn
	max time.Duration
}

func (c *cappedConn) cap(t time.Time) time.Time {
	if limit := time.Now().Add(c.max); t.IsZero() || t.After(limit) {
		return limit
	}
	return t
}

func (c *cappedConn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.cap(t)) }
func (c *cappedConn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.cap(t)) }
func (c *cappedConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.cap(t)) }

// Write sets a fresh write deadline for every write: the message is streamed as the
// client sends it, which may take longer than one timeout in all.
func (c *cappedConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.max)); err != nil {
		return 0, fmt.Errorf("upstream: %w", err)
	}
	return c.Conn.Write(b)
}
