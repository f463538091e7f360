package quarantine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 123456000, time.UTC)

func newClock() *testenv.Clock { return testenv.NewClock(t0) }

// opener opens an empty store with the options.
type opener func(t *testing.T, opts ...Option) Store

// testStore runs the behaviour every Store implementation must have.
func testStore(t *testing.T, open opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open opener)
	}{
		{"RoundTrip", testRoundTrip},
		{"HoldValidates", testHoldValidates},
		{"SizeLimit", testSizeLimit},
		{"TransitionRace", testTransitionRace},
		{"InvalidTransitions", testInvalidTransitions},
		{"AuditTrail", testAuditTrail},
		{"Expiring", testExpiring},
		{"Purge", testPurge},
		{"ListFilters", testListFilters},
		{"ConcurrentHold", testConcurrentHold},
		{"NotFound", testNotFound},
		{"ReleaseDelivery", testReleaseDelivery},
		{"DeliveryFailsForGood", testDeliveryFailsForGood},
		{"RecoverDeliveries", testRecoverDeliveries},
		{"ConcurrentClaims", testConcurrentClaims},
		{"NoticesAndConfirmations", testNoticesAndConfirmations},
		{"Dedupe", testDedupe},
		{"NoticeClaims", testNoticeClaims},
		{"ReminderAndReturnClaims", testReminderAndReturnClaims},
		{"RecoverNotices", testRecoverNotices},
		{"Trust", testTrust},
		{"TrustConcurrent", testTrustConcurrent},
		{"Proposals", testProposals},
		{"Handovers", testHandovers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

func sample() Message {
	return Message{
		Received:   t0.Add(-time.Second),
		Adapter:    "milter",
		Sender:     "alice@example.org",
		AuthUser:   "alice",
		ClientAddr: "192.0.2.10",
		QueueID:    "4XyZ1",
		Subject:    "Quarterly figures",
		Recipients: []Recipient{
			{Address: "bob@examp1e.com", Verdict: verdict.Hold, Intended: []string{"example.com"},
				Techniques: []string{"homoglyph", "digit"}, Reason: "looks like example.com"},
			{Address: "carol@example.net", Verdict: verdict.Allow},
		},
		ExpiresAt: t0.Add(7 * 24 * time.Hour),
		Content:   []string{"credentials", "medical"},
	}
}

var ctx = context.Background()

func hold(t *testing.T, s Store, m Message, raw string) string {
	t.Helper()
	id, err := s.Hold(ctx, m, strings.NewReader(raw))
	if err != nil {
		t.Fatalf("Hold: %v", err)
	}
	return id
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

func testRoundTrip(t *testing.T, open opener) {
	c := newClock()
	s := open(t, WithClock(c.Now))
	raw := "From: alice@example.org\r\nSubject: Quarterly figures\r\n\r\nbody\x00\xff\r\n.\r\n"
	m := sample()
	id := hold(t, s, m, raw)
	if !idPattern.MatchString(id) {
		t.Errorf("ID %q is not 22 URL-safe characters", id)
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := m
	want.ID, want.Size, want.State = id, int64(len(raw)), Held
	want.Received = want.Received.Truncate(time.Microsecond)
	want.Recipients[1].Intended, want.Recipients[1].Techniques = []string{}, []string{}
	if !equalMessage(got, want) {
		t.Errorf("Get = %+v\nwant %+v", got, want)
	}
	if got.Raw != nil {
		t.Errorf("Get filled Raw")
	}
	b, err := s.Raw(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, []byte(raw)) {
		t.Errorf("Raw = %q; want %q", b, raw)
	}
	l, err := s.List(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 1 || !equalMessage(l[0], want) {
		t.Errorf("List = %+v; want [%+v]", l, want)
	}
	// Received defaults to now; an empty raw content is kept as empty; no categories and
	// content over the limits are kept as such.
	m.Received = time.Time{}
	m.Content, m.ContentSkipped = nil, true
	id2 := hold(t, s, m, "")
	got, err = s.Get(ctx, id2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Content != nil || !got.ContentSkipped {
		t.Errorf("Content, ContentSkipped = %q, %v; want none, true", got.Content, got.ContentSkipped)
	}
	if !got.Received.Equal(t0.Truncate(time.Microsecond)) || got.Size != 0 {
		t.Errorf("Received, Size = %v, %d; want %v, 0", got.Received, got.Size, t0)
	}
	if b, err := s.Raw(ctx, id2); err != nil || len(b) != 0 {
		t.Errorf("Raw of empty = %q, %v", b, err)
	}
}

func equalMessage(a, b Message) bool {
	return a.ID == b.ID && a.Received.Equal(b.Received) && a.Adapter == b.Adapter &&
		a.Sender == b.Sender && a.AuthUser == b.AuthUser && a.ClientAddr == b.ClientAddr &&
		a.QueueID == b.QueueID && a.Subject == b.Subject && a.Size == b.Size &&
		a.State == b.State && a.ExpiresAt.Equal(b.ExpiresAt) &&
		fmt.Sprint(a.Recipients) == fmt.Sprint(b.Recipients) && len(a.Recipients) == len(b.Recipients) &&
		slices.Equal(a.Content, b.Content) && a.ContentSkipped == b.ContentSkipped
}

func testHoldValidates(t *testing.T, open opener) {
	s := open(t)
	m := sample()
	m.Recipients = nil
	if _, err := s.Hold(ctx, m, strings.NewReader("x")); err == nil {
		t.Error("Hold without recipients succeeded")
	}
	m = sample()
	m.ExpiresAt = time.Time{}
	if _, err := s.Hold(ctx, m, strings.NewReader("x")); err == nil {
		t.Error("Hold without expiry succeeded")
	}
	if _, err := s.Hold(ctx, sample(), nil); err == nil {
		t.Error("Hold without raw content succeeded")
	}
	if _, err := s.Hold(ctx, sample(), errReader{}); err == nil {
		t.Error("Hold with a failing reader succeeded")
	}
	if l, _ := s.List(ctx, Filter{}); len(l) != 0 {
		t.Errorf("refused holds left %d messages", len(l))
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func testSizeLimit(t *testing.T, open opener) {
	s := open(t, WithMaxSize(100))
	if _, err := s.Hold(ctx, sample(), strings.NewReader(strings.Repeat("x", 100))); err != nil {
		t.Errorf("Hold of exactly the limit: %v", err)
	}
	_, err := s.Hold(ctx, sample(), strings.NewReader(strings.Repeat("x", 101)))
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("Hold over the limit = %v; want ErrTooLarge", err)
	}
	if l, _ := s.List(ctx, Filter{}); len(l) != 1 {
		t.Errorf("List has %d messages; want 1", len(l))
	}
}

func testTransitionRace(t *testing.T, open opener) {
	s := open(t)
	for round := range 10 {
		id := hold(t, s, sample(), "raw")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for i := range errs {
			wg.Go(func() {
				<-start
				errs[i] = s.Transition(ctx, id, Held, ReleasedCorrected, fmt.Sprintf("user%d", i), "198.51.100.1", "")
			})
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ErrConflict):
				var ce *ConflictError
				if !errors.As(err, &ce) || ce.Current != ReleasedCorrected || ce.Expected != Held || ce.ID != id {
					t.Errorf("round %d: conflict error %#v", round, err)
				}
			default:
				t.Errorf("round %d: %v", round, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d winners (%v); want exactly 1", round, wins, errs)
		}
		ev, err := s.Audit(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(ev) != 2 {
			t.Errorf("round %d: %d events; want held and one release", round, len(ev))
		}
		// Whatever comes next from Held conflicts too.
		if err := s.Transition(ctx, id, Held, Discarded, "x", "", ""); !errors.Is(err, ErrConflict) {
			t.Errorf("round %d: second transition = %v; want ErrConflict", round, err)
		}
	}
}

func testInvalidTransitions(t *testing.T, open opener) {
	s := open(t)
	id := hold(t, s, sample(), "raw")
	states := []State{None, Held, ReleasedAsAddressed, ReleasedCorrected, Discarded, Expired, State(42)}
	for _, from := range states {
		for _, to := range states {
			allowed := from == Held && (to == ReleasedAsAddressed || to == ReleasedCorrected ||
				to == Discarded || to == Expired)
			if CanTransition(from, to) != allowed {
				t.Errorf("CanTransition(%v, %v) = %v", from, to, !allowed)
			}
			if allowed {
				continue
			}
			if err := s.Transition(ctx, id, from, to, "a", "", ""); !errors.Is(err, ErrInvalidTransition) {
				t.Errorf("Transition(%v, %v) = %v; want ErrInvalidTransition", from, to, err)
			}
		}
	}
	if m, err := s.Get(ctx, id); err != nil || m.State != Held {
		t.Errorf("after refused transitions: %v, %v; want held", m.State, err)
	}
	if ev, _ := s.Audit(ctx, id); len(ev) != 1 {
		t.Errorf("refused transitions left %d events; want 1", len(ev))
	}
	// From a final state, nothing is allowed.
	if err := s.Transition(ctx, id, Held, Discarded, "a", "", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Transition(ctx, id, Discarded, ReleasedAsAddressed, "a", "", ""); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("from discarded = %v; want ErrInvalidTransition", err)
	}
}

func testAuditTrail(t *testing.T, open opener) {
	c := newClock()
	s := open(t, WithClock(c.Now))
	m := sample()
	id := hold(t, s, m, "raw")
	c.Advance(time.Hour)
	// A lost race leaves no event.
	if err := s.Transition(ctx, id, Held, Expired, "expirer", "", ""); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if err := s.Transition(ctx, id, Held, ReleasedAsAddressed, "alice", "203.0.113.7", "clicked"); !errors.Is(err, ErrConflict) {
		t.Fatalf("late release = %v; want ErrConflict", err)
	}
	got, err := s.Audit(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{At: t0, MessageID: id, From: None, To: Held, Actor: "milter", Remote: "192.0.2.10", Note: "held"},
		{At: t0.Add(time.Hour), MessageID: id, From: Held, To: Expired, Actor: "expirer"},
	}
	if len(got) != len(want) {
		t.Fatalf("Audit = %+v; want %+v", got, want)
	}
	for i := range want {
		w := want[i]
		w.At = w.At.Truncate(time.Microsecond)
		if !got[i].At.Equal(w.At) || got[i].At.Location() != time.UTC {
			t.Errorf("event %d at %v; want %v UTC", i, got[i].At, w.At)
		}
		got[i].At = w.At
		if got[i] != w {
			t.Errorf("event %d = %+v; want %+v", i, got[i], w)
		}
	}
	// Ordered even when the clock does not move.
	id2 := hold(t, s, m, "raw")
	if err := s.Transition(ctx, id2, Held, ReleasedCorrected, "bob", "r", "fixed"); err != nil {
		t.Fatal(err)
	}
	got, err = s.Audit(ctx, id2)
	if err != nil || len(got) != 2 || got[0].To != Held || got[1].To != ReleasedCorrected || got[1].Note != "fixed" {
		t.Errorf("Audit = %+v, %v", got, err)
	}
}

func testExpiring(t *testing.T, open opener) {
	c := newClock()
	s := open(t, WithClock(c.Now))
	var ids []string
	for i := range 4 {
		m := sample()
		m.ExpiresAt = t0.Add(time.Duration(4-i) * time.Hour) // 4h, 3h, 2h, 1h
		ids = append(ids, hold(t, s, m, "raw"))
	}
	if l, err := s.Expiring(ctx, c.Now()); err != nil || len(l) != 0 {
		t.Errorf("Expiring(now) = %d, %v; want none", len(l), err)
	}
	c.Advance(2 * time.Hour)
	l, err := s.Expiring(ctx, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 2 || l[0].ID != ids[3] || l[1].ID != ids[2] {
		t.Errorf("Expiring(+2h) = %v; want [%s %s] (soonest first, at the limit included)", msgIDs(l), ids[3], ids[2])
	}
	if len(l) > 0 && len(l[0].Recipients) != 2 {
		t.Errorf("Expiring leaves out recipients")
	}
	// A message no longer held does not expire.
	if err := s.Transition(ctx, ids[3], Held, Discarded, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	c.Advance(10 * time.Hour)
	l, err = s.Expiring(ctx, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(msgIDs(l)) != fmt.Sprint([]string{ids[2], ids[1], ids[0]}) {
		t.Errorf("Expiring(+12h) = %v", msgIDs(l))
	}
}

func msgIDs(l []Message) []string {
	var out []string
	for _, m := range l {
		out = append(out, m.ID)
	}
	return out
}

func testPurge(t *testing.T, open opener) {
	c := newClock()
	s := open(t, WithClock(c.Now))
	held := hold(t, s, sample(), "raw")
	old := hold(t, s, sample(), "raw")
	recent := hold(t, s, sample(), "raw")
	if err := s.Transition(ctx, old, Held, ReleasedAsAddressed, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	c.Advance(48 * time.Hour)
	if err := s.Transition(ctx, recent, Held, Discarded, "alice", "", ""); err != nil {
		t.Fatal(err)
	}
	n, err := s.Purge(ctx, c.Now().Add(-24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1", n, err)
	}
	if _, err := s.Get(ctx, old); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(purged) = %v; want ErrNotFound", err)
	}
	if _, err := s.Raw(ctx, old); !errors.Is(err, ErrNotFound) {
		t.Errorf("Raw(purged) = %v; want ErrNotFound", err)
	}
	if ev, err := s.Audit(ctx, old); err != nil || len(ev) != 2 {
		t.Errorf("Audit(purged) = %d events, %v; want the 2 events kept", len(ev), err)
	}
	for _, id := range []string{held, recent} {
		if _, err := s.Get(ctx, id); err != nil {
			t.Errorf("Get(%s) after purge: %v", id, err)
		}
		if _, err := s.Raw(ctx, id); err != nil {
			t.Errorf("Raw(%s) after purge: %v", id, err)
		}
	}
	// Held messages are never purged, however old.
	c.Advance(365 * 24 * time.Hour)
	n, err = s.Purge(ctx, c.Now())
	if err != nil || n != 1 {
		t.Errorf("second Purge = %d, %v; want 1 (the discarded one)", n, err)
	}
	if _, err := s.Get(ctx, held); err != nil {
		t.Errorf("held message purged: %v", err)
	}
}

func testListFilters(t *testing.T, open opener) {
	s := open(t)
	mk := func(sender, subject, rcpt string, at int) string {
		m := sample()
		m.Sender, m.Subject = sender, subject
		m.Recipients = []Recipient{{Address: rcpt, Verdict: verdict.Hold}}
		m.Received = t0.Add(time.Duration(at) * time.Minute)
		return hold(t, s, m, "raw")
	}
	a := mk("alice@example.org", "Invoice 100%", "bob@examp1e.com", 1)
	b := mk("Bob@Example.org", "Lunch", "carol@paypa1.com", 2)
	c := mk("alice@example.org", "Re: lunch_plan", "dave@micros0ft.com", 3)
	d := mk("eve@example.org", "Hello", "frank@goog1e.com", 4)
	if err := s.Transition(ctx, d, Held, Discarded, "eve", "", ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		f    Filter
		want []string
	}{
		{Filter{}, []string{d, c, b, a}},
		{Filter{State: Held}, []string{c, b, a}},
		{Filter{State: Discarded}, []string{d}},
		{Filter{State: Expired}, nil},
		{Filter{Sender: "alice@example.org"}, []string{c, a}},
		{Filter{Sender: "bob@example.org"}, []string{b}},
		{Filter{Sender: "example.org"}, nil},
		{Filter{Search: "LUNCH"}, []string{c, b}},
		{Filter{Search: "paypa1"}, []string{b}},
		{Filter{Search: "eve@"}, []string{d}},
		{Filter{Search: "%"}, []string{a}},
		{Filter{Search: "_"}, []string{c}},
		{Filter{Search: "nothing"}, nil},
		{Filter{Search: "lunch", State: Held, Sender: "alice@example.org"}, []string{c}},
		{Filter{Limit: 2}, []string{d, c}},
		{Filter{Limit: 2, Offset: 2}, []string{b, a}},
		{Filter{Offset: 4}, nil},
	}
	for _, tt := range tests {
		l, err := s.List(ctx, tt.f)
		if err != nil {
			t.Errorf("List(%+v): %v", tt.f, err)
			continue
		}
		if fmt.Sprint(msgIDs(l)) != fmt.Sprint(tt.want) {
			t.Errorf("List(%+v) = %v; want %v", tt.f, msgIDs(l), tt.want)
		}
	}
	if _, err := s.List(ctx, Filter{State: State(42)}); err == nil {
		t.Error("List with an invalid state succeeded")
	}
}

func testConcurrentHold(t *testing.T, open opener) {
	s := open(t)
	const n, each = 8, 5
	ids := make(chan string, n*each)
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			for i := range each {
				m := sample()
				m.Subject = fmt.Sprintf("g%d-%d", g, i)
				id, err := s.Hold(ctx, m, strings.NewReader(m.Subject))
				if err != nil {
					t.Error(err)
					return
				}
				ids <- id
			}
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] || !idPattern.MatchString(id) {
			t.Errorf("ID %q duplicate or not URL-safe", id)
		}
		seen[id] = true
		m, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if raw, err := s.Raw(ctx, id); err != nil || string(raw) != m.Subject {
			t.Errorf("Raw(%s) = %q, %v; want %q", id, raw, err, m.Subject)
		}
	}
	if len(seen) != n*each {
		t.Errorf("%d messages held; want %d", len(seen), n*each)
	}
}

func testNotFound(t *testing.T, open opener) {
	s := open(t)
	id := NewID()
	if _, err := s.Get(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get = %v", err)
	}
	if _, err := s.Raw(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Raw = %v", err)
	}
	if _, err := s.Audit(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Audit = %v", err)
	}
	if err := s.Transition(ctx, id, Held, Discarded, "a", "", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("Transition = %v", err)
	}
}

func TestState(t *testing.T) {
	for s := Held; s <= Expired; s++ {
		p, err := ParseState(" " + strings.ToUpper(s.String()) + " ")
		if err != nil || p != s {
			t.Errorf("ParseState(%v) = %v, %v", s, p, err)
		}
	}
	for _, bad := range []string{"", "none", "release", "State(9)"} {
		if _, err := ParseState(bad); err == nil {
			t.Errorf("ParseState(%q) succeeded", bad)
		}
	}
	if None.Valid() || State(6).Valid() || !Expired.Valid() {
		t.Error("Valid")
	}
	if State(9).String() != "State(9)" {
		t.Error(State(9).String())
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := NewID()
		if !idPattern.MatchString(id) || seen[id] || id[0] == '-' || id[0] == '_' {
			t.Fatalf("NewID = %q: not URL-safe, repeated, or beginning with - or _", id)
		}
		seen[id] = true
	}
}

// TestFlaggedAndSuspectAreDefinedOnce: Flagged is a verdict that stops mail; Suspect is
// anything the guard found (warn too, or an intended domain), never invalid alone.
func TestFlaggedAndSuspectAreDefinedOnce(t *testing.T) {
	for _, c := range []struct {
		r                Recipient
		flagged, suspect bool
	}{
		{Recipient{Verdict: verdict.Allow}, false, false},
		{Recipient{Verdict: verdict.Warn}, false, true},
		{Recipient{Verdict: verdict.Hold}, true, true},
		{Recipient{Verdict: verdict.Reject}, true, true},
		{Recipient{Verdict: verdict.Invalid}, true, false},
		{Recipient{Verdict: verdict.Allow, Intended: []string{"army.mil"}}, false, true},
	} {
		if c.r.Flagged() != c.flagged || c.r.Suspect() != c.suspect {
			t.Errorf("%+v: Flagged %v Suspect %v, want %v %v", c.r, c.r.Flagged(), c.r.Suspect(), c.flagged, c.suspect)
		}
	}
}
