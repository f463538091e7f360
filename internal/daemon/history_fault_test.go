package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestHistoryGenerationUnreadableKeepsTheEngine: when the shared history's generation
// cannot be read, the check logs it (rcptguard_store_errors_total{store="history"} counts
// it too); the engine in use stays and keeps deciding.
func TestHistoryGenerationUnreadableKeepsTheEngine(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rcptguard.yaml")
	conf := "protect: [army.mil, .mil]\ndata_dir: data\nlisten:\n  policy: off\n  milter: off\n  http: 127.0.0.1:0\n  web: off\n  intake: off\n" +
		"quarantine:\n  postgres: \"" + dsn + "\"\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &testenv.SyncBuffer{}
	d := &Daemon{ConfigPath: cfg, HistoryCheckEvery: 25 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	before := d.Guard.Load()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `DROP TABLE history_generation`); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "the failed check is logged", func() (bool, string) {
		return strings.Contains(logs.String(), "history: generation check failed"), tail(logs.String(), 500)
	})
	if d.Guard.Load() != before {
		t.Error("the engine was swapped although the history could not be read")
	}
	if v := d.Guard.Load().Check("army.ml").Verdict; v == guard.Allow {
		t.Errorf("army.ml: %s; the engine in use must keep deciding", v)
	}
}
