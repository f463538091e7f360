package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/policyd"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

// masterCf are the master.cf lines of the FILTER pattern: the transport that carries
// held messages to the intake, and the re-injection smtpd of docs/postfix.md (its
// master.cf block, as written there) on reinjectPort.
func masterCf(t *testing.T, reinjectPort int) []string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "postfix.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "```master.cf\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("docs/postfix.md has no master.cf block")
	}
	block = strings.ReplaceAll(block, "127.0.0.1:10027", "127.0.0.1:"+strconv.Itoa(reinjectPort))
	return append([]string{"rcptguard unix - - n - 10 smtp"}, strings.Split(strings.TrimSpace(block), "\n")...)
}

// submit sends msg to Postfix as an authenticated user at client address addr would
// (XCLIENT: the policy service sees that address and user), and returns the queue ID
// Postfix answered with.
func submit(t *testing.T, pf *testenv.Postfix, client, user, from, rcpt string, msg []byte) string {
	t.Helper()
	c, err := textproto.Dial("tcp", pf.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	step := func(want int, format string, args ...any) string {
		t.Helper()
		if format != "" {
			if err := c.PrintfLine(format, args...); err != nil {
				t.Fatal(err)
			}
		}
		_, text, err := c.ReadResponse(want)
		if err != nil {
			t.Fatalf("%q: %v", fmt.Sprintf(format, args...), err)
		}
		return text
	}
	step(220, "")
	step(250, "EHLO client.example")
	step(220, "XCLIENT ADDR=%s NAME=client.example LOGIN=%s", client, user)
	step(250, "EHLO client.example")
	step(250, "MAIL FROM:<%s>", from)
	step(250, "RCPT TO:<%s>", rcpt)
	step(354, "DATA")
	w := c.DotWriter()
	w.Write(msg)
	w.Close()
	text := step(250, "")
	_, id, ok := strings.Cut(text, "queued as ")
	if !ok {
		t.Fatalf("DATA: %q", text)
	}
	step(221, "QUIT")
	return strings.TrimSpace(id)
}

// waitHeld polls the store until it holds n messages, and returns them newest first.
func waitHeld(ctx context.Context, st quarantine.Store, n int) ([]quarantine.Message, error) {
	for {
		msgs, err := st.List(ctx, quarantine.Filter{})
		if err == nil && len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-ctx.Done():
			return msgs, fmt.Errorf("store holds %d messages, want %d: %w (%v)", len(msgs), n, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitHandoverGone waits until the hand-over of the queue ID qid is deleted.
func waitHandoverGone(ctx context.Context, st *quarantine.SQLite, qid string) error {
	for {
		_, err := st.GetHandover(ctx, qid)
		if errors.Is(err, quarantine.ErrNotFound) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last answer: %v)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestPostfixHandsOverThroughARestart: a real Postfix asks the policy service, which
// answers FILTER after recording the hand-over; Postfix queues the message and hands it
// to the intake, which holds it with the policy service's decision, SASL user and client.
// Then the intake is down when Postfix hands a message over: Postfix defers it; the
// intake comes back with a reloaded guard that would let the recipient through, Postfix
// retries, and the message is held with the original decision, user and client.
func TestPostfixHandsOverThroughARestart(t *testing.T) {
	testenv.RequirePostfix(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	f := newFixture(t)
	reinject := testenv.FreePort(t)
	f.srv.Close()
	f.reinject = "127.0.0.1:" + strconv.Itoa(reinject)
	intakePort := testenv.FreePort(t)
	f.start(t, "127.0.0.1:"+strconv.Itoa(intakePort))

	p := &policyd.Server{Guard: &f.guard, Handovers: f.store, Filter: "rcptguard:[127.0.0.1]:" + strconv.Itoa(intakePort),
		Logger: slog.New(slog.NewTextHandler(f.logs, nil))}
	sink := testenv.StartSink(t)
	pf := startFilterPostfix(t, p, sink, reinject,
		// Retry a deferred message within seconds.
		"queue_run_delay = 1s", "minimal_backoff_time = 1s", "maximal_backoff_time = 2s")
	msg := func(subject string) []byte {
		return []byte("From: alice@contoso.com\r\nTo: x@army.ml\r\nSubject: " + subject + "\r\n\r\nHello.\r\n")
	}
	check := func(t *testing.T, m quarantine.Message, qid, subject string) {
		t.Helper()
		if m.Adapter != "intake" || m.QueueID != qid || m.AuthUser != "alice" || m.ClientAddr != "192.0.2.7" || m.Subject != subject ||
			len(m.Recipients) != 1 || m.Recipients[0].Address != "x@army.ml" || m.Recipients[0].Verdict != verdict.Hold ||
			!strings.Contains(m.Recipients[0].Reason, "army.mil") {
			t.Fatalf("held %+v", m)
		}
		// The intake deletes the hand-over once the message is held (consume): wait for it.
		if err := waitHandoverGone(ctx, f.store, qid); err != nil {
			t.Errorf("the hand-over of %s is still there: %v", qid, err)
		}
	}

	outer := t
	t.Run("held with what the policy service saw", func(t *testing.T) {
		qid := submit(t, pf, "192.0.2.7", "alice", "alice@contoso.com", "x@army.ml", msg("first"))
		msgs, err := waitHeld(ctx, f.store, 1)
		if err != nil {
			t.Fatal(err)
		}
		check(t, msgs[0], qid, "first")
		if err := pf.WaitLog(ctx, qid+": filter: END-OF-MESSAGE"); err != nil {
			t.Error(err)
		}
		if ev := f.event(t); !ev.Handover {
			t.Errorf("event %+v", ev)
		}
	})

	t.Run("held with the original decision after a restart", func(t *testing.T) {
		f.srv.Close() // rcptguard's intake is down: Postfix defers the message
		qid := submit(t, pf, "192.0.2.7", "alice", "alice@contoso.com", "x@army.ml", msg("second"))
		if err := pf.WaitLog(ctx, qid+": to=<x@army.ml>, relay=none"); err != nil { // deferred: connection refused
			t.Fatal(err)
		}
		// The restart: a guard that would let x@army.ml through, a new intake.
		f.guard.Store(guardFor(t, true))
		f.start(outer, "127.0.0.1:"+strconv.Itoa(intakePort)) // serves until the whole test ends
		// Postfix retries on its own within a second or two (queue_run_delay); a queue scan
		// that meets the message still active skips it, so flush too while waiting.
		stopFlush := make(chan struct{})
		go func() {
			for {
				select {
				case <-stopFlush:
					return
				case <-time.After(time.Second):
					pf.Flush()
				}
			}
		}()
		msgs, err := waitHeld(ctx, f.store, 2)
		close(stopFlush)
		if err != nil {
			t.Fatal(err)
		}
		check(t, msgs[0], qid, "second")
		if err := pf.WaitQueueEmpty(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(sink.Messages()); n != 0 {
			t.Fatalf("sink got %d messages", n)
		}
	})

	t.Run("what needs no holding goes to the re-injection smtpd", func(t *testing.T) {
		res, err := testenv.SMTPSend(f.addr, "alice@contoso.com", []string{"amy@army.mil"}, msg("handed back"))
		if err != nil || !res.Delivered() || !strings.Contains(res.Data.Text, "handed back") {
			t.Fatalf("%+v %v", res, err)
		}
		msgs, err := sink.WaitFor(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if m := msgs[0]; m.Header("Subject") != "handed back" || !strings.Contains(string(m.Data), "(rcptguard)") {
			t.Fatalf("delivered %+v\n%s", m, m.Data)
		}
		if err := pf.WaitLog(ctx, "postfix/reinject/smtpd"); err != nil {
			t.Error(err)
		}
	})
}

// startFilterPostfix serves the policy service p and starts a Postfix that asks it at RCPT
// and at the end of the message, relays to sink, and has the FILTER transport and the
// re-injection smtpd (on reinjectPort) of docs/postfix.md; extra are more main.cf lines.
func startFilterPostfix(t *testing.T, p *policyd.Server, sink *testenv.Sink, reinjectPort int, extra ...string) *testenv.Postfix {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go p.Serve(l)
	t.Cleanup(func() { p.Close() })
	svc := "check_policy_service { inet:" + l.Addr().String() + ", timeout=5s, default_action=DEFER_IF_PERMIT }"
	pf := testenv.StartPostfix(t, testenv.Options{
		RelayHost: sink.Addr(),
		ExtraMain: append([]string{
			"mynetworks = 127.0.0.0/8 192.0.2.0/24",
			"smtpd_authorized_xclient_hosts = 127.0.0.0/8",
			"smtpd_recipient_restrictions = " + svc + ", permit_mynetworks, reject_unauth_destination",
			"smtpd_end_of_data_restrictions = " + svc,
		}, extra...),
		ExtraMaster: masterCf(t, reinjectPort),
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("maillog:\n%s", pf.Log())
		}
	})
	return pf
}
