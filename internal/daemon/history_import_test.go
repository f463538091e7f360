package daemon

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// TestHistoryImportReachesTheRunningDaemon: `rcptguard history import`, another process
// writing the SQLite history of a running daemon, moves the history's generation; the
// daemon notices it at its next check and rebuilds its guard with the imported domain.
func TestHistoryImportReachesTheRunningDaemon(t *testing.T) {
	bin := buildServeBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rcptguard.yaml")
	conf := "protect: [army.mil, .mil]\ndata_dir: data\nlisten:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: off\n  intake: off\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &Daemon{ConfigPath: cfg, HistoryCheckEvery: 25 * time.Millisecond}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(t.Context()) })
	if v := d.Guard.Load().Check("fabrikarn.com").Verdict; v != guard.Allow {
		t.Fatalf("fabrikarn.com is %s before the import", v)
	}
	var log strings.Builder
	for i, to := range []string{"bob@fabrikam.com", "carol@fabrikam.com", "dave@fabrikam.com"} {
		id := strings.Repeat(string(rune('A'+i)), 8)
		log.WriteString("Nov 27 10:45:50 mx1 postfix/qmgr[1187]: " + id + ": from=<alice@contoso.com>, size=1823, nrcpt=1 (queue active)\n")
		log.WriteString("Nov 27 10:45:51 mx1 postfix/smtp[2210]: " + id + ": to=<" + to + ">, relay=mx.example.net[192.0.2.1]:25, delay=1, delays=0.1/0/0.4/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n")
	}
	logPath := filepath.Join(dir, "mail.log")
	if err := os.WriteFile(logPath, []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "history", "import", "--config", cfg, logPath).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "3 learned") {
		t.Fatalf("history import: %v\n%s", err, out)
	}
	waitUntil(t, 20*time.Second, "the running daemon knows the imported fabrikam.com", verdictOn(d, "fabrikarn.com"))
}
