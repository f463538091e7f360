package smtpout

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

const msg = "From: a@example.org\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nhello\r\n"

func send(t *testing.T, d Destination, to ...string) (Result, error) {
	t.Helper()
	if len(to) == 0 {
		to = []string{"b@example.net"}
	}
	if d.Timeout == 0 {
		d.Timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return Send(ctx, d, Message{From: "a@example.org", To: to, Data: []byte(msg)})
}

func TestRequiredTLSRefusesAServerWithoutSTARTTLS(t *testing.T) {
	t.Parallel()
	sink := testenv.StartSink(t)
	_, err := send(t, Destination{Address: sink.Addr(), TLS: TLSRequired})
	if Classify(err) != Temporary || !errors.Is(err, ErrTLSUnavailable) {
		t.Fatalf("got %v (%s), want a temporary failure: TLS unavailable", err, Classify(err))
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("%d messages went out in plain text", n)
	}
}

func TestRequiredTLSOverSTARTTLS(t *testing.T) {
	t.Parallel()
	cert := testenv.SelfSigned(t, "mx.example.test")
	sink := testenv.StartSecureSink(t, testenv.SecureSink{TLS: cert.Server})
	res, err := send(t, Destination{Address: sink.Addr(), TLS: TLSRequired, ServerName: "mx.example.test", RootCAs: cert.Pool,
		Hostname: "rg.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 || !msgs[0].TLS || !res.OverTLS || msgs[0].Helo != "rg.example.org" {
		t.Fatalf("result %+v, messages %+v: want one over TLS, EHLO rg.example.org", res, msgs)
	}
	if !strings.HasPrefix(res.Reply, "250 ") {
		t.Errorf("reply %q", res.Reply)
	}
}

func TestUnverifiedCertificateIsATemporaryFailure(t *testing.T) {
	t.Parallel()
	cert := testenv.SelfSigned(t, "mx.example.test")
	sink := testenv.StartSecureSink(t, testenv.SecureSink{TLS: cert.Server})
	for _, mode := range []TLSMode{TLSOpportunistic, TLSRequired} {
		// Not trusted (system roots), then trusted but for another name.
		for _, d := range []Destination{
			{Address: sink.Addr(), TLS: mode},
			{Address: sink.Addr(), TLS: mode, RootCAs: cert.Pool, ServerName: "other.example.test"},
		} {
			_, err := send(t, d)
			var e *Error
			if Classify(err) != Temporary || !errors.As(err, &e) || e.Step != "starttls" {
				t.Errorf("%s %q: got %v, want a temporary failure at starttls", mode, d.ServerName, err)
			}
		}
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("%d messages went out", n)
	}
}

func TestOpportunisticTLS(t *testing.T) {
	t.Parallel()
	cert := testenv.SelfSigned(t)
	tlsSink := testenv.StartSecureSink(t, testenv.SecureSink{TLS: cert.Server})
	plainSink := testenv.StartSink(t)
	if _, err := send(t, Destination{Address: tlsSink.Addr(), TLS: TLSOpportunistic, RootCAs: cert.Pool}); err != nil {
		t.Fatal(err)
	}
	if _, err := send(t, Destination{Address: plainSink.Addr(), TLS: TLSOpportunistic}); err != nil {
		t.Fatal(err)
	}
	// Mode none never upgrades, even when offered.
	if _, err := send(t, Destination{Address: tlsSink.Addr(), TLS: TLSNone}); err != nil {
		t.Fatal(err)
	}
	got := []bool{}
	for _, m := range append(tlsSink.Messages(), plainSink.Messages()...) {
		got = append(got, m.TLS)
	}
	if fmt.Sprint(got) != "[true false false]" {
		t.Errorf("over TLS: %v, want [true false false] (offered, mode none, not offered)", got)
	}
}

func TestImplicitTLS(t *testing.T) {
	t.Parallel()
	cert := testenv.SelfSigned(t)
	sink := testenv.StartSecureSink(t, testenv.SecureSink{TLS: cert.Server, Implicit: true,
		Users: map[string]string{"rg": "s3cret"}})
	if _, err := send(t, Destination{Address: sink.Addr(), TLS: TLSImplicit, RootCAs: cert.Pool, Username: "rg", Password: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	if m := sink.Messages(); len(m) != 1 || !m[0].TLS || m[0].User != "rg" {
		t.Errorf("messages %+v", m)
	}
}

func TestAuthAfterTLS(t *testing.T) {
	t.Parallel()
	cert := testenv.SelfSigned(t)
	sink := testenv.StartSecureSink(t, testenv.SecureSink{TLS: cert.Server, Users: map[string]string{"rg": "s3cret"}})
	d := Destination{Address: sink.Addr(), TLS: TLSRequired, RootCAs: cert.Pool, Username: "rg", Password: "s3cret"}
	if _, err := send(t, d); err != nil {
		t.Fatal(err)
	}
	if m := sink.Messages(); len(m) != 1 || m[0].User != "rg" || !m[0].TLS {
		t.Fatalf("messages %+v, want one from rg over TLS", m)
	}

	// A wrong password: temporary (the administrator fixes it; the mail waits), with
	// the server's reply.
	d.Password = "wrong"
	_, err := send(t, d)
	var e *Error
	if Classify(err) != Temporary || !errors.As(err, &e) || e.Code != 535 || !strings.HasPrefix(e.Step, "auth") {
		t.Errorf("wrong password: got %v, want a temporary failure with 535 at auth", err)
	}
	// No credentials: the server's 530 at MAIL is permanent.
	d.Username, d.Password = "", ""
	if _, err := send(t, d); Classify(err) != Permanent || !strings.Contains(err.Error(), "530") {
		t.Errorf("no AUTH: got %v, want the 530 at MAIL, permanent", err)
	}
	if n := len(sink.Messages()); n != 1 {
		t.Errorf("%d messages, want only the first", n)
	}
}

// TestNoPasswordInPlainText: the sink offers AUTH without TLS; the client sends the
// password in plain text only with mode none to loopback.
func TestNoPasswordInPlainText(t *testing.T) {
	t.Parallel()
	sink := testenv.StartSecureSink(t, testenv.SecureSink{Users: map[string]string{"rg": "s3cret"}, PlainAuth: true})
	_, err := send(t, Destination{Address: sink.Addr(), TLS: TLSOpportunistic, Username: "rg", Password: "s3cret"})
	if Classify(err) != Temporary || !errors.Is(err, ErrAuthWithoutTLS) {
		t.Errorf("opportunistic without STARTTLS: got %v, want a temporary refusal to AUTH", err)
	}
	if _, err := send(t, Destination{Address: sink.Addr(), TLS: TLSNone, Username: "rg", Password: "s3cret"}); err != nil {
		t.Fatalf("mode none to loopback: %v", err)
	}
	if m := sink.Messages(); len(m) != 1 || m[0].User != "rg" || m[0].TLS {
		t.Errorf("messages %+v, want one from rg in plain text", m)
	}
}

func TestAuthAllowed(t *testing.T) {
	t.Parallel()
	tcp := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 25} }
	cases := []struct {
		mode    TLSMode
		overTLS bool
		remote  net.Addr
		want    bool
	}{
		{TLSNone, false, tcp("127.0.0.1"), true},
		{"", false, tcp("127.9.9.9"), true},
		{TLSNone, false, tcp("::1"), true},
		{TLSNone, false, tcp("192.0.2.1"), false},
		{TLSNone, false, tcp("::ffff:192.0.2.1"), false},
		{TLSNone, false, tcp("2001:db8::1"), false},
		{TLSNone, false, &net.UnixAddr{Name: "/run/x", Net: "unix"}, false},
		{TLSNone, false, nil, false},
		{TLSOpportunistic, false, tcp("127.0.0.1"), false},
		{TLSRequired, false, tcp("127.0.0.1"), false},
		{TLSOpportunistic, true, tcp("192.0.2.1"), true},
		{TLSRequired, true, tcp("192.0.2.1"), true},
		{TLSImplicit, true, tcp("2001:db8::1"), true},
	}
	for _, c := range cases {
		if got := AuthAllowed(c.mode, c.overTLS, c.remote); got != c.want {
			t.Errorf("AuthAllowed(%q, tls %v, %v) = %v, want %v", c.mode, c.overTLS, c.remote, got, c.want)
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		want Class
	}{
		{nil, OK},
		{&smtp.SMTPError{Code: 451}, Temporary},
		{&smtp.SMTPError{Code: 421}, Temporary},
		{&smtp.SMTPError{Code: 550}, Permanent},
		{fmt.Errorf("wrapped: %w", &smtp.SMTPError{Code: 554}), Permanent},
		{&textproto.Error{Code: 552}, Permanent},
		{&textproto.Error{Code: 452}, Temporary},
		{errors.New("connection reset"), Temporary},
		{context.DeadlineExceeded, Temporary},
		{&Error{Step: "end of data", Class: Unknown, Err: ErrLostAfterData}, Unknown},
		{fmt.Errorf("x: %w", &Error{Step: "auth", Class: Temporary, Code: 535, Err: &smtp.SMTPError{Code: 535}}), Temporary},
	}
	for _, c := range cases {
		if got := Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %s, want %s", c.err, got, c.want)
		}
	}
}

func TestConnectionFailuresAreTemporary(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	if _, err := send(t, Destination{Address: down}); Classify(err) != Temporary {
		t.Errorf("connection refused: %v (%s)", err, Classify(err))
	}
	// A server that never greets: the timeout ends the attempt.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			bufio.NewReader(c).ReadString(0)
		}
	}()
	start := time.Now()
	if _, err := send(t, Destination{Address: ln.Addr().String(), TLS: TLSRequired, Timeout: 200 * time.Millisecond}); Classify(err) != Temporary {
		t.Errorf("silent server: %v (%s)", err, Classify(err))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the timeout took %v", d)
	}
	if _, err := send(t, Destination{Address: "no port"}); Classify(err) != Temporary {
		t.Errorf("bad address: %v (%s)", err, Classify(err))
	}
}

func TestLostAfterTheEndOfDataIsUnknown(t *testing.T) {
	t.Parallel()
	_, err := send(t, Destination{Address: testenv.CutServer(t, true)})
	if Classify(err) != Unknown || !errors.Is(err, ErrLostAfterData) {
		t.Errorf("cut after the dot: %v (%s), want unknown", err, Classify(err))
	}
	_, err = send(t, Destination{Address: testenv.CutServer(t, false)})
	if Classify(err) != Temporary {
		t.Errorf("cut at DATA: %v (%s), want temporary", err, Classify(err))
	}
}

func TestSendRecipients(t *testing.T) {
	t.Parallel()
	sink := testenv.StartSink(t)
	sink.SetFailAt(testenv.StageRcpt, 550, "5.1.1 no such user")
	_, err := send(t, Destination{Address: sink.Addr()}, "x@example.net", "y@example.net")
	if Classify(err) != Permanent || !strings.Contains(err.Error(), "every recipient refused") {
		t.Errorf("all refused: %v", err)
	}
	sink.SetFailAt(testenv.StageRcpt, 450, "4.2.0 busy")
	if _, err := send(t, Destination{Address: sink.Addr()}); Classify(err) != Temporary {
		t.Errorf("450: %v", err)
	}
	sink.SetFailAt(testenv.StageRcpt, 0, "")
	if _, err := send(t, Destination{Address: sink.Addr()}, "a@b\r\nRCPT TO:<x@y>"); Classify(err) != Permanent {
		t.Errorf("CRLF in a recipient: %v", err)
	}
	ctx := context.Background()
	_, err = Send(ctx, Destination{Address: sink.Addr()}, Message{To: []string{"b@example.net"}, Data: []byte(msg),
		BeforeEnd: func() error { return errors.New("cannot record") }})
	if Classify(err) != Temporary || !strings.Contains(err.Error(), "cannot record") {
		t.Errorf("BeforeEnd failed: %v", err)
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("%d messages went out", n)
	}
}

// TestConnRunsSeveralTransactions: the relay's use: a result per recipient, RSET, and a
// second message on the same session.
func TestConnRunsSeveralTransactions(t *testing.T) {
	t.Parallel()
	cert := testenv.SelfSigned(t)
	sink := testenv.StartSecureSink(t, testenv.SecureSink{TLS: cert.Server, Users: map[string]string{"rg": "pw"}})
	c, err := Dial(context.Background(), Destination{Address: sink.Addr(), TLS: TLSRequired, RootCAs: cert.Pool,
		Username: "rg", Password: "pw", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.OverTLS() {
		t.Error("not over TLS")
	}
	for i, to := range []string{"one@example.net", "two@example.net"} {
		if i > 0 {
			if err := c.Reset(); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Mail("a@example.org", nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt(to, nil); err != nil {
			t.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		if reply, err := w.Close(); err != nil || reply == "" {
			t.Fatalf("end of data: %q %v", reply, err)
		}
	}
	c.Quit()
	msgs := sink.Messages()
	if len(msgs) != 2 || msgs[0].Rcpts[0] != "one@example.net" || msgs[1].Rcpts[0] != "two@example.net" || msgs[1].User != "rg" {
		t.Errorf("messages %+v", msgs)
	}
}
