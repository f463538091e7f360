package history

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// testSenderStore is the behaviour of the senders' own histories that every Store must
// have; testStore runs it.
func testSenderStore(t *testing.T, open opener) {
	t.Run("SenderHistoryPerAddressAndDomain", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		record(t, s,
			Observation{Domain: "fabrikam.co", Sender: "alice@contoso.com", SenderOnly: true, At: t0},
			Observation{Domain: "fabrikam.co", Sender: "alice@contoso.com", SenderOnly: true, At: t0.Add(48 * time.Hour), Count: 3},
			Observation{Domain: "fabrikam.co", Sender: "bob@contoso.com", SenderOnly: true, At: t0},
			Observation{Domain: "fabrikam.com", Sender: "alice@contoso.com", SenderDomain: "contoso.com", At: t0},
		)
		want := SenderStat{Sender: "alice@contoso.com", Domain: "fabrikam.co", Count: 4,
			FirstSeen: t0.Truncate(time.Microsecond), LastSeen: t0.Add(48 * time.Hour).Truncate(time.Microsecond)}
		// Any form of the sender and of the domain finds the row.
		for _, from := range []string{"alice@contoso.com", "<alice@CONTOSO.com>", `"Alice" <alice@contoso.com.>`} {
			if got := senderStat(t, s, from, "FABRIKAM.co"); got != want {
				t.Errorf("Sender(%s) = %+v\nwant %+v", from, got, want)
			}
		}
		if !want.Days() {
			t.Error("48 hours apart: Days() = false")
		}
		if got := senderStat(t, s, "bob@contoso.com", "fabrikam.co"); got.Count != 1 || got.Days() {
			t.Errorf("bob: %+v, two days %v; want 1 message on one day", got, got.Days())
		}
		if got := senderStat(t, s, "alice@contoso.com", "fabrikam.com"); got.Count != 1 {
			t.Errorf("alice to fabrikam.com: %+v", got)
		}
		// The local part is kept as written: Alice is not alice.
		if st, ok, err := s.Sender(context.Background(), "Alice@contoso.com", "fabrikam.co"); ok || err != nil {
			t.Errorf("Sender(Alice@contoso.com) = %+v, %v, %v; want not found", st, ok, err)
		}
		// Mail counted for the sender only is not in the organisation's history.
		if st, ok, err := s.Domain(context.Background(), "fabrikam.co"); ok || err != nil {
			t.Errorf("Domain(fabrikam.co) = %+v, %v, %v; want not found", st, ok, err)
		}
		if got := stat(t, s, "fabrikam.com"); got.Count != 1 || got.Senders != 1 {
			t.Errorf("Domain(fabrikam.com) = %+v", got)
		}
	})
	t.Run("SenderRefusesTheNullSenderAndNonAddresses", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		for _, from := range []string{"", "<>", "contoso.com", "not an address", "alice@"} {
			if _, _, err := s.Sender(context.Background(), from, "fabrikam.com"); err == nil {
				t.Errorf("Sender(%q) = nil error", from)
			}
		}
		if _, _, err := s.Sender(context.Background(), "alice@contoso.com", "not a domain"); err == nil {
			t.Error("Sender(invalid domain) = nil error")
		}
	})
	t.Run("InvalidSenderFailsTheWholeBatch", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		good := Observation{Domain: "fabrikam.com", Sender: "alice@contoso.com", At: t0}
		for _, bad := range []Observation{
			{Domain: "fabrikam.com", Sender: "alice@CONTOSO.com", At: t0},
			{Domain: "fabrikam.com", Sender: "<alice@contoso.com>", At: t0},
			{Domain: "fabrikam.com", Sender: "<>", At: t0},
			{Domain: "fabrikam.com", Sender: "contoso.com", At: t0},
			{Domain: "fabrikam.com", SenderOnly: true, At: t0},
		} {
			if err := s.Record(context.Background(), []Observation{good, bad}); !errors.Is(err, ErrInvalid) {
				t.Errorf("Record(%+v) = %v, want ErrInvalid", bad, err)
			}
		}
		if _, ok, err := s.Sender(context.Background(), "alice@contoso.com", "fabrikam.com"); ok || err != nil {
			t.Errorf("a failed batch left data behind (%v, %v)", ok, err)
		}
	})
	t.Run("SenderCountsSaturate", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		o := Observation{Domain: "fabrikam.co", Sender: "alice@contoso.com", SenderOnly: true, At: t0, Count: 1<<63 - 2}
		record(t, s, o, o)
		record(t, s, o)
		if got := senderStat(t, s, "alice@contoso.com", "fabrikam.co"); got.Count != 1<<63-1 {
			t.Errorf("count %d", got.Count)
		}
	})
	t.Run("PruneSendersByAge", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		for i := range 4 {
			record(t, s, Observation{Domain: fmt.Sprintf("d%d.example", i), Sender: "alice@contoso.com", SenderOnly: true,
				At: t0.Add(time.Duration(i) * 24 * time.Hour)})
		}
		n, err := s.PruneSenders(context.Background(), t0.Add(36*time.Hour), 0)
		if err != nil || n != 2 {
			t.Fatalf("PruneSenders = %d, %v; want 2 rows", n, err)
		}
		for i, want := range []bool{false, false, true, true} {
			if _, ok, _ := s.Sender(context.Background(), "alice@contoso.com", fmt.Sprintf("d%d.example", i)); ok != want {
				t.Errorf("d%d.example kept: %v, want %v", i, ok, want)
			}
		}
	})
	t.Run("PruneSendersToACapDropsTheLeastRecentlySeen", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		var obs []Observation
		for i := range 10 {
			// d0 is seen first but again last: it is kept.
			obs = append(obs, Observation{Domain: fmt.Sprintf("d%d.example", i), Sender: fmt.Sprintf("u%d@contoso.com", i%3),
				SenderOnly: true, At: t0.Add(time.Duration(i) * time.Hour)})
		}
		obs = append(obs, Observation{Domain: "d0.example", Sender: "u0@contoso.com", SenderOnly: true, At: t0.Add(24 * time.Hour)})
		record(t, s, obs...)
		n, err := s.PruneSenders(context.Background(), t0.Add(-time.Hour), 4)
		if err != nil || n != 6 {
			t.Fatalf("PruneSenders = %d, %v; want 6 rows", n, err)
		}
		for i := range 10 {
			_, ok, _ := s.Sender(context.Background(), fmt.Sprintf("u%d@contoso.com", i%3), fmt.Sprintf("d%d.example", i))
			if want := i == 0 || i >= 7; ok != want {
				t.Errorf("d%d.example kept: %v, want %v", i, ok, want)
			}
		}
		if n, err := s.PruneSenders(context.Background(), t0.Add(-time.Hour), 4); err != nil || n != 0 {
			t.Errorf("again: %d, %v; want nothing to do", n, err)
		}
		if _, err := s.PruneSenders(context.Background(), t0, -1); err == nil {
			t.Error("PruneSenders with a negative cap: nil error")
		}
	})
}

// testPruneAlongsideRecord: pruning while batches are recorded (another node's prune)
// fails neither.
func testPruneAlongsideRecord(t *testing.T, open opener) {
	t.Run("PruneAlongsideRecord", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		errs := make(chan error, 8)
		done := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 3 {
			wg.Go(func() {
				for b := range 10 {
					obs := make([]Observation, 30)
					for i := range obs {
						obs[i] = Observation{Domain: fmt.Sprintf("d%d.example", (i*7+b)%30), Sender: fmt.Sprintf("u%d@contoso.com", (i+w)%5),
							SenderDomain: "contoso.com", At: t0.Add(time.Duration(b) * time.Minute)}
					}
					if err := s.Record(context.Background(), obs); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := s.PruneSenders(context.Background(), t0.Add(5*time.Minute), 20); err != nil {
					errs <- err
					return
				}
			}
		})
		// The writers end by themselves; then the pruner is told to stop.
		go func() {
			for len(errs) == 0 {
				if n, err := s.Generation(context.Background()); err == nil && n >= 30 {
					break
				}
				time.Sleep(time.Millisecond) // polling the condition
			}
			close(done)
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func senderStat(t *testing.T, s Store, sender, name string) SenderStat {
	t.Helper()
	st, ok, err := s.Sender(context.Background(), sender, name)
	if err != nil || !ok {
		t.Fatalf("Sender(%s, %s) = %v, %v", sender, name, ok, err)
	}
	return st
}
