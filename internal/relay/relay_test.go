package relay

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

func TestAllowedMailReachesSinkOnceWithReceived(t *testing.T) {
	t.Parallel()
	r := startRelay(t, nil)
	rcpts := []string{"amy@army.mil", "carol@example.org"}
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", rcpts, message("allowed"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Delivered() || !strings.Contains(res.Data.Text, "upstream: ") {
		t.Fatalf("DATA = %v, want 250 with the upstream's answer", res.Data)
	}
	// 250 comes only after the upstream accepted: the message is there already.
	msgs := r.sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("sink has %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.From != "alice@contoso.com" || !slices.Equal(m.Rcpts, rcpts) || m.Helo != relayHost {
		t.Errorf("envelope = %q %q helo %q", m.From, m.Rcpts, m.Helo)
	}
	if !bytes.HasPrefix(m.Data, []byte("Received: from localhost ([127.0.0.1])\r\n\tby "+relayHost+" (rcptguard) with ESMTP id ")) {
		t.Errorf("message starts %q", m.Data[:min(len(m.Data), 200)])
	}
	if rcv := m.Header("Received"); strings.Contains(rcv, " for <") || !strings.Contains(rcv, "; ") {
		t.Errorf("Received = %q: want a date and no recipient (two of them)", rcv)
	}
	if !bytes.HasSuffix(m.Data, message("allowed")) {
		t.Errorf("message changed: %q", m.Data)
	}
	evs := r.events.all()
	if len(evs) != 1 || evs[0].Outcome != OutcomeRelayed || evs[0].Verdict != guard.Allow || evs[0].Code != 250 {
		t.Errorf("events = %+v", evs)
	}
}

func TestRejectedRecipientRefusedAtRcptOthersDelivered(t *testing.T) {
	t.Parallel()
	r := startRelay(t, func(s *Server) { s.Guard = newGuard(t, guard.Reject, false) })
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"bob@army.ml", "amy@army.mil"}, message("reject"))
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := res.Rcpt("bob@army.ml")
	if rep.Code != 550 || rep.Enhanced != "5.7.1" || !strings.Contains(rep.Text, "Did you mean army.mil?") {
		t.Errorf("RCPT army.ml = %v, want 550 5.7.1 with the reason", rep)
	}
	if !res.Delivered() {
		t.Fatalf("DATA = %v", res.Data)
	}
	if msgs := r.sink.Messages(); len(msgs) != 1 || !slices.Equal(msgs[0].Rcpts, []string{"amy@army.mil"}) {
		t.Errorf("sink = %+v", msgs)
	}
	if rcv := r.sink.Messages()[0].Header("Received"); !strings.Contains(rcv, "for <amy@army.mil>") {
		t.Errorf("Received = %q, want for <amy@army.mil>", rcv)
	}
}

func TestInvalidRecipientRefused553(t *testing.T) {
	t.Parallel()
	r := startRelay(t, nil)
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("553 5.1.3 Not a valid address", "RCPT TO:<bob@-army.mil>")
}

func TestHeldRecipientRefusesWholeMessageAtEndOfData(t *testing.T) {
	t.Parallel()
	r := startRelay(t, nil)
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"amy@army.mil", "bob@army.ml"}, message("held"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Accepted()) != 2 {
		t.Errorf("RCPT replies %+v: want both accepted", res.Rcpts)
	}
	d := res.Data
	if d.Code != 550 || d.Enhanced != "5.7.1" || !strings.Contains(d.Text, "<bob@army.ml>: Did you mean army.mil?") ||
		!strings.HasSuffix(d.Text, "Please check the recipients and send again.") {
		t.Errorf("DATA = %v", d)
	}
	if msgs := r.sink.Messages(); len(msgs) != 0 {
		t.Errorf("sink got %d messages", len(msgs))
	}
	if evs := r.events.all(); len(evs) != 1 || evs[0].Outcome != OutcomeHoldRefused || evs[0].Verdict != guard.Hold || evs[0].HeldID != "" {
		t.Errorf("events = %+v", evs)
	}
}

func TestWarnAddsHeadersAndStripsForgedOnes(t *testing.T) {
	t.Parallel()
	r := startRelay(t, nil)
	forged := []byte("X-Rcptguard-Verdict: allow\r\nx-rcptguard-reason: trust me,\r\n\tall fine\r\n")
	msg := append(forged, message("warn")...)
	for _, rcpt := range []string{"dan@armmy.mil", "carol@example.org"} {
		res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{rcpt}, msg)
		if err != nil || !res.Delivered() {
			t.Fatalf("%s: %v %v", rcpt, res, err)
		}
	}
	msgs := r.sink.Messages()
	if len(msgs) != 2 {
		t.Fatalf("sink has %d messages", len(msgs))
	}
	warned, plain := msgs[0], msgs[1]
	if v := warned.Header("X-Rcptguard-Verdict"); v != "warn" {
		t.Errorf("warned: X-Rcptguard-Verdict = %q", v)
	}
	if v := warned.Header("X-Rcptguard-Reason"); !strings.HasPrefix(v, "Did you mean army.mil?") {
		t.Errorf("warned: X-Rcptguard-Reason = %q", v)
	}
	for _, m := range msgs {
		if n := bytes.Count(bytes.ToLower(m.Data), []byte("x-rcptguard-verdict:")); m.Rcpts[0] == "dan@armmy.mil" && n != 1 || m.Rcpts[0] != "dan@armmy.mil" && n != 0 {
			t.Errorf("%s: %d verdict fields in %q", m.Rcpts[0], n, m.Data)
		}
		if bytes.Contains(m.Data, []byte("trust me")) || bytes.Contains(m.Data, []byte("all fine")) {
			t.Errorf("forged field kept: %q", m.Data)
		}
	}
	if !bytes.Contains(plain.Data, []byte("Subject: warn\r\n")) {
		t.Errorf("header lost: %q", plain.Data)
	}
}

func TestMonitorModeDeliversAndLogs(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	r := startRelay(t, func(s *Server) {
		s.Guard = newGuard(t, guard.Reject, true)
		s.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"bob@army.ml"}, message("secret-subject"))
	if err != nil || !res.Delivered() {
		t.Fatalf("%+v %v", res, err)
	}
	m := r.sink.Messages()[0]
	if m.Header("X-Rcptguard-Verdict") != "" {
		t.Errorf("monitor mode added headers: %q", m.Data)
	}
	// One line per decision, and no content.
	var lines []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
		var v map[string]any
		if err := json.Unmarshal(l, &v); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if v["msg"] == "relay decision" {
			lines = append(lines, v)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("decision lines = %v", lines)
	}
	l := lines[0]
	want := map[string]any{"adapter": "relay", "client": "127.0.0.1", "sender": "alice@contoso.com",
		"verdict": "reject", "monitor": true, "outcome": "relayed"}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("log %s = %v, want %v", k, l[k], v)
		}
	}
	if rc, _ := l["recipients"].([]any); len(rc) != 1 || rc[0] != "bob@army.ml=reject" {
		t.Errorf("log recipients = %v", l["recipients"])
	}
	if tq, _ := l["techniques"].([]any); len(tq) == 0 {
		t.Errorf("log techniques = %v", l["techniques"])
	}
	if bytes.Contains(logs.Bytes(), []byte("secret-subject")) || bytes.Contains(logs.Bytes(), []byte("Hello.")) {
		t.Errorf("log has message content: %s", logs.Bytes())
	}
}

func TestNoGuardLoadedFailsTemporarily(t *testing.T) {
	t.Parallel()
	r := startRelay(t, func(s *Server) { s.Guard = new(guard.Current) })
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	c.expect("250", "MAIL FROM:<alice@contoso.com>")
	c.expect("451 4.3.0", "RCPT TO:<amy@army.mil>")
}

// TestSessionKeepsUpstreamAcrossTransactions sends allowed, held and allowed mail on one
// connection: the held one leaves an open upstream transaction that must be reset.
func TestSessionKeepsUpstreamAcrossTransactions(t *testing.T) {
	t.Parallel()
	r := startRelay(t, nil)
	c := dial(t, r.addr)
	c.expect("250", "EHLO client.test")
	for i, rcpt := range []string{"amy@army.mil", "bob@army.ml", "carol@example.org"} {
		c.expect("250", "MAIL FROM:<alice@contoso.com>")
		c.expect("250", "RCPT TO:<%s>", rcpt)
		c.expect("354", "DATA")
		want := "250 2.0.0 Ok, relayed"
		if i == 1 {
			want = "550 5.7.1"
		}
		c.expect(want, "Subject: %d\r\n\r\nbody\r\n.", i)
	}
	c.expect("221", "QUIT")
	msgs := r.sink.Messages()
	if len(msgs) != 2 || msgs[0].Rcpts[0] != "amy@army.mil" || msgs[1].Rcpts[0] != "carol@example.org" || len(msgs[1].Rcpts) != 1 {
		t.Errorf("sink = %+v", msgs)
	}
}
