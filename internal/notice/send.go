package notice

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// ErrTemporary is wrapped by Send's errors that may go away by themselves: a 4xx reply,
// a network failure, a timeout, a failed TLS handshake. Retry those later; any other
// error (a 5xx reply, an invalid address) is permanent.
var ErrTemporary = errors.New("notice: temporary failure")

// DefaultTimeout bounds a whole Send when Sender.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// Sender sends notices through the smarthost.
type Sender struct {
	Addr     string        // the smarthost, host:port
	Hostname string        // the name given in EHLO; "localhost" if empty
	Timeout  time.Duration // for the whole transaction; DefaultTimeout if zero
	// InsecureSkipVerify accepts any certificate in STARTTLS. Without it, the
	// smarthost's certificate is verified against the host of Addr.
	InsecureSkipVerify bool
}

// SendError is an error of Send: which step failed, and whether it is temporary.
type SendError struct {
	Step      string // "connect", "starttls", "mail", "rcpt", "data", ...
	Code      int    // the SMTP reply code, 0 if none
	Temporary bool
	Err       error
}

func (e *SendError) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	return fmt.Sprintf("notice: send (%s, %s): %v", e.Step, kind, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrTemporary) true for temporary failures.
func (e *SendError) Is(target error) bool { return target == ErrTemporary && e.Temporary }

// Send delivers msg from the envelope sender from (empty for the null sender, which
// notices should use so that they never bounce back into a loop) to the single
// recipient to: EHLO, STARTTLS when the smarthost offers it, MAIL, RCPT, DATA, QUIT.
// The context and Timeout bound the whole transaction.
func (s *Sender) Send(ctx context.Context, from, to string, msg []byte) error {
	if strings.ContainsFunc(from+to, isSpaceOrControl) || to == "" {
		return &SendError{Step: "envelope", Err: errors.New("invalid envelope address")}
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return classify("connect", err)
	}
	// Cancelling ctx closes the connection, which ends any blocked read or write.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	_ = conn.SetDeadline(deadline)
	defer conn.Close()

	hostname := s.Hostname
	if hostname == "" {
		hostname = "localhost"
	}
	c, err := s.open(conn, hostname)
	if err != nil {
		return err
	}
	defer c.Close()
	c.CommandTimeout = time.Until(deadline)
	c.SubmissionTimeout = time.Until(deadline)
	if err := c.Hello(hostname); err != nil {
		return classify("ehlo", err)
	}
	if err := c.Mail(from, nil); err != nil {
		return classify("mail", err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		return classify("rcpt", err)
	}
	w, err := c.Data()
	if err != nil {
		return classify("data", err)
	}
	if _, err := w.Write(msg); err != nil {
		_ = w.Close()
		return classify("data", err)
	}
	if err := w.Close(); err != nil {
		return classify("data", err)
	}
	_ = c.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}

// open reads the greeting and sends EHLO itself, to see whether the smarthost offers
// STARTTLS; if so it upgrades the connection (verifying the certificate unless
// InsecureSkipVerify). go-smtp then runs on the (possibly encrypted) connection with a
// replayed greeting and sends its own EHLO, which RFC 5321 allows.
func (s *Sender) open(conn net.Conn, hostname string) (*smtp.Client, error) {
	br := bufio.NewReader(conn)
	tp := textproto.NewConn(struct {
		io.Reader
		io.WriteCloser
	}{br, conn})
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, classify("greeting", err)
	}
	if err := tp.PrintfLine("EHLO %s", hostname); err != nil {
		return nil, classify("ehlo", err)
	}
	_, ext, err := tp.ReadResponse(250)
	if err != nil {
		// No EHLO: go-smtp falls back to HELO itself, without TLS.
		return smtp.NewClient(replay(conn, br)), nil
	}
	starttls := false
	for _, l := range strings.Split(ext, "\n")[1:] {
		if strings.EqualFold(strings.Fields(l + " x")[0], "STARTTLS") {
			starttls = true
		}
	}
	if !starttls {
		return smtp.NewClient(replay(conn, br)), nil
	}
	if err := tp.PrintfLine("STARTTLS"); err != nil {
		return nil, classify("starttls", err)
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, classify("starttls", err)
	}
	if br.Buffered() > 0 {
		// Anything sent before the handshake could be injected by a man in the middle.
		return nil, &SendError{Step: "starttls", Temporary: true, Err: errors.New("data after STARTTLS reply")}
	}
	host, _, _ := net.SplitHostPort(s.Addr)
	tc := tls.Client(conn, &tls.Config{ServerName: host, InsecureSkipVerify: s.InsecureSkipVerify, MinVersion: tls.VersionTLS12})
	if err := tc.Handshake(); err != nil {
		return nil, classify("starttls", err)
	}
	return smtp.NewClient(replay(tc, nil)), nil
}

// replay makes conn look freshly opened to go-smtp: a 220 greeting first, then whatever
// br still buffers, then the connection.
func replay(conn net.Conn, br *bufio.Reader) net.Conn {
	r := io.MultiReader(strings.NewReader("220 replayed greeting\r\n"), conn)
	if br != nil && br.Buffered() > 0 {
		rest, _ := br.Peek(br.Buffered())
		r = io.MultiReader(strings.NewReader("220 replayed greeting\r\n"), bytes.NewReader(rest), conn)
	}
	return &replayConn{Conn: conn, r: r}
}

type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// classify wraps err as a SendError: 4xx replies and failures of the network or of
// TLS are temporary, 5xx replies permanent.
func classify(step string, err error) error {
	e := &SendError{Step: step, Err: err, Temporary: true}
	var se *smtp.SMTPError
	var te *textproto.Error
	switch {
	case errors.As(err, &se):
		e.Code = se.Code
		e.Temporary = se.Code < 500
	case errors.As(err, &te):
		e.Code = te.Code
		e.Temporary = te.Code < 500
	}
	return e
}
