package quarantine

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

// reportingOpener opens an empty ReportingStore with the options.
type reportingOpener func(t *testing.T, opts ...Option) ReportingStore

func openSQLiteReporting(t *testing.T, opts ...Option) ReportingStore {
	return openSQLite(t, filepath.Join(t.TempDir(), "q.db"), opts...)
}

// statsFixture holds, on a fake clock, in a store that open opens:
//
//	m0 on 20 Feb (before the range), a and b on 26 Feb, c on 28 Feb;
//	c released as addressed on 28 Feb, a discarded on 1 Mar (now).
func statsFixture(t *testing.T, open reportingOpener) (s ReportingStore, c *testenv.Clock, ids map[string]string) {
	t.Helper()
	c = testenv.NewClock(time.Date(2026, 2, 20, 9, 30, 0, 0, time.UTC))
	s = open(t, WithClock(c.Now))
	ids = map[string]string{}
	at := func(m Message) Message {
		m.Received = c.Now()
		return m
	}
	ids["m0"] = hold(t, s, at(Message{Adapter: "relay", Sender: "old@example.org", ExpiresAt: t0,
		Recipients: []Recipient{{Address: "z@old.example", Verdict: verdict.Hold, Techniques: []string{"old"}}}}), "raw")
	c.Set(time.Date(2026, 2, 26, 10, 0, 0, 0, time.UTC))
	ids["a"] = hold(t, s, at(sample()), "raw")
	ids["b"] = hold(t, s, at(Message{Adapter: "milter", Sender: "alice@example.org", ExpiresAt: t0.Add(time.Hour),
		Recipients: []Recipient{
			{Address: "dave@ARRNY.MIL", Verdict: verdict.Hold, Intended: []string{"army.mil"}, Techniques: []string{"rn-m"}},
			{Address: "erin@arrny.mil", Verdict: verdict.Warn, Intended: []string{"army.mil"}, Techniques: []string{"rn-m"}},
			{Address: "frank@ok.org", Verdict: verdict.Allow},
			{Address: "not an address", Verdict: verdict.Invalid},
			{Address: `"x@y"@Evil.Example`, Verdict: verdict.Hold, Intended: []string{"example.com"}},
		}}), "raw")
	c.Set(time.Date(2026, 2, 28, 23, 59, 0, 0, time.UTC))
	ids["c"] = hold(t, s, at(sample()), "raw")
	if err := s.Transition(ctx, ids["c"], Held, ReleasedAsAddressed, "alice@example.org", "192.0.2.1", ""); err != nil {
		t.Fatal(err)
	}
	c.Set(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC))
	if err := s.Transition(ctx, ids["a"], Held, Discarded, "admin:root", "192.0.2.2", "admin page"); err != nil {
		t.Fatal(err)
	}
	return s, c, ids
}

func days(first time.Time, n ...int) []DayCount {
	var out []DayCount
	for i, c := range n {
		out = append(out, DayCount{Day: first.AddDate(0, 0, i), N: c})
	}
	return out
}

func checkEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func TestStatsSurvivePurge(t *testing.T)       { testStatsSurvivePurge(t, openSQLiteReporting) }
func TestStatsEmptyStore(t *testing.T)         { testStatsEmptyStore(t, openSQLiteReporting) }
func TestStatsTopDomainsLimit(t *testing.T)    { testStatsTopDomainsLimit(t, openSQLiteReporting) }
func TestRecentEventsNewestFirst(t *testing.T) { testRecentEventsNewestFirst(t, openSQLiteReporting) }

func testStatsSurvivePurge(t *testing.T, open reportingOpener) {
	s, c, _ := statsFixture(t, open)
	since := c.Now().Add(-4 * 24 * time.Hour) // 25 Feb 09:30: the range starts on 25 Feb
	feb25 := time.Date(2026, 2, 25, 0, 0, 0, 0, time.UTC)
	byState := []Count{{"discarded", 1}, {"held", 1}, {"released-as-addressed", 1}}

	got, err := s.Stats(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "HeldPerDay", got.HeldPerDay, days(feb25, 0, 2, 0, 1, 0))
	checkEqual(t, "ByTechnique", got.ByTechnique, []Count{{"digit", 2}, {"homoglyph", 2}, {"rn-m", 2}})
	checkEqual(t, "TopDomains", got.TopDomains, []Count{{"arrny.mil", 2}, {"examp1e.com", 2}, {"evil.example", 1}})
	checkEqual(t, "ByState", got.ByState, byState)

	// c was released on 28 Feb: purged. Its content-based counts go, its events stay.
	if n, err := s.Purge(ctx, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)); err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1", n, err)
	}
	got, err = s.Stats(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "HeldPerDay after purge", got.HeldPerDay, days(feb25, 0, 2, 0, 1, 0))
	checkEqual(t, "ByTechnique after purge", got.ByTechnique, []Count{{"rn-m", 2}, {"digit", 1}, {"homoglyph", 1}})
	checkEqual(t, "TopDomains after purge", got.TopDomains, []Count{{"arrny.mil", 2}, {"evil.example", 1}, {"examp1e.com", 1}})
	checkEqual(t, "ByState after purge", got.ByState, byState)

	// Thirty days back: the range covers m0's day too.
	got, err = s.Stats(ctx, c.Now().AddDate(0, 0, -29))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.HeldPerDay) != 30 || !got.HeldPerDay[29].Day.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("HeldPerDay over 30 days: %v", got.HeldPerDay)
	}
	total := 0
	for _, d := range got.HeldPerDay {
		total += d.N
	}
	if total != 4 || got.HeldPerDay[20].N != 1 { // 20 Feb is day 20 from 31 Jan
		t.Errorf("HeldPerDay over 30 days: %v", got.HeldPerDay)
	}
}

func testStatsEmptyStore(t *testing.T, open reportingOpener) {
	c := newClock()
	s := open(t, WithClock(c.Now))
	got, err := s.Stats(ctx, c.Now().AddDate(0, 0, -6))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.HeldPerDay) != 7 || got.ByTechnique != nil || got.TopDomains != nil || got.ByState != nil {
		t.Fatalf("Stats of an empty store: %+v", got)
	}
	for _, d := range got.HeldPerDay {
		if d.N != 0 || d.Day.Location() != time.UTC || d.Day.Hour() != 0 {
			t.Fatalf("day %v", d)
		}
	}
}

// testStatsTopDomainsLimit: domains count in ASCII lower case, non-ASCII domains as they
// are.
func testStatsTopDomainsLimit(t *testing.T, open reportingOpener) {
	c := newClock()
	s := open(t, WithClock(c.Now))
	m := sample()
	m.Received = c.Now()
	m.Recipients = nil
	for i := range 12 {
		m.Recipients = append(m.Recipients, Recipient{Address: fmt.Sprintf("u@d%02d.example", i), Verdict: verdict.Hold})
	}
	m.Recipients = append(m.Recipients, Recipient{Address: "v@d07.example", Verdict: verdict.Hold},
		Recipient{Address: "w@D07.Example", Verdict: verdict.Hold}, Recipient{Address: "x@Ünï.example", Verdict: verdict.Hold})
	hold(t, s, m, "raw")
	got, err := s.Stats(ctx, c.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.TopDomains) != TopDomainsLimit || got.TopDomains[0] != (Count{"d07.example", 3}) ||
		got.TopDomains[1] != (Count{"d00.example", 1}) {
		t.Fatalf("TopDomains %v", got.TopDomains)
	}
}

func testRecentEventsNewestFirst(t *testing.T, open reportingOpener) {
	s, _, ids := statsFixture(t, open)
	if _, err := s.Purge(ctx, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	all, err := s.RecentEvents(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		id       string
		from, to State
	}
	var got []ev
	for _, e := range all {
		got = append(got, ev{e.MessageID, e.From, e.To})
	}
	want := []ev{
		{ids["a"], Held, Discarded}, {ids["c"], Held, ReleasedAsAddressed}, {ids["c"], None, Held},
		{ids["b"], None, Held}, {ids["a"], None, Held}, {ids["m0"], None, Held},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("RecentEvents after purge:\n got %v\nwant %v", got, want)
	}
	if e := all[0]; e.Actor != "admin:root" || e.Remote != "192.0.2.2" || e.Note != "admin page" ||
		!e.At.Equal(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)) || e.At.Location() != time.UTC {
		t.Errorf("newest event %+v", e)
	}
	page, err := s.RecentEvents(ctx, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 || page[0].To != ReleasedAsAddressed || page[1].MessageID != ids["c"] || page[1].To != Held {
		t.Fatalf("RecentEvents(2, 1) = %+v", page)
	}
	if rest, err := s.RecentEvents(ctx, 10, 6); err != nil || len(rest) != 0 {
		t.Fatalf("RecentEvents past the end = %v, %v", rest, err)
	}
}
