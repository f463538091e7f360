package policyd

import (
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
)

// TestPanicClosesOnlyItsConnection: a panic while serving one connection (here in
// Observe, for a recipient named boom) is logged with its stack and counted, closes that
// connection, and leaves the server answering the others.
func TestPanicClosesOnlyItsConnection(t *testing.T) {
	logs := &logBuffer{}
	var panicked atomic.Int32
	s := &Server{
		Logger:   slog.New(slog.NewTextHandler(logs, nil)),
		Panicked: func() { panicked.Add(1) },
		Observe: func(ev Event) {
			if strings.HasPrefix(ev.Recipient, "boom@") {
				panic("observer bug")
			}
		},
	}
	addr := start(t, s)
	other := dial(t, addr)
	if a := other.ask(rcptReq("1", "bob@army.mil")); a != "DUNNO" {
		t.Fatalf("before: %q", a)
	}
	c := dial(t, addr)
	c.send(rcptReq("2", "boom@army.mil"))
	if !c.closed() {
		t.Fatal("the connection that panicked is still open")
	}
	if panicked.Load() != 1 {
		t.Errorf("Panicked called %d times, want 1", panicked.Load())
	}
	if l := logs.String(); !strings.Contains(l, "observer bug") || !strings.Contains(l, "panic_test.go") {
		t.Errorf("log has no panic with its stack:\n%s", l)
	}
	if a := other.ask(rcptReq("3", "carol@army.mil")); a != "DUNNO" {
		t.Errorf("the other connection after the panic: %q", a)
	}
	if a := dial(t, addr).ask(rcptReq("4", "dave@army.mil")); a != "DUNNO" {
		t.Errorf("a new connection after the panic: %q", a)
	}
}
