package testenv

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestStartPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := StartPostgres(t), StartPostgres(t)
	ua, err := url.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	ub, err := url.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if ua.Host != ub.Host || ua.Path == ub.Path {
		t.Fatalf("DSNs %s and %s: want one server, two databases", a, b)
	}
	if ua.Hostname() != "127.0.0.1" {
		t.Errorf("server on %s; want 127.0.0.1", ua.Host)
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var version, db, listen, user string
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_version_num'), current_database(),
		current_setting('listen_addresses'), current_user`).Scan(&version, &db, &listen, &user); err != nil {
		t.Fatal(err)
	}
	if version < "150000" || version >= "160000" || "/"+db != ua.Path || listen != "127.0.0.1" || user != "postgres" {
		t.Errorf("server %s, database %s, listening on %s, user %s", version, db, listen, user)
	}
	// The databases are apart.
	if _, err := conn.Exec(ctx, `CREATE TABLE only_in_a (x int)`); err != nil {
		t.Fatal(err)
	}
	connB, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer connB.Close(ctx)
	var n int
	if err := connB.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("table of database a in database b: %d, %v", n, err)
	}
}

// The server stops, and its folder goes, at StopPostgres; a later call starts another.
func TestStopPostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	StartPostgres(t)
	pgMu.Lock()
	dir := pgSrv.dir
	pgMu.Unlock()
	if err := StopPostgres(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("after StopPostgres, %s: %v", dir, err)
	}
	dsn := StartPostgres(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
}
