package policyd

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/rcptguard/rcptguard/internal/guard"
)

func TestAllowedRecipientIsDUNNO(t *testing.T) {
	c := dial(t, start(t, &Server{}))
	if a := c.ask(rcptReq("1.1.1.0", "alice@army.mil")); a != "DUNNO" {
		t.Fatalf("RCPT: %q", a)
	}
	if a := c.ask(eomReq("1.1.1.0", 1)); a != "DUNNO" {
		t.Fatalf("END-OF-MESSAGE: %q", a)
	}
}

func TestRejectPolicyRefusesLookalikeAtRCPT(t *testing.T) {
	c := dial(t, start(t, &Server{Guard: testGuard(t, rejectPolicy())}))
	a := c.ask(rcptReq("1.1.1.0", "alice@army.ml"))
	if !strings.HasPrefix(a, "550 5.7.1 Did you mean army.mil?") {
		t.Fatalf("RCPT: %q", a)
	}
}

func TestHoldIsDUNNOAtRCPTAndRefusedAtEndOfMessage(t *testing.T) {
	c := dial(t, start(t, &Server{}))
	if a := c.ask(rcptReq("1.1.1.0", "alice@army.ml")); a != "DUNNO" {
		t.Fatalf("RCPT: %q", a)
	}
	a := c.ask(eomReq("1.1.1.0", 1))
	if !strings.HasPrefix(a, "550 5.7.1 alice@army.ml: Did you mean army.mil?") ||
		!strings.HasSuffix(a, "Please check the recipients and send again.") {
		t.Fatalf("END-OF-MESSAGE: %q", a)
	}
}

func TestOneHeldRecipientRefusesTheWholeMessage(t *testing.T) {
	c := dial(t, start(t, &Server{}))
	for _, r := range []string{"alice@army.mil", "bob@army.ml"} {
		if a := c.ask(rcptReq("1.1.1.0", r)); a != "DUNNO" {
			t.Fatalf("RCPT %s: %q", r, a)
		}
	}
	a := c.ask(eomReq("1.1.1.0", 2))
	if !strings.HasPrefix(a, "550 5.7.1 bob@army.ml: Did you mean army.mil?") || strings.Contains(a, "alice") {
		t.Fatalf("END-OF-MESSAGE: %q", a)
	}
}

func TestWarnPrependsOneHeaderAtRCPT(t *testing.T) {
	c := dial(t, start(t, &Server{}))
	a := c.ask(rcptReq("1.1.1.0", "bob@armyy.mil"))
	want := "PREPEND X-Rcptguard-Verdict: warn; Did you mean army.mil?"
	if !strings.HasPrefix(a, want) || strings.Contains(a, "bob@") {
		t.Fatalf("RCPT: %q, want %q... without the address", a, want)
	}
	if a := c.ask(eomReq("1.1.1.0", 1)); a != "DUNNO" {
		t.Fatalf("END-OF-MESSAGE: %q", a)
	}
}

func TestInvalidRecipientIsRefused(t *testing.T) {
	c := dial(t, start(t, &Server{}))
	if a := c.ask(rcptReq("1.1.1.0", "bob@localhost")); !strings.HasPrefix(a, "553 5.1.3 Not a valid address") {
		t.Fatalf("RCPT: %q", a)
	}
}

func TestMonitorModeAnswersDUNNOAndLogsWhatItWouldDo(t *testing.T) {
	logs := &logBuffer{}
	s := &Server{Guard: testGuard(t, monitorPolicy(guard.DefaultPolicy())), Logger: slog.New(slog.NewTextHandler(logs, nil))}
	c := dial(t, start(t, s))
	for _, r := range []string{"alice@army.mil", "bob@army.ml", "carol@armyy.mil"} {
		if a := c.ask(rcptReq("1.1.1.0", r)); a != "DUNNO" {
			t.Fatalf("RCPT %s: %q", r, a)
		}
	}
	if a := c.ask(eomReq("1.1.1.0", 3)); a != "DUNNO" {
		t.Fatalf("END-OF-MESSAGE: %q", a)
	}
	rc := dial(t, start(t, &Server{Guard: testGuard(t, monitorPolicy(rejectPolicy()))}))
	if a := rc.ask(rcptReq("1.1.1.1", "bob@army.ml")); a != "DUNNO" {
		t.Fatalf("RCPT with monitored reject: %q", a)
	}
	out := logs.String()
	for _, want := range []string{
		`recipient=carol@armyy.mil verdict=warn monitor=true`,
		`would_action="PREPEND X-Rcptguard-Verdict: warn; Did you mean army.mil?`,
		`stage=eom instance=1.1.1.0 queue_id=4XyZ1234AB sender=alice@contoso.com recipients=3 flagged="[bob@army.ml carol@armyy.mil]" verdict=hold monitor=true`,
		`would_action="550 5.7.1 bob@army.ml: Did you mean army.mil?`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s\n%s", want, out)
		}
	}
}

func TestDecisionLogLine(t *testing.T) {
	logs := &logBuffer{}
	c := dial(t, start(t, &Server{Logger: slog.New(slog.NewTextHandler(logs, nil))}))
	c.ask(req(StateRcpt, "9.9.9.9", "recipient=bob@army.ml", "queue_id=QID1"))
	c.ask(rcptReq("9.9.9.9", "alice@army.mil")) // allowed: Debug level, not logged here
	want := `level=INFO msg="policy decision" adapter=policy conn=1 stage=rcpt instance=9.9.9.9 queue_id=QID1 ` +
		`sender=alice@contoso.com recipient=bob@army.ml verdict=hold monitor=false techniques=[suffix-typo] ` +
		`intended=[army.mil] action=DUNNO`
	if out := logs.String(); !strings.Contains(out, want) || strings.Count(out, "\n") != 1 {
		t.Fatalf("log:\n%s\nwant one line with\n%s", out, want)
	}
}

func TestPersistentConnectionServesManyTransactions(t *testing.T) {
	s := &Server{}
	c := dial(t, start(t, s))
	for i := range 20 {
		inst := fmt.Sprintf("1.2.3.%d", i)
		c.ask(req(StateConnect, inst))
		c.ask(req(StateMail, inst))
		if a := c.ask(rcptReq(inst, "alice@army.mil")); a != "DUNNO" {
			t.Fatalf("%d: RCPT %q", i, a)
		}
		if i%2 == 1 { // every other message is aborted (RSET) before its end
			continue
		}
		c.ask(req(StateData, inst))
		if a := c.ask(eomReq(inst, 1)); a != "DUNNO" {
			t.Fatalf("%d: END-OF-MESSAGE %q", i, a)
		}
	}
	// An aborted transaction is forgotten when the next one starts on the connection.
	if txns, rcpts := s.txns.len(); txns != 1 || rcpts != 1 {
		t.Fatalf("remembered %d transactions, %d recipients; want the last one only", txns, rcpts)
	}
}

func TestTransactionSurvivesReconnect(t *testing.T) {
	addr := start(t, &Server{})
	c1 := dial(t, addr)
	c1.ask(rcptReq("7.7.7.7", "bob@army.ml"))
	c1.nc.Close() // Postfix reached max_idle or max_ttl
	c2 := dial(t, addr)
	if a := c2.ask(eomReq("7.7.7.7", 1)); !strings.HasPrefix(a, "550 5.7.1 bob@army.ml") {
		t.Fatalf("END-OF-MESSAGE on a new connection: %q", a)
	}
}

func TestEndOfMessageWithUncheckedRecipientsIsDeferred(t *testing.T) {
	c := dial(t, start(t, &Server{}))
	// One recipient checked, two accepted: one came through a permit before the check.
	c.ask(rcptReq("1.1.1.0", "alice@army.mil"))
	if a := c.ask(eomReq("1.1.1.0", 2)); !strings.HasPrefix(a, "451 4.3.0 ") {
		t.Fatalf("END-OF-MESSAGE: %q", a)
	}
	// Nothing known about the transaction at all.
	if a := c.ask(eomReq("2.2.2.2", 1)); !strings.HasPrefix(a, "451 4.3.0 ") {
		t.Fatalf("END-OF-MESSAGE of an unknown instance: %q", a)
	}
}

func TestOtherStagesAreDUNNO(t *testing.T) {
	c := dial(t, start(t, &Server{Guard: &guard.Current{}})) // no guard needed for these
	for _, st := range []string{StateConnect, StateEHLO, StateMail, StateData, StateVRFY, StateETRN, "FUTURE"} {
		if a := c.ask(req(st, "1.1.1.0", "recipient=bob@army.ml")); a != "DUNNO" {
			t.Errorf("%s: %q", st, a)
		}
	}
}

func TestTooManyRecipientsAreDeferred(t *testing.T) {
	c := dial(t, start(t, &Server{MaxRecipients: 2}))
	for i, want := range []string{"DUNNO", "DUNNO", "452 4.5.3 ", "DUNNO"} {
		r := fmt.Sprintf("u%d@army.mil", i)
		if i == 3 {
			r = "u0@army.mil" // a repeat takes no room
		}
		if a := c.ask(rcptReq("1.1.1.0", r)); !strings.HasPrefix(a, want) {
			t.Fatalf("RCPT %d: %q, want %q", i, a, want)
		}
	}
	if a := c.ask(eomReq("1.1.1.0", 3)); a != "DUNNO" {
		t.Fatalf("END-OF-MESSAGE: %q", a)
	}
}

func TestObserveGetsEveryDecision(t *testing.T) {
	var mu sync.Mutex
	var got []string
	s := &Server{Observe: func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("%s %s %v %v %s %v", e.Stage, e.Verdict, e.Monitor, e.TempFail, e.Recipient, e.Duration > 0))
	}}
	c := dial(t, start(t, s))
	c.ask(rcptReq("1.1.1.0", "alice@army.mil"))
	c.ask(rcptReq("1.1.1.0", "bob@army.ml"))
	c.ask(eomReq("1.1.1.0", 2))
	c.ask(eomReq("5.5.5.5", 1))
	mu.Lock()
	defer mu.Unlock()
	want := "rcpt allow false false alice@army.mil true|rcpt hold false false bob@army.ml true|" +
		"eom hold false false  true|eom allow false true  true"
	if g := strings.Join(got, "|"); g != want {
		t.Fatalf("events\n%s\nwant\n%s", g, want)
	}
}

func TestManyConcurrentConnections(t *testing.T) {
	addr := start(t, &Server{})
	const conns = 50
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		c := dial(t, addr)
		wg.Go(func() {
			for j := range 20 {
				inst := fmt.Sprintf("%d.%d", i, j)
				bad := (i+j)%3 == 0
				rcpt := "alice@army.mil"
				if bad {
					rcpt = "bob@army.ml"
				}
				c.send(rcptReq(inst, rcpt))
				if a, err := c.answer(); err != nil || a != "DUNNO" {
					errs <- fmt.Errorf("conn %d message %d RCPT: %q %v", i, j, a, err)
					return
				}
				c.send(eomReq(inst, 1))
				a, err := c.answer()
				if err != nil || bad != strings.HasPrefix(a, "550 5.7.1 bob@army.ml") || !bad && a != "DUNNO" {
					errs <- fmt.Errorf("conn %d message %d END-OF-MESSAGE: %q %v", i, j, a, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestEndOfMessageAsksAboutTheOneRecipientPostfixAccepted(t *testing.T) {
	c := dial(t, start(t, &Server{}))
	c.ask(rcptReq("1.1.1.0", "bob@army.ml")) // passed here, refused by a later restriction
	c.ask(rcptReq("1.1.1.0", "alice@army.mil"))
	if a := c.ask(req(StateEOM, "1.1.1.0", "recipient_count=1", "recipient=alice@army.mil")); a != "DUNNO" {
		t.Fatalf("END-OF-MESSAGE: %q", a)
	}
}

func TestHeldMessageWithoutEndOfMessageIsLogged(t *testing.T) {
	logs := &logBuffer{}
	c := dial(t, start(t, &Server{Logger: slog.New(slog.NewTextHandler(logs, nil))}))
	const warning = "ended without an END-OF-MESSAGE request"
	c.ask(rcptReq("1.1.1.0", "bob@army.ml"))
	c.ask(rcptReq("1.1.1.1", "alice@army.mil")) // the next message: no END-OF-MESSAGE came
	if !strings.Contains(logs.String(), warning) {
		t.Fatalf("no warning in\n%s", logs)
	}
	// Once END-OF-MESSAGE requests arrive, a transaction without one is a client that
	// gave up.
	c.ask(eomReq("1.1.1.1", 1))
	before := strings.Count(logs.String(), warning)
	c.ask(rcptReq("1.1.1.2", "bob@army.ml"))
	c.ask(rcptReq("1.1.1.3", "alice@army.mil"))
	if n := strings.Count(logs.String(), warning); n != before {
		t.Fatalf("warned again:\n%s", logs)
	}
}
