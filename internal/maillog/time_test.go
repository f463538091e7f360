package maillog

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func sent(ts, to string) string {
	return ts + " mx1 postfix/smtp[1]: 4F2A31234: to=<" + to + ">, relay=r, status=sent (ok)\n"
}

func times(t *testing.T, log string, opts Options) []time.Time {
	t.Helper()
	ds, _ := readAll(t, log, opts)
	var out []time.Time
	for _, d := range ds {
		out = append(out, d.Time)
	}
	return out
}

func TestTimestamps(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	for _, c := range []struct {
		name string
		ts   string
		opts Options
		want time.Time
	}{
		{"syslog", "Nov 27 10:45:51", utc2026, time.Date(2026, 11, 27, 10, 45, 51, 0, time.UTC)},
		{"syslog, day padded with a space", "Nov  7 10:45:51", utc2026, time.Date(2026, 11, 7, 10, 45, 51, 0, time.UTC)},
		{"syslog, day padded with a zero", "Nov 07 10:45:51", utc2026, time.Date(2026, 11, 7, 10, 45, 51, 0, time.UTC)},
		{"syslog with microseconds", "Nov 27 10:45:51.123456", utc2026, time.Date(2026, 11, 27, 10, 45, 51, 123456000, time.UTC)},
		{"syslog in the given zone", "Nov 27 10:45:51", Options{Year: 2026, Location: paris}, time.Date(2026, 11, 27, 9, 45, 51, 0, time.UTC)},
		{"RFC 3339 as maillog_file and rsyslog write it", "2026-11-27T10:45:51.123456+00:00", Options{}, time.Date(2026, 11, 27, 10, 45, 51, 123456000, time.UTC)},
		{"RFC 3339 with an offset", "2026-11-27T11:45:51+01:00", Options{}, time.Date(2026, 11, 27, 10, 45, 51, 0, time.UTC)},
		{"RFC 3339 in UTC", "2026-11-27T10:45:51Z", Options{}, time.Date(2026, 11, 27, 10, 45, 51, 0, time.UTC)},
		{"journalctl -o short-iso", "2026-11-27T11:45:51+0100", Options{}, time.Date(2026, 11, 27, 10, 45, 51, 0, time.UTC)},
		{"RFC 3339 ignores Year", "2024-02-29T10:45:51Z", utc2026, time.Date(2024, 2, 29, 10, 45, 51, 0, time.UTC)},
	} {
		got := times(t, sent(c.ts, "bob@fabrikam.com"), c.opts)
		if len(got) != 1 || !got[0].Equal(c.want) {
			t.Errorf("%s: %q -> %v, want %v", c.name, c.ts, got, c.want)
		}
	}
}

func TestBadTimestampsAreSkipped(t *testing.T) {
	for _, ts := range []string{
		"Nov 31 10:45:51", "Feb 29 10:45:51", "Nov 27 24:45:51", "Nov 27 10:60:51", "Foo 27 10:45:51",
		"Nov 27 10:45", "Nov 27 10:45:51.", "Nov 2710:45:51 ", "2026-11-27T10:45:51", "2026-13-27T10:45:51Z",
		"2026-11-27 10:45:51Z", "nov 27 10:45:51",
	} {
		_, st := readAll(t, sent(ts, "bob@fabrikam.com"), utc2026)
		if st.Skipped != 1 || st.Deliveries != 0 {
			t.Errorf("%q: stats %+v; want it skipped", ts, st)
		}
	}
}

func TestYearInferredFromNow(t *testing.T) {
	mtime := time.Date(2027, 1, 3, 8, 0, 0, 0, time.UTC) // the file's modification time
	log := sent("Dec 30 23:59:00", "a@fabrikam.com") + sent("Dec 31 23:59:59", "b@fabrikam.com") +
		sent("Jan  1 00:00:01", "c@fabrikam.com") + sent("Jan  3 07:59:00", "d@fabrikam.com")
	want := []time.Time{
		time.Date(2026, 12, 30, 23, 59, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2027, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(2027, 1, 3, 7, 59, 0, 0, time.UTC),
	}
	got := times(t, log, Options{Now: mtime, Location: time.UTC})
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("line %d: %v, want %v", i, got[i], want[i])
		}
	}
	// A line up to a day after Now is still this year (clocks differ); later is last year.
	if got := times(t, sent("Jan  4 07:00:00", "a@fabrikam.com"), Options{Now: mtime, Location: time.UTC}); got[0].Year() != 2027 {
		t.Errorf("a line within a day of Now: %v", got[0])
	}
	if got := times(t, sent("Jan  5 07:00:00", "a@fabrikam.com"), Options{Now: mtime, Location: time.UTC}); got[0].Year() != 2026 {
		t.Errorf("a line two days after Now: %v", got[0])
	}
	// Without Now, the current time.
	if got := times(t, sent("Jan  1 00:00:00", "a@fabrikam.com"), Options{Location: time.UTC}); got[0].After(time.Now()) {
		t.Errorf("a line inferred after the current time: %v", got[0])
	}
}

func TestYearRollsOverWithGivenYear(t *testing.T) {
	log := sent("Dec 31 23:59:59", "a@fabrikam.com") + sent("Jan  1 00:00:01", "b@fabrikam.com") +
		sent("Dec 31 23:59:58", "late@fabrikam.com") + // out of order: still last year
		sent("Jan  2 00:00:00", "c@fabrikam.com") + sent("Mar  1 00:00:00", "d@fabrikam.com")
	var years []int
	for _, tm := range times(t, log, Options{Year: 2026, Location: time.UTC}) {
		years = append(years, tm.Year())
	}
	if want := []int{2026, 2027, 2026, 2027, 2027}; !slices.Equal(years, want) {
		t.Errorf("years = %v, want %v", years, want)
	}
}

// The same log with RFC 3339 timestamps, as Postfix's own maillog_file or rsyslog write
// it, gives the same deliveries.
func TestRFC3339SampleMatchesSyslog(t *testing.T) {
	var b strings.Builder
	for line := range strings.Lines(sample(t)) {
		if ts, err := time.Parse(time.Stamp, line[:min(len(line), 15)]); err == nil && strings.HasPrefix(line, "Nov 27") {
			line = ts.AddDate(2026, 0, 0).Format("2006-01-02T15:04:05.000000-07:00") + line[15:]
		}
		b.WriteString(line)
	}
	if !strings.Contains(b.String(), "2026-11-27T10:45:51.000000+00:00 mx1 postfix/smtp[2207]: 4F2A31234: to=<bob@fabrikam.com>") {
		t.Fatalf("bad conversion:\n%s", b.String()[:400])
	}
	syslog, st1 := readAll(t, sample(t), utc2026)
	iso, st2 := readAll(t, b.String(), Options{Location: time.FixedZone("elsewhere", 3600)})
	if st1 != st2 || len(syslog) != len(iso) {
		t.Fatalf("stats %+v and %+v, %d and %d deliveries", st1, st2, len(syslog), len(iso))
	}
	for i := range syslog {
		if !syslog[i].Time.Equal(iso[i].Time) {
			t.Errorf("delivery %d: %v and %v", i, syslog[i].Time, iso[i].Time)
		}
		iso[i].Time = syslog[i].Time
		if syslog[i] != iso[i] {
			t.Errorf("delivery %d: %+v and %+v", i, syslog[i], iso[i])
		}
	}
}
