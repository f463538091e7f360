package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestPostfixReaderRealLog sends mail through a real Postfix (maillog_file) to a lookalike
// domain, a legitimate one, an alias that forwards to the lookalike, a recipient the
// remote refuses (bounced, and the bounce notice to the sender), one deferred and then
// sent, and one that stays deferred; then reads the log Postfix wrote.
func TestPostfixReaderRealLog(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	start := time.Now().Add(-time.Second).Truncate(time.Second)

	relay := testenv.StartSink(t)
	refusing := testenv.StartSink(t)
	refusing.SetFailAt(testenv.StageRcpt, 550, "5.1.1 no such user here")
	flaky := testenv.StartSink(t)
	flaky.SetFailAt(testenv.StageRcpt, 451, "4.3.0 try again later")
	closed := testenv.FreePort(t) // nothing listens there: connection refused, deferred
	pf := testenv.StartPostfix(t, testenv.Options{
		RelayHost: relay.Addr(),
		ExtraMain: []string{
			"virtual_alias_maps = inline:{ {travel@corp.test = carol@gmial.com} }",
			fmt.Sprintf("transport_maps = inline:{ {gone.example = smtp:%s}, {later.example = smtp:%s}, {slow.example = smtp:[127.0.0.1]:%d} }",
				testenv.NextHop(t, refusing.Addr()), testenv.NextHop(t, flaky.Addr()), closed),
		},
	})
	msg := []byte("From: alice@corp.test\r\nSubject: figures\r\n\r\nhello\r\n")
	send := func(from string, rcpts ...string) string {
		t.Helper()
		res, err := testenv.SMTPSend(pf.SMTPAddr(), from, rcpts, msg)
		if err != nil || !res.Delivered() || len(res.Accepted()) != len(rcpts) {
			t.Fatalf("send from %s: %+v, %v", from, res, err)
		}
		return res.QueueID()
	}
	q1 := send("alice@corp.test", "bob@gmial.com", "carol@gmail.com", "travel@corp.test", "nobody@gone.example")
	if err := pf.WaitQueueEmpty(ctx); err != nil { // q1 and the bounce notice to alice
		t.Fatal(err)
	}
	q2 := send("dave@corp.test", "erin@later.example")
	q3 := send("frank@corp.test", "gina@slow.example")
	for _, q := range []string{q2, q3} {
		if err := pf.WaitLog(ctx, q+": to=<"); err != nil {
			t.Fatal(err)
		}
	}
	flaky.SetFail(0, "")
	if err := pf.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := pf.WaitLog(ctx, q2+": removed"); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, "a second deferral of gina@slow.example", func() bool {
		return strings.Count(pf.Log(), q3+": to=<gina@slow.example>") >= 2
	})

	path := filepath.Join(pf.Dir(), "log", "maillog")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := f.ReadAt(head, 0)
	if !PostfixFormat.Detect(head[:n]) {
		t.Errorf("Detect does not recognise the real maillog")
	}
	var recs []Record
	var probs []Problem
	err = PostfixFormat.New().Read(f, "maillog", func(r Record) { recs = append(recs, r) }, func(p Problem) { probs = append(probs, p) })
	if err != nil || len(probs) != 0 {
		t.Fatalf("Read: %v, problems %+v", err, probs)
	}

	host := strings.Split(pf.Hostname(), ".")[0] // Postfix logs the first label
	var got []string
	bounceNotice := ""
	for _, r := range recs {
		if r.Sender == "" && r.Recipient == "alice@corp.test" {
			bounceNotice = r.Message
		}
		got = append(got, fmt.Sprintf("%s %s -> %s (%s) %s", r.Message, r.Sender, r.Recipient, r.OrigRecipient, r.Outcome))
		if r.Time.Before(start) || r.Time.After(time.Now().Add(time.Second)) {
			t.Errorf("%s: time %v, not between %v and now", r.Recipient, r.Time, start)
		}
		if r.Relay == "" || r.Reply == "" || r.Source != "maillog" || r.Line <= 0 {
			t.Errorf("record without relay, reply, source or line: %+v", r)
		}
	}
	if bounceNotice == "" {
		t.Fatalf("no bounce notice to alice among\n%s\n--- maillog ---\n%s", strings.Join(got, "\n"), pf.Log())
	}
	id := func(q string) string { return host + "/" + q }
	want := []string{
		id(q1) + " alice@corp.test -> bob@gmial.com () sent",
		id(q1) + " alice@corp.test -> carol@gmail.com () sent",
		id(q1) + " alice@corp.test -> carol@gmial.com (travel@corp.test) sent",
		id(q1) + " alice@corp.test -> nobody@gone.example () bounced",
		bounceNotice + "  -> alice@corp.test () sent",
		id(q2) + " dave@corp.test -> erin@later.example () sent",     // deferred, then sent: one record
		id(q3) + " frank@corp.test -> gina@slow.example () deferred", // deferred twice, still queued
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("records:\n%s\nwant\n%s\n--- maillog ---\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), pf.Log())
	}
	for _, r := range recs {
		if r.Outcome == Bounced && !strings.Contains(r.Reply, "550 5.1.1 no such user here") {
			t.Errorf("bounce reply %q, want the remote's 550", r.Reply)
		}
	}
}
