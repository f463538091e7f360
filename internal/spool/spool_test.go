package spool

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestBufferSpillsAboveThreshold(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool")
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(path, filePrefix+"stale")
	other := filepath.Join(path, "keep.txt")
	for _, f := range []string{stale, other} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d, err := Open(path, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale file kept: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file not the spool's was removed: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v", fi.Mode())
	}

	b := d.New()
	want := bytes.Repeat([]byte("0123456789"), 1000)
	b.Write(want[:4000])
	if b.Spooled() || d.InMemory() < 4000 {
		t.Fatalf("spooled %v at 4000 bytes, %d in memory", b.Spooled(), d.InMemory())
	}
	b.Write(want[4000:])
	if !b.Spooled() || d.InMemory() != 0 || b.Len() != int64(len(want)) {
		t.Fatalf("spooled %v, %d in memory, len %d", b.Spooled(), d.InMemory(), b.Len())
	}
	files, _ := filepath.Glob(filepath.Join(path, filePrefix+"*"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	if fi, _ := os.Stat(files[0]); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v", fi.Mode())
	}
	for range 2 { // each Reader starts again
		r, err := b.Reader()
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := io.ReadAll(r); !bytes.Equal(got, want) {
			t.Fatal("content differs")
		}
	}
	got, release, err := d.ReadBack(context.Background(), b)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadBack: %v", err)
	}
	release()
	b.Close()
	b.Close()
	if _, err := os.Stat(files[0]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file kept after Close: %v", err)
	}
}

func TestReadBackIsBounded(t *testing.T) {
	d, err := Open(t.TempDir(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var releases []func()
	for range MaxReadBacks {
		b := d.New()
		defer b.Close()
		b.Write([]byte("more than ten bytes"))
		_, release, err := d.ReadBack(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	b := d.New()
	defer b.Close()
	b.Write([]byte("more than ten bytes"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := d.ReadBack(ctx, b); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadBack past the bound: %v", err)
	}
	releases[0]()
	if _, release, err := d.ReadBack(context.Background(), b); err != nil {
		t.Fatal(err)
	} else {
		release()
	}
}
