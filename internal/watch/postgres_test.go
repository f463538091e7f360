package watch

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// postgresOpener opens PostgreSQL stores: one database per test and name.
func postgresOpener() opener {
	var mu sync.Mutex
	dsns := map[*testing.T]map[string]string{}
	return opener{
		open: func(t *testing.T, name string) *Store {
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
			s, err := Open(context.Background(), dsn, "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		failChanges: func(t *testing.T, s *Store, domain string) func() {
			t.Helper()
			pool := s.b.(*postgresStore).pool
			ctx := context.Background()
			if _, err := pool.Exec(ctx, `CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
				CREATE TRIGGER test_fail BEFORE INSERT ON watch_changes FOR EACH ROW
				WHEN (NEW.domain = '`+domain+`') EXECUTE FUNCTION test_fail()`); err != nil {
				t.Fatal(err)
			}
			return func() {
				if _, err := pool.Exec(ctx, `DROP TRIGGER test_fail ON watch_changes`); err != nil {
					t.Fatal(err)
				}
			}
		},
	}
}

func TestPostgresStore(t *testing.T) {
	testenv.RequirePostgres(t)
	testStore(t, postgresOpener())
}

func TestPostgresNewerSchemaIsRefused(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	s, err := OpenIn(context.Background(), dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.b.(*postgresStore).pool.Exec(context.Background(), `UPDATE watch_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := OpenPostgres(context.Background(), dsn); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("OpenPostgres = %v, want ErrNewerSchema", err)
	}
}
