package smtpout

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestSTARTTLSWithPostfix: a real Postfix smtpd with STARTTLS and a self-signed
// certificate takes the message over TLS when it is required and the certificate is
// trusted; with the system's authorities it gets nothing.
func TestSTARTTLSWithPostfix(t *testing.T) {
	testenv.RequirePostfix(t)
	cert := testenv.SelfSigned(t)
	sink := testenv.StartSink(t)
	pf := testenv.StartPostfix(t, testenv.Options{RelayHost: sink.Addr(), ExtraMain: []string{
		"smtpd_tls_security_level = may",
		"smtpd_tls_cert_file = " + cert.File,
		"smtpd_tls_key_file = " + cert.Key,
		"smtpd_tls_loglevel = 1",
	}, ExtraMaster: []string{"tlsmgr unix - - n 1000? 1 tlsmgr"}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m := Message{From: "a@example.org", To: []string{"b@example.net"}, Data: []byte(msg)}
	if _, err := Send(ctx, Destination{Address: pf.SMTPAddr(), TLS: TLSRequired, Hostname: "rg.test"}, m); Classify(err) != Temporary {
		t.Fatalf("untrusted certificate: %v, want a temporary failure", err)
	}
	res, err := Send(ctx, Destination{Address: pf.SMTPAddr(), TLS: TLSRequired, RootCAs: cert.Pool, Hostname: "rg.test"}, m)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OverTLS || !strings.HasPrefix(res.Reply, "250 ") {
		t.Errorf("result %+v", res)
	}
	if _, err := sink.WaitFor(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := pf.WaitLog(ctx, "TLS connection established from"); err != nil {
		t.Errorf("Postfix logged no TLS connection: %v\n%s", err, pf.Log())
	}
	if n := len(sink.Messages()); n != 1 {
		t.Errorf("%d messages went on, want 1", n)
	}
}
