package history

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// postgresOpener opens PostgreSQL stores: one database per test and name.
func postgresOpener() opener {
	var mu sync.Mutex
	dsns := map[*testing.T]map[string]string{}
	return func(t *testing.T, name string) Store {
		t.Helper()
		mu.Lock()
		if dsns[t] == nil {
			dsns[t] = map[string]string{}
		}
		dsn, ok := dsns[t][name]
		mu.Unlock()
		if !ok {
			dsn = testenv.StartPostgres(t)
			mu.Lock()
			dsns[t][name] = dsn
			mu.Unlock()
		}
		s, err := OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestPostgresStore(t *testing.T) {
	testenv.RequirePostgres(t)
	testStore(t, postgresOpener())
}

func TestPostgresNewerSchemaIsRefused(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	s, err := OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(context.Background(), `UPDATE history_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = OpenPostgres(context.Background(), dsn)
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("OpenPostgres = %v, want ErrNewerSchema naming version 99", err)
	}
}

func TestPostgresConnectionStringErrorHidesThePassword(t *testing.T) {
	_, err := OpenPostgres(context.Background(), "postgres://u:s3cret@[::1/x")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("OpenPostgres(bad DSN) = %v; want an error without the password", err)
	}
}

// Nodes start at once: the migrations run once, under the advisory lock.
func TestPostgresConcurrentOpen(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := OpenPostgres(context.Background(), dsn)
			if err != nil {
				errs <- err
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows, v int
	if err := conn.QueryRow(context.Background(), `SELECT count(*), max(version) FROM history_version`).Scan(&rows, &v); err != nil ||
		rows != 1 || v != len(postgresMigrations) {
		t.Errorf("history_version: %d rows, version %d, %v", rows, v, err)
	}
}
