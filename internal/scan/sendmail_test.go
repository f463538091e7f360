package scan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSendmailLog(t *testing.T) {
	recs, probs, err := readSource(t, SendmailFormat, "sendmail-maillog.log", nil)
	if err != nil || len(probs) != 0 {
		t.Fatalf("err %v, problems %v", err, probs)
	}
	wantTriples(t, recs,
		"alice@contoso.com>bob@army.ml=sent",
		"alice@contoso.com>carol@army.ml=sent",
		"alice@contoso.com>dave@x.example=bounced",
		"erin@contoso.com>gina@slow.example=sent",
		"hank@contoso.com>ivy@down.example=deferred",
		"alice@contoso.com>judy@gmai.com=sent", // once: the hand-over to 127.0.0.1 is not a delivery
	)
	bob := findRecord(t, recs, "bob@army.ml")
	if bob.Relay != "mx.army.ml. [1.2.3.4]" || bob.Reply != "Ok: queued as 4Y8abc, id=1" || bob.Message != "4B4A0x1Q012345" || bob.Line != 2 {
		t.Errorf("bob: %+v", bob)
	}
	if bob.Time.Month() != time.December || bob.Time.Day() != 4 || bob.Time.Hour() != 10 || bob.Time.Second() != 1 {
		t.Errorf("bob's time %v", bob.Time)
	}
	if dave := findRecord(t, recs, "dave@x.example"); dave.Reply != "User unknown" {
		t.Errorf("dave's reply %q", dave.Reply)
	}
	if ivy := findRecord(t, recs, "ivy@down.example"); ivy.Reply != "Deferred: Connection refused by mx.down.example." {
		t.Errorf("ivy's reply %q", ivy.Reply)
	}
	judy := findRecord(t, recs, "judy@gmai.com")
	if want := time.Date(2026, 12, 4, 10, 3, 2, 0, time.UTC); !judy.Time.Equal(want) || judy.Message != "4B4A3x1Q012601" {
		t.Errorf("judy: %+v", judy)
	}
}

// TestSendmailSyslogYear: a classic stamp takes the year that puts it not after now.
func TestSendmailSyslogYear(t *testing.T) {
	now := time.Date(2027, 1, 2, 0, 0, 0, 0, time.Local)
	if got := syslogTime("Dec 31 23:00:00 mail sendmail[1]: x", now); got.Year() != 2026 {
		t.Errorf("Dec 31 read on Jan 2, 2027 as %v", got)
	}
	if got := syslogTime("Jan  1 23:00:00 mail sendmail[1]: x", now); got.Year() != 2027 {
		t.Errorf("Jan 1 read on Jan 2, 2027 as %v", got)
	}
}

func TestSendmailDetect(t *testing.T) {
	for name, want := range map[string]bool{
		"sendmail-maillog.log": true, "exim-mainlog.log": false, "m365-messagetrace.csv": false, "exchange-tracking.log": false,
	} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := SendmailFormat.Detect(data); got != want {
			t.Errorf("Detect(%s) = %v, want %v", name, got, want)
		}
	}
	// A Postfix log with a stray line of a program called sendmail is Postfix's.
	postfix := "Jan  1 00:00:01 mx1 postfix/smtp[12]: 4F3A2B1C0D: to=<a@x.example>, relay=mx.x.example[1.2.3.4]:25, delay=1, dsn=2.0.0, status=sent (250 ok)\n" +
		"Jan  1 00:00:01 mx1 postfix/qmgr[11]: 4F3A2B1C0D: removed\n" +
		"Jan  1 00:10:00 mx1 sendmail[999]: 5C3D2E1F0A: to=<root@gmial.com>, delay=00:00:00, mailer=esmtp, stat=Sent\n" +
		"Jan  1 00:10:01 mx1 postfix/sendmail[998]: 5C3D2E1F0B: to=<root@gmial.com>, stat=Sent\n"
	if SendmailFormat.Detect([]byte(postfix)) {
		t.Error("a Postfix log with one sendmail line detected as sendmail")
	}
}

// TestSendmailOpenMessagesBounded: queue IDs with all their recipients settled (nrcpts)
// leave memory without a Problem; ones still deferred are evicted past the bound, each a
// Problem, and reported as deferred.
func TestSendmailOpenMessagesBounded(t *testing.T) {
	var b strings.Builder
	for i := range 10 {
		fmt.Fprintf(&b, "Dec  4 10:00:00 mail sendmail[1]: 4B4A0x1Q0123%02d: from=<s%d@contoso.com>, size=1, nrcpts=1\n", i, i)
		stat := "dsn=2.0.0, stat=Sent (ok)"
		if i%2 == 1 {
			stat = "dsn=4.0.0, stat=Deferred: Connection refused"
		}
		fmt.Fprintf(&b, "Dec  4 10:00:01 mail sendmail[1]: 4B4A0x1Q0123%02d: to=<r%d@x.example>, mailer=esmtp, relay=mx.x.example., %s\n", i, i, stat)
	}
	var recs []Record
	var probs []Problem
	r := &sendmailReader{max: 2, now: time.Now}
	if err := r.Read(strings.NewReader(b.String()), "x", func(r Record) { recs = append(recs, r) }, func(p Problem) { probs = append(probs, p) }); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 10 {
		t.Fatalf("%d records, want 10", len(recs))
	}
	for _, rec := range recs {
		var i int
		fmt.Sscanf(rec.Recipient, "r%d@", &i)
		want := Sent
		if i%2 == 1 {
			want = Deferred
		}
		if rec.Outcome != want || rec.Sender != fmt.Sprintf("s%d@contoso.com", i) {
			t.Errorf("record %+v", rec)
		}
	}
	if len(probs) != 3 { // 5 deferred, 2 of them still open at the end
		t.Errorf("%d problems, want 3: %v", len(probs), probs)
	}
}
