package history

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/engine"
)

// opener opens the store named name for the test t. Opening the same name again in the
// same test, after Close, opens the same data. Every Store implementation runs testStore.
type opener func(t *testing.T, name string) Store

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)

// testStore is the behaviour every Store must have.
func testStore(t *testing.T, open opener) {
	t.Run("RecordThenDomain", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		record(t, s,
			Observation{Domain: "fabrikam.com", SenderDomain: "contoso.com", At: t0},
			Observation{Domain: "fabrikam.com", SenderDomain: "contoso.com", At: t0.Add(time.Hour), Count: 3},
			Observation{Domain: "fabrikam.com", SenderDomain: "sub.contoso.com", At: t0.Add(-time.Hour)},
			Observation{Domain: "fabrikam.com", At: t0}, // unknown sender: counted, no sender row
			Observation{Domain: "army.mil", SenderDomain: "contoso.com", At: t0},
		)
		want := Stat{Domain: "fabrikam.com", Count: 6, FirstSeen: t0.Add(-time.Hour).Truncate(time.Microsecond),
			LastSeen: t0.Add(time.Hour).Truncate(time.Microsecond), Senders: 2}
		if got := stat(t, s, "fabrikam.com"); got != want {
			t.Errorf("Domain(fabrikam.com) = %+v\nwant %+v", got, want)
		}
		if got := stat(t, s, "army.mil"); got.Count != 1 || got.Senders != 1 {
			t.Errorf("Domain(army.mil) = %+v", got)
		}
	})
	t.Run("UnknownDomainIsNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		record(t, s, Observation{Domain: "army.mil", At: t0})
		if st, ok, err := s.Domain(context.Background(), "army.ml"); err != nil || ok {
			t.Errorf("Domain(army.ml) = %+v, %v, %v; want not found", st, ok, err)
		}
	})
	t.Run("DomainAcceptsAnyFormOfTheName", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		record(t, s, Observation{Domain: "xn--mnchen-3ya.de", At: t0})
		for _, name := range []string{"XN--MNCHEN-3YA.DE.", "münchen.de", "MÜNCHEN.DE"} {
			if got := stat(t, s, name); got.Domain != "xn--mnchen-3ya.de" || got.Count != 1 {
				t.Errorf("Domain(%q) = %+v", name, got)
			}
		}
		if _, _, err := s.Domain(context.Background(), "not a domain"); err == nil {
			t.Error("Domain(invalid name) = nil error")
		}
	})
	t.Run("FirstAndLastSeenAcrossBatchesInAnyOrder", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		record(t, s, Observation{Domain: "fabrikam.com", SenderDomain: "contoso.com", At: t0})
		record(t, s, Observation{Domain: "fabrikam.com", SenderDomain: "contoso.com", At: t0.Add(48 * time.Hour)})
		record(t, s, Observation{Domain: "fabrikam.com", SenderDomain: "contoso.com", At: t0.Add(-48 * time.Hour)})
		record(t, s, Observation{Domain: "fabrikam.com", SenderDomain: "contoso.com", At: t0}) // inside: no change
		got := stat(t, s, "fabrikam.com")
		first, last := t0.Add(-48*time.Hour).Truncate(time.Microsecond), t0.Add(48*time.Hour).Truncate(time.Microsecond)
		if got.Count != 4 || !got.FirstSeen.Equal(first) || !got.LastSeen.Equal(last) || got.Senders != 1 {
			t.Errorf("got %+v; want count 4, first %v, last %v, 1 sender", got, first, last)
		}
		if got.FirstSeen.Location() != time.UTC {
			t.Errorf("FirstSeen in %v, want UTC", got.FirstSeen.Location())
		}
	})
	t.Run("KnownListsEveryDomainWithItsCount", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		if k := known(t, s); len(k) != 0 {
			t.Errorf("empty store: Known = %v", k)
		}
		record(t, s,
			Observation{Domain: "fabrikam.com", At: t0, Count: 10},
			Observation{Domain: "army.mil", At: t0, Count: 1204},
			Observation{Domain: "xn--mnchen-3ya.de", At: t0},
		)
		record(t, s, Observation{Domain: "fabrikam.com", At: t0, Count: 5})
		want := map[string]int64{"army.mil": 1204, "fabrikam.com": 15, "xn--mnchen-3ya.de": 1}
		got := map[string]int64{}
		for _, k := range known(t, s) {
			got[k.Domain.ASCII] = k.Count
			if k.Domain.ASCII == "xn--mnchen-3ya.de" && k.Domain.Display != "münchen.de" {
				t.Errorf("Known domain not parsed: %+v", k.Domain)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Known = %v, want %v", got, want)
		}
	})
	t.Run("CountsSaturate", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		record(t, s, Observation{Domain: "army.mil", SenderDomain: "contoso.com", At: t0, Count: math.MaxInt64 - 1})
		record(t, s, Observation{Domain: "army.mil", SenderDomain: "contoso.com", At: t0, Count: 5})
		// Within one batch too.
		record(t, s,
			Observation{Domain: "navy.mil", At: t0, Count: math.MaxInt64},
			Observation{Domain: "navy.mil", At: t0, Count: math.MaxInt64},
		)
		for _, d := range []string{"army.mil", "navy.mil"} {
			if got := stat(t, s, d); got.Count != math.MaxInt64 {
				t.Errorf("%s: count %d, want %d", d, got.Count, int64(math.MaxInt64))
			}
		}
	})
	t.Run("InvalidObservationFailsTheWholeBatch", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		good := Observation{Domain: "fabrikam.com", At: t0}
		for _, bad := range []Observation{
			{At: t0},
			{Domain: "Fabrikam.COM", At: t0},
			{Domain: "münchen.de", At: t0},
			{Domain: "not a domain", At: t0},
			{Domain: "fabrikam.com"},
			{Domain: "fabrikam.com", At: t0, Count: -1},
			{Domain: "fabrikam.com", SenderDomain: "Contoso.com", At: t0},
		} {
			err := s.Record(context.Background(), []Observation{good, bad})
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Record(%+v) = %v, want ErrInvalid", bad, err)
			}
		}
		if _, ok, err := s.Domain(context.Background(), "fabrikam.com"); ok || err != nil {
			t.Errorf("a failed batch left data behind (%v, %v)", ok, err)
		}
		if err := s.Record(context.Background(), nil); err != nil {
			t.Errorf("Record(nil) = %v", err)
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Record(ctx, []Observation{{Domain: "fabrikam.com", At: t0}}); !errors.Is(err, context.Canceled) {
			t.Errorf("Record with a cancelled context = %v", err)
		}
	})
	t.Run("ConcurrentRecord", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		const writers, batches, size = 8, 5, 20
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for b := range batches {
					obs := make([]Observation, size)
					for i := range obs {
						obs[i] = Observation{Domain: fmt.Sprintf("d%d.example", i%5), SenderDomain: fmt.Sprintf("s%d.example", w),
							At: t0.Add(time.Duration(w*batches+b) * time.Minute)}
					}
					if err := s.Record(context.Background(), obs); err != nil {
						errs <- err
						return
					}
					if _, err := s.Known(context.Background()); err != nil { // readers alongside
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for i := range 5 {
			got := stat(t, s, fmt.Sprintf("d%d.example", i))
			want := int64(writers * batches * size / 5)
			if got.Count != want || got.Senders != writers || !got.FirstSeen.Equal(t0.Truncate(time.Microsecond)) {
				t.Errorf("%+v; want count %d, %d senders, first %v", got, want, writers, t0)
			}
		}
	})
	t.Run("LargeBatches", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		for _, domains := range []int{1, 63, 64, 65, 130} {
			obs := make([]Observation, 260)
			for i := range obs {
				obs[i] = Observation{Domain: fmt.Sprintf("n%d.d%d.example", domains, i%domains),
					SenderDomain: fmt.Sprintf("s%d.example", i%7), At: t0.Add(time.Duration(i) * time.Second)}
			}
			record(t, s, obs...)
		}
		var total int64
		k := known(t, s)
		for _, d := range k {
			total += d.Count
		}
		if len(k) != 1+63+64+65+130 || total != 5*260 {
			t.Errorf("Known: %d domains, %d messages; want %d, %d", len(k), total, 1+63+64+65+130, 5*260)
		}
		// i = 7, 137: senders 0 and 4.
		if got := stat(t, s, "n130.d7.example"); got.Count != 2 || got.Senders != 2 {
			t.Errorf("n130.d7.example: %+v; want 2 messages from 2 senders", got)
		}
	})
	t.Run("ReopenKeepsData", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		record(t, s, Observation{Domain: "army.mil", SenderDomain: "contoso.com", At: t0, Count: 7})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = open(t, "db")
		record(t, s, Observation{Domain: "army.mil", SenderDomain: "contoso.com", At: t0.Add(time.Hour)})
		if got := stat(t, s, "army.mil"); got.Count != 8 || got.Senders != 1 {
			t.Errorf("after reopening: %+v", got)
		}
		other := open(t, "other")
		if k := known(t, other); len(k) != 0 {
			t.Errorf("another store shares data: %v", k)
		}
	})
	t.Run("GenerationMovesWithTheOrganisationsHistoryOnEveryHandle", func(t *testing.T) {
		t.Parallel()
		a, b := open(t, "db"), open(t, "db") // two nodes, or a node and history import
		gen := func(s Store) int64 {
			t.Helper()
			n, err := s.Generation(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		g0 := gen(b)
		record(t, a, Observation{Domain: "fabrikam.com", SenderDomain: "contoso.com", At: t0})
		g1 := gen(b)
		if g1 == g0 {
			t.Fatalf("generation did not move after a Record on another handle (%d)", g1)
		}
		if got := stat(t, b, "fabrikam.com"); got.Count != 1 {
			t.Errorf("the other handle sees %+v", got)
		}
		// A sender's own history is not what Known returns: no rebuild is needed.
		record(t, a, Observation{Domain: "fabrikam.co", Sender: "alice@contoso.com", SenderOnly: true, At: t0})
		if g := gen(b); g != g1 {
			t.Errorf("a sender-only Record moved the generation %d -> %d", g1, g)
		}
		// A failed batch changes nothing.
		a.Record(context.Background(), []Observation{{Domain: "army.mil", At: t0}, {Domain: "BAD", At: t0}})
		if g := gen(b); g != g1 {
			t.Errorf("a failed Record moved the generation %d -> %d", g1, g)
		}
		record(t, b, Observation{Domain: "army.mil", At: t0})
		if g := gen(a); g == g1 {
			t.Errorf("generation did not move after the second Record (%d)", g)
		}
	})
	t.Run("HealthOnAnOpenStore", func(t *testing.T) {
		t.Parallel()
		s := open(t, "db")
		if err := s.Health(context.Background()); err != nil {
			t.Errorf("Health = %v", err)
		}
	})
	testSenderStore(t, open)
	testPruneAlongsideRecord(t, open)
}

func record(t *testing.T, s Store, obs ...Observation) {
	t.Helper()
	if err := s.Record(context.Background(), obs); err != nil {
		t.Fatal(err)
	}
}

func stat(t *testing.T, s Store, name string) Stat {
	t.Helper()
	st, ok, err := s.Domain(context.Background(), name)
	if err != nil || !ok {
		t.Fatalf("Domain(%s) = %v, %v", name, ok, err)
	}
	return st
}

func known(t *testing.T, s Store) []engine.KnownDomain {
	t.Helper()
	k, err := s.Known(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clip(k)
}
