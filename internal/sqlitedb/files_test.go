package sqlitedb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var testSchema = []string{`CREATE TABLE t (x INTEGER) STRICT`}

// TestFilesArePrivateWhateverTheUmask: databases were created 0644 (umask 022), so a
// data folder made 0755 left held mail readable by every local user.
func TestFilesArePrivateWhateverTheUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "q.db")
	db, _, err := Open(path, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != FileMode {
			t.Errorf("%s is %s, want %s", filepath.Base(p), fi.Mode().Perm(), FileMode)
		}
	}
}

// makeUnwritable makes the file at p unwritable even for root (chattr +i), undone when
// the test ends.
func makeUnwritable(t *testing.T, p string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(p, 0o400); err != nil {
			t.Fatal(err)
		}
		return
	}
	if out, err := exec.Command("chattr", "+i", p).CombinedOutput(); err != nil {
		t.Fatalf("chattr +i: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", p).Run() })
}

// TestUnwritableSharedMemoryIsFoundBeforeTheDriverTouchesIt: with quarantine.db-shm
// unwritable the driver's next access killed the process with SIGBUS. Open and Probe now
// refuse with an error naming the file, before the driver maps it.
func TestUnwritableSharedMemoryIsFoundBeforeTheDriverTouchesIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	db, _, err := Open(path, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // after the file is writable again: closing checkpoints
	ctx := context.Background()
	if err := Probe(ctx, db, path); err != nil {
		t.Fatalf("Probe on a good database: %v", err)
	}
	makeUnwritable(t, path+"-shm")
	if err := Probe(ctx, db, path); !errors.Is(err, ErrUnusable) || !strings.Contains(err.Error(), "q.db-shm") {
		t.Errorf("Probe = %v, want ErrUnusable naming q.db-shm", err)
	}
	if db2, _, err := Open(path, testSchema); err == nil {
		db2.Close()
		t.Error("a second Open succeeded")
	} else if !errors.Is(err, ErrUnusable) {
		t.Errorf("Open = %v, want ErrUnusable", err)
	}
}

func TestProbeFindsAReadOnlyDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	db, _, err := Open(path, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	makeUnwritable(t, path)
	if err := Probe(context.Background(), db, path); err == nil {
		t.Error("Probe passed on a read-only database file")
	}
}

func TestExposedNamesWhatOthersCanRead(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "private"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := Exposed(dir); len(got) != 0 {
		t.Errorf("Exposed = %q on a private folder", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "open.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "open.db"), 0o644)
	os.Chmod(dir, 0o755)
	got := strings.Join(Exposed(dir), " ")
	if !strings.Contains(got, dir+" (-rwxr-xr-x)") || !strings.Contains(got, "open.db (-rw-r--r--)") || strings.Contains(got, "private") {
		t.Errorf("Exposed = %s", got)
	}
}

// TestCheckFilesKeepsTheProcessLocks: the first CheckFiles opened and closed the files,
// and closing any descriptor of a file drops every POSIX lock the process holds on it:
// SQLite's lock on -shm went with it, another process reset the shared memory, and the
// daemon died with SIGBUS in walIndexAppend (found by TestHeldMessageSurvivesSIGKILL).
// A lock held here must still be held, as another process sees it, after CheckFiles.
func TestCheckFilesKeepsTheProcessLocks(t *testing.T) {
	if os.Getenv("RCPTGUARD_LOCK_PROBE") != "" {
		return // in the probe's child process
	}
	path := filepath.Join(t.TempDir(), "q.db")
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.WriteFile(p, make([]byte, 64), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.OpenFile(path+"-shm", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lock := syscall.Flock_t{Type: syscall.F_RDLCK, Whence: 0, Start: 0, Len: 1}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lock); err != nil {
		t.Fatal(err)
	}
	if !lockHeldElsewhere(t, path+"-shm") {
		t.Fatal("the probe does not see the lock before CheckFiles")
	}
	if err := CheckFiles(path); err != nil {
		t.Fatal(err)
	}
	if !lockHeldElsewhere(t, path+"-shm") {
		t.Error("CheckFiles dropped this process's lock on the -shm file")
	}
}

// lockHeldElsewhere asks a child process whether a write lock on byte 0 of p would
// conflict with a lock another process holds (F_GETLK sees other processes' locks only).
func lockHeldElsewhere(t *testing.T, p string) bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockProbeChild$")
	cmd.Env = append(os.Environ(), "RCPTGUARD_LOCK_PROBE="+p)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("probe: %v %s", err, out)
	}
	return strings.Contains(string(out), "LOCKED")
}

// TestLockProbeChild is lockHeldElsewhere's child; it does nothing in a normal run.
func TestLockProbeChild(t *testing.T) {
	p := os.Getenv("RCPTGUARD_LOCK_PROBE")
	if p == "" {
		return
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lock := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 0, Len: 1}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lock); err != nil {
		t.Fatal(err)
	}
	if lock.Type != syscall.F_UNLCK {
		fmt.Println("LOCKED")
	} else {
		fmt.Println("FREE")
	}
}
