package relay

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestShutdownDrains: idle connections are closed with 421 and no new ones are taken,
// while a message in progress is finished and relayed.
func TestShutdownDrains(t *testing.T) {
	t.Parallel()
	r := startRelay(t, nil)
	idle := dial(t, r.addr)
	idle.expect("250", "EHLO client.test")
	busy := startData(t, r)
	open := dial(t, r.addr) // a transaction begun, DATA not yet
	open.expect("250", "EHLO client.test")
	open.expect("250", "MAIL FROM:<alice@contoso.com>")
	open.expect("250", "RCPT TO:<amy@army.mil>")

	done := make(chan error, 1)
	go func() { done <- r.Shutdown(testCtx(t)) }()

	if got := idle.reply(); !strings.HasPrefix(got, "421 ") {
		t.Errorf("idle connection got %q, want 421", got)
	}
	if c, err := net.Dial("tcp", r.addr); err == nil {
		c.Close()
		t.Error("a new connection was accepted during shutdown")
	}
	busy.expect("250 ", "Subject: finishing\r\n\r\nbody\r\n.")
	if got := busy.reply(); !strings.HasPrefix(got, "421 ") {
		t.Errorf("after its message, the connection got %q, want 421", got)
	}
	// A new transaction is refused.
	open.expect("250", "RSET")
	if got := open.cmd("MAIL FROM:<alice@contoso.com>"); !strings.HasPrefix(got, "421 ") {
		t.Errorf("MAIL during shutdown = %q, want 421", got)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if msgs := r.sink.Messages(); len(msgs) != 1 || msgs[0].Header("Subject") != "finishing" {
		t.Errorf("sink = %+v", msgs)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Serve(ln); !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve after Shutdown = %v", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve after Shutdown left its listener open: %v", err)
	}
}

// TestShutdownDeadlineAborts: when the context ends, a message still coming in is cut
// off; the client gets no 250 and the upstream gets no final dot.
func TestShutdownDeadlineAborts(t *testing.T) {
	t.Parallel()
	r := startRelay(t, nil)
	busy := startData(t, r)
	io.WriteString(busy, "Subject: never finished\r\n\r\npart one\r\n")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := r.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want DeadlineExceeded", err)
	}
	busy.SetDeadline(time.Now().Add(10 * time.Second))
	rest, _ := io.ReadAll(busy.r)
	if strings.Contains(string(rest), "250") {
		t.Errorf("client got %q", rest)
	}
	if n := len(r.sink.Messages()); n != 0 {
		t.Errorf("sink got %d messages", n)
	}
}

func TestCloseClosesEverything(t *testing.T) {
	t.Parallel()
	r := startRelay(t, nil)
	c := startData(t, r)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(c.r); err != nil {
		t.Errorf("read after Close: %v, want EOF", err)
	}
	if err := <-r.done; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve = %v", err)
	}
	r.done <- ErrServerClosed // for the cleanup
}
