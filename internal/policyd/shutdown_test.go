package policyd

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/guard"
)

// The protocol's answer to trouble is no answer: the server logs and disconnects, and
// Postfix applies its default_action (DEFER_IF_PERMIT recommended) or 451 4.3.5.
func TestTroubleClosesTheConnectionWithoutAnAnswer(t *testing.T) {
	long := "sender=" + strings.Repeat("x", MaxLineLength) + "\n\n"
	tests := []struct {
		name, raw string
		guard     *guard.Current
	}{
		{"line without =", "request=smtpd_access_policy\nrecipient\n\n", nil},
		{"oversized line", long, nil},
		{"repeated attribute", strings.Replace(rcptReq("1.1.1.0", "b@army.ml"), "\n\n", "\nrecipient=c@army.ml\n\n", 1), nil},
		{"not a policy request", req(StateRcpt, "1.1.1.0", "request=other", "recipient=a@army.mil"), nil},
		{"RCPT without recipient", req(StateRcpt, "1.1.1.0"), nil},
		{"RCPT without instance", rcptReq("", "a@army.mil"), nil},
		{"END-OF-MESSAGE without instance", eomReq("", 1), nil},
		{"no guard at RCPT", rcptReq("1.1.1.0", "a@army.mil"), &guard.Current{}},
		{"no guard at END-OF-MESSAGE", eomReq("1.1.1.0", 1), &guard.Current{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, start(t, &Server{Guard: tc.guard}))
			c.send(tc.raw)
			if !c.closed() {
				t.Fatal("connection still open")
			}
		})
	}
}

func TestGuardLoadedLaterIsUsed(t *testing.T) {
	cur := &guard.Current{}
	addr := start(t, &Server{Guard: cur})
	c := dial(t, addr)
	c.send(rcptReq("1.1.1.0", "a@army.ml"))
	if !c.closed() {
		t.Fatal("answered without a guard")
	}
	cur.Store(testGuard(t, rejectPolicy()).Load())
	if a := dial(t, addr).ask(rcptReq("1.1.1.0", "a@army.ml")); !strings.HasPrefix(a, "550 5.7.1 ") {
		t.Fatalf("after loading: %q", a)
	}
}

func TestMaxConnsClosesTheConnectionsBeyond(t *testing.T) {
	addr := start(t, &Server{MaxConns: 1})
	c1 := dial(t, addr)
	c1.ask(rcptReq("1.1.1.0", "a@army.mil")) // c1 is tracked
	c2 := dial(t, addr)
	if !c2.closed() {
		t.Fatal("second connection kept")
	}
	if a := c1.ask(eomReq("1.1.1.0", 1)); a != "DUNNO" {
		t.Fatalf("first connection: %q", a)
	}
}

func TestShutdownWithIdleConnectionReturns(t *testing.T) {
	s := &Server{}
	c := dial(t, start(t, s))
	c.ask(rcptReq("1.1.1.0", "a@army.mil"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if !c.closed() {
		t.Fatal("idle connection left open")
	}
}

func TestServeAfterShutdownReturnsErrServerClosed(t *testing.T) {
	s := &Server{Guard: testGuard(t, guard.DefaultPolicy())}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(l); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve = %v", err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("listener not closed: %v", err)
	}
}

// blockFirst returns an Observe hook that blocks the first decision until release is
// closed, and a channel closed when that decision has been reached.
func blockFirst() (observe func(Event), reached, release chan struct{}) {
	reached, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	return func(Event) {
		once.Do(func() {
			close(reached)
			<-release
		})
	}, reached, release
}

// waitShuttingDown waits until Shutdown has begun.
func waitShuttingDown(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !s.shuttingDown() {
		if time.Now().After(deadline) {
			t.Fatal("Shutdown did not begin")
		}
		runtime.Gosched()
	}
}

func TestShutdownAnswersTheRequestInFlightAndDefersTheNext(t *testing.T) {
	observe, reached, release := blockFirst()
	s := &Server{Observe: observe}
	c := dial(t, start(t, s))
	c.send(rcptReq("1.1.1.0", "a@army.mil") + rcptReq("1.1.1.0", "b@army.mil"))
	<-reached
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	waitShuttingDown(t, s)
	close(release)
	if a, err := c.answer(); a != "DUNNO" || err != nil {
		t.Fatalf("request in flight: %q, %v", a, err)
	}
	if a, err := c.answer(); a != shutdownAction || err != nil {
		t.Fatalf("next request: %q, %v; want %q", a, err, shutdownAction)
	}
	if !c.closed() {
		t.Fatal("connection left open")
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestShutdownClosesConnectionsWhenItsContextEnds(t *testing.T) {
	observe, reached, release := blockFirst()
	s := &Server{Observe: observe}
	c := dial(t, start(t, s))
	t.Cleanup(func() { close(release) }) // before the server's cleanup
	c.send(rcptReq("1.1.1.0", "a@army.mil"))
	<-reached
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v, want context.Canceled", err)
	}
	if !c.closed() {
		t.Fatal("connection with a request in flight left open")
	}
}

func TestCloseClosesEverything(t *testing.T) {
	s := &Server{}
	addr := start(t, s)
	c := dial(t, addr)
	c.ask(rcptReq("1.1.1.0", "a@army.mil"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !c.closed() {
		t.Fatal("connection left open")
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Fatal("still accepting")
	}
}
