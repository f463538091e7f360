package sqlitedb

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

var testMigrations = []string{
	`CREATE TABLE a (x INTEGER NOT NULL) STRICT`,
	`CREATE TABLE b (y TEXT NOT NULL) STRICT`,
}

func TestOpenAppliesMigrationsOnceAndSetsWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db, abs, err := Open(path, testMigrations)
	if err != nil {
		t.Fatal(err)
	}
	if abs != path {
		t.Errorf("abs %q", abs)
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q %v", mode, err)
	}
	var sync int
	if err := db.QueryRow(`PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous %d %v (want 2, FULL)", sync, err)
	}
	db.Close()
	db, _, err = Open(path, testMigrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	from, to, err := Migrate(context.Background(), db, testMigrations)
	if err != nil || from != 2 || to != 2 {
		t.Fatalf("second migration: %d -> %d, %v", from, to, err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	db, _, err := Open(path, testMigrations)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, _, err = Open(path, testMigrations[:1])
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "version 2") {
		t.Fatalf("error %v", err)
	}
}

func TestAFailedMigrationChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	_, _, err := Open(path, []string{testMigrations[0], `CREATE TABLE oops (`})
	if err == nil || !strings.Contains(err.Error(), "schema migration 2") {
		t.Fatalf("error %v", err)
	}
	db, _, err := Open(path, testMigrations[:1])
	if err != nil {
		t.Fatalf("the failed migration left something behind: %v", err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'a'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("table a: %d %v", n, err)
	}
}

func TestOpenErrorsNameTheProblem(t *testing.T) {
	if _, _, err := Open("", nil); err == nil || !strings.Contains(err.Error(), "empty path") {
		t.Errorf("empty path: %v", err)
	}
	notDir := filepath.Join(t.TempDir(), "file")
	if db, _, err := Open(notDir, nil); err != nil {
		t.Fatal(err)
	} else {
		db.Close()
	}
	_, _, err := Open(filepath.Join(notDir, "x.db"), nil)
	if err == nil || !strings.Contains(err.Error(), "is not a folder") {
		t.Errorf("a file as folder: %v", err)
	}
}
