package milter

import (
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

// heldMail is a message with folded header fields, white space after the colons that
// Sendmail's rule would lose, an encoded subject and a body that must survive byte for
// byte.
func heldMail(id string) (header, body string) {
	header = "From: Alice <alice@contoso.com>\r\n" +
		"To: Bob <bob@army.ml>\r\n" +
		"Subject: =?utf-8?q?Caf=C3=A9?= plans\r\n\tfor " + id + "\r\n" +
		"Message-ID: <" + id + "@contoso.com>\r\n" +
		"X-Folded: first\r\n second\r\n\tthird\r\n" +
		"X-Two-Spaces:  two\r\n" +
		"X-Tab:\ttab\r\n"
	body = "Dear general,\r\n\r\n..leading dot\r\n  indented\r\n\tand tabbed\r\nEnd.\r\n"
	return header, body
}

// TestPostfixHold runs the milter with a quarantine behind a real Postfix: a message to
// hold is acknowledged to the client, discarded by Postfix and kept in the quarantine
// exactly as it came; the others are delivered as before.
func TestPostfixHold(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	sink := testenv.StartSink(t)
	q := openStore(t)
	var ev events
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy())), Holder: storeHolder(q), Observe: ev.observe})
	pf := testenv.StartPostfix(t, testenv.Options{RelayHost: sink.Addr(), ExtraMain: milterMain(addr)})

	t.Run("SMTP message to hold is discarded by Postfix and kept", func(t *testing.T) {
		header, body := heldMail("held-smtp")
		res, err := testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.com", []string{"carol@army.mil", "bob@army.ml"}, []byte(header+"\r\n"+body))
		if err != nil || !res.Delivered() || len(res.Accepted()) != 2 {
			t.Fatalf("%+v %v; want both recipients and the message accepted", res, err)
		}
		qid := res.QueueID()
		if err := pf.WaitLog(ctx, qid+": milter-discard: END-OF-MESSAGE"); err != nil {
			t.Fatal(err)
		}
		m := waitHeld(t, q, "Café plans for held-smtp")
		if m.QueueID != qid {
			t.Errorf("queue ID %q, want %q", m.QueueID, qid)
		}
		checkRaw(t, m.Raw, header, body)
		if m.Sender != "alice@contoso.com" || m.ClientAddr != "127.0.0.1" ||
			m.Adapter != "milter" || len(m.Recipients) != 2 || m.Recipients[1].Address != "bob@army.ml" ||
			m.Recipients[1].Verdict != verdict.Hold || m.Recipients[0].Verdict != verdict.Allow {
			t.Errorf("message %+v", m)
		}
	})

	t.Run("sendmail message to hold is discarded by Postfix and kept", func(t *testing.T) {
		header, body := heldMail("held-local")
		if err := pf.Sendmail(t, "alice@contoso.com", []string{"bob@army.ml"}, []byte(header+"\r\n"+body)); err != nil {
			t.Fatal(err)
		}
		m := waitHeld(t, q, "Café plans for held-local")
		if err := pf.WaitLog(ctx, m.QueueID+": milter-discard: END-OF-MESSAGE"); err != nil {
			t.Fatal(err)
		}
		checkRaw(t, m.Raw, header, body)
		if m.ClientAddr != "127.0.0.1" {
			t.Errorf("message %+v", m)
		}
	})

	t.Run("large message to hold is kept byte for byte", func(t *testing.T) {
		header, _ := heldMail("held-large")
		body := largeBody(300 << 10)
		res, err := testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.com", []string{"bob@army.ml"}, []byte(header+"\r\n"+body))
		if err != nil || !res.Delivered() {
			t.Fatalf("%+v %v", res, err)
		}
		checkRaw(t, waitHeld(t, q, "Café plans for held-large").Raw, header, body)
	})

	t.Run("allowed message reaches the sink", func(t *testing.T) {
		res, err := testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.com", []string{"alice@army.mil"}, mail("allowed"))
		if err != nil || !res.Delivered() {
			t.Fatalf("%+v %v", res, err)
		}
		if _, err := waitSubject(ctx, sink, "allowed"); err != nil {
			t.Fatal(err)
		}
	})

	if _, err := pf.WaitQueue(ctx, func(q []testenv.QueueEntry) bool { return len(q) == 0 }); err != nil {
		t.Fatal(err)
	}
	if n := len(stored(t, q)); n != 3 {
		t.Errorf("%d messages in the quarantine, want the 3 held", n)
	}
	for _, m := range sink.Messages() {
		if strings.Contains(string(m.Data), "Caf=C3=A9") {
			t.Errorf("held message %q reached the sink, for %v", m.Header("Subject"), m.Rcpts)
		}
	}
	for _, e := range ev.all() {
		if e.Action == ActionHold && e.HeldID == "" {
			t.Errorf("hold event without ID: %+v", e)
		}
	}
}

// waitHeld waits until the quarantine holds a message with the subject and returns it,
// with its raw content.
func waitHeld(t *testing.T, q *quarantine.SQLite, subject string) quarantine.Message {
	t.Helper()
	ctx := testCtx(t)
	for {
		for _, m := range stored(t, q) {
			if m.Subject == subject {
				return m
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no held message %q", subject)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// checkRaw checks that raw is header, then only the fields that Postfix's cleanup(8) adds
// to a message without them (Date here: Postfix gives its own Received field to no
// milter), then the blank line and body, byte for byte.
func checkRaw(t *testing.T, raw []byte, header, body string) {
	t.Helper()
	s := string(raw)
	added, ok := strings.CutPrefix(s, header)
	if ok {
		added, ok = strings.CutSuffix(added, "\r\n"+body)
	}
	if !ok || (added != "" && !strings.HasPrefix(added, "Date: ")) || strings.Count(added, "\r\n") > 1 {
		t.Errorf("raw content:\n%q\nwant:\n%q\nwith no more than a Date field added", s, header+"\r\n"+body)
	}
}
