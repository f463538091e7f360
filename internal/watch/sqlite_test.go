package watch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func sqliteOpener() opener {
	var mu sync.Mutex
	dirs := map[*testing.T]string{}
	return opener{
		open: func(t *testing.T, name string) *Store {
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
		},
		failChanges: func(t *testing.T, s *Store, domain string) func() {
			t.Helper()
			db := s.b.(*sqliteStore).db
			if _, err := db.Exec(`CREATE TRIGGER test_fail BEFORE INSERT ON watch_changes
				WHEN NEW.domain = '` + domain + `' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`); err != nil {
				t.Fatal(err)
			}
			return func() {
				if _, err := db.Exec(`DROP TRIGGER test_fail`); err != nil {
					t.Fatal(err)
				}
			}
		},
	}
}

func TestSQLiteStore(t *testing.T) {
	testStore(t, sqliteOpener())
}

func TestOpenInMakesThePrivateDataFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := OpenIn(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range []string{dir, filepath.Join(dir, FileName)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: others may read it", p, fi.Mode().Perm())
		}
	}
	if _, err := OpenIn(context.Background(), "", ""); err == nil {
		t.Error("OpenIn without a folder succeeded")
	}
}

func TestSQLiteNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.b.(*sqliteStore).db.Exec(`UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := OpenSQLite(path); !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), path) {
		t.Fatalf("OpenSQLite = %v, want ErrNewerSchema naming the file", err)
	}
}
