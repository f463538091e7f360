package policyd

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

const testFilter = "smtp:[127.0.0.1]:10026"

// openStore is a real quarantine store in the test's folder.
func openStore(t *testing.T) *quarantine.SQLite {
	t.Helper()
	st, err := quarantine.OpenSQLite(filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestEndOfMessageUsesTheDecisionsMadeAtRCPT: END-OF-MESSAGE answers from the decisions
// made at RCPT, not from the guard in use at the end: a reload in between that would
// decide the other way changes nothing about the message.
func TestEndOfMessageUsesTheDecisionsMadeAtRCPT(t *testing.T) {
	lenient := guard.DefaultPolicy()
	lenient.Protected, lenient.Namespace = guard.Allow, guard.Allow
	s := &Server{Guard: testGuard(t, guard.DefaultPolicy())}
	c := dial(t, start(t, s))
	c.ask(rcptReq("1.1.1.0", "bob@army.ml")) // held by the guard in use
	s.Guard.Store(testGuard(t, lenient).Load())
	if a := c.ask(eomReq("1.1.1.0", 1)); !strings.HasPrefix(a, "550 5.7.1 ") || !strings.Contains(a, "army.mil") {
		t.Fatalf("after a lenient reload: %q, want the hold decided at RCPT", a)
	}
	// And the other way: let through at RCPT, a stricter guard loaded before the end.
	c.ask(rcptReq("1.1.1.1", "bob@army.ml"))
	s.Guard.Store(testGuard(t, guard.DefaultPolicy()).Load())
	if a := c.ask(eomReq("1.1.1.1", 1)); a != "DUNNO" {
		t.Fatalf("after a strict reload: %q, want DUNNO as decided at RCPT", a)
	}
}

// TestFilterRecordsTheHandoverFirst: before answering FILTER, the policy service records
// what the intake needs, by the queue ID: the sender, the SASL user, the client and the
// decisions made at RCPT (of the one recipient Postfix names, when it names one).
func TestFilterRecordsTheHandoverFirst(t *testing.T) {
	st := openStore(t)
	c := dial(t, start(t, &Server{Filter: testFilter, Handovers: st}))
	who := []string{"sasl_username=alice", "client_address=192.0.2.7", "queue_id=4XyZ1abc"}
	c.ask(req(StateRcpt, "2.1", append(who, "recipient=amy@army.mil")...))
	c.ask(req(StateRcpt, "2.1", append(who, "recipient=bob@army.ml")...))
	if a := c.ask(req(StateEOM, "2.1", append(who, "recipient_count=2")...)); a != "FILTER "+testFilter {
		t.Fatalf("END-OF-MESSAGE: %q", a)
	}
	h, err := st.GetHandover(context.Background(), "4XyZ1abc")
	if err != nil {
		t.Fatal(err)
	}
	if h.Sender != "alice@contoso.com" || h.AuthUser != "alice" || h.ClientAddr != "192.0.2.7" || len(h.Recipients) != 2 ||
		h.Recipients[0].Address != "amy@army.mil" || h.Recipients[0].Verdict != verdict.Allow ||
		h.Recipients[1].Address != "bob@army.ml" || h.Recipients[1].Verdict != verdict.Hold ||
		h.Recipients[1].Situation != "protected" || len(h.Recipients[1].Intended) == 0 || h.Recipients[1].Reason == "" {
		t.Fatalf("hand-over %+v", h)
	}

	// Postfix names the one recipient it accepted: the hand-over has that one only.
	one := []string{"queue_id=5AbC", "recipient=carol@army.ml"}
	c.ask(rcptReq("2.2", "dave@navy.ml"))
	c.ask(rcptReq("2.2", "carol@army.ml"))
	if a := c.ask(req(StateEOM, "2.2", append(one, "recipient_count=1")...)); a != "FILTER "+testFilter {
		t.Fatalf("END-OF-MESSAGE: %q", a)
	}
	if h, err := st.GetHandover(context.Background(), "5AbC"); err != nil || len(h.Recipients) != 1 || h.Recipients[0].Address != "carol@army.ml" {
		t.Fatalf("hand-over %+v, %v", h, err)
	}
}

// TestFailingHandoverDefersTheMessage: a hand-over that cannot be recorded (the store
// fails, or Postfix gave no queue ID) makes END-OF-MESSAGE a temporary failure: never
// FILTER without a record, never DUNNO.
func TestFailingHandoverDefersTheMessage(t *testing.T) {
	st := openStore(t)
	var mu sync.Mutex
	var last Event
	s := &Server{Filter: testFilter, Handovers: st, Observe: func(ev Event) { mu.Lock(); last = ev; mu.Unlock() }}
	c := dial(t, start(t, s))
	c.ask(rcptReq("3.1", "bob@army.ml"))
	if a := c.ask(req(StateEOM, "3.1", "recipient_count=1")); !strings.HasPrefix(a, "451 4.3.0 ") {
		t.Fatalf("without a queue ID: %q, want 451 4.3.0", a)
	}
	st.Close() // every write fails from now on
	c.ask(rcptReq("3.2", "bob@army.ml"))
	if a := c.ask(eomReq("3.2", 1)); !strings.HasPrefix(a, "451 4.3.0 ") {
		t.Fatalf("with a failing store: %q, want 451 4.3.0", a)
	}
	mu.Lock()
	defer mu.Unlock()
	if ev := last; ev.Stage != "eom" || !ev.TempFail || !ev.HandoverFailed {
		t.Fatalf("last event %+v, want a temporary failure at eom", ev)
	}
}

// TestFilterNeedsHandovers: a server told to FILTER with nowhere to record the hand-over
// does not start.
func TestFilterNeedsHandovers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = (&Server{Guard: testGuard(t, guard.DefaultPolicy()), Filter: testFilter}).Serve(l)
	if err == nil || errors.Is(err, ErrServerClosed) || !strings.Contains(err.Error(), "Handovers") {
		t.Fatalf("Serve = %v", err)
	}
}
