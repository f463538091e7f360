package pgdb

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

func schemaOf(store string, lock int64, migrations ...string) Schema {
	return Schema{Store: store, VersionTable: store + "_version", Lock: lock, Migrations: migrations}
}

// TestStoresShareADatabase: two stores' schemas in one database, migrated by nodes
// starting at once, each at its own version; a newer schema is refused; a bad connection
// string never shows its password.
func TestStoresShareADatabase(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	ctx := context.Background()
	a := schemaOf("alpha", 1, `CREATE TABLE alpha_rows (n integer)`, `ALTER TABLE alpha_rows ADD COLUMN m integer`)
	b := schemaOf("beta", 2, `CREATE TABLE beta_rows (n integer)`)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			pool, err := Open(ctx, dsn, 2, s)
			if err != nil {
				errs <- err
				return
			}
			pool.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	pool, err := Open(ctx, dsn, 2, a)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for table, want := range map[string]int{"alpha_version": 2, "beta_version": 1} {
		var v, rows int
		if err := pool.QueryRow(ctx, `SELECT max(version), count(*) FROM `+table).Scan(&v, &rows); err != nil || v != want || rows != 1 {
			t.Errorf("%s: version %d in %d rows (%v), want %d in 1", table, v, rows, err, want)
		}
	}
	// An older rcptguard (knows one migration of alpha) refuses the newer schema.
	if _, _, err := Migrate(ctx, pool, schemaOf("alpha", 1, a.Migrations[0])); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("older rcptguard on a newer schema: %v, want ErrNewerSchema", err)
	}
	if _, err := Open(ctx, "postgres://u:s3cret-pw@host:notaport/db", 1, a); err == nil || strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("a bad connection string: %v (must fail and never show the password)", err)
	}
}
