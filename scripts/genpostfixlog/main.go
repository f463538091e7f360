// Command genpostfixlog writes a Postfix log like a busy outbound relay's to standard
// output, for scripts/bench-scan.sh: per message an smtpd connection, cleanup, the queue
// manager's from=, one to three delivery lines (mostly sent; some bounced; some deferred
// and sent on a later retry), removed and the disconnect, among other programs' lines
// (dovecot, anvil, smtpd connects that send nothing). The same arguments give the same
// file.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

func main() {
	lines := flag.Int("lines", 5_000_000, "at least this many lines")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	rng := rand.New(rand.NewPCG(*seed, 7))
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()

	domains := []string{"gmail.com", "outlook.com", "fabrikam.com", "army.mil", "gmial.com",
		"yahoo.com", "contoso-partners.example", "tailspin.example", "northwind.example", "wingtip.example"}
	t := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	n, qid := 0, uint64(0x4F2A31234)
	type retry struct {
		id, rcpt string
		at       time.Time
	}
	var retries []retry
	printf := func(format string, args ...any) {
		fmt.Fprintf(w, "%s mx1 ", t.Format(time.Stamp))
		fmt.Fprintf(w, format, args...)
		w.WriteByte('\n')
		n++
	}
	for n < *lines {
		t = t.Add(time.Duration(rng.IntN(900)) * time.Millisecond)
		for len(retries) > 0 && !retries[0].at.After(t) {
			r := retries[0]
			retries = retries[1:]
			printf("postfix/qmgr[1187]: %s: from=<retry@corp.test>, size=2210, nrcpt=1 (queue active)", r.id)
			printf("postfix/smtp[%d]: %s: to=<%s>, relay=mx.%s[203.0.113.%d]:25, delay=301, delays=300/0.01/0.4/0.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Hj2Xb0Bmxz9sn3)",
				2000+rng.IntN(5000), r.id, r.rcpt, r.rcpt[len(r.rcpt)-9:], rng.IntN(250))
			printf("postfix/qmgr[1187]: %s: removed", r.id)
		}
		switch rng.IntN(10) {
		case 0:
			printf("dovecot: imap(user%d)<%d><kJq1%04x>: Logged out in=%d out=%d deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
				rng.IntN(500), 4000+rng.IntN(9000), rng.IntN(65536), rng.IntN(2000), rng.IntN(90000))
			continue
		case 1:
			pid := 2000 + rng.IntN(5000)
			printf("postfix/smtpd[%d]: connect from unknown[198.51.100.%d]", pid, rng.IntN(250))
			printf("postfix/smtpd[%d]: lost connection after EHLO from unknown[198.51.100.%d]", pid, rng.IntN(250))
			printf("postfix/smtpd[%d]: disconnect from unknown[198.51.100.%d] ehlo=1 commands=1", pid, rng.IntN(250))
			continue
		}
		qid++
		id := fmt.Sprintf("%X", qid)
		pid, ws := 2000+rng.IntN(5000), rng.IntN(200)
		user := fmt.Sprintf("user%d", rng.IntN(2000))
		printf("postfix/smtpd[%d]: connect from ws%d.corp.test[10.1.2.%d]", pid, ws, ws)
		printf("postfix/smtpd[%d]: %s: client=ws%d.corp.test[10.1.2.%d], sasl_method=PLAIN, sasl_username=%s", pid, id, ws, ws, user)
		printf("postfix/cleanup[%d]: %s: message-id=<%d.%s@corp.test>", 2000+rng.IntN(5000), id, t.UnixNano(), id)
		nrcpt := 1 + rng.IntN(3)
		printf("postfix/qmgr[1187]: %s: from=<%s@corp.test>, size=%d, nrcpt=%d (queue active)", id, user, 1000+rng.IntN(90000), nrcpt)
		printf("postfix/smtpd[%d]: disconnect from ws%d.corp.test[10.1.2.%d] ehlo=2 starttls=1 auth=1 mail=1 rcpt=%d data=1 quit=1 commands=%d", pid, ws, ws, nrcpt, 7+nrcpt)
		deferred := false
		for range nrcpt {
			d := domains[rng.IntN(len(domains))]
			rcpt := fmt.Sprintf("%c%d@%s", 'a'+rune(rng.IntN(26)), rng.IntN(10000), d)
			spid := 2000 + rng.IntN(5000)
			switch k := rng.IntN(100); {
			case k < 90:
				printf("postfix/smtp[%d]: %s: to=<%s>, relay=mx.%s[203.0.113.%d]:25, delay=1.2, delays=0.1/0.01/0.6/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Hj2Xb0Bmxz9sn3)", spid, id, rcpt, d, rng.IntN(250))
			case k < 95:
				printf("postfix/smtp[%d]: %s: to=<%s>, relay=mx.%s[203.0.113.%d]:25, delay=0.8, delays=0.1/0/0.4/0.3, dsn=5.1.1, status=bounced (host mx.%s[203.0.113.9] said: 550 5.1.1 <%s>: Recipient address rejected: User unknown (in reply to RCPT TO command))", spid, id, rcpt, d, rng.IntN(250), d, rcpt)
			default:
				printf("postfix/smtp[%d]: %s: to=<%s>, relay=none, delay=30, delays=0.01/0/30/0, dsn=4.4.1, status=deferred (connect to mx.%s[203.0.113.7]:25: Connection timed out)", spid, id, rcpt, d)
				if !deferred {
					retries = append(retries, retry{id: id, rcpt: rcpt, at: t.Add(5 * time.Minute)})
					deferred = true
				}
			}
		}
		if !deferred {
			printf("postfix/qmgr[1187]: %s: removed", id)
		}
		if rng.IntN(50) == 0 {
			printf("postfix/anvil[1201]: statistics: max connection rate 3/60s for (smtp:10.1.2.%d) at %s", ws, t.Format(time.Stamp))
		}
	}
}
