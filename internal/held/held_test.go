package held

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/notice"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/smtpout"
	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/token"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

type fixture struct {
	svc     *Service
	store   *quarantine.SQLite
	clk     *testenv.Clock
	notices *testenv.Sink
	out     *testenv.Sink
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := testenv.NewClock(time.Now().UTC().Truncate(time.Second))
	st, err := quarantine.OpenSQLite(filepath.Join(t.TempDir(), "q.db"), quarantine.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	signer, err := token.NewSigner(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	signer.Now = clk.Now
	f := &fixture{store: st, clk: clk, notices: testenv.StartSink(t), out: testenv.StartSink(t)}
	f.svc = &Service{
		Store: st, Signer: signer, Now: clk.Now,
		Settings: Settings{Notifier: &notice.Sender{Smarthost: smtpout.Destination{Address: f.notices.Addr()}, Timeout: 10 * time.Second},
			From: "rcptguard@example.org", BaseURL: "http://127.0.0.1:8026",
			Org: "Example", OwnDomains: []string{"example.org"}, Reinject: smtpout.Destination{Address: f.out.Addr()}, Hostname: "rg.test"},
	}
	return f
}

const raw = "From: Alice <alice@example.org>\r\nTo: Bob <bob@army.ml>, carol@example.net\r\n" +
	"Cc: xbob@army.ml, bob@army.mlx.org\r\nSubject: Travel plans\r\n\r\nSee you in Bamako.\r\nbob@army.ml in the body stays.\r\n"

func heldMessage() quarantine.Message {
	return quarantine.Message{
		Adapter: "relay", Sender: "alice@example.org", ClientAddr: "192.0.2.1", Subject: "Travel plans",
		Recipients: []quarantine.Recipient{
			{Address: "bob@army.ml", Verdict: verdict.Hold, Intended: []string{"army.mil"}, Techniques: []string{"omission"},
				Reason: "army.ml looks like army.mil", Situation: "namespace"},
			{Address: "carol@example.net", Verdict: verdict.Allow},
		},
	}
}

// sub is the submission of m with raw as its content, as a door makes it.
func sub(m quarantine.Message, raw string) Submission {
	return Submission{Adapter: m.Adapter, Sender: m.Sender, AuthUser: m.AuthUser, ClientAddr: m.ClientAddr,
		QueueID: m.QueueID, Recipients: m.Recipients, Subject: m.Subject, Content: []byte(raw)}
}

func (f *fixture) hold(t *testing.T, m quarantine.Message) string {
	t.Helper()
	id, err := f.svc.Hold(context.Background(), sub(m, raw))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestHoldNotifyCorrectDeliver: the whole flow, as the sender sees it.
func TestHoldNotifyCorrectDeliver(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.hold(t, heldMessage())
	if again := f.hold(t, heldMessage()); again != id {
		t.Fatalf("the same submission was held twice: %s, %s", id, again)
	}
	f.svc.runOnce(ctx)
	got, err := f.notices.WaitFor(waitCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	n := got[0]
	if n.From != "" || len(n.Rcpts) != 1 || n.Rcpts[0] != "alice@example.org" {
		t.Fatalf("notice envelope %q -> %q", n.From, n.Rcpts)
	}
	if !bytes.Contains(n.Data, []byte("http://127.0.0.1:8026/v/")) || !bytes.Contains(n.Data, []byte("army.mil")) {
		t.Fatalf("notice lacks the link or the suggestion:\n%s", n.Data)
	}
	if m, _ := f.store.Get(ctx, id); m.Notice != quarantine.NoticeSent {
		t.Fatalf("notice state %q", m.Notice)
	}
	if len(f.out.Messages()) != 0 {
		t.Fatal("something was re-injected before any choice")
	}

	if err := f.svc.Decide(ctx, id, Correct, "alice@example.org", "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	err = f.svc.Decide(ctx, id, Correct, "alice@example.org", "192.0.2.7")
	if !errors.Is(err, quarantine.ErrConflict) {
		t.Fatalf("second choice: %v, want a conflict", err)
	}
	f.svc.runOnce(ctx)
	f.svc.runOnce(ctx)
	out := f.out.Messages()
	if len(out) != 1 {
		t.Fatalf("re-injected %d times, want once", len(out))
	}
	o := out[0]
	if o.From != "alice@example.org" || strings.Join(o.Rcpts, ",") != "bob@army.mil,carol@example.net" {
		t.Fatalf("re-injected envelope %q -> %q", o.From, o.Rcpts)
	}
	for _, want := range []string{"To: Bob <bob@army.mil>, carol@example.net\r\n", "Cc: xbob@army.ml, bob@army.mlx.org\r\n",
		"bob@army.ml in the body stays.", ReleasedHeader + ": " + id + "; released with corrected recipients"} {
		if !bytes.Contains(o.Data, []byte(want)) {
			t.Errorf("re-injected message lacks %q:\n%s", want, o.Data)
		}
	}
	m, _ := f.store.Get(ctx, id)
	if m.State != quarantine.ReleasedCorrected || m.Delivery != quarantine.DeliverySent || !strings.HasPrefix(m.DeliveryReply, "250 ") {
		t.Fatalf("after delivery: state %v delivery %q reply %q", m.State, m.Delivery, m.DeliveryReply)
	}
	// army.ml is a lookalike in the protected namespace: never remembered.
	if ok, _ := f.store.Confirmed(ctx, "alice@example.org", "army.ml"); ok {
		t.Fatal("a correction confirmed the lookalike")
	}
}

// TestReinjectionRetries: a re-injection that fails temporarily stays pending with its
// error and goes out once, later; one refused for good stops and waits for a retry.
func TestReinjectionRetries(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.out.SetFail(451, "4.3.0 try again later")
	id := f.hold(t, heldMessage())
	if err := f.svc.Decide(ctx, id, Release, "admin:root", "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	f.svc.runOnce(ctx)
	m, _ := f.store.Get(ctx, id)
	if m.Delivery != quarantine.DeliveryPending || !strings.Contains(m.LastError, "try again later") || !m.NextAttempt.After(f.clk.Now()) {
		t.Fatalf("after a temporary failure: %q %q %v", m.Delivery, m.LastError, m.NextAttempt)
	}
	f.out.SetFail(0, "")
	f.svc.runOnce(ctx)
	if len(f.out.Messages()) != 0 {
		t.Fatal("retried before its time")
	}
	f.clk.Advance(time.Minute)
	f.svc.runOnce(ctx)
	f.svc.runOnce(ctx)
	if n := len(f.out.Messages()); n != 1 {
		t.Fatalf("delivered %d times, want 1", n)
	}
	if got := f.out.Messages()[0]; strings.Join(got.Rcpts, ",") != "bob@army.ml,carol@example.net" {
		t.Fatalf("released as addressed to %q", got.Rcpts)
	}

	f.out.SetFail(550, "5.7.1 no")
	id2 := f.hold(t, quarantine.Message{Adapter: "milter", Sender: "alice@example.org", Recipients: heldMessage().Recipients[:1]})
	f.svc.Decide(ctx, id2, Release, "admin:root", "")
	f.svc.runOnce(ctx)
	m, _ = f.store.Get(ctx, id2)
	if m.Delivery != quarantine.DeliveryFailed || !strings.Contains(m.LastError, "550") {
		t.Fatalf("after a permanent failure: %q %q", m.Delivery, m.LastError)
	}
	f.out.SetFail(0, "")
	f.clk.Advance(time.Hour)
	f.svc.runOnce(ctx)
	if n := len(f.out.Messages()); n != 1 {
		t.Fatalf("a refused message was retried by itself: %d", n)
	}
	if err := f.svc.Retry(ctx, id2, "admin:root", ""); err != nil {
		t.Fatal(err)
	}
	f.svc.runOnce(ctx)
	if n := len(f.out.Messages()); n != 2 {
		t.Fatalf("after an administrator's retry: %d messages, want 2", n)
	}
}

// TestConfirmedDomainsPass: a sender who released mail to a flagged domain as addressed is
// not asked again about that domain; lookalikes of protected domains are always asked.
func TestConfirmedDomainsPass(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := heldMessage()
	m.Recipients[0] = quarantine.Recipient{Address: "dana@gmial.com", Verdict: verdict.Hold, Intended: []string{"gmail.com"}, Situation: "provider"}
	id := f.hold(t, m)
	if err := f.svc.Decide(ctx, id, Release, "alice@example.org", "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Hold(ctx, sub(m, raw+"again")); !errors.Is(err, ErrConfirmed) {
		t.Fatalf("hold after confirmation: %v, want ErrConfirmed", err)
	}
	other := m
	other.Sender = "mallory@example.org"
	if _, err := f.svc.Hold(ctx, sub(other, raw)); err != nil {
		t.Fatalf("another sender's mail passed: %v", err)
	}
	f.svc.Settings.AlwaysAsk = []string{"com"}
	if _, err := f.svc.Hold(ctx, sub(m, raw+"3")); err != nil {
		t.Fatalf("an always-ask domain passed: %v", err)
	}
	// The .ml case: released as addressed, still asked next time.
	id = f.hold(t, heldMessage())
	f.svc.Decide(ctx, id, Release, "alice@example.org", "")
	if _, err := f.svc.Hold(ctx, sub(heldMessage(), raw+"4")); err != nil {
		t.Fatalf("army.ml passed after a confirmation: %v", err)
	}
}

// TestReminderAndExpiry: a reminder the day before, then expiry; "return" sends the
// message back to its sender.
func TestReminderAndExpiry(t *testing.T) {
	f := newFixture(t)
	f.svc.Settings.OnExpiry = ExpireReturn
	ctx := context.Background()
	id := f.hold(t, heldMessage())
	f.svc.runOnce(ctx) // the notice
	f.clk.Advance(DefaultExpireAfter - 23*time.Hour)
	f.svc.runOnce(ctx)
	f.svc.runOnce(ctx)
	got, _ := f.notices.WaitFor(waitCtx(t), 2)
	if len(got) != 2 || !bytes.Contains(got[1].Data, []byte("Reminder")) {
		t.Fatalf("%d notices; the second is not a reminder", len(got))
	}
	if m, _ := f.store.Get(ctx, id); m.State != quarantine.Held || m.ReminderSent.IsZero() {
		t.Fatalf("after the reminder: %v %v", m.State, m.ReminderSent)
	}
	f.clk.Advance(24 * time.Hour)
	f.svc.runOnce(ctx)
	m, _ := f.store.Get(ctx, id)
	if m.State != quarantine.Expired {
		t.Fatalf("state %v, want expired", m.State)
	}
	got, _ = f.notices.WaitFor(waitCtx(t), 3)
	if len(got) != 3 || !bytes.Contains(got[2].Data, []byte("message/rfc822")) || !bytes.Contains(got[2].Data, []byte("See you in Bamako.")) {
		t.Fatalf("the expired message was not returned")
	}
	if len(f.out.Messages()) != 0 {
		t.Fatal("an expired message was delivered")
	}
}

// TestNoNoticeToOutsiders: a forged outside sender gets no notice.
func TestNoNoticeToOutsiders(t *testing.T) {
	f := newFixture(t)
	m := heldMessage()
	m.Sender = "ceo@evil.example"
	id := f.hold(t, m)
	f.svc.runOnce(context.Background())
	if n := len(f.notices.Messages()); n != 0 {
		t.Fatalf("%d notices to an outside sender", n)
	}
	if got, _ := f.store.Get(context.Background(), id); got.Notice != quarantine.NoticeNone {
		t.Fatalf("notice state %q", got.Notice)
	}
}

func TestRewriteBoundaries(t *testing.T) {
	m := quarantine.Message{ID: "X", State: quarantine.ReleasedCorrected, Recipients: []quarantine.Recipient{
		{Address: "Bob@Army.ML", Verdict: verdict.Hold, Intended: []string{"army.mil"}}}}
	in := "To: \"Bob\" <bob@army.ml>,\r\n bob@army.ml.\r\nCC: (bob@army.ml) ab.bob@army.ml\r\nFrom: bob@army.ml\r\n\r\nTo: bob@army.ml\r\n"
	out := string(Rewrite([]byte(in), m))
	want := "X-Rcptguard-Released: X; released with corrected recipients\r\n" +
		"To: \"Bob\" <Bob@army.mil>,\r\n Bob@army.mil.\r\nCC: (Bob@army.mil) ab.bob@army.ml\r\nFrom: bob@army.ml\r\n\r\nTo: bob@army.ml\r\n"
	if out != want {
		t.Fatalf("got\n%q\nwant\n%q", out, want)
	}
}

// TestCorrectedNeverSendsToAFlaggedDomain: "send to the suggested domain instead" leaves
// out a flagged recipient that has no suggestion, rather than sending to it.
func TestCorrectedNeverSendsToAFlaggedDomain(t *testing.T) {
	m := heldMessage()
	m.Recipients = append(m.Recipients, quarantine.Recipient{Address: "eve@blocked.ml", Verdict: verdict.Reject})
	rcpts, changes := Corrected(m)
	if strings.Join(rcpts, ",") != "bob@army.mil,carol@example.net" {
		t.Fatalf("recipients %q", rcpts)
	}
	if len(changes) != 2 || changes[1].String() != "eve@blocked.ml not sent" || !Correctable(m) {
		t.Fatalf("changes %v", changes)
	}
	m.Recipients = m.Recipients[1:] // only the one without a suggestion is flagged
	if Correctable(m) {
		t.Fatal("correctable without a suggestion")
	}
}

// TestNoticeRetried: a notice the smarthost refuses for now stays pending with the error
// and goes out later, once; one refused for good is recorded as failed and not retried.
func TestNoticeRetried(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.notices.SetFail(421, "4.3.2 busy")
	id := f.hold(t, heldMessage())
	f.svc.runOnce(ctx)
	m, _ := f.store.Get(ctx, id)
	if m.Notice != quarantine.NoticePending || !strings.Contains(m.NoticeError, "busy") {
		t.Fatalf("after a temporary failure: %q %q", m.Notice, m.NoticeError)
	}
	f.notices.SetFail(0, "")
	f.svc.runOnce(ctx)
	if n := len(f.notices.Messages()); n != 0 {
		t.Fatalf("retried before its time: %d", n)
	}
	f.clk.Advance(time.Hour)
	f.svc.runOnce(ctx)
	f.svc.runOnce(ctx)
	if n := len(f.notices.Messages()); n != 1 {
		t.Fatalf("%d notices, want 1", n)
	}
	if m, _ := f.store.Get(ctx, id); m.Notice != quarantine.NoticeSent {
		t.Fatalf("notice %q", m.Notice)
	}

	f.notices.SetFail(550, "5.1.1 no such user")
	other := heldMessage()
	other.Subject = "another"
	id2, err := f.svc.Hold(ctx, sub(other, raw+"2"))
	if err != nil {
		t.Fatal(err)
	}
	f.svc.runOnce(ctx)
	f.clk.Advance(time.Hour)
	f.svc.runOnce(ctx)
	if m, _ := f.store.Get(ctx, id2); m.Notice != quarantine.NoticeFailed || !strings.Contains(m.NoticeError, "550") {
		t.Fatalf("after a permanent failure: %q %q", m.Notice, m.NoticeError)
	}
}

// TestSharedStoreLeavesFreshClaims: a node starting on a shared store leaves another
// node's fresh claim alone and settles only claims older than ClaimLease; on a store of
// its own, a node settles every claim at start.
func TestSharedStoreLeavesFreshClaims(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.hold(t, heldMessage())
	f.svc.Decide(ctx, id, Release, "admin:root", "")
	if _, ok, _ := f.store.NextDelivery(ctx, f.clk.Now()); !ok { // another node is sending it
		t.Fatal("nothing to claim")
	}
	start := func(shared bool) quarantine.Delivery {
		t.Helper()
		s := &Service{Store: f.store, Shared: shared, Now: f.clk.Now}
		if err := s.recover(recoveryCutoff(s, f.clk.Now())); err != nil {
			t.Fatal(err)
		}
		m, _ := f.store.Get(ctx, id)
		return m.Delivery
	}
	f.clk.Advance(time.Second)
	if d := start(true); d != quarantine.DeliverySending {
		t.Fatalf("a shared store's fresh claim became %q", d)
	}
	f.clk.Advance(ClaimLease)
	if d := start(true); d != quarantine.DeliveryPending {
		t.Fatalf("a shared store's abandoned claim is %q, want pending", d)
	}
	f.store.NextDelivery(ctx, f.clk.Now())
	f.clk.Advance(time.Second)
	if d := start(false); d != quarantine.DeliveryPending {
		t.Fatalf("an own store's claim is %q at start, want pending", d)
	}
}
