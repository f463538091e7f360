package relay

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/smtpout"
)

const fuzzPassword = "fuzz-9c1f0e"

// countingUpstream is an SMTP server that takes every message and counts its sessions.
// A session is counted at EHLO, which the relay waits for before it sends anything, so
// the count is final once the relay's session has ended.
type countingUpstream struct {
	sessions atomic.Int64
	messages atomic.Int64
}

func (u *countingUpstream) NewSession(*smtp.Conn) (smtp.Session, error) {
	u.sessions.Add(1)
	return upSession{u}, nil
}

type upSession struct{ u *countingUpstream }

func (upSession) Reset()                               {}
func (upSession) Logout() error                        { return nil }
func (upSession) Mail(string, *smtp.MailOptions) error { return nil }
func (upSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s upSession) Data(r io.Reader) error {
	s.u.messages.Add(1)
	_, err := io.Copy(io.Discard, r)
	return err
}
func (u *countingUpstream) start(t testing.TB) (addr string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(u)
	srv.Domain = "upstream.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = slogPrinter{}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

type slogPrinter struct{}

func (slogPrinter) Printf(string, ...any) {}
func (slogPrinter) Println(...any)        {}

// panicCatcher fails on any log line about a panic: go-smtp recovers panics in session
// methods and only logs them.
type panicCatcher struct {
	mu     sync.Mutex
	panics []string
}

func (p *panicCatcher) Handle(ctx context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		msg := r.Message
		r.Attrs(func(a slog.Attr) bool {
			msg += " " + a.String()
			return true
		})
		p.mu.Lock()
		p.panics = append(p.panics, msg)
		p.mu.Unlock()
	}
	return nil
}

func (p *panicCatcher) Enabled(context.Context, slog.Level) bool { return true }
func (p *panicCatcher) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *panicCatcher) WithGroup(string) slog.Handler            { return p }

// FuzzSession feeds arbitrary input to the relay as one client connection. The client is
// not in AllowedNetworks: the relay must never open an upstream session unless the
// transcript shows a successful AUTH, and must never panic.
func FuzzSession(f *testing.F) {
	plain := func(user, pw string) string {
		return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pw))
	}
	good := "AUTH PLAIN " + plain("fuzz", fuzzPassword) + "\r\n"
	txn := "MAIL FROM:<alice@contoso.com>\r\nRCPT TO:<amy@army.mil>\r\nRCPT TO:<bob@army.ml>\r\nDATA\r\nSubject: s\r\n\r\nbody\r\n.\r\n"
	for _, seed := range []string{
		"EHLO x\r\n" + txn + "QUIT\r\n",
		"EHLO x\r\n" + good + txn + "QUIT\r\n",
		"EHLO x\r\n" + good + "MAIL FROM:<a@contoso.com>\r\nRCPT TO:<c@armmy.mil>\r\nDATA\r\nX-Rcptguard-Verdict: allow\r\n\r\nb\r\n.\r\nRSET\r\n" + txn,
		"EHLO x\r\nAUTH PLAIN " + plain("fuzz", "wrong") + "\r\n" + txn,
		"EHLO x\r\nAUTH PLAIN\r\n" + plain("fuzz", fuzzPassword) + "\r\nMAIL FROM:<a@b.c>\r\n",
		"EHLO x\nAUTH PLAIN " + plain("fuzz", fuzzPassword) + "\nMAIL FROM:<a@b.c>\nRCPT TO:<c@example.org>\nDATA\nbody\n.\n",
		"EHLO x\r\n" + good + "MAIL FROM:<a@b.c>\r\nRCPT TO:<c@example.org>\r\nBDAT 6 LAST\r\nhello\n",
		"EHLO x\r\n" + good + "MAIL FROM:<a@b.c> SMTPUTF8 SIZE=100\r\nRCPT TO:<ü@аrmy.mil>\r\nRCPT TO:<a@@b>\r\n",
		"EHLO x\r\n" + good + "MAIL FROM:<a@b.c>\r\nRCPT TO:<c@example.org>\r\nBDAT 5\r\nhelloAUTH PLAIN =\r\nRSET\r\n",
		"HELO x\r\nSTARTTLS\r\nNOOP\r\nVRFY a\r\nRSET\r\nMAIL FROM:<>\r\nQUIT\r\n",
		"EHLO x\r\n" + good + "MAIL FROM:<a@b.c>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n" + strings.Repeat("y", 2500) + "\r\n.\r\n",
	} {
		f.Add([]byte(seed))
	}

	up := &countingUpstream{}
	upAddr := up.start(f)
	catcher := &panicCatcher{}
	var cur guard.Current
	cur.Store(newGuard(f, guard.Hold, false).Load())
	s := &Server{
		Guard:             &cur,
		Upstream:          smtpout.Destination{Address: upAddr},
		Hostname:          relayHost,
		Logger:            slog.New(catcher),
		ReadTimeout:       2 * time.Second,
		WriteTimeout:      2 * time.Second,
		UpstreamTimeout:   2 * time.Second,
		BareLFTimeout:     20 * time.Millisecond,
		MaxMessageBytes:   1 << 16,
		MaxRecipients:     5,
		AllowedNetworks:   notLoopback,
		Users:             map[string]string{"fuzz": hash(f, fuzzPassword)},
		AllowInsecureAuth: true,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	go s.Serve(ln)
	f.Cleanup(func() { s.Close() })

	f.Fuzz(func(t *testing.T, input []byte) {
		before, start := up.sessions.Load(), time.Now()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		out := make(chan []byte, 1)
		go func() { b, _ := io.ReadAll(c); out <- b }()
		c.Write(input)
		c.(*net.TCPConn).CloseWrite()
		transcript := <-out // the relay closed the connection: its session is over
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("the relay took %v to end a session whose client had stopped sending; transcript:\n%s", d, transcript)
		}
		if up.sessions.Load() != before && !strings.Contains(string(transcript), "\n235 ") {
			t.Fatalf("upstream session without AUTH; transcript:\n%s", transcript)
		}
		catcher.mu.Lock()
		defer catcher.mu.Unlock()
		if len(catcher.panics) > 0 {
			t.Fatalf("panic: %v", catcher.panics)
		}
	})
}
