package relay

import (
	"io"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

func TestUpstreamFailuresReachTheClient(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		stage testenv.Stage
		code  int
		msg   string
		want  func(testenv.SendResult) testenv.Reply
		out   Outcome
	}{
		{"temporary at MAIL", testenv.StageMail, 451, "4.3.0 try again later",
			func(r testenv.SendResult) testenv.Reply { return r.Mail }, ""},
		{"temporary at RCPT", testenv.StageRcpt, 450, "4.2.0 mailbox busy",
			func(r testenv.SendResult) testenv.Reply { return r.Rcpts[0].Reply }, OutcomeRefused},
		{"temporary at end of data", testenv.StageData, 451, "4.3.0 disk full",
			func(r testenv.SendResult) testenv.Reply { return r.Data }, OutcomeTempFail},
		{"permanent at RCPT", testenv.StageRcpt, 550, "5.1.1 no such user",
			func(r testenv.SendResult) testenv.Reply { return r.Rcpts[0].Reply }, OutcomeRefused},
		{"permanent at end of data", testenv.StageData, 554, "5.6.0 content refused",
			func(r testenv.SendResult) testenv.Reply { return r.Data }, OutcomeFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startRelay(t, nil)
			r.sink.SetFailAt(tc.stage, tc.code, tc.msg)
			res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"amy@army.mil"}, message("fail"))
			if err != nil {
				t.Fatal(err)
			}
			got := tc.want(res)
			enh, text, _ := strings.Cut(tc.msg, " ")
			if got.Code != tc.code || got.Enhanced != enh || got.Text != "Upstream: "+text {
				t.Errorf("reply %v, want %d %s Upstream: %s", got, tc.code, enh, text)
			}
			if len(r.sink.Messages()) != 0 {
				t.Error("the sink got the message")
			}
			if evs := r.events.all(); tc.out != "" && (len(evs) != 1 || evs[0].Outcome != tc.out) {
				t.Errorf("events %+v, want outcome %s", evs, tc.out)
			}
		})
	}
}

func TestUpstreamDownFailsTemporarily(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	r := startRelay(t, func(s *Server) { s.Upstream.Address = down })
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("451 4.4.1 ", "MAIL FROM:<alice@contoso.com>")
}

// TestUpstreamClosesMidSession: the upstream drops the connection after the relay
// sent RCPT; the client gets a temporary error, and the next transaction dials anew.
func TestUpstreamLostThenRedialled(t *testing.T) {
	t.Parallel()
	r := startRelay(t, nil)
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<amy@army.mil>")
	r.Server.mu.Lock()
	for u := range r.Server.upConns {
		u.Close()
	}
	r.Server.mu.Unlock()
	c.expect("451 4.4.", "RCPT TO:<carol@example.org>")
	c.expect("250", "RSET")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("250", "RCPT TO:<carol@example.org>")
	c.expect("354", "DATA")
	c.expect("250", "Subject: again\r\n\r\n.")
	if msgs := r.sink.Messages(); len(msgs) != 1 || msgs[0].Rcpts[0] != "carol@example.org" {
		t.Errorf("sink = %+v", msgs)
	}
}

func TestUpstreamSTARTTLSRequiredButNotOffered(t *testing.T) {
	t.Parallel()
	r := startRelay(t, func(s *Server) { s.Upstream.TLS = smtpout.TLSRequired })
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"amy@army.mil"}, message("tls"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Mail.Code != 451 {
		t.Errorf("MAIL = %v, want 451: never fall back to plain text", res.Mail)
	}
	if len(r.sink.Messages()) != 0 {
		t.Error("the sink got the message")
	}
}

// tlsUpstream records whether each message came over TLS.
type tlsUpstream struct{ overTLS chan bool }

func (u tlsUpstream) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return tlsUpSession{u, c}, nil
}

type tlsUpSession struct {
	u tlsUpstream
	c *smtp.Conn
}

func (tlsUpSession) Reset()                               {}
func (tlsUpSession) Logout() error                        { return nil }
func (tlsUpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (tlsUpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s tlsUpSession) Data(r io.Reader) error {
	_, ok := s.c.TLSConnectionState()
	s.u.overTLS <- ok
	_, err := io.Copy(io.Discard, r)
	return err
}

func TestUpstreamSTARTTLS(t *testing.T) {
	t.Parallel()
	srvTLS, pool := selfSigned(t)
	up := tlsUpstream{overTLS: make(chan bool, 1)}
	srv := smtp.NewServer(up)
	srv.Domain, srv.TLSConfig = relayHost, srvTLS
	srv.ErrorLog = slogPrinter{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	r := startRelay(t, func(s *Server) {
		s.Upstream = smtpout.Destination{Address: ln.Addr().String(), TLS: smtpout.TLSRequired, RootCAs: pool, ServerName: relayHost}
	})
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"amy@army.mil"}, message("tls"))
	if err != nil || !res.Delivered() {
		t.Fatalf("%+v %v", res, err)
	}
	if !<-up.overTLS {
		t.Error("the message reached the upstream in plain text")
	}

	// An upstream certificate the relay does not trust gets nothing.
	r2 := startRelay(t, func(s *Server) {
		s.Upstream = smtpout.Destination{Address: ln.Addr().String(), TLS: smtpout.TLSRequired}
	})
	res, err = testenv.SMTPSend(r2.addr, "alice@contoso.com", []string{"amy@army.mil"}, message("tls"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Mail.Code != 451 {
		t.Errorf("MAIL with an untrusted upstream = %v, want 451", res.Mail)
	}
}
