package quarantine

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

func TestSQLiteStore(t *testing.T) {
	testStore(t, func(t *testing.T, opts ...Option) Store {
		return openSQLite(t, filepath.Join(t.TempDir(), "q.db"), opts...)
	})
}

func openSQLite(t *testing.T, path string, opts ...Option) *SQLite {
	t.Helper()
	s, err := OpenSQLite(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteSettings(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "q.db"))
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1"} {
		var got string
		if err := s.db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s; want %s", pragma, got, want)
		}
	}
}

// A held message is on disk when Hold returns: a new handle (as after a restart) sees it.
func TestSQLiteDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	raw := bytes.Repeat([]byte("line\r\n"), 10000)
	id, err := s.Hold(ctx, sample(), bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openSQLite(t, path)
	m, err := s.Get(ctx, id)
	if err != nil || m.State != Held || len(m.Recipients) != 2 || m.Size != int64(len(raw)) {
		t.Fatalf("after reopen: %+v, %v", m, err)
	}
	b, err := s.Raw(ctx, id)
	if err != nil || !bytes.Equal(b, raw) {
		t.Fatalf("Raw after reopen: %d bytes, %v", len(b), err)
	}
	if ev, err := s.Audit(ctx, id); err != nil || len(ev) != 1 {
		t.Fatalf("Audit after reopen: %v, %v", ev, err)
	}
	var v int
	if err := s.db.QueryRow(`SELECT version FROM schema_version`).Scan(&v); err != nil || v != len(migrations) {
		t.Errorf("schema_version = %d, %v; want %d", v, err, len(migrations))
	}
}

// Two handles on one file stand for two processes: the compare-and-set holds across them.
func TestSQLiteTransitionAcrossHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	a, b := openSQLite(t, path), openSQLite(t, path)
	id := hold(t, a, sample(), "raw")
	errs := make(chan error, 2)
	for _, s := range []*SQLite{a, b} {
		go func() { errs <- s.Transition(ctx, id, Held, ReleasedAsAddressed, "x", "", "") }()
	}
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) || !errors.Is(errors.Join(e1, e2), ErrConflict) {
		t.Errorf("Transition from two handles = %v, %v; want one nil and one ErrConflict", e1, e2)
	}
}

// Hold never reports success for a message it could not store.
func TestSQLiteHoldFailsOnClosedStore(t *testing.T) {
	s, err := OpenSQLite(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if id, err := s.Hold(ctx, sample(), strings.NewReader("raw")); err == nil {
		t.Errorf("Hold on a closed store = %q, nil", id)
	}
}

// A cancelled context (the client went away) fails Hold and stores nothing.
func TestSQLiteHoldCancelled(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "q.db"))
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Hold(c, sample(), strings.NewReader("raw")); err == nil {
		t.Error("Hold with a cancelled context succeeded")
	}
	if l, _ := s.List(ctx, Filter{}); len(l) != 0 {
		t.Errorf("%d messages stored", len(l))
	}
}

// A store whose file cannot be written fails with an error, at open or at Hold, and never
// reports a message as held.
func TestSQLiteUnwritable(t *testing.T) {
	if !testenv.Unprivileged(t) {
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "q.db")
	s, err := OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	hold(t, s, sample(), "raw")
	s.Close()
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755); os.Chmod(path, 0o644) })
	s, err = OpenSQLite(path)
	if err != nil {
		t.Logf("open refused: %v", err)
		return
	}
	defer s.Close()
	if id, err := s.Hold(ctx, sample(), strings.NewReader("raw")); err == nil {
		t.Errorf("Hold on an unwritable file = %q, nil", id)
	} else {
		t.Logf("Hold refused: %v", err)
	}
}

func TestSQLiteNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	s := openSQLite(t, path)
	if _, err := s.db.Exec(`UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSQLite(path); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("OpenSQLite = %v; want ErrNewerSchema", err)
	}
}

// A full disk (here: SQLite's page limit) fails Hold with an error and leaves nothing
// behind: no half-stored message, no raw content, no event.
func TestSQLiteHoldFailsWhenFull(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "q.db"))
	first := hold(t, s, sample(), "raw")
	s.db.SetMaxOpenConns(1) // the pragma below is per connection
	var pages int
	if err := s.db.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`PRAGMA max_page_count = ` + strconv.Itoa(pages+2)); err != nil {
		t.Fatal(err)
	}
	id, err := s.Hold(ctx, sample(), bytes.NewReader(bytes.Repeat([]byte("x"), 1<<20)))
	if err == nil {
		t.Fatalf("Hold on a full database = %q, nil", id)
	}
	t.Logf("Hold refused: %v", err)
	l, err := s.List(ctx, Filter{})
	if err != nil || len(l) != 1 || l[0].ID != first {
		t.Errorf("after the failed Hold: List = %v, %v; want only %s", msgIDs(l), err, first)
	}
	var events, raws, rcpts int
	s.db.QueryRow(`SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM raw_content),
		(SELECT count(*) FROM recipients)`).Scan(&events, &raws, &rcpts)
	if events != 1 || raws != 1 || rcpts != 2 {
		t.Errorf("after the failed Hold: %d events, %d raw, %d recipients; want 1, 1, 2", events, raws, rcpts)
	}
}

// TestStoredVerdictThatDoesNotExistIsAnError: a recipient row whose verdict is no verdict
// (say "pass", which older code accepted) is an error when read, never a recipient that
// passes as allowed.
func TestStoredVerdictThatDoesNotExistIsAnError(t *testing.T) {
	s := openSQLite(t, filepath.Join(t.TempDir(), "q.db"))
	id := hold(t, s, sample(), "Subject: x\r\n\r\nbody\r\n")
	if m, err := s.Get(ctx, id); err != nil || m.Recipients[0].Verdict != verdict.Hold {
		t.Fatalf("Get = %+v, %v", m.Recipients, err)
	}
	if _, err := s.db.Exec(`UPDATE recipients SET verdict = 'pass' WHERE message_id = ? AND idx = 0`, id); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Get(ctx, id); err == nil || !strings.Contains(err.Error(), `"pass"`) {
		t.Fatalf("Get of a stored verdict pass = %+v, %v; want an error naming it", m.Recipients, err)
	}
}
