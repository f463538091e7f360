package maillog

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"
)

// BenchmarkReadPostfix reads a log like a busy outbound relay's: per message a smtpd,
// cleanup, qmgr from=, several smtp to= and a removed line, among unrelated lines.
func BenchmarkReadPostfix(b *testing.B) {
	var log bytes.Buffer
	for m := range 20_000 {
		qid := fmt.Sprintf("%X", 0x4F2A31234+m)
		fmt.Fprintf(&log, "Nov 27 10:%02d:%02d mx1 postfix/smtpd[2201]: %s: client=ws17.contoso.com[10.1.2.17], sasl_method=PLAIN, sasl_username=alice\n", m/60%60, m%60, qid)
		fmt.Fprintf(&log, "Nov 27 10:%02d:%02d mx1 postfix/cleanup[2205]: %s: message-id=<%d.%s@contoso.com>\n", m/60%60, m%60, qid, m, qid)
		fmt.Fprintf(&log, "Nov 27 10:%02d:%02d mx1 postfix/qmgr[1187]: %s: from=<user%d@contoso.com>, size=18230, nrcpt=3 (queue active)\n", m/60%60, m%60, qid, m%500)
		for r := range 3 {
			fmt.Fprintf(&log, "Nov 27 10:%02d:%02d mx1 postfix/smtp[2207]: %s: to=<r%d@corr%d.example>, relay=mx.corr%d.example[203.0.113.25]:25, delay=1.2, delays=0.1/0.01/0.6/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Hj2Xb0Bmxz9sn3)\n", m/60%60, m%60, qid, r, m%300, m%300)
		}
		fmt.Fprintf(&log, "Nov 27 10:%02d:%02d mx1 postfix/smtpd[2201]: disconnect from ws17.contoso.com[10.1.2.17] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8\n", m/60%60, m%60)
		fmt.Fprintf(&log, "Nov 27 10:%02d:%02d mx1 postfix/qmgr[1187]: %s: removed\n", m/60%60, m%60, qid)
	}
	data := log.Bytes()
	lines := bytes.Count(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		st, err := ReadPostfix(bytes.NewReader(data), utc2026, func(Delivery) error { return nil })
		if err != nil || st.Deliveries != 60_000 {
			b.Fatal(st, err)
		}
	}
	b.ReportMetric(float64(b.N*lines)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkReadPostfixSample reads the hand-written sample, with its long line.
func BenchmarkReadPostfixSample(b *testing.B) {
	data, err := os.ReadFile("testdata/postfix.log")
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Count(data, []byte("\n"))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadPostfix(bytes.NewReader(data), utc2026, func(Delivery) error { return nil }); err != nil && err != io.EOF {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*lines)/b.Elapsed().Seconds(), "lines/s")
}
