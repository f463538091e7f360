package relay

import (
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestUpstreamWithTLSAndAuth: the relay hands mail to an upstream that needs STARTTLS
// and AUTH, keeping the session for the next transaction; with a wrong password the
// client gets a temporary 451 (never the upstream's 535, which would bounce its mail) and
// the upstream gets nothing.
func TestUpstreamWithTLSAndAuth(t *testing.T) {
	t.Parallel()
	cert := testenv.SelfSigned(t, "smtp.example.net")
	up := testenv.StartSecureSink(t, testenv.SecureSink{TLS: cert.Server, Users: map[string]string{"relay": "pw"}})
	dest := smtpout.Destination{Address: up.Addr(), TLS: smtpout.TLSRequired, ServerName: "smtp.example.net",
		RootCAs: cert.Pool, Username: "relay", Password: "pw"}
	r := startRelay(t, func(s *Server) { s.Upstream = dest })
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	for _, rcpt := range []string{"carol@example.org", "dave@example.org"} {
		c.expect("250", "MAIL FROM:<alice@contoso.com>")
		c.expect("250", "RCPT TO:<%s>", rcpt)
		c.expect("354", "DATA")
		c.expect("250", "Subject: auth\r\n\r\n.")
	}
	msgs := up.Messages()
	if len(msgs) != 2 || !msgs[0].TLS || msgs[0].User != "relay" || msgs[1].Rcpts[0] != "dave@example.org" || msgs[0].Helo != relayHost {
		t.Fatalf("upstream got %+v, want two messages over TLS from user relay", msgs)
	}

	dest.Password = "wrong"
	r2 := startRelay(t, func(s *Server) { s.Upstream = dest })
	res, err := testenv.SMTPSend(r2.addr, "alice@contoso.com", []string{"carol@example.org"}, message("auth"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Mail.Code != 451 || !strings.HasPrefix(res.Mail.Text, "Upstream: ") {
		t.Errorf("MAIL with a wrong upstream password = %v, want 451 Upstream: ...", res.Mail)
	}
	if n := len(up.Messages()); n != 2 {
		t.Errorf("upstream has %d messages, want still 2", n)
	}
}
