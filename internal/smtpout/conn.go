package smtpout

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Conn is an open SMTP session, greeted, upgraded and authenticated as its Destination
// says. It is not safe for concurrent use.
type Conn struct {
	c       *smtp.Client
	raw     net.Conn // the TCP connection, under any TLS
	overTLS bool
}

// Dial connects to d: greeting, EHLO, STARTTLS or implicit TLS as d.TLS says, EHLO again,
// and AUTH when d has a user name. ctx bounds all of that; the Conn outlives it.
func Dial(ctx context.Context, d Destination) (*Conn, error) {
	if err := d.Check(); err != nil {
		return nil, &Error{Step: "configuration", Class: Temporary, Err: err}
	}
	timeout := d.timeout()
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dial := d.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	raw, err := dial(dctx, "tcp", d.Address)
	if err != nil {
		return nil, failed("connect to "+d.Address, err)
	}
	// Until Dial returns, ctx ending closes the connection, which ends any wait.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	c, err := open(d, raw)
	if !stop() && err == nil {
		err = failed("connect to "+d.Address, ctx.Err())
	}
	if err != nil {
		raw.Close()
		return nil, err
	}
	return c, nil
}

func open(d Destination, raw net.Conn) (*Conn, error) {
	timeout := d.timeout()
	var conn net.Conn = &cappedConn{Conn: raw, max: timeout}
	out := &Conn{raw: raw}
	mode := d.mode()
	// The steps before go-smtp takes over set no deadline of their own: a zero
	// deadline is capped at one timeout from now.
	conn.SetDeadline(time.Time{})
	switch mode {
	case TLSImplicit:
		tc := tls.Client(conn, d.tlsConfig())
		if err := tc.Handshake(); err != nil {
			return nil, failed("tls", err)
		}
		conn, out.overTLS = tc, true
	case TLSOpportunistic, TLSRequired:
		var err error
		if conn, out.overTLS, err = startTLS(conn, d); err != nil {
			return nil, err
		}
	}
	out.c = smtp.NewClient(conn)
	out.c.CommandTimeout, out.c.SubmissionTimeout = timeout, timeout
	if err := out.c.Hello(d.hostname()); err != nil {
		return nil, failed("ehlo", err)
	}
	if d.Username == "" {
		return out, nil
	}
	if !AuthAllowed(mode, out.overTLS, raw.RemoteAddr()) {
		return nil, &Error{Step: "auth", Class: Temporary, Err: ErrAuthWithoutTLS}
	}
	var a sasl.Client
	switch {
	case out.c.SupportsAuth(sasl.Plain):
		a = sasl.NewPlainClient("", d.Username, d.Password)
	case out.c.SupportsAuth(sasl.Login):
		a = sasl.NewLoginClient(d.Username, d.Password)
	default:
		return nil, &Error{Step: "auth", Class: Temporary, Err: ErrNoAuthMechanism}
	}
	if err := out.c.Auth(a); err != nil {
		// As Postfix's smtp_sasl_auth_soft_bounce: a refused password is fixed by the
		// administrator, and the mail waits for that rather than bouncing.
		return nil, &Error{Step: "auth as " + d.Username, Class: Temporary, Code: replyCode(err), Err: err}
	}
	return out, nil
}

// startTLS reads the greeting and says EHLO itself, to see whether the server offers
// STARTTLS; if it does, it upgrades the connection. go-smtp then runs on the (possibly
// encrypted) connection behind a replayed greeting and says EHLO again, which RFC 5321
// allows (and requires after STARTTLS).
func startTLS(conn net.Conn, d Destination) (net.Conn, bool, error) {
	br := bufio.NewReader(conn)
	tp := textproto.NewConn(struct {
		io.Reader
		io.WriteCloser
	}{br, conn})
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, false, failed("greeting", err)
	}
	conn.SetDeadline(time.Time{})
	if err := tp.PrintfLine("EHLO %s", d.hostname()); err != nil {
		return nil, false, failed("ehlo", err)
	}
	offered := false
	_, ext, err := tp.ReadResponse(250)
	var te *textproto.Error
	switch {
	case errors.As(err, &te):
		// No EHLO: go-smtp falls back to HELO itself, without STARTTLS.
	case err != nil:
		return nil, false, failed("ehlo", err)
	default:
		for _, l := range strings.Split(ext, "\n")[1:] {
			if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], "STARTTLS") {
				offered = true
			}
		}
	}
	if !offered {
		if d.mode() == TLSRequired {
			return nil, false, &Error{Step: "starttls", Class: Temporary, Err: ErrTLSUnavailable}
		}
		return replay(conn, br), false, nil
	}
	conn.SetDeadline(time.Time{})
	if err := tp.PrintfLine("STARTTLS"); err != nil {
		return nil, false, failed("starttls", err)
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		// A refused STARTTLS is never a reason to go on in plain text.
		e := failed("starttls", err)
		e.Class = Temporary
		return nil, false, e
	}
	if br.Buffered() > 0 {
		// Anything sent before the handshake could be injected by a man in the middle.
		return nil, false, &Error{Step: "starttls", Class: Temporary, Err: errors.New("data after the STARTTLS reply")}
	}
	conn.SetDeadline(time.Time{})
	tc := tls.Client(conn, d.tlsConfig())
	if err := tc.Handshake(); err != nil {
		return nil, false, failed("starttls", err)
	}
	return replay(tc, nil), true, nil
}

// replay makes conn look freshly opened to go-smtp: a 220 greeting first, then whatever
// br still buffers, then the connection.
func replay(conn net.Conn, br *bufio.Reader) net.Conn {
	greeting := strings.NewReader("220 replayed greeting\r\n")
	r := io.MultiReader(greeting, conn)
	if br != nil && br.Buffered() > 0 {
		rest, _ := br.Peek(br.Buffered())
		r = io.MultiReader(greeting, bytes.NewReader(rest), conn)
	}
	return &replayConn{Conn: conn, r: r}
}

type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

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

// Write sets a fresh write deadline for every write: a message streamed as a client
// sends it may take longer than one timeout in all.
func (c *cappedConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.max)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// OverTLS reports whether the session is encrypted.
func (c *Conn) OverTLS() bool { return c.overTLS }

// Extension reports whether the server offers the named extension (SMTPUTF8, 8BITMIME...).
func (c *Conn) Extension(name string) bool {
	ok, _ := c.c.Extension(name)
	return ok
}

// Mail starts a transaction.
func (c *Conn) Mail(from string, opts *smtp.MailOptions) error {
	if err := c.c.Mail(from, opts); err != nil {
		return failed("mail from", err)
	}
	return nil
}

// Rcpt adds a recipient; its error is that recipient's result.
func (c *Conn) Rcpt(to string, opts *smtp.RcptOptions) error {
	if err := c.c.Rcpt(to, opts); err != nil {
		return failed("rcpt to <"+to+">", err)
	}
	return nil
}

// Reset ends the transaction (RSET), so that the session can run another.
func (c *Conn) Reset() error {
	if err := c.c.Reset(); err != nil {
		return failed("rset", err)
	}
	return nil
}

// Data starts the message. Write it, then call Close: until then nothing is delivered,
// and closing the Conn instead discards it.
func (c *Conn) Data() (*Data, error) {
	w, err := c.c.Data()
	if err != nil {
		return nil, failed("data", err)
	}
	return &Data{w: w}, nil
}

// Quit ends the session politely, waiting a few seconds at most, and closes it.
func (c *Conn) Quit() {
	c.c.CommandTimeout = min(c.c.CommandTimeout, 5*time.Second)
	_ = c.c.Quit()
	c.raw.Close()
}

// Close drops the connection without QUIT: a message in progress is discarded.
func (c *Conn) Close() error { return c.raw.Close() }

// Data is a message being written.
type Data struct{ w *smtp.DataCommand }

// Write writes part of the message; an error is temporary (the end of the data was not
// sent).
func (d *Data) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	if err != nil {
		return n, failed("data", err)
	}
	return n, nil
}

// Close sends the end of the data and returns the server's reply text. An error with a
// reply is Temporary or Permanent by its code; any other error is Unknown: the end of the
// data may have reached the server, and the message may have been delivered.
func (d *Data) Close() (string, error) {
	resp, err := d.w.CloseWithResponse()
	if err != nil {
		if code := replyCode(err); code != 0 {
			return "", failed("end of data", err)
		}
		return "", &Error{Step: "end of data", Class: Unknown, Err: errors.Join(ErrLostAfterData, err)}
	}
	return resp.StatusText, nil
}
