package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/history"
)

// TestHistoryImportLearnsDeliveriesButNotLookalikes: a Postfix log (gzip too) seeds the
// history; mail that went to a lookalike of a protected domain is not learned, however
// often it went.
func TestHistoryImportLearnsDeliveriesButNotLookalikes(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rcptguard.yaml")
	if err := os.WriteFile(cfg, []byte("protect: [army.mil, .mil]\ndata_dir: data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	line := func(id, to string) {
		log.WriteString("Nov 27 10:45:50 mx1 postfix/qmgr[1187]: " + id + ": from=<alice@contoso.com>, size=1823, nrcpt=1 (queue active)\n")
		log.WriteString("Nov 27 10:45:51 mx1 postfix/smtp[2210]: " + id + ": to=<" + to + ">, relay=mx.example.net[192.0.2.1]:25, delay=1, delays=0.1/0/0.4/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n")
	}
	for i, to := range []string{"bob@fabrikam.com", "carol@fabrikam.com", "dave@army.ml", "eve@army.ml", "frank@army.ml"} {
		line(strings.ToUpper(string(rune('A'+i)))+"1234567", to)
	}
	// In the same log, a lookalike of a domain mailed far more often: the first pass
	// tallies the log, so even a first import does not learn it.
	for i := 0; i < 60; i++ {
		line(fmt.Sprintf("F%06X", i), "x@wingtiptoys.com")
	}
	line("E0000001", "y@wingtiptoy.com")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(log.String()))
	zw.Close()
	logPath := filepath.Join(dir, "maillog.1.gz")
	if err := os.WriteFile(logPath, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "history", "import", "--config", cfg, logPath)
	if r.code != ExitOK || !strings.Contains(r.stdout, "66 deliveries, 62 learned, 4 not learned") {
		t.Fatalf("import: %+v", r)
	}
	r = run(t, nil, "history", "show", "--config", cfg, "fabrikam.com", "army.ml", "wingtiptoy.com")
	if r.code != ExitFlagged || !strings.Contains(r.stdout, "fabrikam.com  2 messages, from 1 sender domains") ||
		!strings.Contains(r.stdout, "army.ml  never recorded") || !strings.Contains(r.stdout, "wingtiptoy.com  never recorded") {
		t.Fatalf("show: %+v", r)
	}
	if r := run(t, nil, "history", "import", "--config", cfg, filepath.Join(dir, "missing.log")); r.code != ExitUsage || !strings.Contains(r.stderr, "missing.log") {
		t.Fatalf("missing log: %+v", r)
	}
	// An import does not seed the senders' own histories.
	r = run(t, nil, "history", "show", "--config", cfg, "--sender", "alice@contoso.com", "fabrikam.com")
	if r.code != ExitFlagged || r.stdout != "fabrikam.com  never recorded from alice@contoso.com\n" {
		t.Fatalf("show --sender: %+v", r)
	}
	for _, args := range [][]string{{"show", "--sender", "<>", "fabrikam.com"}, {"import", "--sender", "alice@contoso.com", logPath}} {
		if r := run(t, nil, append([]string{"history"}, args...)...); r.code != ExitUsage || !strings.Contains(r.stderr, "--sender") {
			t.Errorf("history %v: %+v", args, r)
		}
	}
}

func TestHistoryShowSender(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rcptguard.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	s, err := history.OpenSQLite(filepath.Join(dir, "data", "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 3, 9, 30, 0, 0, time.UTC)
	if err := s.Record(context.Background(), []history.Observation{
		{Domain: "fabrikam.co", Sender: "alice@contoso.com", SenderOnly: true, At: at, Count: 39},
		{Domain: "fabrikam.co", Sender: "alice@contoso.com", SenderOnly: true, At: at.AddDate(0, 0, 9)},
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	r := run(t, nil, "history", "show", "--config", cfg, "--sender", "<alice@CONTOSO.com>", "fabrikam.co", "fabrikam.com")
	want := "fabrikam.co  40 messages from alice@contoso.com, first 2026-03-03 09:30, last 2026-03-12 09:30\n" +
		"fabrikam.com  never recorded from <alice@CONTOSO.com>\n"
	if r.code != ExitFlagged || r.stdout != want {
		t.Errorf("got %+v\nwant stdout %q", r, want)
	}
}
