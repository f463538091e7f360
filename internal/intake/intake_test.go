package intake

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

var ctx = context.Background()

func heldIn(t *testing.T, st quarantine.Store) []quarantine.Message {
	t.Helper()
	msgs, err := st.List(ctx, quarantine.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestHeldWithTheHandoversDecision: the intake holds a message with the decision, user
// and client of the policy service's hand-over, not with the guard in use (reloaded
// meanwhile to let the recipient through); the hand-over is then gone, and a retry after
// a crash between the hold and the deletion holds nothing twice.
func TestHeldWithTheHandoversDecision(t *testing.T) {
	f := newFixture(t)
	f.guard.Store(guardFor(t, true)) // would let bob@army.ml through
	h := quarantine.Handover{QueueID: "4XyZ1abc", Sender: "alice@contoso.com", AuthUser: "alice", ClientAddr: "192.0.2.7",
		Recipients: []quarantine.Recipient{{Address: "bob@army.ml", Verdict: verdict.Hold, Reason: "Did you mean army.mil?",
			Intended: []string{"army.mil"}, Situation: "protected"}}}
	if err := f.store.PutHandover(ctx, h); err != nil {
		t.Fatal(err)
	}
	res, err := testenv.SMTPSend(f.addr, "alice@contoso.com", []string{"bob@army.ml"}, postfixMessage(h.QueueID, "held"))
	if err != nil || !res.Delivered() || !strings.Contains(res.Data.Text, "held as ") {
		t.Fatalf("%+v %v", res, err)
	}
	msgs := heldIn(t, f.store)
	if len(msgs) != 1 {
		t.Fatalf("%d messages held", len(msgs))
	}
	m := msgs[0]
	if m.Adapter != "intake" || m.AuthUser != "alice" || m.ClientAddr != "192.0.2.7" || m.QueueID != h.QueueID ||
		len(m.Recipients) != 1 || m.Recipients[0].Verdict != verdict.Hold || m.Recipients[0].Reason != "Did you mean army.mil?" ||
		m.Subject != "held" {
		t.Fatalf("held %+v", m)
	}
	raw, err := f.store.Raw(ctx, m.ID)
	if err != nil || !strings.HasPrefix(string(raw), "Received: from ") ||
		!strings.Contains(string(raw), "by intake.rcptguard.test (rcptguard) with ESMTP id 4XyZ1abc") ||
		!strings.HasSuffix(string(raw), string(postfixMessage(h.QueueID, "held"))) {
		t.Fatalf("raw %q, %v", raw, err)
	}
	if ev := f.event(t); !ev.Handover || ev.Fallback != "" || len(ev.Checked) != 0 || ev.HeldID != m.ID {
		t.Fatalf("event %+v", ev)
	}
	if _, err := f.store.GetHandover(ctx, h.QueueID); !errors.Is(err, quarantine.ErrNotFound) {
		t.Fatalf("the hand-over is still there: %v", err)
	}

	// The process died after the hold, before the deletion: Postfix got no 250 and tries
	// again, and finds the hand-over.
	if err := f.store.PutHandover(ctx, h); err != nil {
		t.Fatal(err)
	}
	res, err = testenv.SMTPSend(f.addr, "alice@contoso.com", []string{"bob@army.ml"}, postfixMessage(h.QueueID, "held"))
	if err != nil || !strings.Contains(res.Data.Text, "held as "+m.ID) {
		t.Fatalf("retry: %+v %v", res, err)
	}
	if n := len(heldIn(t, f.store)); n != 1 {
		t.Fatalf("%d messages held after the retry, want 1", n)
	}
	if n := len(f.sink.Messages()); n != 0 {
		t.Fatalf("%d messages reached the re-injection service", n)
	}
}

// TestWithoutHandoverTheGuardDecides: without a hand-over (none recorded, or no Postfix
// queue ID) the intake asks the guard in use, says why in a warning and in its event,
// holds what the guard holds and hands the rest back to the re-injection service.
func TestWithoutHandoverTheGuardDecides(t *testing.T) {
	f := newFixture(t)
	res, err := testenv.SMTPSend(f.addr, "alice@contoso.com", []string{"bob@army.ml"}, postfixMessage("5NoHandover", "fallback"))
	if err != nil || !strings.Contains(res.Data.Text, "held as ") {
		t.Fatalf("%+v %v", res, err)
	}
	ev := f.event(t)
	if ev.Handover || !strings.Contains(ev.Fallback, "no hand-over") || len(ev.Checked) != 1 || ev.Checked[0].Verdict != verdict.Hold {
		t.Fatalf("event %+v", ev)
	}
	if !strings.Contains(f.logs.String(), "checked the recipients again with the guard in use") {
		t.Fatalf("no warning in the log:\n%s", f.logs)
	}
	if m := heldIn(t, f.store); len(m) != 1 || m[0].AuthUser != "" || m[0].ClientAddr != "127.0.0.1" || m[0].QueueID != "5NoHandover" {
		t.Fatalf("held %+v", m)
	}

	plain := []byte("From: alice@contoso.com\r\nSubject: no queue ID\r\n\r\nHello.\r\n")
	res, err = testenv.SMTPSend(f.addr, "alice@contoso.com", []string{"amy@army.mil"}, plain)
	if err != nil || !res.Delivered() || !strings.Contains(res.Data.Text, "handed back") {
		t.Fatalf("%+v %v", res, err)
	}
	if ev := f.event(t); !strings.Contains(ev.Fallback, "no queue ID") {
		t.Fatalf("event %+v", ev)
	}
	msgs, err := f.sink.WaitFor(ctx, 1)
	if err != nil || msgs[0].Header("Subject") != "no queue ID" || !strings.Contains(string(msgs[0].Data), "(rcptguard) with ESMTP id intake.") {
		t.Fatalf("re-injected %+v, %v", msgs, err)
	}
}

// TestHandedBackWhenTheHandoverHoldsNothing: a hand-over whose recipients are all
// allowed sends the message on, and is consumed.
func TestHandedBackWhenTheHandoverHoldsNothing(t *testing.T) {
	f := newFixture(t)
	h := quarantine.Handover{QueueID: "7AllOk", Sender: "alice@contoso.com", Recipients: []quarantine.Recipient{{Address: "Amy@army.mil"}}}
	if err := f.store.PutHandover(ctx, h); err != nil {
		t.Fatal(err)
	}
	res, err := testenv.SMTPSend(f.addr, "alice@contoso.com", []string{"amy@army.mil"}, postfixMessage(h.QueueID, "fine"))
	if err != nil || !res.Delivered() || !strings.Contains(res.Data.Text, "handed back") {
		t.Fatalf("%+v %v", res, err)
	}
	if ev := f.event(t); !ev.Handover || len(ev.Checked) != 0 {
		t.Fatalf("event %+v", ev)
	}
	if _, err := f.sink.WaitFor(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.GetHandover(ctx, h.QueueID); !errors.Is(err, quarantine.ErrNotFound) {
		t.Fatalf("the hand-over is still there: %v", err)
	}
}

// TestSetReinjectMovesTheHandBack: after SetReinject (a reload that changed
// quarantine.reinject) the next hand-back goes to the new re-injection service.
func TestSetReinjectMovesTheHandBack(t *testing.T) {
	f := newFixture(t)
	moved := testenv.StartSink(t)
	f.srv.SetReinject(smtpout.Destination{Address: moved.Addr()})
	h := quarantine.Handover{QueueID: "8Moved", Sender: "alice@contoso.com", Recipients: []quarantine.Recipient{{Address: "amy@army.mil"}}}
	if err := f.store.PutHandover(ctx, h); err != nil {
		t.Fatal(err)
	}
	if res, err := testenv.SMTPSend(f.addr, "alice@contoso.com", []string{"amy@army.mil"}, postfixMessage(h.QueueID, "moved")); err != nil || !res.Delivered() {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := moved.WaitFor(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if n := len(f.sink.Messages()); n != 0 {
		t.Fatalf("the old re-injection service got %d messages", n)
	}
}

// TestTroubleIsTheAnswer: the re-injection service's refusal is Postfix's answer (its
// 4xx stays temporary), and a store that cannot be read is a temporary failure.
func TestTroubleIsTheAnswer(t *testing.T) {
	f := newFixture(t)
	for _, code := range []int{550, 451} {
		f.sink.SetFail(code, "no")
		res, err := testenv.SMTPSend(f.addr, "alice@contoso.com", []string{"amy@army.mil"}, postfixMessage("8Ok", "x"))
		if err != nil || res.Data.Code != code {
			t.Fatalf("with the service answering %d: %+v %v", code, res, err)
		}
	}
	f.store.Close()
	res, err := testenv.SMTPSend(f.addr, "alice@contoso.com", []string{"bob@army.ml"}, postfixMessage("9Ok", "x"))
	if err != nil || res.Data.Code != 451 {
		t.Fatalf("with the store closed: %+v %v", res, err)
	}
}

// TestConfirmedRecipientIsHandedBack: a message the sender had confirmed before is not
// held (held.ErrConfirmed) but handed back, and its hand-over is consumed.
func TestConfirmedRecipientIsHandedBack(t *testing.T) {
	f := newFixture(t)
	if err := f.store.Confirm(ctx, "alice@contoso.com", []string{"gmial.com"}, "earlier"); err != nil {
		t.Fatal(err)
	}
	h := quarantine.Handover{QueueID: "9Confirmed", Sender: "alice@contoso.com",
		Recipients: []quarantine.Recipient{{Address: "bob@gmial.com", Verdict: verdict.Hold, Situation: "provider"}}}
	if err := f.store.PutHandover(ctx, h); err != nil {
		t.Fatal(err)
	}
	res, err := testenv.SMTPSend(f.addr, "alice@contoso.com", []string{"bob@gmial.com"}, postfixMessage(h.QueueID, "confirmed"))
	if err != nil || !res.Delivered() || !strings.Contains(res.Data.Text, "handed back") {
		t.Fatalf("%+v %v", res, err)
	}
	if msgs, err := f.sink.WaitFor(ctx, 1); err != nil || msgs[0].Header("Subject") != "confirmed" {
		t.Fatalf("re-injected %+v, %v", msgs, err)
	}
	if n := len(heldIn(t, f.store)); n != 0 {
		t.Fatalf("%d messages held", n)
	}
	if _, err := f.store.GetHandover(ctx, h.QueueID); !errors.Is(err, quarantine.ErrNotFound) {
		t.Fatalf("the hand-over is still there: %v", err)
	}
}

// TestOldHandoversArePurged: a hand-over nothing took within quarantine.HandoverKeep goes
// when an intake starts (and every PurgeEvery); a fresh one stays.
func TestOldHandoversArePurged(t *testing.T) {
	f := newFixture(t)
	old := quarantine.Handover{QueueID: "1Old", Recipients: []quarantine.Recipient{{Address: "x@army.ml", Verdict: verdict.Hold}},
		At: time.Now().Add(-quarantine.HandoverKeep - time.Hour)}
	fresh := quarantine.Handover{QueueID: "2Fresh", Recipients: old.Recipients}
	for _, h := range []quarantine.Handover{old, fresh} {
		if err := f.store.PutHandover(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	f.start(t, "127.0.0.1:0")
	testenv.WaitFor(t, "the old hand-over purged", func() bool {
		_, err := f.store.GetHandover(ctx, old.QueueID)
		return errors.Is(err, quarantine.ErrNotFound)
	})
	if _, err := f.store.GetHandover(ctx, fresh.QueueID); err != nil {
		t.Fatalf("the fresh hand-over: %v", err)
	}
}
