package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/held"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestServeSendsOverTLSWithAuth: relay.upstream needs STARTTLS and AUTH, its password in
// a file beside the config; the relay, the notices and the re-injection of released mail
// (which follow relay.upstream) all reach it encrypted and authenticated. Without the
// password file serve does not start.
func TestServeSendsOverTLSWithAuth(t *testing.T) {
	cert := testenv.SelfSigned(t, "smtp.example.net")
	up := testenv.StartSecureSink(t, testenv.SecureSink{TLS: cert.Server, Users: map[string]string{"rcptguard": "s3cret"}})
	dir := t.TempDir()
	cfg := "protect: [army.mil, .mil]\nown_domains: [contoso.com]\ndata_dir: data\n" +
		"listen:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: 127.0.0.1:0\n  intake: off\n  relay: 127.0.0.1:0\n" +
		"relay:\n  hostname: relay.test\n  upstream:\n    address: " + up.Addr() + "\n    tls: required\n" +
		"    tls_server_name: smtp.example.net\n    ca_file: " + cert.File + "\n" +
		"    auth:\n      username: rcptguard\n      password_file: upstream.pass\n"
	path := filepath.Join(dir, "rcptguard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &Daemon{ConfigPath: path}
	if err := d.Start(); err == nil || !strings.Contains(err.Error(), "relay.upstream: auth.password_file") {
		d.Shutdown(context.Background())
		t.Fatalf("start without the password file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("a failed start left the data folder: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "upstream.pass"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d = &Daemon{ConfigPath: path}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })

	msg := []byte("From: a@contoso.com\r\nTo: b@army.mil\r\nSubject: x\r\n\r\nhi\r\n")
	res, err := testenv.SMTPSend(d.Addr("relay"), "a@contoso.com", []string{"b@army.mil"}, msg)
	if err != nil || !res.Delivered() {
		t.Fatalf("relayed: %+v %v", res, err)
	}
	res, err = testenv.SMTPSend(d.Addr("relay"), "a@contoso.com", []string{"c@army.ml"}, msg)
	if err != nil || !res.Delivered() || !strings.Contains(res.Data.Text, "held as") {
		t.Fatalf("held: %+v %v", res, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := d.quarantine.List(ctx, quarantine.Filter{State: quarantine.Held})
	if err != nil || len(l) != 1 {
		t.Fatalf("quarantine: %+v %v", l, err)
	}
	// The notice about the held message goes to the sender (an own domain).
	if _, err := up.WaitFor(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := d.held.Decide(ctx, l[0].ID, held.Release, "admin:root", ""); err != nil {
		t.Fatal(err)
	}
	got, err := up.WaitFor(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, m := range got {
		if !m.TLS || m.User != "rcptguard" {
			t.Errorf("message to %v: TLS %v user %q, want over TLS as rcptguard", m.Rcpts, m.TLS, m.User)
		}
		switch {
		case m.Rcpts[0] == "b@army.mil":
			kinds["relayed"] = true
		case m.Rcpts[0] == "c@army.ml" && strings.Contains(string(m.Data), "X-Rcptguard-Released"):
			kinds["released"] = true
		case m.Rcpts[0] == "a@contoso.com" && m.From == "":
			kinds["notice"] = true
		}
	}
	if len(kinds) != 3 {
		t.Errorf("got %v, want a relayed message, a notice and a released message", kinds)
	}
}
