package daemon

import (
	"crypto/tls"
	"errors"
	"net/smtp"
	"net/textproto"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// smtpAuth tries AUTH PLAIN after STARTTLS on the relay at addr and returns the reply
// code (235 for success).
func smtpAuth(t *testing.T, addr string, cert testenv.Cert, user, password string) int {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(&tls.Config{RootCAs: cert.Pool, ServerName: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	err = c.Auth(smtp.PlainAuth("", user, password, "127.0.0.1"))
	if err == nil {
		return 235
	}
	var te *textproto.Error
	if !errors.As(err, &te) {
		t.Fatalf("AUTH: %v", err)
	}
	return te.Code
}

// TestTwoNodesShareAuthLimits: the relay's failed AUTH attempts spread over nodes A and B
// add up; at the limit both answer 454 even to the right password.
func TestTwoNodesShareAuthLimits(t *testing.T) {
	cert := testenv.SelfSigned(t)
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	n := startSharedNodes(t, "  users:\n    alice: \""+string(hash)+"\"\n  tls_cert: "+cert.File+"\n  tls_key: "+cert.Key+
		"\n  auth_max_failures: 3\n")
	for i := range 3 {
		d := []*Daemon{n.a, n.b}[i%2]
		if code := smtpAuth(t, d.Addr("relay"), cert, "alice", "wrong"); code != 535 {
			t.Fatalf("failure %d on %s: %d, want 535", i+1, d.Addr("relay"), code)
		}
	}
	for _, d := range []*Daemon{n.a, n.b} {
		if code := smtpAuth(t, d.Addr("relay"), cert, "alice", "correct horse"); code != 454 {
			t.Errorf("the right password on %s after 3 failures spread over both nodes: %d, want 454", d.Addr("relay"), code)
		}
	}
}
