package daemon

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// smtpLine connects to addr from local and returns the connection and its first line.
func smtpLine(t *testing.T, addr, local string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	line, _ := r.ReadString('\n')
	return c, r, line
}

func spoolNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestRelayConnectionLimitsAndSpool: limits.max_connections_per_client refuses the next
// connection from one address with 421 while another address is served, the refusal is
// counted; a BDAT message past limits.spool_above_bytes is in data_dir/spool (stale files
// there are removed at start) until the client goes.
func TestRelayConnectionLimitsAndSpool(t *testing.T) {
	sink := testenv.StartSink(t)
	dir := t.TempDir()
	spoolDir := filepath.Join(dir, "data", "spool")
	if err := os.MkdirAll(spoolDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(spoolDir, "msg-stale"), []byte("left by a crash"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "protect: [army.mil]\ndata_dir: data\nlisten:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: off\n  intake: off\n" +
		"  relay: 127.0.0.1:0\nrelay:\n  upstream: " + sink.Addr() + "\n  hostname: relay.test\n" +
		"limits:\n  max_connections: 10\n  max_connections_per_client: 3\n  spool_above_bytes: 65536\n"
	path := filepath.Join(dir, "rcptguard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &Daemon{ConfigPath: path}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	if names := spoolNames(t, spoolDir); len(names) != 0 {
		t.Errorf("stale spool files kept: %v", names)
	}
	if fi, err := os.Stat(spoolDir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("spool folder: %v %v", fi.Mode(), err)
	}

	addr := d.Addr("relay")
	for i := range 3 {
		if _, _, line := smtpLine(t, addr, "127.0.0.1"); !strings.HasPrefix(line, "220 ") {
			t.Fatalf("connection %d: %q", i, line)
		}
	}
	if _, _, line := smtpLine(t, addr, "127.0.0.1"); line != "421 4.7.0 Too many connections from your address, try again later\r\n" {
		t.Fatalf("fourth connection from 127.0.0.1: %q", line)
	}
	c, r, line := smtpLine(t, addr, "127.0.0.2")
	if !strings.HasPrefix(line, "220 ") {
		t.Fatalf("connection from 127.0.0.2: %q", line)
	}
	metrics := getBody(t, "http://"+d.Addr("http")+"/metrics")
	if !strings.Contains(metrics, `rcptguard_listener_refused_total{listener="relay",reason="max_connections_per_client"} 1`) {
		t.Error("the refusal was not counted")
	}

	// 300 kB of BDAT without LAST: past 64 KiB it is in a spool file.
	cmd := func(format string, args ...any) string {
		t.Helper()
		fmt.Fprintf(c, format+"\r\n", args...)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			if len(l) < 4 || l[3] != '-' {
				return l
			}
		}
	}
	for _, s := range []string{"EHLO client.test", "MAIL FROM:<a@contoso.com>", "RCPT TO:<b@army.mil>"} {
		if got := cmd(s); !strings.HasPrefix(got, "250") {
			t.Fatalf("%s: %q", s, got)
		}
	}
	data := strings.Repeat(strings.Repeat("x", 98)+"\r\n", 3000) // go-smtp's line limit applies to BDAT too
	if got := cmd("BDAT %d\r\n%s", len(data), data[:len(data)-2]); !strings.HasPrefix(got, "250") {
		t.Fatalf("BDAT: %q", got)
	}
	testenv.WaitFor(t, "a spool file", func() bool { return len(spoolNames(t, spoolDir)) == 1 })
	c.Close()
	testenv.WaitFor(t, "the spool file removed", func() bool { return len(spoolNames(t, spoolDir)) == 0 })
}
