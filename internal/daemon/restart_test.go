package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/config"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

func TestRestartOnlyNamesTheKeys(t *testing.T) {
	a := config.Default()
	b := a
	b.Notice.BaseURL = "https://x.example"
	b.Limits.MaxConnectionsPerClient = 7
	b.Listen.Policy = "127.0.0.1:1"
	b.Relay.TLSCert = "x.pem"
	b.Learning.ProposeAfter = 9
	b.Policy.Known = b.Policy.Namespace            // applied by a reload: not named
	b.Learning.SenderMin = 9                       // applied by a reload: not named
	b.Admin.Users = map[string]string{"root": "x"} // read anew: not named
	got := restartOnly(a, b)
	want := []string{"listen.policy", "relay.tls_cert", "notice.base_url", "limits.max_connections_per_client", "learning.propose_after"}
	if !slices.Equal(got, want) {
		t.Errorf("restartOnly = %v, want %v", got, want)
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
		cfg := "protect: [" + protect + "]\nlisten:\n  policy: 127.0.0.1:0\n  milter: off\n  http: " + http + "\n  web: off\n  intake: off\n"
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
