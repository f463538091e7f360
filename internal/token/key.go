package token

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// GeneratedKeyLen is the length in bytes of keys made by LoadOrCreateKey.
const GeneratedKeyLen = 32

// ParseKey decodes a key written as hex (as in the config file or a key
// file), ignoring surrounding white space. It must decode to at least
// MinKeyLen bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	k, err := hex.DecodeString(s)
	if err != nil {
		return nil, errors.New("token: key is not hexadecimal")
	}
	if len(k) < MinKeyLen {
		return nil, fmt.Errorf("token: key is %d bytes, need at least %d (%d hex digits)", len(k), MinKeyLen, 2*MinKeyLen)
	}
	return k, nil
}

// LoadOrCreateKey returns the key stored in the file at path, creating the
// file with a new random GeneratedKeyLen-byte key if it does not exist. The
// directory must exist.
//
// The file holds the key in hex followed by a newline (so it can be copied
// into the config); see ParseKey. A new file is written to a temporary file
// in the same directory with mode 0600, synced, and hard-linked into place:
// the link fails if path exists, so when several processes race, exactly one
// key wins and the others read it, and no reader ever sees a partial file.
// Where hard links are not supported it falls back to O_CREATE|O_EXCL on
// path (one process still wins; the others wait while the file is empty).
//
// An existing key file that is writable by its group or accessible to others
// (mode&0o027 != 0) is refused with an error naming the fix: anyone who can
// read the key can forge release tokens. Group read is allowed so a service
// group may share it. The check is skipped on Windows.
func LoadOrCreateKey(path string) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		k, err := readKey(path)
		if err == nil {
			return k, nil
		}
		if errors.Is(err, errEmptyKey) && attempt < 100 {
			// Another process is writing it via the O_EXCL fallback.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if err := createKey(path); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		// Created, or lost the race: read what is there now.
		if attempt >= 100 {
			return nil, fmt.Errorf("token: key file %s: could not load or create", path)
		}
	}
}

// link is os.Link, replaced in tests to exercise the fallback.
var link = os.Link

var errEmptyKey = errors.New("token: key file is empty")

func readKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("token: key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("token: key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("token: key file %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o027 != 0 {
		return nil, fmt.Errorf("token: key file %s has mode %04o, which lets other users read or change it; run chmod 600 %s",
			path, st.Mode().Perm(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4097))
	if err != nil {
		return nil, fmt.Errorf("token: key file: %w", err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: %s", errEmptyKey, path)
	}
	if len(b) > 4096 {
		return nil, fmt.Errorf("token: key file %s is too large", path)
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return k, nil
}

func createKey(path string) error {
	key := make([]byte, GeneratedKeyLen)
	rand.Read(key) // never fails (crypto/rand since Go 1.24)
	content := []byte(hex.EncodeToString(key) + "\n")

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("token: create key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(content)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("token: create key file: %w", err)
	}
	err = link(tmpName, path)
	if err == nil {
		syncDir(dir)
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	// No hard links here: create the file exclusively in place.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("token: create key file: %w", err)
	}
	_, err = f.Write(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("token: create key file: %w", err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a new directory entry durable, best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
