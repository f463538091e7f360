package scan

import (
	"bytes"
	"fmt"
	"testing"
)

// benchPostfixLog is a log like a busy outbound relay's: per message an smtpd
// connection, cleanup, qmgr from=, three smtp to= and removed, among other lines.
func benchPostfixLog(messages int) []byte {
	var log bytes.Buffer
	for m := range messages {
		qid := fmt.Sprintf("%X", 0x4F2A31234+m)
		ts := fmt.Sprintf("Nov 27 10:%02d:%02d", m/60%60, m%60)
		fmt.Fprintf(&log, "%s mx1 postfix/smtpd[2201]: connect from ws17.corp.test[10.1.2.17]\n", ts)
		fmt.Fprintf(&log, "%s mx1 postfix/smtpd[2201]: %s: client=ws17.corp.test[10.1.2.17], sasl_method=PLAIN, sasl_username=alice\n", ts, qid)
		fmt.Fprintf(&log, "%s mx1 postfix/cleanup[2205]: %s: message-id=<%d.%s@corp.test>\n", ts, qid, m, qid)
		fmt.Fprintf(&log, "%s mx1 postfix/qmgr[1187]: %s: from=<user%d@corp.test>, size=18230, nrcpt=3 (queue active)\n", ts, qid, m%500)
		fmt.Fprintf(&log, "%s mx1 postfix/smtpd[2201]: disconnect from ws17.corp.test[10.1.2.17] ehlo=2 starttls=1 auth=1 mail=1 rcpt=3 data=1 quit=1 commands=10\n", ts)
		for r := range 3 {
			fmt.Fprintf(&log, "%s mx1 postfix/smtp[2207]: %s: to=<r%d@corr%d.example>, relay=mx.corr%d.example[203.0.113.25]:25, delay=1.2, delays=0.1/0.01/0.6/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Hj2Xb0Bmxz9sn3)\n", ts, qid, r, m%300, m%300)
		}
		fmt.Fprintf(&log, "%s mx1 dovecot: imap(alice)<4221><kJq1>: Logged out in=312 out=1802\n", ts)
		fmt.Fprintf(&log, "%s mx1 postfix/qmgr[1187]: %s: removed\n", ts, qid)
	}
	return log.Bytes()
}

// BenchmarkPostfixReader reads a generated log; scripts/bench-scan.sh compares the
// reader with grep on a file of 5 million lines.
func BenchmarkPostfixReader(b *testing.B) {
	data := benchPostfixLog(50_000)
	lines := bytes.Count(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		n := 0
		err := PostfixFormat.New().Read(bytes.NewReader(data), "bench", func(Record) { n++ }, func(p Problem) { b.Fatal(p) })
		if err != nil || n != 150_000 {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(b.N*lines)/b.Elapsed().Seconds(), "lines/s")
}
