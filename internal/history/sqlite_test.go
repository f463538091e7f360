package history

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rcptguard/rcptguard/internal/sqlitedb"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// sqliteOpener opens SQLite stores in one temporary folder per test.
func sqliteOpener() opener {
	var mu sync.Mutex
	dirs := map[*testing.T]string{}
	return func(t *testing.T, name string) Store {
		t.Helper()
		mu.Lock()
		dir, ok := dirs[t]
		if !ok {
			dir = t.TempDir()
			dirs[t] = dir
		}
		mu.Unlock()
		s, err := OpenSQLite(filepath.Join(dir, name+".db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestSQLiteStore(t *testing.T) {
	testStore(t, sqliteOpener())
}

func TestSQLiteSettings(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "h.db"))
	// Every connection of the pool has them, so ask several at once.
	ctx := context.Background()
	var wg sync.WaitGroup
	for range sqlitedb.MaxConns {
		wg.Go(func() {
			conn, err := s.db.Conn(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			for pragma, want := range map[string]string{
				"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "10000",
			} {
				var got string
				if err := conn.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil || got != want {
					t.Errorf("PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
				}
			}
		})
	}
	wg.Wait()
}

func TestSQLitePathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a?b#c%20 d.db")
	s := openSQLite(t, path)
	record(t, s, Observation{Domain: "army.mil", At: t0})
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at the path given: %v", err)
	}
}

func TestMigrationsApplyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := openSQLite(t, path)
	record(t, s, Observation{Domain: "army.mil", At: t0})
	s.Close()
	for range 3 {
		s = openSQLite(t, path)
		from, to, err := migrate(context.Background(), s.db, migrations)
		if err != nil || from != len(migrations) || to != len(migrations) {
			t.Errorf("migrate on an up-to-date database: %d -> %d, %v", from, to, err)
		}
		if got := stat(t, s, "army.mil"); got.Count != 1 {
			t.Errorf("after reopening: %+v", got)
		}
		var rows, version int
		if err := s.db.QueryRow(`SELECT count(*), max(version) FROM schema_version`).Scan(&rows, &version); err != nil ||
			rows != 1 || version != len(migrations) {
			t.Errorf("schema_version: %d rows, version %d, %v", rows, version, err)
		}
		s.Close()
	}
}

func TestFailedMigrationLeavesNothing(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "h.db"))
	list := append(migrations[:len(migrations):len(migrations)],
		`CREATE TABLE extra (x INTEGER)`,
		`THIS IS NOT SQL`,
	)
	from, to, err := migrate(context.Background(), s.db, list)
	bad, v := fmt.Sprintf("migration %d", len(migrations)+2), len(migrations)
	if err == nil || !strings.Contains(err.Error(), bad) || from != v || to != v {
		t.Fatalf("migrate = %d -> %d, %v; want an error naming %s", from, to, err, bad)
	}
	var n int
	s.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'extra'`).Scan(&n)
	var version int
	s.db.QueryRow(`SELECT version FROM schema_version`).Scan(&version)
	if n != 0 || version != v {
		t.Errorf("after a failed migration: table extra exists: %v, version %d; want neither changed", n == 1, version)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := openSQLite(t, path)
	record(t, s, Observation{Domain: "army.mil", At: t0})
	if _, err := s.db.Exec(`UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := OpenSQLite(path)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("OpenSQLite = %v, want ErrNewerSchema", err)
	}
	for _, want := range []string{path, "version 99", fmt.Sprintf("up to %d", len(migrations)), "upgrade rcptguard"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not sqlite\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSQLite(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("OpenSQLite(a text file) = %v; want an error naming the file", err)
	}
}

// TestReadOnlyFolder: SQLite in WAL mode must create files beside the database, so a
// database in a folder the daemon cannot write fails at open with a message that says
// so, whether the file exists or not.
func TestReadOnlyFolder(t *testing.T) {
	if !testenv.Unprivileged(t) {
		return
	}
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	s, err := OpenSQLite(existing)
	if err != nil {
		t.Fatal(err)
	}
	record(t, s, Observation{Domain: "army.mil", At: t0})
	s.Close()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	for _, path := range []string{existing, filepath.Join(dir, "new.db")} {
		_, err := OpenSQLite(path)
		if err == nil {
			t.Errorf("OpenSQLite(%s) in a read-only folder succeeded", path)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "folder "+dir+" is not writable") {
			t.Errorf("OpenSQLite(%s) = %q; want the path and that the folder is not writable", path, msg)
		}
	}
}

func openSQLite(t *testing.T, path string) *SQLite {
	t.Helper()
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Two handles on one file stand for two processes (the daemon and an import): their
// writes wait for each other (busy timeout, BEGIN IMMEDIATE) instead of failing.
func TestTwoHandlesOnOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	a, b := openSQLite(t, path), openSQLite(t, path)
	var wg sync.WaitGroup
	for _, s := range []*SQLite{a, b} {
		wg.Go(func() {
			for range 20 {
				if err := s.Record(context.Background(), []Observation{{Domain: "army.mil", At: t0}}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := stat(t, b, "army.mil"); got.Count != 40 {
		t.Errorf("count %d, want 40", got.Count)
	}
}

// TestUnwritableSharedMemoryIsAnErrorNotACrash: with history.db-shm unwritable, the
// driver's next access ended the process (SIGBUS); Record and Known now fail first.
func TestUnwritableSharedMemoryIsAnErrorNotACrash(t *testing.T) {
	if os.Geteuid() != 0 && os.Getenv("CI") == "" {
		t.Skip("chattr +i needs root") // CI runs as root: there the test runs or fails
	}
	path := filepath.Join(t.TempDir(), "h.db")
	s := openSQLite(t, path) // closed after chattr -i below: closing checkpoints
	record(t, s, Observation{Domain: "army.mil", At: t0})
	if out, err := exec.Command("chattr", "+i", path+"-shm").CombinedOutput(); err != nil {
		t.Fatalf("chattr: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", path+"-shm").Run() })
	ctx := context.Background()
	if err := s.Record(ctx, []Observation{{Domain: "navy.mil", At: t0}}); !errors.Is(err, sqlitedb.ErrUnusable) {
		t.Errorf("Record = %v, want ErrUnusable", err)
	}
	if _, err := s.Known(ctx); !errors.Is(err, sqlitedb.ErrUnusable) {
		t.Errorf("Known = %v, want ErrUnusable", err)
	}
	if err := s.Health(ctx); !errors.Is(err, sqlitedb.ErrUnusable) {
		t.Errorf("Health = %v, want ErrUnusable", err)
	}
}
