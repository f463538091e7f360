package scan

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func readMbox(t *testing.T, name string, data []byte) *collector {
	t.Helper()
	c := &collector{}
	if err := MboxFormat.New().Read(bytes.NewReader(data), name, c.emit, c.skip); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return c
}

func TestMboxBrokenFromLineIsAProblemAndTheRestIsRead(t *testing.T) {
	data, err := os.ReadFile("testdata/mbox-broken.mbox")
	if err != nil {
		t.Fatal(err)
	}
	if !MboxFormat.Detect(data) || EMLFormat.Detect(data) {
		t.Errorf("detect: mbox %v eml %v, want mbox only", MboxFormat.Detect(data), EMLFormat.Detect(data))
	}
	c := readMbox(t, "testdata/mbox-broken.mbox", data)
	m3 := "msg=testdata/mbox-broken.mbox:23 t=2026-12-03T12:00:00Z unknown"
	checkRecords(t, c.recs, []string{
		// the Cc's second bob@GMAI.com is the To's bob@gmai.com: one record
		"mbox-broken.mbox:4 alice@example.org -> bob@gmai.com msg=<m1@example.org> t=2026-12-03T09:00:00Z unknown",
		"mbox-broken.mbox:4 alice@example.org -> carol@example.com msg=<m1@example.org> t=2026-12-03T09:00:00Z unknown",
		"mbox-broken.mbox:5 alice@example.org -> joerg@exarnple.com msg=<m1@example.org> t=2026-12-03T09:00:00Z unknown",
		// after the broken From_ line: no envelope, so the sender is From:
		"mbox-broken.mbox:17 dave@example.org -> eve@gmial.com msg=<m2@example.org> t=2026-12-03T11:00:00Z unknown",
		// the From_ line's sender and date (Date: is unreadable); Resent-*, a group, the envelope
		"mbox-broken.mbox:26 carl@example.org -> frank@outlook.con " + m3,
		"mbox-broken.mbox:27 carl@example.org -> gina@example.net " + m3,
		"mbox-broken.mbox:27 carl@example.org -> hank@example.net " + m3,
		"mbox-broken.mbox:29 carl@example.org -> carl-archive@example.org " + m3,
		"mbox-broken.mbox:34 mallory@example.org -> ivan@example.com msg=testdata/mbox-broken.mbox:33 t=2026-12-03T13:00:00Z unknown",
		"mbox-broken.mbox:37 zed@example.org -> judy@gmai1.com msg=<m5@example.org> t=2026-12-03T14:00:00Z unknown",
	})
	checkProblems(t, c.probs, [][2]string{
		{"mbox-broken.mbox:15", `broken From_ line "From bogus line without a date"`},
		{"mbox-broken.mbox:28", `Date: "not a date" unreadable`},
		{"mbox-broken.mbox:33", "truncated message"},
		{"mbox-broken.mbox:36", "truncated message"},
		{"mbox-broken.mbox:37", `To: unreadable address list "broken@@, judy@gmai1.com"`},
	})
}

func TestMboxLinesBeforeTheFirstFromLineAreOneProblem(t *testing.T) {
	data := "garbage\n\x00\x01binary\nFrom nobody\n\nFrom a@example.org Fri Dec  4 08:00:00 2026\nTo: b@gmai.com\n\n"
	c := readMbox(t, "m", []byte(data))
	checkRecords(t, c.recs, []string{"m:6 a@example.org -> b@gmai.com msg=m:5 t=2026-12-04T08:00:00Z unknown"})
	checkProblems(t, c.probs, [][2]string{{"m:1", "lines 1-4 are in no message"}})

	// A broken first From_ line with no header after it.
	c = readMbox(t, "m", []byte("From \nbody\nFrom <> Fri Dec  4 08:00:00 2026\nTo: b@gmai.com\n\n"))
	checkRecords(t, c.recs, []string{"m:4  -> b@gmai.com msg=m:3 t=2026-12-04T08:00:00Z unknown"})
	checkProblems(t, c.probs, [][2]string{{"m:1", "broken From_ line"}, {"m:2", "lines 2-2 are in no message"}})
}

func TestMboxLongLinesInvalidUTF8AndHugeBodiesGoOn(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("From a@example.org Fri Dec  4 08:00:00 2026\n")
	b.WriteString("X-Long: " + strings.Repeat("x", maxLine+10) + "\n") // over 1 MB in the header
	b.WriteString("To: J\xf6rg <joerg@gmai.com>\n")                    // raw Latin-1 in a name
	b.WriteString("Subject: s\n\n")
	b.WriteString(strings.Repeat("y", 3*maxLine) + "\n") // a body line over 1 MB
	b.WriteString("From the body\n")
	for range 1000 {
		b.WriteString(strings.Repeat("body ", 200) + "\n")
	}
	b.WriteString("\nFrom c@example.org Fri Dec  4 09:00:00 2026\nCc: d@example.com\n\n")
	c := readMbox(t, "m", b.Bytes())
	checkRecords(t, c.recs, []string{
		"m:3 a@example.org -> joerg@gmai.com msg=m:1 t=2026-12-04T08:00:00Z unknown",
		"m:1010 c@example.org -> d@example.com msg=m:1009 t=2026-12-04T09:00:00Z unknown",
	})
	checkProblems(t, c.probs, [][2]string{{"m:2", "over 1 MB"}, {"m:3", "To: invalid UTF-8"}})
}

func TestMboxFromLineWithoutSenderTakesFromField(t *testing.T) {
	c := readMbox(t, "m", []byte("From - Fri Dec  4 08:00:00 2026\nFrom: Tb <tb@example.org>\nTo: b@gmai.com\n\n"))
	checkRecords(t, c.recs, []string{"m:3 tb@example.org -> b@gmai.com msg=m:1 t=2026-12-04T08:00:00Z unknown"})
	checkProblems(t, c.probs, nil)
}

func TestParseFromLine(t *testing.T) {
	for line, want := range map[string]bool{
		"From a@b Thu Dec  3 10:00:00 2026":          true,
		"From a@b Thu Dec 3 10:00:00 +0100 2026":     true,
		"From a@b Thu Dec 3 10:00:00 UTC 2026":       true,
		"From a@b Thu Dec 3 10:00 2026":              true,
		"From MAILER-DAEMON Thu Dec 3 10:00:00 2026": true,
		"From  Thu Dec 3 10:00:00 2026":              true,
		"From a@b":                                   false,
		"From a@b Thu Dec 33 10:00:00 2026":          false,
		"From here on we talk about the plan":        false,
	} {
		if _, _, ok := parseFromLine([]byte(line)); ok != want {
			t.Errorf("parseFromLine(%q) = %v, want %v", line, ok, want)
		}
	}
}
