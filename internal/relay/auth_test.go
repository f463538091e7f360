package relay

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/crypto/bcrypt"
)

// notLoopback is an allowed network that 127.0.0.1 is not in: the test client is a
// stranger.
var notLoopback = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}

func hash(t testing.TB, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestStrangerMayNotRelay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*Server)
		want   string
	}{
		{"no users", func(s *Server) {}, "554 5.7.1 Relay access denied"},
		{"users but no TLS", func(s *Server) { s.Users = map[string]string{"alice": hash(t, "pw")} }, "554 5.7.1"},
		{"users and STARTTLS", func(s *Server) {
			s.Users = map[string]string{"alice": hash(t, "pw")}
			s.TLSConfig, _ = selfSigned(t)
		}, "530 5.7.0 Authentication required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := startRelay(t, func(s *Server) { s.AllowedNetworks = notLoopback; tc.change(s) })
			c := dial(t, r.addr)
			c.expect("250", "EHLO client.test")
			c.expect(tc.want, "MAIL FROM:<alice@contoso.com>")
			c.expect("502", "RCPT TO:<amy@army.mil>")
			c.expect("502", "DATA")
			if n := len(r.sink.Messages()); n != 0 {
				t.Errorf("sink got %d messages", n)
			}
		})
	}
}

func startAuthRelay(t *testing.T) (*testRelay, *tls.Config) {
	t.Helper()
	srvTLS, pool := selfSigned(t)
	r := startRelay(t, func(s *Server) {
		s.AllowedNetworks = notLoopback
		s.Users = map[string]string{"alice": hash(t, "correct horse")}
		s.TLSConfig = srvTLS
	})
	return r, &tls.Config{RootCAs: pool, ServerName: relayHost}
}

func TestAuthPlainAfterSTARTTLSRelays(t *testing.T) {
	t.Parallel()
	r, cliTLS := startAuthRelay(t)

	// Before STARTTLS, AUTH is neither offered nor accepted.
	c := dial(t, r.addr)
	if ehlo := c.expect("250", "EHLO client.test"); strings.Contains(ehlo, "AUTH") || !strings.Contains(ehlo, "STARTTLS") {
		t.Errorf("EHLO before TLS = %q", ehlo)
	}
	ir := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00correct horse"))
	c.expect("5", "AUTH PLAIN %s", ir)
	c.expect("530", "MAIL FROM:<alice@contoso.com>")

	conn, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := smtp.NewClientStartTLS(conn, cliTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Auth(sasl.NewPlainClient("", "alice", "correct horse")); err != nil {
		t.Fatalf("AUTH: %v", err)
	}
	if err := cl.SendMail("alice@contoso.com", []string{"amy@army.mil"}, strings.NewReader(string(message("auth")))); err != nil {
		t.Fatalf("send: %v", err)
	}
	msgs := r.sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("sink has %d messages", len(msgs))
	}
	if rcv := msgs[0].Header("Received"); !strings.Contains(rcv, "with ESMTPSA id") {
		t.Errorf("Received = %q, want ESMTPSA", rcv)
	}
	if evs := r.events.all(); len(evs) != 1 || evs[0].AuthUser != "alice" {
		t.Errorf("events = %+v", evs)
	}
}

func TestAuthWrongPasswordRefused(t *testing.T) {
	t.Parallel()
	r, cliTLS := startAuthRelay(t)
	conn, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := smtp.NewClientStartTLS(conn, cliTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i, creds := range [][2]string{{"alice", "wrong"}, {"mallory", "correct horse"}} {
		var se *smtp.SMTPError
		err := cl.Auth(sasl.NewPlainClient("", creds[0], creds[1]))
		if !errors.As(err, &se) || se.Code != 535 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 8}) {
			t.Fatalf("attempt %d: AUTH = %v, want 535 5.7.8", i, err)
		}
	}
	var se *smtp.SMTPError
	if err := cl.Mail("alice@contoso.com", nil); !errors.As(err, &se) || se.Code != 530 {
		t.Fatalf("MAIL after failed AUTH = %v, want 530", err)
	}
	// The third failure closes the connection.
	err = cl.Auth(sasl.NewPlainClient("", "alice", "wrong again"))
	if !errors.As(err, &se) || se.Code != 421 {
		t.Fatalf("third AUTH = %v, want 421", err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := cl.Noop(); err == nil {
		t.Error("connection still open after three failures")
	}
	if n := len(r.sink.Messages()); n != 0 {
		t.Errorf("sink got %d messages", n)
	}
}

// TestAuthIdentityMustBeTheUser: PLAIN's authorisation identity cannot name another user.
func TestAuthIdentityMustBeTheUser(t *testing.T) {
	t.Parallel()
	r := startRelay(t, func(s *Server) {
		s.AllowedNetworks = notLoopback
		s.Users = map[string]string{"alice": hash(t, "pw"), "bob": hash(t, "pw2")}
		s.AllowInsecureAuth = true
	})
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("535 5.7.8", "AUTH PLAIN %s", base64.StdEncoding.EncodeToString([]byte("bob\x00alice\x00pw")))
	c.expect("235", "AUTH PLAIN %s", base64.StdEncoding.EncodeToString([]byte("alice\x00alice\x00pw")))
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
}
