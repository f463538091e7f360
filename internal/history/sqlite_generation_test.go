package history

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/rcptguard/rcptguard/internal/sqlitedb"
)

// A history written before the generation existed (schema 2) opens with its data, at
// generation 0, and the next Record moves it.
func TestSQLiteGenerationOnAnOlderHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	db, _, err := sqlitedb.Open(path, migrations[:2])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO recipient_domains (domain, count, first_seen, last_seen) VALUES ('army.mil', 7, 1, 2)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := openSQLite(t, path)
	if got := stat(t, s, "army.mil"); got.Count != 7 {
		t.Errorf("after the migration: %+v", got)
	}
	g, err := s.Generation(context.Background())
	if err != nil || g != 0 {
		t.Errorf("generation %d, %v; want 0", g, err)
	}
	record(t, s, Observation{Domain: "army.mil", At: t0})
	if g, err := s.Generation(context.Background()); err != nil || g != 1 {
		t.Errorf("after a Record: generation %d, %v; want 1", g, err)
	}
}
