package scan

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// readPostfix reads src with a PostfixReader dated 2027-01-10 UTC.
func readPostfix(t testing.TB, pr *PostfixReader, src io.Reader) ([]Record, []Problem) {
	t.Helper()
	if pr.Now.IsZero() {
		pr.Now = time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	}
	if pr.Location == nil {
		pr.Location = time.UTC
	}
	var recs []Record
	var probs []Problem
	if err := pr.Read(src, "src", func(r Record) { recs = append(recs, r) }, func(p Problem) { probs = append(probs, p) }); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return recs, probs
}

func recordLine(r Record) string {
	orig := ""
	if r.OrigRecipient != "" {
		orig = " (" + r.OrigRecipient + ")"
	}
	return fmt.Sprintf("%d %s %s <%s> -> <%s>%s %s relay=%s | %s", r.Line, r.Time.UTC().Format(time.RFC3339Nano),
		r.Message, r.Sender, r.Recipient, orig, r.Outcome, r.Relay, r.Reply)
}

// TestPostfixReaderSamples reads the same hand-written log with RFC 3164 timestamps (no
// year, across New Year) and with RFC 3339 ones (with a zone and microseconds).
func TestPostfixReaderSamples(t *testing.T) {
	want := []string{
		"6 2027-01-01T00:00:01Z mx1/4F2A31234 <alice@corp.test> -> <bob@gmial.com> sent relay=mx.gmial.com[198.51.100.66]:25 | 250 2.0.0 Ok: queued as 4Hj2Xb0Bmxz9sn3",
		`7 2027-01-01T00:00:01Z mx1/4F2A31234 <alice@corp.test> -> <"smith, j"@fabrikam.com> (travel@corp.test) sent relay=mx.fabrikam.com[203.0.113.25]:25 | 250 2.0.0 Ok`,
		"8 2027-01-01T00:00:02Z mx1/4F2A31234 <alice@corp.test> -> <nobody@gmial.com> bounced relay=mx.gmial.com[198.51.100.66]:25 | host mx.gmial.com[198.51.100.66] said: 550 5.1.1 <nobody@gmial.com>: Recipient address rejected: User unknown (in reply to RCPT TO command)",
		"13 2027-01-01T00:00:03Z mx1/8E6F75678 <> -> <alice@corp.test> sent relay=local | delivered to mailbox",
		"23 2027-01-01T11:07:13Z mx1/6C4D53456 <gina@corp.test> -> <hank@slow.example> sent relay=mx2.slow.example[192.0.2.98]:25 | 250 2.0.0 Ok",
		"25 2027-01-06T11:08:00Z mx1/6C4D53456 <gina@corp.test> -> <ivy@gone.example> expired relay=none | returned to sender",
		"28 2027-01-06T12:00:01Z mx2/6C4D53456 <joe@corp.test> -> <kim@gmail.com> sent relay=gmail-smtp-in.l.google.com[192.0.2.27]:25 | 250 2.0.0 OK 1767700801 x1si123",
		"30 2027-01-06T12:30:00Z mx1/4ZkQ3p1Fz4z9vZx <> -> <lee@contoso.example> deferred relay=mx.contoso.example[192.0.2.40]:25 | host mx.contoso.example[192.0.2.40] said: 450 4.7.1 greylisted (in reply to RCPT TO command)",
	}
	for _, tc := range []struct {
		file  string
		shift time.Duration // RFC 3339 sample: +01:00 and .123456
	}{
		{"testdata/postfix-syslog.log", 0},
		{"testdata/postfix-rfc3339.log", -time.Hour + 123456*time.Microsecond},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if !detectPostfix(data) {
				t.Errorf("detectPostfix = false")
			}
			// One byte at a time: lines cut across reads.
			recs, probs := readPostfix(t, &PostfixReader{}, iotest.OneByteReader(bytes.NewReader(data)))
			var got []string
			for _, r := range recs {
				r.Time = r.Time.Add(-tc.shift)
				got = append(got, recordLine(r))
				if r.Source != "src" {
					t.Errorf("Source %q", r.Source)
				}
			}
			if !slices.Equal(got, want) || len(probs) != 0 {
				t.Errorf("records:\n%s\nwant\n%s\nproblems %+v", strings.Join(got, "\n"), strings.Join(want, "\n"), probs)
			}
		})
	}
}

// TestPostfixReaderBadInput: a line over 1 MiB, binary data, invalid UTF-8 and a broken
// delivery line are Problems with their line numbers; the lines after them are read.
func TestPostfixReaderBadInput(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("Dec  4 10:00:00 mx1 postfix/qmgr[1]: AAAAA1: from=<a@corp.test>, size=1, nrcpt=1 (queue active)\n")      // 1
	b.WriteString("Dec  4 10:00:00 mx1 postfix/cleanup[2]: AAAAA1: warning: " + strings.Repeat("x", PostfixMaxLine) + "\n") // 2
	b.WriteString("\x00\x01\x02\xff\xfe binary\n\x7fELF\x02\x01\n\x00\x00\x00\x00\n")                                       // 3-5
	b.WriteString("Dec  4 10:00:01 mx1 postfix/smtp[3]: AAAAA1: to=<b\xff@gmial.com>, relay=x, status=sent (250 ok)\n")     // 6
	b.WriteString("Dec  4 10:00:01 mx1 postfix/smtp[3]: AAAAA1: to=<c@gmial.com, relay=x, status=sent (250 ok)\n")          // 7
	b.WriteString("Dec  4 10:00:02 mx1 postfix/smtp[3]: AAAAA1: to=<d@gmial.com>, relay=x, status=sent (250 ok)\n")         // 8
	b.WriteString("Dec  4 10:00:02 mx1 postfix/qmgr[1]: AAAAA1: removed")                                                   // 9, no newline
	recs, probs := readPostfix(t, &PostfixReader{}, &b)
	var got []string
	for _, p := range probs {
		if p.Source != "src" {
			t.Errorf("problem source %q", p.Source)
		}
		got = append(got, fmt.Sprintf("%d %s", p.Line, p.Text))
	}
	want := []string{
		"2 line longer than 1 MiB skipped",
		"3 3 lines (to line 5) that are not syslog or Postfix log lines (binary data?): skipped",
		"6 invalid UTF-8 in a Postfix to= line: skipped",
		"7 Postfix to= line without a readable recipient and status: skipped",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(recs) != 1 || recs[0].Recipient != "d@gmial.com" || recs[0].Sender != "a@corp.test" || recs[0].Line != 8 {
		t.Errorf("records %+v, want d@gmial.com from a@corp.test at line 8", recs)
	}
}

// TestPostfixReaderEviction: queue IDs never removed are evicted past MaxOpen and past
// MaxAge of log time, each a Problem, their deferred recipients emitted as deferred.
func TestPostfixReaderEviction(t *testing.T) {
	var b bytes.Buffer
	for i := range 10 {
		fmt.Fprintf(&b, "Dec  4 10:00:%02d mx1 postfix/smtp[3]: ABCDE%d: to=<r%d@x.example>, relay=none, status=deferred (timeout)\n", i, i, i)
	}
	recs, probs := readPostfix(t, &PostfixReader{MaxOpen: 4}, bytes.NewReader(b.Bytes()))
	if len(recs) != 10 {
		t.Errorf("%d records, want 10 (every deferred recipient once)", len(recs))
	}
	for _, r := range recs {
		if r.Outcome != Deferred {
			t.Errorf("%+v: want deferred", r)
		}
	}
	// With 4 open at most, opening the 5th, 6th (...) evicts the oldest: 6 evictions.
	if len(probs) != 6 || probs[0].Line != 1 || !strings.Contains(probs[0].Text, "queue ID mx1/ABCDE0 evicted without \"removed\" (more than 4 queue IDs open)") {
		t.Errorf("problems %+v", probs)
	}

	b.Reset()
	b.WriteString("Dec  1 10:00:00 mx1 postfix/qmgr[1]: ABCDE1: from=<a@corp.test>, size=1, nrcpt=1 (queue active)\n")
	b.WriteString("Dec  3 10:00:00 mx1 postfix/qmgr[1]: ABCDE2: from=<a@corp.test>, size=1, nrcpt=1 (queue active)\n")
	b.WriteString("Dec  4 10:00:01 mx1 postfix/qmgr[1]: ABCDE3: from=<a@corp.test>, size=1, nrcpt=1 (queue active)\n")
	recs, probs = readPostfix(t, &PostfixReader{MaxAge: 48 * time.Hour}, bytes.NewReader(b.Bytes()))
	if len(recs) != 0 || len(probs) != 1 || probs[0].Line != 1 || !strings.Contains(probs[0].Text, "mx1/ABCDE1 evicted") {
		t.Errorf("records %+v, problems %+v: want ABCDE1 evicted at line 1", recs, probs)
	}
}

// TestPostfixReaderYear: RFC 3164 lines take their year from Now (or the year before if
// they would be in the future), and roll over at New Year.
func TestPostfixReaderYear(t *testing.T) {
	log := "Dec 31 23:00:00 mx1 postfix/smtp[3]: ABCDE1: to=<a@x.example>, relay=r, status=sent (ok)\n" +
		"Jan  1 01:00:00 mx1 postfix/smtp[3]: ABCDE1: to=<b@x.example>, relay=r, status=sent (ok)\n"
	for _, tc := range []struct {
		now        time.Time
		first, nxt int
	}{
		{time.Date(2027, 1, 1, 2, 0, 0, 0, time.UTC), 2026, 2027},
		{time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), 2026, 2027},
		{time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC), 2029, 2030},
	} {
		recs, _ := readPostfix(t, &PostfixReader{Now: tc.now}, strings.NewReader(log))
		if len(recs) != 2 || recs[0].Time.Year() != tc.first || recs[1].Time.Year() != tc.nxt {
			t.Errorf("now %v: %+v, want years %d, %d", tc.now, recs, tc.first, tc.nxt)
		}
	}
}

func TestDetectPostfix(t *testing.T) {
	syslog, err := os.ReadFile("testdata/postfix-syslog.log")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		head string
		want bool
	}{
		{string(syslog), true},
		{"Dec  4 10:00:00 mx1 postfix/qmgr[1]: ABCDE1: removed\n", true},
		{"2026-12-04T10:00:00+00:00 mx1 postfix/qmgr[1]: ABCDE1: removed\n", true},
		{"Dec  4 10:00:00 mx1 postfix/qmgr[1]: ABCDE1: removed\nDec  4 10:00:00 mx1 sshd[3]: Accepted key\n", false},
		{"Dec  4 10:00:00 mx1 sendmail[999]: 5C3D2E1F0: from=<root@mx1>, size=10\n", false},
		{"2026-12-04 10:00:00 1vXz0a-000123-AB <= alice@corp.test H=ws17 [10.1.2.17] P=esmtpsa S=1204\n", false},
		{"From alice@corp.test Fri Dec  4 10:00:00 2026\nFrom: alice@corp.test\n", false},
		{"Dec  4 10:00:00 mx1 postfix/qmgr[1]: ABCDE1: remo", false}, // no complete line
		{"", false},
	} {
		if got := detectPostfix([]byte(tc.head)); got != tc.want {
			t.Errorf("detectPostfix(%.60q) = %v, want %v", tc.head, got, tc.want)
		}
	}
}
