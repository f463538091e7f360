package maillog

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// FuzzReadPostfix: whatever the log holds, ReadPostfix does not panic, counts every line,
// reports no more deliveries than lines, and reports only what is in the input.
func FuzzReadPostfix(f *testing.F) {
	log, err := os.ReadFile("testdata/postfix.log")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(log)
	for line := range bytes.Lines(log) {
		f.Add(line)
	}
	for _, s := range []string{
		"", "\n", "\r\n", "Nov 27 10:45:51", "Nov  7 10:45:51.1 h t: ",
		"2026-11-27T10:45:51.123456+00:00 mx1 postfix/smtp[1]: 4F2A31234: to=<a@b>, status=sent",
		"Nov 27 10:45:51 mx1 postfix/smtp[1]: 4F2A31234: to=<\"a>b\\\"c\"@b>, orig_to=<\"\">, status=deferred",
		"Dec 31 23:59:59 h postfix/qmgr[1]: ABCDE: from=<x>, size=1\nJan  1 00:00:00 h postfix/smtp[1]: ABCDE: to=<y@z>, status=bounced\n",
		"Nov 27 10:45:51 mx1 postfix/qmgr[1]: ABCDE: removed\nNov 27 10:45:51 mx1 postfix/qmgr[1]: ABCDE: from=<",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		calls := 0
		st, err := ReadPostfix(bytes.NewReader(data), Options{Year: 2026, Failed: true, MaxQueue: 4}, func(d Delivery) error {
			calls++
			if d.QueueID == "" || d.To == "" || d.Agent == "" || d.Host == "" || d.Time.IsZero() {
				t.Errorf("incomplete delivery %+v", d)
			}
			if d.Status != "sent" && d.Status != "deferred" && d.Status != "bounced" {
				t.Errorf("status %q", d.Status)
			}
			for _, s := range []string{d.QueueID, d.To, d.OrigTo, d.From, d.Relay, d.Host} {
				if !bytes.Contains(data, []byte(s)) {
					t.Errorf("%q is not in the input", s)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("error from a bytes.Reader: %v", err)
		}
		lines := bytes.Count(data, []byte("\n"))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			lines++
		}
		if st.Lines != lines {
			t.Errorf("%d lines counted, %d in the input", st.Lines, lines)
		}
		if n := st.Deliveries + st.Deferred + st.Bounced; n > st.Lines || calls != n || st.Skipped > st.Lines {
			t.Errorf("stats %+v with %d calls", st, calls)
		}
		if strings.Count(string(data), "status=") < st.Deliveries {
			t.Errorf("more deliveries than status fields: %+v", st)
		}
	})
}
