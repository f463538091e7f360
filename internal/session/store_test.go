package session

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// opener opens a new, empty store for one test; a second call within the same test
// opens the same store again (another node on the same database).
type opener func(t *testing.T) func() Store

func sqliteOpener(t *testing.T) func() Store {
	path := filepath.Join(t.TempDir(), FileName)
	return func() Store {
		s, err := OpenSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func postgresOpener(t *testing.T) func() Store {
	dsn := testenv.StartPostgres(t)
	return func() Store {
		s, err := OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestSQLiteStore(t *testing.T) { storeSuite(t, sqliteOpener) }

func TestPostgresStore(t *testing.T) {
	testenv.RequirePostgres(t)
	storeSuite(t, postgresOpener)
}

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)

func sample(id byte, user string) Session {
	return Session{
		IDHash: bytes.Repeat([]byte{id}, 32), User: user, Created: t0, LastUsed: t0.Add(time.Second),
		Expires: t0.Add(12 * time.Hour), Remote: "192.0.2.1", UserAgent: "Mozilla/5.0 (X11)",
		PassFingerprint: Fingerprint("$2a$10$hash"),
	}
}

func sameSession(t *testing.T, got, want Session) {
	t.Helper()
	if !bytes.Equal(got.IDHash, want.IDHash) || got.User != want.User || !got.Created.Equal(want.Created) ||
		!got.LastUsed.Equal(want.LastUsed) || !got.Expires.Equal(want.Expires) || got.Remote != want.Remote ||
		got.UserAgent != want.UserAgent || !bytes.Equal(got.PassFingerprint, want.PassFingerprint) {
		t.Fatalf("session\n%+v\nwant\n%+v", got, want)
	}
}

// storeSuite is the behaviour every Store has, and Manager's rules on top of it.
func storeSuite(t *testing.T, open opener) {
	ctx := context.Background()
	t.Run("CreateGet", func(t *testing.T) {
		s := open(t)()
		want := sample(1, "root")
		if err := s.Create(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, want.IDHash)
		if err != nil {
			t.Fatal(err)
		}
		sameSession(t, got, want)
		if _, err := s.Get(ctx, sample(2, "root").IDHash); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown session: %v", err)
		}
		if err := s.Create(ctx, want); err == nil {
			t.Fatal("the same ID hash stored twice")
		}
		// Stored as given, but valid text: a user agent is clipped, without NUL.
		odd := sample(3, "root")
		odd.UserAgent = "a\x00b\xff" + strings.Repeat("é", 200)
		if err := s.Create(ctx, odd); err != nil {
			t.Fatal(err)
		}
		got, err = s.Get(ctx, odd.IDHash)
		if err != nil || !strings.HasPrefix(got.UserAgent, "ab\uFFFDé") || len(got.UserAgent) > maxUserAgent {
			t.Fatalf("user agent %q, %v", got.UserAgent, err)
		}
	})
	t.Run("TouchDelete", func(t *testing.T) {
		s := open(t)()
		se := sample(1, "root")
		if err := s.Create(ctx, se); err != nil {
			t.Fatal(err)
		}
		later := t0.Add(5 * time.Minute)
		if err := s.Touch(ctx, se.IDHash, later); err != nil {
			t.Fatal(err)
		}
		if err := s.Touch(ctx, se.IDHash, t0.Add(time.Minute)); err != nil { // an older use: kept later
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, se.IDHash); !got.LastUsed.Equal(later) {
			t.Fatalf("last used %v, want %v", got.LastUsed, later)
		}
		if err := s.Delete(ctx, se.IDHash); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, se.IDHash); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted session: %v", err)
		}
		if err := s.Touch(ctx, se.IDHash, later); !errors.Is(err, ErrNotFound) {
			t.Fatalf("touch of a deleted session: %v", err)
		}
		if err := s.Delete(ctx, se.IDHash); err != nil {
			t.Fatalf("second delete: %v", err)
		}
	})
	t.Run("Purge", func(t *testing.T) {
		s := open(t)()
		expired, idle, live := sample(1, "a"), sample(2, "b"), sample(3, "c")
		expired.LastUsed, expired.Expires = t0.Add(time.Hour), t0.Add(time.Hour)
		idle.LastUsed = t0
		live.LastUsed = t0.Add(time.Hour)
		for _, se := range []Session{expired, idle, live} {
			if err := s.Create(ctx, se); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.Purge(ctx, t0.Add(time.Hour), t0)
		if err != nil || n != 2 {
			t.Fatalf("purge: %d, %v; want 2", n, err)
		}
		for _, se := range []Session{expired, idle} {
			if _, err := s.Get(ctx, se.IDHash); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s kept: %v", se.User, err)
			}
		}
		if _, err := s.Get(ctx, live.IDHash); err != nil {
			t.Errorf("live session purged: %v", err)
		}
	})
	t.Run("Manager", func(t *testing.T) { managerSuite(t, open(t)) })
	t.Run("TwoNodes", func(t *testing.T) {
		reopen := open(t)
		clk := testenv.NewClock(t0)
		a := &Manager{Store: reopen(), Now: clk.Now}
		b := &Manager{Store: reopen(), Now: clk.Now}
		tok, _, err := a.Start(ctx, "root", "h1", "192.0.2.1", "")
		if err != nil {
			t.Fatal(err)
		}
		users := func(string) (string, bool) { return "h1", true }
		if _, err := b.Check(ctx, tok, users); err != nil {
			t.Fatalf("node b: %v", err)
		}
		if err := b.End(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Check(ctx, tok, users); !errors.Is(err, ErrNoSession) {
			t.Fatalf("node a after sign-out on b: %v", err)
		}
	})
	t.Run("Closed", func(t *testing.T) {
		s := open(t)()
		m := &Manager{Store: s}
		tok, _, err := m.Start(ctx, "root", "h1", "", "")
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err = m.Check(ctx, tok, func(string) (string, bool) { return "h1", true })
		if err == nil || errors.Is(err, ErrNoSession) {
			t.Fatalf("check on a closed store: %v, want a store error", err)
		}
		if _, _, err := m.Start(ctx, "root", "h1", "", ""); err == nil {
			t.Fatal("start on a closed store succeeded")
		}
	})
}

// managerSuite: the rules of Check, on a fake clock.
func managerSuite(t *testing.T, reopen func() Store) {
	ctx := context.Background()
	clk := testenv.NewClock(t0)
	st := reopen()
	m := &Manager{Store: st, Idle: 30 * time.Minute, Max: 2 * time.Hour, Now: clk.Now}
	hashes := map[string]string{"root": "$2a$10$first", "other": "$2a$10$other"}
	var mu sync.Mutex
	users := func(u string) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		h, ok := hashes[u]
		return h, ok
	}
	start := func(user string) (string, Session) {
		t.Helper()
		tok, s, err := m.Start(ctx, user, hashes[user], "192.0.2.7", "test agent")
		if err != nil {
			t.Fatal(err)
		}
		return tok, s
	}
	check := func(tok string) error {
		t.Helper()
		_, err := m.Check(ctx, tok, users)
		if err != nil && !errors.Is(err, ErrNoSession) {
			t.Fatalf("check: %v", err)
		}
		return err
	}

	tok, s := start("root")
	if len(tok) != 43 || strings.Contains(tok, string(s.IDHash)) {
		t.Fatalf("token %q", tok)
	}
	if h, _ := HashToken(tok); !bytes.Equal(h, s.IDHash) || !s.Expires.Equal(t0.Add(2*time.Hour)) ||
		s.User != "root" || s.Remote != "192.0.2.7" || s.UserAgent != "test agent" {
		t.Fatalf("session %+v", s)
	}
	got, err := m.Check(ctx, tok, users)
	if err != nil || got.User != "root" {
		t.Fatalf("check: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "x", tok + "A", tok[:42], tok[:42] + "B", strings.ToUpper(tok), tok[:42] + "="} {
		if bad != tok && check(bad) == nil {
			t.Errorf("token %q opens a session", bad)
		}
	}

	// Uses within TouchEvery of the recorded one do not write; later ones do.
	clk.Advance(30 * time.Second)
	check(tok)
	if s, _ := st.Get(ctx, s.IDHash); !s.LastUsed.Equal(t0) {
		t.Fatalf("last used %v after 30 s, want %v (no write)", s.LastUsed, t0)
	}
	clk.Advance(31 * time.Second)
	check(tok)
	if s, _ := st.Get(ctx, s.IDHash); !s.LastUsed.Equal(clk.Now()) {
		t.Fatalf("last used %v, want %v", s.LastUsed, clk.Now())
	}

	// Idle: used every 29 minutes it lives on, until its absolute lifetime ends.
	for clk.Now().Add(29 * time.Minute).Before(t0.Add(2 * time.Hour)) {
		clk.Advance(29 * time.Minute)
		if err := check(tok); err != nil {
			t.Fatalf("at %v: %v", clk.Now().Sub(t0), err)
		}
	}
	clk.Set(t0.Add(2 * time.Hour))
	if check(tok) == nil {
		t.Fatal("session lives beyond Max")
	}
	if _, err := st.Get(ctx, s.IDHash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired session kept: %v", err)
	}

	// Unused for 30 minutes: ended, and deleted.
	tok, s = start("root")
	clk.Advance(30 * time.Minute)
	if check(tok) == nil {
		t.Fatal("idle session still open")
	}
	if _, err := st.Get(ctx, s.IDHash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("idle session kept: %v", err)
	}

	// A new password hash ends the user's sessions, not the others'; so does removal.
	tok, _ = start("root")
	otherTok, _ := start("other")
	mu.Lock()
	hashes["root"] = "$2a$10$second"
	mu.Unlock()
	if check(tok) == nil {
		t.Fatal("session open after a password change")
	}
	if check(otherTok) != nil {
		t.Fatal("another user's session ended")
	}
	mu.Lock()
	delete(hashes, "other")
	mu.Unlock()
	if check(otherTok) == nil {
		t.Fatal("session of a removed user open")
	}

	// Sign-out.
	tok, _ = start("root")
	if err := m.End(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if check(tok) == nil {
		t.Fatal("session open after End")
	}
	if err := m.End(ctx, "garbage"); err != nil {
		t.Fatal(err)
	}

	// Concurrent uses of one session all pass, and record the use once or more.
	tok, s = start("root")
	clk.Advance(5 * time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := m.Check(ctx, tok, users)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent check: %v", err)
		}
	}
	if got, _ := st.Get(ctx, s.IDHash); !got.LastUsed.Equal(clk.Now()) {
		t.Fatalf("last used %v, want %v", got.LastUsed, clk.Now())
	}

	// Purge removes what has ended, keeps the open one.
	idleTok, _ := start("root")
	clk.Advance(10 * time.Minute)
	check(tok)
	clk.Advance(25 * time.Minute) // idleTok unused for 35 minutes, tok for 25
	n, err := m.Purge(ctx)
	if err != nil || n < 1 {
		t.Fatalf("purge: %d, %v", n, err)
	}
	if check(idleTok) == nil {
		t.Fatal("idle session survived the purge")
	}
	if check(tok) != nil {
		t.Fatal("the purge ended an open session")
	}
}

func TestSQLiteFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	old := syscall.Umask(0) // whatever the umask
	defer syscall.Umask(old)
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Create(context.Background(), sample(1, "root")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	fresh := filepath.Join(t.TempDir(), FileName)
	s2, err := OpenSQLite(fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new file: %v, %v", fi.Mode(), err)
	}
}

func TestOpenChoosesTheStore(t *testing.T) {
	s, err := Open(context.Background(), "", filepath.Join(t.TempDir(), FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*SQLite); !ok {
		t.Fatalf("%T, want SQLite", s)
	}
	if s, err := Open(context.Background(), "postgres://%zz", ""); err == nil || s != nil {
		t.Fatalf("bad DSN: %v, %v", s, err)
	}
}
