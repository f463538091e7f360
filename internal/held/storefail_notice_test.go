package held

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// recordOps are the writes that record a notice's outcome after it was sent.
var recordOps = map[string]bool{"SetNotice": true, "SetReminder": true, "SettleNotice": true}

// failModes are the ways the store fails in the tests below: every write, or only the
// write that records the outcome after the notice went out.
var failModes = []struct {
	name string
	fail func(op string) bool
}{
	{"AllWrites", func(string) bool { return true }},
	{"RecordAfterSending", func(op string) bool { return recordOps[op] }},
}

// passes runs n passes of the background loop, the clock moving by step after each.
func (f *fixture) passes(n int, step time.Duration) {
	for range n {
		f.svc.runOnce(context.Background())
		f.clk.Advance(step)
	}
}

// containing are the messages of the sink whose content contains s.
func containing(msgs []testenv.Message, s string) int {
	n := 0
	for _, m := range msgs {
		if bytes.Contains(m.Data, []byte(s)) {
			n++
		}
	}
	return n
}

// TestNoticeOnceWhileStoreUnwritable: while the quarantine cannot be written, the first
// notice goes out at most once however many passes the loop makes; once the store can
// be written again, it has gone out exactly once and is recorded as sent.
func TestNoticeOnceWhileStoreUnwritable(t *testing.T) {
	for _, mode := range failModes {
		t.Run(mode.name, func(t *testing.T) {
			f := newFixture(t)
			fs := newFailStore(f.store)
			f.svc.Store = fs
			events, storeErrors := map[string]int{}, 0
			f.svc.Count = func(e string) { events[e]++ }
			f.svc.StoreError = func() { storeErrors++ }
			ctx := context.Background()
			id := f.hold(t, heldMessage())
			fs.failOnly(mode.fail)
			f.passes(20, 30*time.Second) // 10 minutes
			if n := len(f.notices.Messages()); n > 1 {
				t.Fatalf("the notice went out %d times while the store could not be written", n)
			}
			// Backoff: written at 0, 1, 3 and 7 minutes, not at every pass.
			tries := fs.failed("ClaimNotice") + fs.failed("SettleNotice")
			if tries != 4 || events["notice_deferred"] != tries || storeErrors != tries {
				t.Fatalf("%d failed writes, %d notice_deferred, %d store errors; want 4 each",
					tries, events["notice_deferred"], storeErrors)
			}
			fs.failWrites(false)
			f.passes(12, 15*time.Minute)
			if n := len(f.notices.Messages()); n != 1 {
				t.Fatalf("%d notices after the store recovered, want exactly 1", n)
			}
			if m, _ := f.store.Get(ctx, id); m.Notice != quarantine.NoticeSent {
				t.Fatalf("notice state %q (%s), want sent", m.Notice, m.NoticeError)
			}
		})
	}
}

// TestReminderOnceWhileStoreUnwritable: the reminder before expiry, likewise.
func TestReminderOnceWhileStoreUnwritable(t *testing.T) {
	for _, mode := range failModes {
		t.Run(mode.name, func(t *testing.T) {
			f := newFixture(t)
			fs := newFailStore(f.store)
			f.svc.Store = fs
			ctx := context.Background()
			id := f.hold(t, heldMessage())
			f.svc.runOnce(ctx)
			if n := len(f.notices.Messages()); n != 1 {
				t.Fatalf("%d notices, want 1", n)
			}
			f.clk.Advance(DefaultExpireAfter - 23*time.Hour)
			fs.failOnly(mode.fail)
			f.passes(20, 30*time.Second)
			if n := containing(f.notices.Messages(), "Reminder"); n > 1 {
				t.Fatalf("the reminder went out %d times while the store could not be written", n)
			}
			fs.failWrites(false)
			f.passes(8, 15*time.Minute)
			msgs := f.notices.Messages()
			if n := containing(msgs, "Reminder"); n != 1 || len(msgs) != 2 {
				t.Fatalf("%d messages, %d reminders after the store recovered; want 2 and 1", len(msgs), n)
			}
			if m, _ := f.store.Get(ctx, id); m.ReminderSent.IsZero() || m.State != quarantine.Held {
				t.Fatalf("after the reminder: state %v, reminder sent %v", m.State, m.ReminderSent)
			}
		})
	}
}

// TestReturnOnceWhileStoreUnwritable: with on_expiry return, the message goes back to its
// sender exactly once, even when the smarthost refused it for now at expiry and the store
// could not be written for a while after.
func TestReturnOnceWhileStoreUnwritable(t *testing.T) {
	for _, mode := range failModes {
		t.Run(mode.name, func(t *testing.T) {
			f := newFixture(t)
			f.svc.Settings.OnExpiry = ExpireReturn
			fs := newFailStore(f.store)
			f.svc.Store = fs
			ctx := context.Background()
			id := f.hold(t, heldMessage())
			f.svc.runOnce(ctx) // the notice
			f.clk.Advance(DefaultExpireAfter + time.Minute)
			f.notices.SetFail(451, "4.3.2 busy")
			f.svc.runOnce(ctx)
			if m, _ := f.store.Get(ctx, id); m.State != quarantine.Expired {
				t.Fatalf("state %v, want expired", m.State)
			}
			f.notices.SetFail(0, "")
			fs.failOnly(mode.fail)
			f.passes(20, 30*time.Second)
			if n := containing(f.notices.Messages(), "message/rfc822"); n > 1 {
				t.Fatalf("returned %d times while the store could not be written", n)
			}
			fs.failWrites(false)
			f.passes(12, 15*time.Minute)
			if n := containing(f.notices.Messages(), "message/rfc822"); n != 1 {
				t.Fatalf("returned %d times after the store recovered, want exactly 1", n)
			}
		})
	}
}

// TestNoticeRetryBacksOff: a notice the smarthost refuses for now is tried again after
// 1, 2, 4, 8 minutes..., and goes out once when the smarthost takes it.
func TestNoticeRetryBacksOff(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.notices.SetFail(451, "4.3.2 busy")
	id := f.hold(t, heldMessage())
	f.passes(40, 30*time.Second) // 20 minutes: attempts at 0, 1, 3, 7 and 15
	m, _ := f.store.Get(ctx, id)
	if m.NoticeAttempts != 5 || m.Notice != quarantine.NoticePending || !strings.Contains(m.NoticeError, "busy") {
		t.Fatalf("after 20 minutes: %d attempts, notice %q %q; want 5, pending", m.NoticeAttempts, m.Notice, m.NoticeError)
	}
	f.notices.SetFail(0, "")
	f.passes(40, 30*time.Second)
	if n := len(f.notices.Messages()); n != 1 {
		t.Fatalf("%d notices, want 1", n)
	}
	if m, _ := f.store.Get(ctx, id); m.Notice != quarantine.NoticeSent || m.NoticeAttempts != 6 {
		t.Fatalf("notice %q after %d attempts; want sent after 6", m.Notice, m.NoticeAttempts)
	}
}

// TestNoticeClaimedThenStoppedIsNotResent: rcptguard sent the notice but could not record
// it, and stopped; the next start finds the claim and does not send it again (a sender
// may miss a notice, never get one twice); the admin page says the outcome is unknown.
func TestNoticeClaimedThenStoppedIsNotResent(t *testing.T) {
	f := newFixture(t)
	fs := newFailStore(f.store)
	f.svc.Store = fs
	ctx := context.Background()
	id := f.hold(t, heldMessage())
	fs.failOnly(func(op string) bool { return recordOps[op] })
	f.svc.runOnce(ctx)
	if n := len(f.notices.Messages()); n != 1 {
		t.Fatalf("%d notices, want 1", n)
	}
	// Another process starts on the same, writable store.
	fs.failWrites(false)
	f.clk.Advance(time.Minute)
	events := map[string]int{}
	next := &Service{Store: f.store, Settings: f.svc.Settings, Signer: f.svc.Signer, Now: f.clk.Now,
		Count: func(e string) { events[e]++ }}
	if err := next.recover(recoveryCutoff(next, f.clk.Now())); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		next.runOnce(ctx)
		f.clk.Advance(time.Hour)
	}
	if n := len(f.notices.Messages()); n != 1 || events["notice_unknown"] != 1 {
		t.Fatalf("%d notices, %d unknown; want 1 and 1", n, events["notice_unknown"])
	}
	if m, _ := f.store.Get(ctx, id); m.Notice != quarantine.NoticeSending || !strings.Contains(m.NoticeError, "outcome unknown") {
		t.Fatalf("notice %q %q; want sending, outcome unknown", m.Notice, m.NoticeError)
	}
}
