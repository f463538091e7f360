package maillog

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readFile(t *testing.T, path string) ([]byte, error) {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// The format is told by the content, not by the name: logrotate's maillog.1 may be
// compressed, and a .gz name may hold plain text.
func TestOpenGzipRoundTrip(t *testing.T) {
	log := []byte(sample(t))
	dir := t.TempDir()
	two := append(gzipped(t, log[:1000]), gzipped(t, log[1000:])...) // concatenated members, as from cat a.gz b.gz
	for name, content := range map[string][]byte{
		"maillog":       log,
		"maillog.1":     gzipped(t, log),
		"maillog.2.gz":  gzipped(t, log),
		"maillog.3.gz":  log,
		"maillog.4.gz":  two,
		"empty":         nil,
		"one-byte.gz":   {0x1f},
		"empty-gzip.gz": gzipped(t, nil),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readFile(t, path)
		want := log
		switch name {
		case "empty", "empty-gzip.gz":
			want = nil
		case "one-byte.gz":
			want = []byte{0x1f}
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v; want %d bytes", name, len(got), err, len(want))
		}
	}
	// And through ReadPostfix.
	f, err := Open(filepath.Join(dir, "maillog.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := ReadPostfix(f, utc2026, func(Delivery) error { return nil })
	if err != nil || st.Deliveries != 10 || st.Lines != 42 {
		t.Errorf("ReadPostfix(gzip) = %+v, %v", st, err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("a folder: %v", err)
	}
	// A corrupt gzip file fails when read, not silently.
	bad := gzipped(t, []byte(sample(t)))
	bad[len(bad)/2] ^= 0xff
	path := filepath.Join(dir, "bad.gz")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err == nil {
		_, err = ReadPostfix(f, utc2026, func(Delivery) error { return nil })
		f.Close()
	}
	if err == nil {
		t.Error("a corrupt gzip file read without error")
	}
}
