package token

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateKeyCreatesAndReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != GeneratedKeyLen {
		t.Fatalf("key length %d", len(k1))
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if string(b) != hex.EncodeToString(k1)+"\n" {
		t.Errorf("file content %q", b)
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Error("reload gave a different key")
	}
	if _, err := NewSigner(k1); err != nil {
		t.Error(err)
	}
	// No temporary files left behind.
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries", len(ents))
	}
	// A second key in another directory differs.
	k3, err := LoadOrCreateKey(filepath.Join(t.TempDir(), "token.key"))
	if err != nil || bytes.Equal(k1, k3) {
		t.Errorf("second key: %x, %v", k3, err)
	}
}

func TestLoadOrCreateKeyConcurrent(t *testing.T) {
	for round := range 20 {
		dir := t.TempDir()
		path := filepath.Join(dir, "token.key")
		keys := make([][]byte, 8)
		errs := make([]error, 8)
		var start, wg sync.WaitGroup
		start.Add(1)
		for i := range 8 {
			wg.Go(func() {
				start.Wait()
				keys[i], errs[i] = LoadOrCreateKey(path)
			})
		}
		start.Done()
		wg.Wait()
		for i := range 8 {
			if errs[i] != nil {
				t.Fatalf("round %d creator %d: %v", round, i, errs[i])
			}
			if !bytes.Equal(keys[i], keys[0]) {
				t.Fatalf("round %d: creator %d got a different key", round, i)
			}
		}
		onDisk, err := LoadOrCreateKey(path)
		if err != nil || !bytes.Equal(onDisk, keys[0]) {
			t.Fatalf("round %d: key on disk differs from the one returned", round)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("round %d: %d directory entries", round, len(ents))
		}
	}
}

func TestLoadOrCreateKeyExisting(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // beat the umask
			t.Fatal(err)
		}
		return p
	}
	long := strings.Repeat("ab", 48)
	k, err := LoadOrCreateKey(write("long", "  "+long+"\r\n", 0o600))
	if err != nil || hex.EncodeToString(k) != long {
		t.Errorf("64-byte hex key: %x, %v", k, err)
	}
	if _, err := LoadOrCreateKey(write("group", long, 0o640)); err != nil {
		t.Errorf("group-readable key refused: %v", err)
	}
	bad := map[string]struct {
		content string
		mode    os.FileMode
		want    string
	}{
		"short":   {strings.Repeat("ab", 31), 0o600, "need at least 32"},
		"raw":     {strings.Repeat("\x01", 40), 0o600, "not hexadecimal"},
		"oddhex":  {long + "a", 0o600, "not hexadecimal"},
		"huge":    {strings.Repeat("ab", 4096), 0o600, "too large"},
		"world":   {long, 0o644, "chmod 600"},
		"gwrite":  {long, 0o660, "chmod 600"},
		"worldrw": {long, 0o666, "chmod 600"},
	}
	for name, tc := range bad {
		if runtime.GOOS == "windows" && tc.want == "chmod 600" {
			continue
		}
		p := write(name, tc.content, tc.mode)
		before, _ := os.ReadFile(p)
		_, err := LoadOrCreateKey(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want containing %q", name, err, tc.want)
		}
		if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
			t.Errorf("%s: existing file was changed", name)
		}
	}
	if _, err := LoadOrCreateKey(dir); err == nil {
		t.Error("directory accepted as key file")
	}
	if _, err := LoadOrCreateKey(filepath.Join(dir, "missing", "token.key")); err == nil {
		t.Error("missing directory: no error")
	}
}

func TestParseKey(t *testing.T) {
	k, err := ParseKey(" " + strings.Repeat("0F", 32) + "\n")
	if err != nil || len(k) != 32 || k[0] != 0x0f {
		t.Errorf("ParseKey: %x, %v", k, err)
	}
	for _, s := range []string{"", "xyz", strings.Repeat("00", 31)} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
}

func TestLoadOrCreateKeyNoHardLinks(t *testing.T) {
	link = func(string, string) error { return &os.LinkError{Op: "link", Err: os.ErrPermission} }
	defer func() { link = os.Link }()
	for round := range 10 {
		dir := t.TempDir()
		path := filepath.Join(dir, "token.key")
		keys := make([][]byte, 8)
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() { keys[i], errs[i] = LoadOrCreateKey(path) })
		}
		wg.Wait()
		for i := range 8 {
			if errs[i] != nil || !bytes.Equal(keys[i], keys[0]) {
				t.Fatalf("round %d creator %d: %x, %v", round, i, keys[i], errs[i])
			}
		}
		if st, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && st.Mode().Perm() != 0o600) {
			t.Fatalf("round %d: stat %v, %v", round, st, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("round %d: %d directory entries", round, len(ents))
		}
	}
}
