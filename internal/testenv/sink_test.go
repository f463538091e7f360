package testenv

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// testCtx returns a context that ends after 30 s or with the test.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testMessage(subject string) []byte {
	return []byte("From: Alice <alice@sender.test>\n" +
		"To: Bob <bob@example.test>\n" +
		"Subject: " + subject + "\n" +
		"Message-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@sender.test>\n" +
		"\n" +
		"Hello.\n.leading dot\n")
}

func TestSinkRecordsMessages(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	s := StartSink(t)
	rcpts := []string{"bob@example.test", "carol@example.org"}
	res, err := SMTPSend(s.Addr(), "alice@sender.test", rcpts, testMessage("sink direct"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Delivered() || !slices.Equal(res.Accepted(), rcpts) {
		t.Fatalf("result = %+v", res)
	}
	msgs, err := s.WaitFor(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	if m.From != "alice@sender.test" || !slices.Equal(m.Rcpts, rcpts) {
		t.Errorf("envelope = %q %q", m.From, m.Rcpts)
	}
	if got := m.Header("Subject"); got != "sink direct" {
		t.Errorf("Subject = %q", got)
	}
	if !strings.Contains(string(m.Data), "\r\n.leading dot\r\n") {
		t.Errorf("data not CRLF or dot not unstuffed: %q", m.Data)
	}
}

func TestSinkSetFail(t *testing.T) {
	t.Parallel()
	s := StartSink(t)

	s.SetFail(451, "4.3.0 sink says try later")
	res, err := SMTPSend(s.Addr(), "a@sender.test", []string{"b@example.test"}, testMessage("fail mail"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Reply{451, "4.3.0", "sink says try later"}); res.Mail != want || res.Data.Code != 0 {
		t.Fatalf("MAIL reply = %v, DATA = %v; want %v and no DATA", res.Mail, res.Data, want)
	}

	s.SetFail(0, "")
	s.SetFailAt(StageRcpt, 550, "5.1.1 no such user")
	res, err = SMTPSend(s.Addr(), "a@sender.test", []string{"b@example.test"}, testMessage("fail rcpt"))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := res.Rcpt("b@example.test"); r.String() != "550 5.1.1 no such user" || res.Data.Code != 0 {
		t.Fatalf("RCPT reply = %v, DATA = %v", r, res.Data)
	}

	s.SetFailAt(StageRcpt, 0, "")
	s.SetFailAt(StageData, 452, "out of space")
	res, err = SMTPSend(s.Addr(), "a@sender.test", []string{"b@example.test"}, testMessage("fail data"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Data.Code != 452 || res.Data.Text != "out of space" || res.Delivered() {
		t.Fatalf("DATA reply = %v", res.Data)
	}
	if n := len(s.Messages()); n != 0 {
		t.Fatalf("sink recorded %d messages while failing", n)
	}
}

func TestSinkWaitForTimesOut(t *testing.T) {
	t.Parallel()
	s := StartSink(t)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if msgs, err := s.WaitFor(ctx, 1); err == nil || len(msgs) != 0 {
		t.Fatalf("WaitFor = %v, %v; want a timeout", msgs, err)
	}
}

func TestSendResultQueueID(t *testing.T) {
	r := SendResult{Data: replyFromText(250, "2.0.0 Ok: queued as 4XyZ1234AB")}
	if r.Data.Enhanced != "2.0.0" || r.QueueID() != "4XyZ1234AB" {
		t.Fatalf("got %+v, queue ID %q", r.Data, r.QueueID())
	}
	if (SendResult{}).QueueID() != "" {
		t.Fatal("queue ID from nothing")
	}
}
