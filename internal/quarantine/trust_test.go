package quarantine

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// trustStore is what the trust tests need: both stores are one.
type trustStore interface {
	Store
	TrustStore
}

func asTrust(t *testing.T, s Store) trustStore {
	t.Helper()
	ts, ok := s.(trustStore)
	if !ok {
		t.Fatalf("%T keeps no trust", s)
	}
	return ts
}

func testTrust(t *testing.T, open opener) {
	c := newClock()
	s := asTrust(t, open(t, WithClock(c.Now)))
	if v, err := s.TrustVersion(ctx); err != nil || v != 0 {
		t.Fatalf("version of an empty store = %d, %v", v, err)
	}
	if err := s.Trust(ctx, Trusted{Domain: "Fabrikam-Partners.COM.", Actor: "admin:root", Remote: "192.0.2.7",
		Note: "our new logistics partner"}); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if err := s.Trust(ctx, Trusted{Domain: "army.ml", Actor: "cli:alice", Remote: "cli", Forced: true}); err != nil {
		t.Fatal(err)
	}
	err := s.Trust(ctx, Trusted{Domain: "fabrikam-partners.com", Actor: "admin:other", Note: "again"})
	if !errors.Is(err, ErrAlreadyTrusted) {
		t.Fatalf("trust twice = %v; want ErrAlreadyTrusted", err)
	}
	for _, bad := range []string{"", "  ", "a b.com", "bob@example.com"} {
		if err := s.Trust(ctx, Trusted{Domain: bad, Actor: "x"}); err == nil {
			t.Errorf("Trust(%q) succeeded", bad)
		}
	}
	l, err := s.TrustedDomains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Trusted{
		{Domain: "army.ml", At: t0.Add(time.Minute).Truncate(time.Microsecond), Actor: "cli:alice", Remote: "cli", Forced: true},
		{Domain: "fabrikam-partners.com", At: t0.Truncate(time.Microsecond), Actor: "admin:root", Remote: "192.0.2.7",
			Note: "our new logistics partner"},
	}
	if fmt.Sprint(l) != fmt.Sprint(want) {
		t.Fatalf("trusted:\n got %+v\nwant %+v", l, want)
	}
	v1, _ := s.TrustVersion(ctx)
	c.Advance(time.Minute)
	if err := s.Untrust(ctx, "ARMY.ML", "admin:root", "192.0.2.8", "a mistake"); err != nil {
		t.Fatal(err)
	}
	if err := s.Untrust(ctx, "army.ml", "admin:root", "192.0.2.8", ""); !errors.Is(err, ErrNotTrusted) {
		t.Fatalf("untrust twice = %v; want ErrNotTrusted", err)
	}
	v2, _ := s.TrustVersion(ctx)
	if v1 != 2 || v2 != 3 {
		t.Errorf("versions %d, %d; want 2, 3 (one per change, not per refused attempt)", v1, v2)
	}
	if l, _ := s.TrustedDomains(ctx); len(l) != 1 || l[0].Domain != "fabrikam-partners.com" {
		t.Errorf("after untrust: %+v", l)
	}
	evs, err := s.TrustEvents(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 {
		t.Fatalf("%d events: %+v", len(evs), evs)
	}
	e := evs[0]
	if e.Action != TrustRemoved || e.Domain != "army.ml" || e.Actor != "admin:root" || e.Remote != "192.0.2.8" ||
		e.Note != "a mistake" || !e.At.Equal(t0.Add(2*time.Minute).Truncate(time.Microsecond)) {
		t.Errorf("newest event %+v", e)
	}
	if evs[1].Action != TrustAdded || !evs[1].Forced || evs[2].Domain != "fabrikam-partners.com" || evs[2].Note != "our new logistics partner" {
		t.Errorf("older events %+v", evs[1:])
	}
	if page, _ := s.TrustEvents(ctx, 1, 1); len(page) != 1 || page[0].Domain != "army.ml" || page[0].Action != TrustAdded {
		t.Errorf("second page %+v", page)
	}
}

// Of nodes (or clicks) trusting the same domain at once, exactly one records it.
func testTrustConcurrent(t *testing.T, open opener) {
	s := asTrust(t, open(t))
	var wg sync.WaitGroup
	errs := make([]error, 6)
	start := make(chan struct{})
	for i := range errs {
		wg.Go(func() {
			<-start
			errs[i] = s.Trust(ctx, Trusted{Domain: "partner.example", Actor: fmt.Sprintf("admin:%d", i)})
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrAlreadyTrusted):
			t.Errorf("unexpected error %v", err)
		}
	}
	if v, _ := s.TrustVersion(ctx); ok != 1 || v != 1 {
		t.Errorf("%d succeeded, version %d; want 1, 1", ok, v)
	}
}

func testProposals(t *testing.T, open opener) {
	c := newClock()
	s := asTrust(t, open(t, WithClock(c.Now)))
	confirm := func(sender string, domains ...string) {
		t.Helper()
		if err := s.Confirm(ctx, sender, domains, "msg"); err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Hour)
	}
	first := c.Now()
	confirm("alice@contoso.com", "fabrikarn.com", "tailspin.example")
	confirm("alice@contoso.com", "fabrikarn.com") // the same sender again: still one
	confirm("Bob@Contoso.com", "fabrikarn.com", "solo.example")
	confirm("bob@contoso.com", "solo.example")
	confirm("BOB@contoso.com", "solo.example") // one sender three times: one sender
	got, err := s.Proposals(ctx, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("proposals after 2 senders (N = 3): %+v", got)
	}
	if got, _ := s.Proposals(ctx, 2, 0); len(got) != 1 || got[0].Domain != "fabrikarn.com" || got[0].Senders != 2 {
		t.Fatalf("proposals with N = 2: %+v", got)
	}
	last := c.Now()
	confirm("carol@contoso.com", "FABRIKARN.COM")
	got, err = s.Proposals(ctx, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := Proposal{Domain: "fabrikarn.com", Senders: 3, First: first.Truncate(time.Microsecond), Last: last.Truncate(time.Microsecond)}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("proposals after 3 senders:\n got %+v\nwant [%+v]", got, want)
	}
	// A trusted domain is no longer proposed; withdrawn, it is again.
	if err := s.Trust(ctx, Trusted{Domain: "fabrikarn.com", Actor: "admin:root"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Proposals(ctx, 3, 0); len(got) != 0 {
		t.Fatalf("a trusted domain is proposed: %+v", got)
	}
	if err := s.Untrust(ctx, "fabrikarn.com", "admin:root", "", ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Proposals(ctx, 3, 0); len(got) != 1 {
		t.Fatalf("after untrust: %+v", got)
	}
	// The order: most senders first, at most limit.
	for _, who := range []string{"d", "e", "f", "g"} {
		confirm(who+"@contoso.com", "tailspin.example")
	}
	if got, _ := s.Proposals(ctx, 3, 1); len(got) != 1 || got[0].Domain != "tailspin.example" || got[0].Senders != 5 {
		t.Fatalf("first proposal %+v", got)
	}
}
