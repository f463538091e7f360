package quarantine

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/rcptguard/rcptguard/internal/sqlitedb"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// confirmedBefore is a confirmation by three senders of a domain, stored before the trust
// migration (SQLite 4, PostgreSQL 3): the first confirmations are taken from the last.
const confirmedBefore = `INSERT INTO confirmations (sender, domain, confirmed_at, message_id) VALUES
	('a@contoso.com', 'fabrikarn.com', 1000000, 'm1'), ('b@contoso.com', 'fabrikarn.com', 2000000, 'm2'),
	('c@contoso.com', 'fabrikarn.com', 3000000, 'm3')`

func checkMigratedProposals(t *testing.T, s trustStore) {
	t.Helper()
	ps, err := s.Proposals(ctx, 3, 0)
	want := Proposal{Domain: "fabrikarn.com", Senders: 3, First: time.Unix(1, 0).UTC(), Last: time.Unix(3, 0).UTC()}
	if err != nil || len(ps) != 1 || ps[0] != want {
		t.Fatalf("proposals after the migration: %+v, %v; want [%+v]", ps, err, want)
	}
	if err := s.Trust(ctx, Trusted{Domain: "fabrikarn.com", Actor: "admin:root"}); err != nil {
		t.Fatal(err)
	}
}

func TestSQLiteMigratesToTrust(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	db, _, err := sqlitedb.Open(path, migrations[:3])
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(confirmedBefore)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkMigratedProposals(t, openSQLite(t, path))
}

func TestPostgresMigratesToTrust(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := migratePostgres(ctx, pool, postgresMigrations[:2]); err != nil {
		t.Fatal(err)
	}
	_, err = pool.Exec(ctx, confirmedBefore)
	pool.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkMigratedProposals(t, openPostgres(t, dsn))
}
