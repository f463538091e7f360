package session

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/ratelimit"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestAttemptsAreSharedByTheNodes: two stores on one PostgreSQL database are two nodes;
// failures spread over both add up to the limit, the window frees them, a success
// forgives its own attempt, and concurrent attempts cannot pass the limit together.
func TestAttemptsAreSharedByTheNodes(t *testing.T) {
	testenv.RequirePostgres(t)
	open := postgresOpener(t)
	a, b := open().(*Postgres), open().(*Postgres)
	ctx := context.Background()
	la, lb := ratelimit.New(3, time.Minute, nil), ratelimit.New(3, time.Minute, nil)
	la.Share("admin", a)
	lb.Share("admin", b)
	now := t0
	for i, l := range []*ratelimit.Limiter{la, lb, la} {
		if _, ok, err := l.BeginContext(ctx, "192.0.2.1", "root", now.Add(time.Duration(i)*time.Second)); !ok || err != nil {
			t.Fatalf("attempt %d refused: %v", i+1, err)
		}
	}
	wait, ok, err := lb.BeginContext(ctx, "192.0.2.99", "root", now.Add(10*time.Second))
	if ok || err != nil || wait != 50*time.Second {
		t.Fatalf("fourth attempt for root, on the other node from another address: ok %v, wait %s, %v; want refused for 50s", ok, wait, err)
	}
	if _, ok, _ := la.BeginContext(ctx, "192.0.2.99", "alice", now.Add(10*time.Second)); !ok {
		t.Fatal("another user from another address was refused")
	}
	// A success forgives its own attempt: one place free for root again.
	if err := la.SucceededContext(ctx, "192.0.2.1", "root", now); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := lb.BeginContext(ctx, "192.0.2.2", "root", now.Add(11*time.Second)); !ok {
		t.Fatal("refused after a success forgave an attempt")
	}
	// Any user name a client sends is counted, NUL and invalid UTF-8 too.
	if _, ok, err := la.BeginContext(ctx, "192.0.2.4", "x\x00\xff", now.Add(12*time.Second)); !ok || err != nil {
		t.Fatalf("a user name with NUL and invalid UTF-8: ok %v, %v", ok, err)
	}
	// A minute after the first ones, the window has freed them.
	if _, ok, _ := lb.BeginContext(ctx, "192.0.2.3", "root", now.Add(62*time.Second)); !ok {
		t.Fatal("refused after the window")
	}

	// Ten concurrent attempts for a fresh user on the two nodes: exactly three pass.
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := la
			if i%2 == 1 {
				l = lb
			}
			_, ok, err := l.BeginContext(ctx, "198.51.100.1", "bob", now.Add(2*time.Minute+time.Duration(i)*time.Millisecond))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if passed != 3 {
		t.Fatalf("%d concurrent attempts passed, want 3", passed)
	}

	// A store that is gone: the attempt is refused with ErrUnavailable, never let through.
	b.Close()
	if _, ok, err := lb.BeginContext(ctx, "203.0.113.1", "carol", now.Add(3*time.Minute)); ok || !errors.Is(err, ratelimit.ErrUnavailable) {
		t.Fatalf("with the store closed: ok %v, %v; want refused with ErrUnavailable", ok, err)
	}
}
