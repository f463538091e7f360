package cli

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
}
