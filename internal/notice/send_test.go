package notice

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

func composed(t *testing.T) []byte {
	t.Helper()
	raw, err := Compose(testNotice(), now)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestSend(t *testing.T) {
	sink := testenv.StartSink(t)
	s := &Sender{Addr: sink.Addr(), Hostname: "rcptguard.army.mil", Timeout: 10 * time.Second}
	raw := composed(t)
	if err := s.Send(context.Background(), "", "alice@army.mil", raw); err != nil {
		t.Fatal(err)
	}
	// The sink records a message before it answers 250, and Send returns after the 250:
	// whatever arrived is there now.
	if msgs := sink.Messages(); len(msgs) != 1 {
		t.Fatalf("%d messages arrived, want 1", len(msgs))
	}
	m := sink.Messages()[0]
	if m.From != "" || len(m.Rcpts) != 1 || m.Rcpts[0] != "alice@army.mil" || m.Helo != "rcptguard.army.mil" {
		t.Errorf("envelope: helo %q from %q rcpts %q", m.Helo, m.From, m.Rcpts)
	}
	if string(m.Data) != string(raw) {
		t.Errorf("data differs:\n%s", m.Data)
	}
	if m.Header("X-Rcptguard-Notice") != "AAAAAAAAAAAAAAAAAAAAAA" {
		t.Error("notice header lost")
	}
}

func TestSendFailures(t *testing.T) {
	sink := testenv.StartSink(t)
	s := &Sender{Addr: sink.Addr(), Timeout: 10 * time.Second}
	raw := composed(t)

	sink.SetFail(451, "4.3.0 try again later")
	err := s.Send(context.Background(), "", "alice@army.mil", raw)
	var se *SendError
	if !errors.Is(err, ErrTemporary) || !errors.As(err, &se) || se.Code != 451 || se.Step != "mail" {
		t.Errorf("451: got %v, want a temporary error", err)
	}

	sink.SetFail(0, "")
	sink.SetFailAt(testenv.StageRcpt, 550, "5.1.1 no such user")
	err = s.Send(context.Background(), "", "alice@army.mil", raw)
	if err == nil || errors.Is(err, ErrTemporary) || !errors.As(err, &se) || se.Code != 550 {
		t.Errorf("550: got %v, want a permanent error", err)
	}

	sink.SetFail(0, "")
	sink.SetFailAt(testenv.StageData, 452, "4.3.1 full")
	if err := s.Send(context.Background(), "", "alice@army.mil", raw); !errors.Is(err, ErrTemporary) {
		t.Errorf("452 at DATA: got %v, want temporary", err)
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("%d messages arrived, want none", n)
	}

	if err := s.Send(context.Background(), "", "a@b\r\nRCPT TO:<x@y>", raw); err == nil || errors.Is(err, ErrTemporary) {
		t.Errorf("CRLF in recipient: got %v, want a permanent error", err)
	}
}

func TestSendNetworkErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &Sender{Addr: addr, Timeout: 5 * time.Second}
	if err := s.Send(context.Background(), "", "alice@army.mil", composed(t)); !errors.Is(err, ErrTemporary) {
		t.Errorf("connection refused: got %v, want temporary", err)
	}

	// A server that never greets: the timeout ends the attempt.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	s = &Sender{Addr: ln.Addr().String(), Timeout: 200 * time.Millisecond}
	start := time.Now()
	if err := s.Send(context.Background(), "", "alice@army.mil", composed(t)); !errors.Is(err, ErrTemporary) {
		t.Errorf("silent server: got %v, want temporary", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

// startTLSServer runs a go-smtp server that offers STARTTLS with a self-signed
// certificate for 127.0.0.1 and counts the messages it accepts over TLS.
func startTLSServer(t *testing.T) (addr string, got chan bool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	got = make(chan bool, 4)
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &tlsSession{conn: c, got: got}, nil
	}))
	srv.Domain = "tls.test"
	srv.AllowInsecureAuth = true
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String(), got
}

type tlsSession struct {
	conn *smtp.Conn
	got  chan bool
}

func (s *tlsSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *tlsSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *tlsSession) Reset()                               {}
func (s *tlsSession) Logout() error                        { return nil }
func (s *tlsSession) Data(r io.Reader) error {
	_, _ = io.Copy(io.Discard, r)
	_, isTLS := s.conn.TLSConnectionState()
	s.got <- isTLS
	return nil
}

func TestSendSTARTTLS(t *testing.T) {
	addr, got := startTLSServer(t)
	raw := composed(t)
	s := &Sender{Addr: addr, Timeout: 10 * time.Second}
	err := s.Send(context.Background(), "", "alice@army.mil", raw)
	if err == nil || !errors.Is(err, ErrTemporary) {
		t.Fatalf("self-signed certificate: got %v, want a temporary verification error", err)
	}
	s.InsecureSkipVerify = true
	if err := s.Send(context.Background(), "", "alice@army.mil", raw); err != nil {
		t.Fatal(err)
	}
	select {
	case isTLS := <-got:
		if !isTLS {
			t.Error("message sent without TLS")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
	}
	if len(got) != 0 {
		t.Error("more than one message")
	}
}
