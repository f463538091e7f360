package quarantine

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/verdict"
)

// testHandovers: a hand-over comes back as it was put, a second one of the same queue ID
// replaces it, delete and purge remove it, and a queue ID is required. Run against both
// stores by testStore.
func testHandovers(t *testing.T, open opener) {
	c := newClock()
	s, ok := open(t, WithClock(c.Now)).(HandoverStore)
	if !ok {
		t.Fatal("the store keeps no hand-overs")
	}
	h := Handover{QueueID: "4XyZ1abc", Sender: "alice@contoso.com", AuthUser: "alice", ClientAddr: "192.0.2.7",
		Recipients: []Recipient{
			{Address: "amy@army.mil", Verdict: verdict.Allow},
			{Address: "bob@army.ml", Verdict: verdict.Hold, Intended: []string{"army.mil"}, Techniques: []string{"omission"},
				Reason: "Did you mean army.mil?", Situation: "protected"},
			{Address: "bad", Verdict: verdict.Invalid, Reason: "Not a valid address."},
		}}
	if _, err := s.GetHandover(ctx, h.QueueID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetHandover before Put = %v, want ErrNotFound", err)
	}
	if err := s.PutHandover(ctx, h); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetHandover(ctx, h.QueueID)
	want := h
	want.At = c.Now().UTC().Truncate(time.Microsecond)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetHandover = %+v, %v\nwant %+v", got, err, want)
	}

	// The same queue ID again (Postfix reused a short one): the newer replaces it.
	c.Advance(time.Hour)
	h2 := Handover{QueueID: h.QueueID, Sender: "carol@contoso.com", Recipients: []Recipient{{Address: "x@navy.ml", Verdict: verdict.Hold}}}
	if err := s.PutHandover(ctx, h2); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetHandover(ctx, h.QueueID); err != nil || got.Sender != h2.Sender || len(got.Recipients) != 1 ||
		!got.At.Equal(c.Now().Truncate(time.Microsecond)) {
		t.Fatalf("after the second Put: %+v, %v", got, err)
	}

	if err := s.DeleteHandover(ctx, h.QueueID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetHandover(ctx, h.QueueID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after DeleteHandover: %v, want ErrNotFound", err)
	}
	if err := s.DeleteHandover(ctx, h.QueueID); err != nil {
		t.Fatalf("deleting a missing hand-over: %v", err)
	}

	// Purge removes what is older than its limit, and only that.
	old := Handover{QueueID: "OLD1", Recipients: h.Recipients, At: c.Now().Add(-HandoverKeep - time.Minute)}
	fresh := Handover{QueueID: "NEW1", Recipients: h.Recipients}
	for _, x := range []Handover{old, fresh} {
		if err := s.PutHandover(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.PurgeHandovers(ctx, c.Now().Add(-HandoverKeep)); err != nil || n != 1 {
		t.Fatalf("PurgeHandovers = %d, %v; want 1", n, err)
	}
	if _, err := s.GetHandover(ctx, "OLD1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the old hand-over survived the purge: %v", err)
	}
	if _, err := s.GetHandover(ctx, "NEW1"); err != nil {
		t.Errorf("the fresh hand-over was purged: %v", err)
	}

	if err := s.PutHandover(ctx, Handover{Sender: "a@b.c"}); err == nil {
		t.Error("a hand-over without a queue ID was recorded")
	}
}
