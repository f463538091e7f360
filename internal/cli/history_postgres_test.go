package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/history"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestHistoryImportIntoPostgres: with quarantine.postgres set, history import and show
// use the shared database (what every node reads), not a file in data_dir.
func TestHistoryImportIntoPostgres(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rcptguard.yaml")
	conf := "protect: [army.mil]\ndata_dir: data\nquarantine:\n  postgres: \"" + dsn + "\"\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	for i, to := range []string{"bob@fabrikam.com", "carol@fabrikam.com", "dave@army.ml"} {
		id := strings.Repeat(string(rune('A'+i)), 8)
		log.WriteString("Nov 27 10:45:50 mx1 postfix/qmgr[1187]: " + id + ": from=<alice@contoso.com>, size=1823, nrcpt=1 (queue active)\n")
		log.WriteString("Nov 27 10:45:51 mx1 postfix/smtp[2210]: " + id + ": to=<" + to + ">, relay=mx.example.net[192.0.2.1]:25, delay=1, delays=0.1/0/0.4/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n")
	}
	logPath := filepath.Join(dir, "mail.log")
	if err := os.WriteFile(logPath, []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "history", "import", "--config", cfg, logPath)
	if r.code != ExitOK || !strings.Contains(r.stdout, "3 deliveries, 2 learned, 1 not learned") {
		t.Fatalf("import: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "history.db")); !os.IsNotExist(err) {
		t.Errorf("history.db was created in data_dir (%v); the history is in PostgreSQL", err)
	}
	// What another node would read: the database itself.
	s, err := history.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st, ok, err := s.Domain(context.Background(), "fabrikam.com"); err != nil || !ok || st.Count != 2 {
		t.Fatalf("fabrikam.com in PostgreSQL: %+v, %v, %v; want 2 messages", st, ok, err)
	}
	r = run(t, nil, "history", "show", "--config", cfg, "fabrikam.com", "army.ml")
	if r.code != ExitFlagged || !strings.Contains(r.stdout, "fabrikam.com  2 messages") || !strings.Contains(r.stdout, "army.ml  never recorded") {
		t.Fatalf("show: %+v", r)
	}
}
