package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// FileMode is the mode every database file is created with, whatever the umask: held
// mail and the history are for rcptguard's user only. SQLite gives path-wal and
// path-shm the database file's mode.
const FileMode fs.FileMode = 0o600

// ErrUnusable is wrapped by the errors of CheckFiles.
var ErrUnusable = errors.New("database files cannot be written")

// createPrivate creates the database file at path with FileMode before SQLite does (it
// would use 0644 less the umask). An existing file is left as it is.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, FileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(FileMode); err != nil { // the umask may have taken bits off, never added
		f.Close()
		return err
	}
	return f.Close()
}

// CheckFiles reports whether the database at path can be used without harm: each of
// path, path-wal and path-shm that exists is a regular file this process may write.
// SQLite maps path-shm into memory; when it cannot be written (chattr +i, a read-only
// remount) the driver's first access to the map kills the process with SIGBUS, so this
// check comes before the database is touched: at open, and before the daemon's work.
//
// It asks access(2) and never opens the files: closing any descriptor of a file drops
// every POSIX lock the process holds on it, SQLite's included, and another process could
// then reset the shared memory under this one's map (a SIGBUS that an earlier version of
// this check caused). access(2) says EPERM for an immutable file and EROFS on a read-only
// file system, for root too.
func CheckFiles(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUnusable, err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%w: %s is not a regular file", ErrUnusable, p)
		}
		if err := syscall.Access(p, accessWrite); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrUnusable, p, err)
		}
	}
	return nil
}

// accessWrite is access(2)'s W_OK.
const accessWrite = 0x2

// Probe checks that db, the database at path, takes a write: CheckFiles, then one tiny
// committed transaction (the table health, rcptguard's only table here), so a full disk,
// a read-only file or folder, or a broken database answers with an error instead of the
// next held message finding out.
func Probe(ctx context.Context, db *sql.DB, path string) error {
	if err := CheckFiles(path); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY, checked_at INTEGER NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("write to %s: %w%s", path, err, folderHint(path))
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO health (id, checked_at) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("write to %s: %w%s", path, err, folderHint(path))
	}
	return nil
}

// Exposed lists what others than its owner can read or enter in the folder dir and the
// files directly in it, for the warning at start: held messages must not be readable by
// every local user.
func Exposed(dir string) []string {
	var out []string
	check := func(p string, fi fs.FileInfo) {
		if fi.Mode().Perm()&0o007 != 0 {
			out = append(out, fmt.Sprintf("%s (%s)", p, fi.Mode().Perm()))
		}
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil
	}
	check(dir, fi)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && (fi.Mode().IsRegular() || fi.IsDir()) {
			check(filepath.Join(dir, e.Name()), fi)
		}
	}
	return out
}
