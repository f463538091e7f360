package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PostgresBin is where Debian's PostgreSQL 15 server programs are.
const PostgresBin = "/usr/lib/postgresql/15/bin"

// PostgresStartTimeout bounds initdb and the wait until the server accepts connections.
const PostgresStartTimeout = 90 * time.Second

// pgServer is the test binary's private PostgreSQL server: one per test process, shared
// by every StartPostgres, started by the first.
type pgServer struct {
	dir   string // the instance's folder: data/, the unix socket, postgres.log
	port  int
	admin string        // DSN of the maintenance database "postgres"
	stop  *os.File      // write end of the supervisor's standard input: closing it stops the server
	cmd   *exec.Cmd     // the supervisor (see pgSupervisor)
	done  chan struct{} // closed when the supervisor has exited
	out   *SyncBuffer   // what the supervisor printed: the server's log if it stopped by itself
}

var (
	pgMu  sync.Mutex
	pgSrv *pgServer
	pgErr error // why the server could not start: every later StartPostgres fails with it
	pgSeq atomic.Int64
)

// RequirePostgres skips the test unless PostgreSQL 15's server programs are installed
// (and, when the test runs as root, the user postgres exists: PostgreSQL refuses to run as
// root), or fails it in CI or with RCPTGUARD_REQUIRE_POSTFIX=1.
func RequirePostgres(t testing.TB) {
	t.Helper()
	for _, p := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(PostgresBin, p)); err != nil {
			skipOrFatal(t, "testenv: PostgreSQL 15 is not installed ("+filepath.Join(PostgresBin, p)+
				" is missing); "+installHint)
		}
	}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			skipOrFatal(t, "testenv: PostgreSQL is not installed (no user postgres); "+installHint)
		}
	}
}

// StartPostgres returns the DSN (a postgres:// URL) of a new, empty database on the test
// binary's private PostgreSQL server, and drops the database when the test ends.
//
// The first call starts the server: initdb in a new folder under the temporary folder,
// then the postgres server listening on 127.0.0.1 at a free port and on a unix socket in
// that folder, with trust authentication for the superuser postgres. As root it runs
// everything as the OS user postgres. The server is shared by all the tests of the
// binary (databases keep them apart) and stops, and its folder is removed, when the test
// binary exits, however it exits (see pgSupervisor), or at StopPostgres.
//
// It skips the test when PostgreSQL is missing, or fails it in CI (see RequirePostgres).
func StartPostgres(t testing.TB) (dsn string) {
	t.Helper()
	RequirePostgres(t)
	srv, err := postgresServer()
	if err != nil {
		t.Fatalf("testenv: PostgreSQL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := fmt.Sprintf("rcptguard_test_%d_%d", os.Getpid(), pgSeq.Add(1))
	if err := srv.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testenv: create database %s: %v%s", name, err, srv.logTail())
	}
	t.Cleanup(func() {
		pgMu.Lock()
		current := pgSrv == srv
		pgMu.Unlock()
		if !current {
			return // stopped: its databases are gone
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE: a store the test did not close must not keep the database.
		if err := srv.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("testenv: drop database %s: %v", name, err)
		}
	})
	return srv.dsn(name)
}

// StopPostgres stops the test binary's PostgreSQL server, if one runs, and waits until it
// has stopped and its folder is removed. Tests need not call it (the server stops when
// the test binary exits); a TestMain may, after m.Run. A later StartPostgres starts a new
// server.
func StopPostgres() error {
	pgMu.Lock()
	defer pgMu.Unlock()
	srv := pgSrv
	pgSrv, pgErr = nil, nil
	if srv == nil {
		return nil
	}
	return srv.shutdown(PostgresStartTimeout)
}

// postgresServer returns the running server, starting it on the first call.
func postgresServer() (*pgServer, error) {
	pgMu.Lock()
	defer pgMu.Unlock()
	if pgSrv != nil {
		select {
		case <-pgSrv.done:
			return nil, fmt.Errorf("the server stopped by itself:\n%s", pgSrv.out.String())
		default:
			return pgSrv, nil
		}
	}
	if pgErr != nil {
		return nil, pgErr
	}
	pgSrv, pgErr = startPostgresServer()
	return pgSrv, pgErr
}

// pgSupervisor runs the server ("$@") and ties its life to the test binary: the test
// binary holds the write end of the pipe on the supervisor's fd 0 (moved to fd 3) and
// never writes to it, so read returns when the test binary exits, however it exits
// (even SIGKILL), or at StopPostgres; then the supervisor stops the server with a fast
// shutdown (SIGINT) and removes the instance's folder. It also exits, and removes the
// folder, when the server stops by itself (a failed start), after printing its log.
const pgSupervisor = `set -u
dir=$1; shift
exec 3<&0 </dev/null
"$@" 3<&- >"$dir/postgres.log" 2>&1 &
pid=$!
( read -r _ <&3; kill -INT "$pid" 2>/dev/null ) &
watcher=$!
exec 3<&-
trap '' PIPE
status=0
wait "$pid" || status=$?
kill "$watcher" 2>/dev/null
if [ "$status" -ne 0 ]; then
	echo "postgres exited with status $status"
	cat "$dir/postgres.log"
fi
rm -rf "$dir"
exit "$status"
`

func startPostgresServer() (*pgServer, error) {
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, err
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), PostgresStartTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		srv, err := newPostgres(ctx, cred)
		if err == nil {
			return srv, nil
		}
		// The free port may have been taken by someone else meanwhile: try another (in
		// a new folder: the supervisor of the failed server removed its folder).
		if attempt < 3 && strings.Contains(err.Error(), "could not bind") {
			continue
		}
		return nil, err
	}
}

// newPostgres creates an instance (initdb) in a new folder and runs it.
func newPostgres(ctx context.Context, cred *syscall.Credential) (*pgServer, error) {
	// A short path: a unix socket's path has at most 107 bytes.
	dir, err := os.MkdirTemp(pgTempBase(), "rcptguard-postgres-")
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	// Trust authentication for the superuser postgres, on the socket and on 127.0.0.1;
	// UTF-8 without a locale (byte order, ASCII case folding), like a C-locale server.
	initdb := exec.CommandContext(ctx, filepath.Join(PostgresBin, "initdb"),
		"-D", filepath.Join(dir, "data"), "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--no-locale", "--no-instructions")
	initdb.Dir = dir
	initdb.Env = pgEnv()
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	srv, err := runPostgres(ctx, dir, cred)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return srv, nil
}

// pgTempBase is the temporary folder, or /tmp when the user postgres could not reach
// into it.
func pgTempBase() string {
	base := os.TempDir()
	if os.Geteuid() != 0 {
		return base
	}
	for d := base; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
		if d == filepath.Dir(d) {
			return base
		}
	}
}

func pgEnv() []string {
	env := []string{"PATH=/usr/bin:/bin", "LANG=C", "LC_ALL=C"}
	if tz := os.Getenv("TZ"); tz != "" {
		env = append(env, "TZ="+tz)
	}
	return env
}

// runPostgres starts the server under its supervisor on a free port and waits until it
// accepts connections. On failure, the supervisor has removed dir.
func runPostgres(ctx context.Context, dir string, cred *syscall.Credential) (*pgServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("free port: %w", err)
	}
	srv := &pgServer{dir: dir, port: port, done: make(chan struct{}), out: &SyncBuffer{}}
	srv.admin = srv.dsn("postgres")
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	// The test server trades durability for speed: fsync, full_page_writes and
	// synchronous_commit off. Never acceptable in production, where a held message must
	// survive a crash once Hold has returned (see quarantine.Postgres); here a crash only
	// loses a throwaway database.
	args := []string{"-c", pgSupervisor, "rcptguard-postgres-supervisor", dir,
		filepath.Join(PostgresBin, "postgres"), "-D", filepath.Join(dir, "data"),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port=" + strconv.Itoa(srv.port),
		"-c", "unix_socket_directories=" + dir,
		"-c", "max_connections=300",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "log_min_messages=warning",
		"-c", "log_line_prefix=%m [%p] ",
	}
	srv.cmd = exec.Command("/bin/sh", args...)
	srv.cmd.Dir = dir
	srv.cmd.Env = pgEnv()
	srv.cmd.Stdin = r
	srv.cmd.Stdout = srv.out
	srv.cmd.Stderr = srv.out
	// Its own process group: a ^C to the test's group reaches the test binary, whose
	// exit then stops the server in order.
	srv.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	if err := srv.cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	r.Close()
	srv.stop = w
	go func() {
		srv.cmd.Wait()
		close(srv.done)
	}()
	if err := srv.waitReady(ctx); err != nil {
		srv.shutdown(10 * time.Second)
		return nil, fmt.Errorf("postgres on 127.0.0.1:%d: %w\n%s", srv.port, err, srv.out.String())
	}
	return srv, nil
}

// waitReady polls a connection until the server accepts one, the server stops, or ctx
// ends.
func (s *pgServer) waitReady(ctx context.Context) error {
	var last error
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgconn.Connect(cctx, s.admin)
		cancel()
		if err == nil {
			return conn.Close(ctx)
		}
		last = err
		select {
		case <-s.done:
			return errors.New("the server stopped")
		case <-ctx.Done():
			return fmt.Errorf("not accepting connections: %w (last: %v)", ctx.Err(), last)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// shutdown closes the supervisor's pipe and waits up to timeout for it to exit.
func (s *pgServer) shutdown(timeout time.Duration) error {
	if s.stop != nil {
		s.stop.Close()
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(timeout):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGQUIT) // immediate shutdown of the group
		return fmt.Errorf("postgres in %s did not stop within %v", s.dir, timeout)
	}
}

// dsn is the URL of database name on the server, over TCP.
func (s *pgServer) dsn(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, name)
}

// exec runs one statement in the maintenance database.
func (s *pgServer) exec(ctx context.Context, sql string) error {
	conn, err := pgconn.Connect(ctx, s.admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql).ReadAll()
	return err
}

// logTail is the end of the server's log, for an error message.
func (s *pgServer) logTail() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return "\n--- postgres.log ---\n" + string(bytes.TrimSpace(b))
}

// freePort is FreePort outside a test.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
