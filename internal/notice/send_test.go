package notice

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/smtpout"
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
	s := &Sender{Smarthost: smtpout.Destination{Address: sink.Addr(), Hostname: "rcptguard.army.mil"}, Timeout: 10 * time.Second}
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
	s := &Sender{Smarthost: smtpout.Destination{Address: sink.Addr()}, Timeout: 10 * time.Second}
	raw := composed(t)

	sink.SetFail(451, "4.3.0 try again later")
	err := s.Send(context.Background(), "", "alice@army.mil", raw)
	var se *smtpout.Error
	if !errors.Is(err, ErrTemporary) || !errors.As(err, &se) || se.Code != 451 || se.Step != "mail from" {
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

	for _, to := range []string{"a@b\r\nRCPT TO:<x@y>", ""} {
		if err := s.Send(context.Background(), "", to, raw); err == nil || errors.Is(err, ErrTemporary) {
			t.Errorf("recipient %q: got %v, want a permanent error", to, err)
		}
	}
}

func TestSendNetworkErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &Sender{Smarthost: smtpout.Destination{Address: addr}, Timeout: 5 * time.Second}
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
	s = &Sender{Smarthost: smtpout.Destination{Address: ln.Addr().String(), TLS: smtpout.TLSOpportunistic}, Timeout: 200 * time.Millisecond}
	start := time.Now()
	if err := s.Send(context.Background(), "", "alice@army.mil", composed(t)); !errors.Is(err, ErrTemporary) {
		t.Errorf("silent server: got %v, want temporary", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

// TestSendTLSAndAuth: the notice goes through a smarthost that needs STARTTLS and AUTH;
// a certificate that cannot be verified stops it (temporarily), and so does TLS
// required from a smarthost that does not offer it.
func TestSendTLSAndAuth(t *testing.T) {
	cert := testenv.SelfSigned(t, "smarthost.army.mil")
	sink := testenv.StartSecureSink(t, testenv.SecureSink{TLS: cert.Server, Users: map[string]string{"notices": "pw"}})
	raw := composed(t)
	d := smtpout.Destination{Address: sink.Addr(), TLS: smtpout.TLSRequired, ServerName: "smarthost.army.mil",
		Username: "notices", Password: "pw"}
	s := &Sender{Smarthost: d, Timeout: 10 * time.Second}
	if err := s.Send(context.Background(), "", "alice@army.mil", raw); !errors.Is(err, ErrTemporary) {
		t.Fatalf("certificate not trusted: got %v, want a temporary failure", err)
	}
	s.Smarthost.RootCAs = cert.Pool
	if err := s.Send(context.Background(), "", "alice@army.mil", raw); err != nil {
		t.Fatal(err)
	}
	if m := sink.Messages(); len(m) != 1 || !m[0].TLS || m[0].User != "notices" || string(m[0].Data) != string(raw) {
		t.Fatalf("messages %+v, want the notice over TLS from user notices", m)
	}
	plain := testenv.StartSink(t)
	s.Smarthost.Address = plain.Addr()
	if err := s.Send(context.Background(), "", "alice@army.mil", raw); !errors.Is(err, ErrTemporary) ||
		!errors.Is(err, smtpout.ErrTLSUnavailable) {
		t.Errorf("TLS required, not offered: got %v", err)
	}
	if len(plain.Messages()) != 0 {
		t.Error("the notice went out in plain text")
	}
}
