package daemon

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestFailedStartClosesWhatItOpened: when a listener cannot be opened, Start fails and
// closes what it had opened already: the listeners before it, the quarantine and the
// history; the same data folder starts again at once.
func TestFailedStartClosesWhatItOpened(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := free.Addr().String()
	free.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "rcptguard.yaml")
	cfg := "data_dir: data\nlisten:\n  http: " + httpAddr + "\n  policy: " + busy.Addr().String() + "\n  milter: off\n  web: off\n  intake: off\n"
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &Daemon{ConfigPath: path}
	if err := d.Start(); err == nil {
		t.Fatal("Start succeeded with the policy port taken")
	}
	if d.history != nil || d.held != nil || d.quarantine != nil || len(d.listeners) != 0 {
		t.Errorf("left open: history %v, held %v, quarantine %v, %d listeners", d.history != nil, d.held != nil, d.quarantine != nil, len(d.listeners))
	}
	if c, err := net.DialTimeout("tcp", httpAddr, time.Second); err == nil {
		c.Close()
		t.Error("the HTTP listener opened before the failure still accepts connections")
	}
	busy.Close()
	d2 := &Daemon{ConfigPath: path}
	if err := d2.Start(); err != nil {
		t.Fatalf("the same configuration again: %v", err)
	}
	d2.Shutdown(t.Context())
}
