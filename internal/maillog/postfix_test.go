package maillog

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

var utc2026 = Options{Year: 2026, Location: time.UTC}

func readAll(t *testing.T, log string, opts Options) ([]Delivery, Stats) {
	t.Helper()
	var ds []Delivery
	st, err := ReadPostfix(strings.NewReader(log), opts, func(d Delivery) error {
		ds = append(ds, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ds, st
}

func sample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/postfix.log")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func at(hh, mm, ss int) time.Time { return time.Date(2026, 11, 27, hh, mm, ss, 0, time.UTC) }

func TestReadPostfixSample(t *testing.T) {
	ds, st := readAll(t, sample(t), utc2026)
	want := []Delivery{
		{at(10, 45, 51), "mx1", "4F2A31234", "smtp", "alice@contoso.com", "bob@fabrikam.com", "", "mx.fabrikam.com[203.0.113.25]:25", "sent"},
		{at(10, 52, 5), "mx1", "5B3C42345", "smtp", "carol@contoso.com", "dave@army.mil", "", "mx1.army.mil[192.0.2.10]:25", "sent"},
		{at(10, 52, 6), "mx1", "5B3C42345", "smtp", "carol@contoso.com", "erin@army.ml", "", "mail.army.ml[198.51.100.7]:25", "sent"},
		{at(10, 52, 6), "mx1", "5B3C42345", "smtp", "carol@contoso.com", "frank@fabrikam.com", "travel@contoso.com", "mx.fabrikam.com[203.0.113.25]:25", "sent"},
		{at(10, 52, 6), "mx1", "5B3C42345", "smtp", "carol@contoso.com", `"smith, j"@fabrikam.com`, "", "mx.fabrikam.com[203.0.113.25]:25", "sent"},
		// Deferred first (not reported by default), then sent on the next attempt.
		{at(11, 7, 13), "mx1", "6C4D53456", "smtp", "gina@contoso.com", "hank@slow.example", "", "mx2.slow.example[192.0.2.98]:25", "sent"},
		// The bounce notification, from the null sender.
		{at(11, 15, 41), "mx1", "8E6F75678", "lmtp", "", "henry@contoso.com", "", "mx1.contoso.com[private/dovecot-lmtp]", "sent"},
		// No qmgr line for these two in the log: the sender is unknown.
		{at(11, 20, 0), "mx1", "9F7086789", "local", "", "root@mx1.contoso.com", "root", "local", "sent"},
		{at(11, 30, 0), "mx1", "C2A31BA12", "smtp", "", "judy@northwind.example", "", "mx.northwind.example[192.0.2.150]:25", "sent"},
		// A queue id used again after "removed": the new message's sender.
		{at(11, 31, 1), "mx1", "4F2A31234", "smtp", "kate@contoso.com", "leo@fabrikam.com", "", "mx.fabrikam.com[203.0.113.25]:25", "sent"},
	}
	if len(ds) != len(want) {
		t.Errorf("%d deliveries, want %d", len(ds), len(want))
	}
	for i := range min(len(ds), len(want)) {
		if ds[i] != want[i] {
			t.Errorf("delivery %d:\n got %+v\nwant %+v", i, ds[i], want[i])
		}
	}
	// The sender not-a-log line, an unterminated address, a line without status and
	// November 99th.
	wantSt := Stats{Lines: 42, Deliveries: 10, Deferred: 1, Bounced: 1, Skipped: 4}
	if st != wantSt {
		t.Errorf("stats = %+v, want %+v", st, wantSt)
	}
}

func TestReadPostfixFailedAttempts(t *testing.T) {
	ds, st := readAll(t, sample(t), Options{Year: 2026, Location: time.UTC, Failed: true})
	var failed []string
	for _, d := range ds {
		if d.Status != "sent" {
			failed = append(failed, fmt.Sprintf("%s %s %s %s", d.QueueID, d.From, d.To, d.Status))
		}
	}
	want := []string{
		"6C4D53456 gina@contoso.com hank@slow.example deferred",
		"7D5E64567 henry@contoso.com nobody@gmial.com bounced",
	}
	if fmt.Sprint(failed) != fmt.Sprint(want) || len(ds) != 12 || st.Deliveries != 10 {
		t.Errorf("failed attempts = %q (%d in all, stats %+v); want %q", failed, len(ds), st, want)
	}
}

func TestReadPostfixSkipsLongLines(t *testing.T) {
	long := "Nov 27 10:00:00 mx1 postfix/smtp[1]: 4F2A31234: to=<" + strings.Repeat("a", MaxLine) + "@fabrikam.com>, status=sent (ok)\n"
	ok := "Nov 27 10:00:01 mx1 postfix/smtp[1]: 4F2A31235: to=<bob@fabrikam.com>, status=sent (ok)\n"
	exact := "Nov 27 10:00:02 mx1 postfix/smtp[1]: 4F2A31236: to=<b@fabrikam.com>, status=sent ("
	exact += strings.Repeat("x", MaxLine-len(exact)-1) + ")\n"
	if len(exact) != MaxLine+1 {
		t.Fatalf("bad fixture: %d", len(exact))
	}
	for _, c := range []struct {
		name, log string
		want      []string
		skipped   int
	}{
		{"long line, then a normal one", long + ok, []string{"bob@fabrikam.com"}, 1},
		{"a normal line, then a long one without newline", ok + strings.TrimSuffix(long, "\n"), []string{"bob@fabrikam.com"}, 1},
		{"a line of exactly MaxLine", exact + ok, []string{"b@fabrikam.com", "bob@fabrikam.com"}, 0},
		{"several long lines", long + long + ok + long, []string{"bob@fabrikam.com"}, 3},
	} {
		ds, st := readAll(t, c.log, utc2026)
		var got []string
		for _, d := range ds {
			got = append(got, d.To)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) || st.Skipped != c.skipped || st.Lines != strings.Count(c.log, "\n")+boolInt(!strings.HasSuffix(c.log, "\n")) {
			t.Errorf("%s: got %q, stats %+v; want %q, %d skipped", c.name, got, st, c.want, c.skipped)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestReadPostfixLineEndings(t *testing.T) {
	log := "Nov 27 10:00:00 mx1 postfix/qmgr[9]: 4F2A31234: from=<a@contoso.com>, size=1, nrcpt=1 (queue active)\r\n" +
		"Nov 27 10:00:01 mx1 postfix/smtp[1]: 4F2A31234: to=<bob@fabrikam.com>, relay=mx[192.0.2.1]:25, status=sent (ok)\r\n" +
		"\n" +
		"Nov 27 10:00:02 mx1 postfix/smtp[1]: 4F2A31234: to=<carl@fabrikam.com>, status=sent"
	ds, st := readAll(t, log, utc2026)
	if len(ds) != 2 || ds[0].From != "a@contoso.com" || ds[0].Relay != "mx[192.0.2.1]:25" || ds[1].To != "carl@fabrikam.com" || ds[1].Relay != "" {
		t.Errorf("deliveries = %+v", ds)
	}
	if st.Lines != 4 || st.Skipped != 1 {
		t.Errorf("stats = %+v; want 4 lines, the empty one skipped", st)
	}
}

func TestReadPostfixStopsAtCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	st, err := ReadPostfix(strings.NewReader(sample(t)), utc2026, func(Delivery) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || !strings.Contains(err.Error(), "line 13") || st.Deliveries != 3 {
		t.Errorf("err = %v, stats %+v; want stop at line 13 after 3 deliveries", err, st)
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestReadPostfixReturnsReadErrors(t *testing.T) {
	bad := errors.New("disk on fire")
	if _, err := ReadPostfix(failingReader{bad}, utc2026, func(Delivery) error { return nil }); !errors.Is(err, bad) {
		t.Errorf("err = %v", err)
	}
}

func TestReadPostfixTags(t *testing.T) {
	log := strings.Join([]string{
		// Postfix 3.3+ with a service name, and multi-instance names.
		"Nov 27 10:00:00 mx1 postfix/relay/smtp[1]: 4F2A31231: to=<a@fabrikam.com>, status=sent (ok)",
		"Nov 27 10:00:00 mx1 postfix-out/smtp[1]: 4F2A31232: to=<b@fabrikam.com>, status=sent (ok)",
		// Without a pid.
		"Nov 27 10:00:00 mx1 postfix/smtp: 4F2A31233: to=<c@fabrikam.com>, status=sent (ok)",
		// Long queue ids.
		"Nov 27 10:00:00 mx1 postfix/smtp[1]: 4Hj2Xb0Bmxz9sn3: to=<d@fabrikam.com>, status=sent (ok)",
		// Not Postfix: a program without a slash in its name.
		"Nov 27 10:00:00 mx1 sendmail[1]: 4F2A31234: to=<e@fabrikam.com>, status=sent (ok)",
		// Not a queue id.
		"Nov 27 10:00:00 mx1 postfix/smtp[1]: NOQUEUE: to=<f@fabrikam.com>, status=sent (ok)",
		"Nov 27 10:00:00 mx1 postfix/smtp[1]: 4F2: to=<g@fabrikam.com>, status=sent (ok)",
		// A bad pid.
		"Nov 27 10:00:00 mx1 postfix/smtp[x]: 4F2A31235: to=<h@fabrikam.com>, status=sent (ok)",
	}, "\n")
	ds, st := readAll(t, log, utc2026)
	var got []string
	for _, d := range ds {
		got = append(got, d.Agent+" "+d.QueueID+" "+d.To)
	}
	want := []string{"smtp 4F2A31231 a@fabrikam.com", "smtp 4F2A31232 b@fabrikam.com", "smtp 4F2A31233 c@fabrikam.com", "smtp 4Hj2Xb0Bmxz9sn3 d@fabrikam.com"}
	if fmt.Sprint(got) != fmt.Sprint(want) || st.Skipped != 1 {
		t.Errorf("got %q, stats %+v; want %q and the bad pid skipped", got, st, want)
	}
}

func TestReadPostfixAddresses(t *testing.T) {
	for _, c := range []struct{ field, to, origTo string }{
		{`to=<bob@fabrikam.com>`, "bob@fabrikam.com", ""},
		{`to=<"a>b, c"@fabrikam.com>, orig_to=<"x, y"@contoso.com>`, `"a>b, c"@fabrikam.com`, `"x, y"@contoso.com`},
		{`to=<"a\"b>"@fabrikam.com>`, `"a\"b>"@fabrikam.com`, ""},
		{`to=<a>b@fabrikam.com>`, "a>b@fabrikam.com", ""},
	} {
		log := "Nov 27 10:00:00 mx1 postfix/smtp[1]: 4F2A31231: " + c.field + ", relay=r, status=sent (250 <x@y>, ok)"
		ds, _ := readAll(t, log, utc2026)
		if len(ds) != 1 || ds[0].To != c.to || ds[0].OrigTo != c.origTo || ds[0].Relay != "r" {
			t.Errorf("%s: got %+v; want to %q, orig_to %q", c.field, ds, c.to, c.origTo)
		}
	}
}

func TestReadPostfixBinaryGarbage(t *testing.T) {
	log := "\x00\x01\x02\n\xff\xfe Nov 27\n" + strings.Repeat("Nov 27 10:00:00 ", 100) + "\n"
	_, st := readAll(t, log, utc2026)
	if st != (Stats{Lines: 3, Skipped: 3}) {
		t.Errorf("stats = %+v", st)
	}
	if _, st := readAll(t, "", utc2026); st != (Stats{}) {
		t.Errorf("empty log: %+v", st)
	}
}

// What ReadPostfix keeps between lines is bounded per entry too: an over-long sender or
// host name makes the line malformed instead of filling memory.
func TestReadPostfixBoundsWhatItKeeps(t *testing.T) {
	longFrom := "Nov 27 10:00:00 mx1 postfix/qmgr[9]: 4F2A31234: from=<" + strings.Repeat("a", maxSender) + "@contoso.com>, size=1, nrcpt=1 (queue active)\n"
	longHost := "Nov 27 10:00:00 " + strings.Repeat("h", maxHost+1) + " postfix/qmgr[9]: 4F2A31235: from=<a@contoso.com>, size=1, nrcpt=1 (queue active)\n"
	to := "Nov 27 10:00:01 mx1 postfix/smtp[1]: 4F2A31234: to=<bob@fabrikam.com>, status=sent (ok)\n"
	ds, st := readAll(t, longFrom+longHost+to, utc2026)
	if st.Skipped != 2 || len(ds) != 1 || ds[0].From != "" {
		t.Errorf("stats %+v, deliveries %+v; want both long lines skipped and no sender", st, ds)
	}
}
