package scan

import (
	"bytes"
	"fmt"
	"testing"
)

// benchReader reads data with format once per iteration, reporting MB/s.
func benchReader(b *testing.B, format Format, data []byte) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := format.New().Read(bytes.NewReader(data), "bench", func(Record) { n++ }, func(Problem) {}); err != nil || n == 0 {
			b.Fatal(err, n)
		}
	}
}

func BenchmarkEximReader(b *testing.B) {
	var buf bytes.Buffer
	for i := range 50_000 {
		id := fmt.Sprintf("1vR%03d-%06d-AB", i%1000, i)
		fmt.Fprintf(&buf, "2026-12-04 10:00:00 %s <= s%d@contoso.com H=client.contoso.com [10.0.0.5] P=esmtpsa S=2345 id=%d@contoso.com\n", id, i%97, i)
		fmt.Fprintf(&buf, "2026-12-04 10:00:01 %s => r%d@army%d.example R=dnslookup T=remote_smtp H=mx.army.ml [1.2.3.4] C=\"250 2.0.0 OK\"\n", id, i, i%13)
		fmt.Fprintf(&buf, "2026-12-04 10:00:01 %s Completed\n", id)
	}
	benchReader(b, EximFormat, buf.Bytes())
}

func BenchmarkSendmailReader(b *testing.B) {
	var buf bytes.Buffer
	for i := range 50_000 {
		fmt.Fprintf(&buf, "Dec  4 10:00:00 mail sendmail[1234]: 4B4A%010d: from=<s%d@contoso.com>, size=1234, class=0, nrcpts=1, msgid=<%d@contoso.com>, proto=ESMTP, daemon=MTA, relay=client.contoso.com [10.0.0.5]\n", i, i%97, i)
		fmt.Fprintf(&buf, "Dec  4 10:00:01 mail sendmail[1236]: 4B4A%010d: to=<r%d@army.ml>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=121234, relay=mx.army.ml. [1.2.3.4], dsn=2.0.0, stat=Sent (Ok: queued)\n", i, i)
	}
	benchReader(b, SendmailFormat, buf.Bytes())
}

func BenchmarkM365Reader(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Subject\",\"Status\",\"ToIP\",\"FromIP\",\"Size\",\"MessageId\",\"MessageTraceId\"\n")
	for i := range 50_000 {
		fmt.Fprintf(&buf, "\"12/4/2026 10:00:00 AM\",\"s%d@contoso.com\",\"r%d@army.ml\",\"Report, %d\",\"Delivered\",\"1.2.3.4\",\"10.0.0.5\",\"2345\",\"<%d@contoso.com>\",\"9f3a1c52-0000-4000-8000-%012d\"\n", i%97, i, i, i, i)
	}
	benchReader(b, M365Format, buf.Bytes())
}
