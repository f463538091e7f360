package testenv

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message accepted by a Sink.
type Message struct {
	Helo  string   // the name the client gave in EHLO/HELO
	From  string   // envelope sender (MAIL FROM), "" for the null sender
	Rcpts []string // envelope recipients (RCPT TO), in order
	Data  []byte   // raw message as received, CRLF line ends
	TLS   bool     // it came over TLS (STARTTLS or implicit)
	User  string   // the user the client authenticated as, "" without AUTH
}

// Header returns the first value of the named header field of the message,
// or "" if the field is absent or the header cannot be parsed.
func (m Message) Header(name string) string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return ""
	}
	return msg.Header.Get(name)
}

// Stage is an SMTP command at which a Sink can be told to fail.
type Stage int

// The stages at which SetFailAt makes the Sink answer with an error.
const (
	StageMail Stage = iota // MAIL FROM
	StageRcpt              // every RCPT TO
	StageData              // end of DATA, after the message was read
)

// Sink is an in-process SMTP server on 127.0.0.1 that records every message
// it accepts. Start one with StartSink; it is closed when the test ends.
type Sink struct {
	srv  *smtp.Server
	ln   net.Listener
	done chan struct{}

	mu      sync.Mutex
	msgs    []Message
	changed chan struct{} // closed and replaced whenever msgs grows
	fail    map[Stage]*smtp.SMTPError
	users   map[string]string // AUTH users and passwords (SecureSink); nil: no AUTH
}

// StartSink starts a Sink on a free port of 127.0.0.1 and registers its
// shutdown with t.Cleanup.
func StartSink(t testing.TB) *Sink {
	t.Helper()
	return startSink(t, SecureSink{})
}

func startSink(t testing.TB, opts SecureSink) *Sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: sink listen: %v", err)
	}
	if opts.Implicit {
		ln = tls.NewListener(ln, opts.TLS)
	}
	s := &Sink{
		users:   opts.Users,
		ln:      ln,
		done:    make(chan struct{}),
		changed: make(chan struct{}),
		fail:    map[Stage]*smtp.SMTPError{},
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &sinkSession{sink: s, conn: c}, nil
	}))
	srv.Domain = "sink.rcptguard.test"
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.MaxMessageBytes = 64 << 20
	srv.MaxRecipients = 1000
	srv.EnableSMTPUTF8 = true
	srv.EnableDSN = true
	if !opts.Implicit {
		srv.TLSConfig = opts.TLS
	}
	srv.AllowInsecureAuth = opts.PlainAuth
	// Logging from connection goroutines after the test ended would panic
	// with t.Logf; the Sink's record is what tests look at.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.srv = srv
	go func() {
		defer close(s.done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(s.close)
	return s
}

func (s *Sink) close() {
	_ = s.srv.Close()
	// Server.Close closes only the listeners Serve has registered: if Serve
	// has not started yet, closing ln here is what makes it return.
	_ = s.ln.Close()
	<-s.done
}

// Addr returns the host:port the Sink listens on.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Messages returns a copy of the messages accepted so far, in order.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// WaitFor waits until the Sink has accepted at least n messages and returns
// them all. If ctx ends first it returns what it has and an error.
func (s *Sink) WaitFor(ctx context.Context, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		msgs := append([]Message(nil), s.msgs...)
		changed := s.changed
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return msgs, fmt.Errorf("sink: %d of %d messages arrived: %w", len(msgs), n, ctx.Err())
		}
	}
}

// SetFail makes the Sink answer every MAIL FROM with code and msg (for
// example 451, "4.3.0 try again later"); code 0 clears every failure set
// with SetFail or SetFailAt. A leading enhanced status code in msg is used
// as such; without one the Sink sends X.0.0.
func (s *Sink) SetFail(code int, msg string) {
	if code == 0 {
		s.mu.Lock()
		clear(s.fail)
		s.mu.Unlock()
		return
	}
	s.SetFailAt(StageMail, code, msg)
}

// SetFailAt makes the Sink answer the given stage with code and msg; code 0
// clears the failure at that stage. code must be 0 or 400..599.
func (s *Sink) SetFailAt(stage Stage, code int, msg string) {
	if code != 0 && (code < 400 || code > 599) {
		panic("testenv: SetFailAt code must be 0 or 4xx/5xx, got " + strconv.Itoa(code))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.fail, stage)
		return
	}
	e := &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: msg}
	if first, rest, ok := strings.Cut(msg, " "); ok {
		if ec, ok := parseEnhanced(first); ok {
			e.EnhancedCode, e.Message = ec, rest
		}
	}
	s.fail[stage] = e
}

func (s *Sink) failure(stage Stage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.fail[stage]; e != nil {
		return e
	}
	return nil
}

func (s *Sink) record(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.changed)
	s.changed = make(chan struct{})
}

// parseEnhanced parses "X.Y.Z" as an enhanced status code.
func parseEnhanced(s string) (smtp.EnhancedCode, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return smtp.EnhancedCode{}, false
	}
	var ec smtp.EnhancedCode
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return smtp.EnhancedCode{}, false
		}
		ec[i] = n
	}
	return ec, ec[0] >= 2 && ec[0] <= 5
}

type sinkSession struct {
	sink  *Sink
	conn  *smtp.Conn
	from  string
	rcpts []string
	user  string // the authenticated user
}

func (ss *sinkSession) Reset() {
	ss.from, ss.rcpts = "", nil
}

func (ss *sinkSession) Logout() error { return nil }

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if ss.sink.users != nil && ss.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	if err := ss.sink.failure(StageMail); err != nil {
		return err
	}
	ss.from, ss.rcpts = from, nil
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.sink.failure(StageRcpt); err != nil {
		return err
	}
	ss.rcpts = append(ss.rcpts, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se
		}
		return err
	}
	if err := ss.sink.failure(StageData); err != nil {
		return err
	}
	ss.sink.record(Message{
		Helo:  ss.conn.Hostname(),
		From:  ss.from,
		Rcpts: append([]string(nil), ss.rcpts...),
		Data:  data,
		TLS:   isTLS(ss.conn),
		User:  ss.user,
	})
	return nil
}
