package testenv

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/address"
)

// RepoRoot is the folder holding go.mod, found by walking up from the working directory
// (a test's package folder).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Domains parses names as mail domains, failing the test on an invalid one.
func Domains(t testing.TB, names ...string) []address.Domain {
	t.Helper()
	out := make([]address.Domain, 0, len(names))
	for _, n := range names {
		d, err := address.ParseDomain(n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		out = append(out, d)
	}
	return out
}

// SyncBuffer is a bytes.Buffer that several goroutines may write (a log handler, a
// running command) while a test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitFor polls cond every 2 ms until it holds, for up to 10 seconds, then fails the test
// naming what was awaited: a wait for a condition, never a fixed sleep.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not in 10 s: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
