package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

func TestRestartOnlyNamesTheKeys(t *testing.T) {
	a := config.Default()
	b := a
	b.Notice.BaseURL = "https://x.example"   // applied by a reload: not named
	b.Notice.KeyFile = "/etc/rcptguard/key"  // read at start
	b.Quarantine.ExpireAfter = 3 * time.Hour // applied by a reload: not named
	b.Quarantine.MaxMessageBytes = 1 << 20   // read at start
	b.Limits.MaxConnectionsPerClient = 7
	b.Listen.Policy = "127.0.0.1:1"
	b.Relay.TLSCert = "x.pem"
	b.Relay.Upstream.Address = "127.0.0.1:2525" // no relay ran: waits for a restart
	b.Learning.ProposeAfter = 9
	b.Content.Enabled = true                       // the doors' classifier is made at start
	b.Policy.Known = b.Policy.Namespace            // applied by a reload: not named
	b.Learning.SenderMin = 9                       // applied by a reload: not named
	b.Admin.Users = map[string]string{"root": "x"} // read anew: not named
	got := restartOnly(a, b)
	want := []string{"listen.policy", "relay.upstream", "relay.tls_cert", "quarantine.max_message_bytes", "notice.key_file",
		"limits.max_connections_per_client", "content.enabled", "learning.propose_after"}
	if !slices.Equal(got, want) {
		t.Errorf("restartOnly = %v, want %v", got, want)
	}
	// A relay that runs takes a new upstream at once.
	running := a
	running.Relay.Upstream.Address = "127.0.0.1:25"
	moved := running
	moved.Relay.Upstream.Address = "127.0.0.1:2525"
	if got := restartOnly(running, moved); len(got) != 0 {
		t.Errorf("a running relay's new upstream: %v, want applied by the reload", got)
	}
	if got := restartOnly(a, a); len(got) != 0 {
		t.Errorf("no change: %v", got)
	}
}

// TestReloadSaysWhatWaitsForARestart: a SIGHUP-style reload applies the protected list at
// once and logs that a changed listener address waits for a restart.
func TestReloadSaysWhatWaitsForARestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rcptguard.yaml")
	write := func(protect, http string) {
		cfg := "protect: [" + protect + "]\ndata_dir: data\nlisten:\n  policy: 127.0.0.1:0\n  milter: off\n  http: " + http + "\n  web: off\n  intake: off\n"
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("army.mil", "off")
	logs := &testenv.SyncBuffer{}
	d := &Daemon{ConfigPath: path, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "only after a restart") {
		t.Fatalf("nothing changed, yet:\n%s", logs)
	}
	write("navy.mil", "127.0.0.1:0")
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `settings=listen.http`) {
		t.Errorf("the changed listener is not named:\n%s", logs)
	}
	if d.Guard.Load().Check("navy.ml").Verdict.String() != "hold" {
		t.Error("the reload did not apply the new protected list")
	}
}

// TestReloadAppliesTheHeldSettings: a reload puts the notices' and the quarantine's
// settings in force at once: the next held message gets the new expiry and its notice the
// new organisation name, and the log does not say they wait for a restart.
func TestReloadAppliesTheHeldSettings(t *testing.T) {
	sink := testenv.StartSink(t)
	path := filepath.Join(t.TempDir(), "rcptguard.yaml")
	write := func(org, expire string) {
		cfg := "protect: [army.mil]\nown_domains: [contoso.com]\ndata_dir: " + filepath.Join(filepath.Dir(path), "data") + "\n" +
			"listen:\n  policy: off\n  milter: off\n  http: off\n  web: 127.0.0.1:0\n  intake: off\n  relay: 127.0.0.1:0\n" +
			"relay:\n  upstream: " + sink.Addr() + "\nnotice:\n  from: rcptguard@contoso.com\n  org: " + org + "\n" +
			"quarantine:\n  expire_after: " + expire + "\n"
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Before Org", "14d")
	logs := &testenv.SyncBuffer{}
	d := &Daemon{ConfigPath: path, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// hold sends a message to hold and returns it as held, with its notice.
	hold := func(subject string) (quarantine.Message, testenv.Message) {
		t.Helper()
		before := len(sink.Messages())
		msg := []byte("From: a@contoso.com\r\nTo: bob@army.ml\r\nSubject: " + subject + "\r\n\r\nhello\r\n")
		if res, err := testenv.SMTPSend(d.Addr("relay"), "a@contoso.com", []string{"bob@army.ml"}, msg); err != nil || !res.Delivered() {
			t.Fatalf("send %s: %+v %v", subject, res, err)
		}
		got, err := sink.WaitFor(ctx, before+1)
		if err != nil {
			t.Fatalf("no notice for %s: %v", subject, err)
		}
		list, err := d.quarantine.List(ctx, quarantine.Filter{Search: subject})
		if err != nil || len(list) != 1 {
			t.Fatalf("held %s: %d, %v", subject, len(list), err)
		}
		return list[0], got[len(got)-1]
	}
	m1, n1 := hold("first")
	if !strings.Contains(string(n1.Data), "Before Org") || m1.ExpiresAt.Sub(m1.Received).Round(time.Minute) != 14*24*time.Hour {
		t.Fatalf("before the reload: expires after %s; notice:\n%s", m1.ExpiresAt.Sub(m1.Received), n1.Data)
	}
	write("After Org", "2h")
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	m2, n2 := hold("second")
	if !strings.Contains(string(n2.Data), "After Org") || m2.ExpiresAt.Sub(m2.Received).Round(time.Minute) != 2*time.Hour {
		t.Fatalf("after the reload: expires after %s; notice:\n%s", m2.ExpiresAt.Sub(m2.Received), n2.Data)
	}
	if strings.Contains(logs.String(), "only after a restart") {
		t.Errorf("the reload said these wait for a restart:\n%s", logs)
	}
}

// TestReloadMovesTheRelayUpstream: a reload that changes relay.upstream sends the next
// session's mail to the new upstream, without a restart.
func TestReloadMovesTheRelayUpstream(t *testing.T) {
	first, second := testenv.StartSink(t), testenv.StartSink(t)
	path := filepath.Join(t.TempDir(), "rcptguard.yaml")
	write := func(upstream string) {
		cfg := "protect: [army.mil]\ndata_dir: " + filepath.Join(filepath.Dir(path), "data") + "\n" +
			"listen:\n  policy: off\n  milter: off\n  http: off\n  web: off\n  intake: off\n  relay: 127.0.0.1:0\n" +
			"relay:\n  upstream: " + upstream + "\n"
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(first.Addr())
	logs := &testenv.SyncBuffer{}
	d := &Daemon{ConfigPath: path, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	send := func(sink *testenv.Sink, subject string) {
		t.Helper()
		msg := []byte("From: a@contoso.com\r\nTo: bob@army.mil\r\nSubject: " + subject + "\r\n\r\nhello\r\n")
		if res, err := testenv.SMTPSend(d.Addr("relay"), "a@contoso.com", []string{"bob@army.mil"}, msg); err != nil || !res.Delivered() {
			t.Fatalf("send %s: %+v %v", subject, res, err)
		}
		if _, err := sink.WaitFor(ctx, 1); err != nil {
			t.Fatalf("%s did not reach its upstream: %v", subject, err)
		}
	}
	send(first, "before")
	write(second.Addr())
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	send(second, "after")
	if n := len(first.Messages()); n != 1 {
		t.Errorf("the first upstream got %d messages, want 1", n)
	}
	if strings.Contains(logs.String(), "only after a restart") {
		t.Errorf("the reload said relay.upstream waits for a restart:\n%s", logs)
	}
}
