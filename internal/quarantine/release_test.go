package quarantine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func holdOne(t *testing.T, s Store, m Message) string {
	return hold(t, s, m, "Subject: x\r\n\r\nbody\r\n")
}

func testReleaseDelivery(t *testing.T, open opener) {
	ctx := context.Background()
	c := newClock()
	s := open(t, WithClock(c.Now))
	id := holdOne(t, s, sample())
	if _, ok, err := s.NextDelivery(ctx, c.Now()); ok || err != nil {
		t.Fatalf("a held message is due for delivery: %v %v", ok, err)
	}
	if err := s.Release(ctx, id, ReleasedCorrected, []string{"bob@example.com", "carol@example.net"}, "sender", "192.0.2.1", "corrected"); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, id, ReleasedAsAddressed, []string{"x@y"}, "sender", "", ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("second release: %v, want a conflict", err)
	}
	m, ok, err := s.NextDelivery(ctx, c.Now())
	if !ok || err != nil {
		t.Fatalf("released message not due: %v %v", ok, err)
	}
	if m.ID != id || m.Delivery != DeliverySending || m.Attempts != 1 || strings.Join(m.ReleaseTo, ",") != "bob@example.com,carol@example.net" {
		t.Fatalf("claimed %+v", m)
	}
	if _, ok, _ := s.NextDelivery(ctx, c.Now()); ok {
		t.Fatal("a message being sent was claimed twice")
	}
	c.Advance(time.Second)
	if err := s.DeliveryFailed(ctx, id, "451 try later", c.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.NextDelivery(ctx, c.Now()); ok {
		t.Fatal("claimed before its retry time")
	}
	c.Advance(time.Minute)
	m, ok, err = s.NextDelivery(ctx, c.Now())
	if !ok || err != nil || m.Attempts != 2 || m.LastError != "451 try later" {
		t.Fatalf("retry: %+v %v %v", m, ok, err)
	}
	if err := s.Delivered(ctx, id, "250 2.0.0 queued as ABC"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delivered(ctx, id, "250 again"); !errors.Is(err, ErrDeliveryState) {
		t.Fatalf("second Delivered: %v", err)
	}
	m, _ = s.Get(ctx, id)
	if m.Delivery != DeliverySent || m.DeliveryReply != "250 2.0.0 queued as ABC" || m.DeliveredAt.IsZero() || m.LastError != "" {
		t.Fatalf("after delivery: %+v", m)
	}
	if err := s.RetryDelivery(ctx, id, "admin", ""); !errors.Is(err, ErrDeliveryState) {
		t.Fatalf("retry of a sent message: %v", err)
	}
	ev, _ := s.Audit(ctx, id)
	var notes []string
	for _, e := range ev {
		notes = append(notes, e.Note)
	}
	if len(ev) != 4 || !strings.Contains(notes[3], "re-injected: 250") || !strings.Contains(notes[2], "will retry") {
		t.Fatalf("audit: %q", notes)
	}
}

func testDeliveryFailsForGood(t *testing.T, open opener) {
	ctx := context.Background()
	c := newClock()
	s := open(t, WithClock(c.Now))
	id := holdOne(t, s, sample())
	s.Release(ctx, id, ReleasedAsAddressed, []string{"bob@examp1e.com"}, "sender", "", "")
	s.NextDelivery(ctx, c.Now())
	if err := s.DeliveryFailed(ctx, id, "550 no such user", time.Time{}); err != nil {
		t.Fatal(err)
	}
	c.Advance(24 * time.Hour)
	if _, ok, _ := s.NextDelivery(ctx, c.Now()); ok {
		t.Fatal("a message refused for good was claimed again")
	}
	if n, err := s.Purge(ctx, c.Now().Add(time.Hour)); n != 0 || err != nil {
		t.Fatalf("purge removed a message that was never delivered: %d %v", n, err)
	}
	if err := s.RetryDelivery(ctx, id, "admin:root", "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	m, ok, _ := s.NextDelivery(ctx, c.Now())
	if !ok || m.ID != id || m.Attempts != 2 {
		t.Fatalf("after retry: %+v %v", m, ok)
	}
}

func testRecoverDeliveries(t *testing.T, open opener) {
	ctx := context.Background()
	c := newClock()
	s := open(t, WithClock(c.Now))
	var ids [3]string
	for i := range ids {
		ids[i] = holdOne(t, s, sample())
		s.Release(ctx, ids[i], ReleasedAsAddressed, []string{"bob@examp1e.com"}, "sender", "", "")
	}
	// Two attempts under way when the process "dies": one before the end of the data,
	// one after; the third message was never claimed.
	a, _, _ := s.NextDelivery(ctx, c.Now())
	b, _, _ := s.NextDelivery(ctx, c.Now())
	if err := s.Committing(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Committing(ctx, b.ID); !errors.Is(err, ErrDeliveryState) {
		t.Fatalf("committing twice: %v", err)
	}
	c.Advance(time.Second)
	n, err := s.RecoverDeliveries(ctx, c.Now())
	if n != 1 || err != nil {
		t.Fatalf("recovered %d unknown, %v; want 1", n, err)
	}
	want := map[string]Delivery{a.ID: DeliveryPending, b.ID: DeliveryUnknown}
	for _, id := range ids {
		m, _ := s.Get(ctx, id)
		w, ok := want[id]
		if !ok {
			w = DeliveryPending
		}
		if m.Delivery != w {
			t.Errorf("%s: delivery %q, want %q", id, m.Delivery, w)
		}
	}
	if m, _ := s.Get(ctx, b.ID); !strings.Contains(m.LastError, "unknown") {
		t.Errorf("last error %q", m.LastError)
	}
	// A connection cut after the end of the data, while running.
	d, ok, _ := s.NextDelivery(ctx, c.Now())
	if !ok {
		t.Fatal("nothing due")
	}
	if err := s.DeliveryUnknown(ctx, d.ID, "read: connection reset"); !errors.Is(err, ErrDeliveryState) {
		t.Fatalf("unknown before committing: %v", err)
	}
	s.Committing(ctx, d.ID)
	if err := s.DeliveryUnknown(ctx, d.ID, "read: connection reset"); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Get(ctx, d.ID); m.Delivery != DeliveryUnknown {
		t.Fatalf("delivery %q", m.Delivery)
	}
}

func testConcurrentClaims(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t)
	const n = 40
	for i := 0; i < n; i++ {
		id := holdOne(t, s, sample())
		if err := s.Release(ctx, id, ReleasedAsAddressed, []string{"bob@examp1e.com"}, "s", "", ""); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, ok, err := s.NextDelivery(ctx, time.Now().Add(time.Hour))
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				seen[m.ID]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d messages, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("%s claimed %d times", id, k)
		}
	}
}

func testNoticesAndConfirmations(t *testing.T, open opener) {
	ctx := context.Background()
	c := newClock()
	s := open(t, WithClock(c.Now))
	m := sample()
	m.Notice = NoticePending
	id := holdOne(t, s, m)
	holdOne(t, s, sample()) // no notice
	l, err := s.PendingNotices(ctx, c.Now(), 10)
	if err != nil || len(l) != 1 || l[0].ID != id || l[0].Notice != NoticePending {
		t.Fatalf("pending notices: %v %v", l, err)
	}
	if err := s.SetNotice(ctx, id, NoticePending, "421 busy", c.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.PendingNotices(ctx, c.Now(), 10); len(l) != 0 {
		t.Fatal("notice due before its retry time")
	}
	s.SetNotice(ctx, id, NoticeSent, "", time.Time{})
	if l, _ := s.PendingNotices(ctx, c.Now().Add(time.Hour), 10); len(l) != 0 {
		t.Fatal("a sent notice is pending")
	}
	if err := s.SetReminder(ctx, id, c.Now()); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, id)
	if got.Notice != NoticeSent || !got.ReminderSent.Equal(c.Now().Truncate(time.Microsecond)) {
		t.Fatalf("notice %q reminder %v", got.Notice, got.ReminderSent)
	}
	if ok, _ := s.Confirmed(ctx, "Alice@Example.org", "examp1e.com"); ok {
		t.Fatal("confirmed before Confirm")
	}
	if err := s.Confirm(ctx, "alice@example.org", []string{"EXAMP1E.com"}, id); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Confirmed(ctx, "Alice@Example.org", "examp1e.com"); !ok {
		t.Fatal("not confirmed after Confirm")
	}
	if ok, _ := s.Confirmed(ctx, "mallory@example.org", "examp1e.com"); ok {
		t.Fatal("confirmed for another sender")
	}
}

func testDedupe(t *testing.T, open opener) {
	ctx := context.Background()
	s := open(t)
	m := sample()
	m.DedupeKey = "k1"
	a := holdOne(t, s, m)
	b := holdOne(t, s, m)
	if a != b {
		t.Fatalf("the same submission was held twice: %s %s", a, b)
	}
	s.Transition(ctx, a, Held, Discarded, "sender", "", "")
	if c := holdOne(t, s, m); c == a {
		t.Fatal("a discarded message's key still deduplicates")
	}
}
