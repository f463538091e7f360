package testenv

import (
	"slices"
	"strings"
	"testing"
)

func TestPostfixRelaysToSink(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	sink := StartSink(t)
	pf := StartPostfix(t, Options{
		RelayHost: sink.Addr(),
		ExtraMain: []string{
			"smtpd_recipient_restrictions =",
			"    check_recipient_access inline:{ {bad@example.test = REJECT no lookalikes here} },",
			"    permit",
		},
	})

	rcpts := []string{"bob@example.test", "bad@example.test", "carol@example.org"}
	res, err := SMTPSend(pf.SMTPAddr(), "alice@sender.test", rcpts, testMessage("via postfix"))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := res.Rcpt("bad@example.test"); r.Code != 554 || !strings.Contains(r.Text, "no lookalikes here") {
		t.Errorf("RCPT bad@ = %v; want 554 with the access map's text", r)
	}
	if want := []string{"bob@example.test", "carol@example.org"}; !slices.Equal(res.Accepted(), want) {
		t.Errorf("accepted = %v, want %v", res.Accepted(), want)
	}
	if !res.Delivered() || res.QueueID() == "" {
		t.Fatalf("DATA = %v", res.Data)
	}

	msgs, err := sink.WaitFor(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	got := slices.Sorted(slices.Values(m.Rcpts))
	if m.From != "alice@sender.test" || !slices.Equal(got, []string{"bob@example.test", "carol@example.org"}) {
		t.Errorf("envelope = %q %q", m.From, m.Rcpts)
	}
	if s := m.Header("Subject"); s != "via postfix" {
		t.Errorf("Subject = %q", s)
	}
	if r := m.Header("Received"); !strings.Contains(r, pf.Hostname()) || !strings.Contains(r, res.QueueID()) {
		t.Errorf("Received = %q; want %s and queue ID %s", r, pf.Hostname(), res.QueueID())
	}
	if m.Helo != pf.Hostname() {
		t.Errorf("HELO = %q, want %q", m.Helo, pf.Hostname())
	}
	if err := pf.WaitQueueEmpty(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pf.WaitLog(ctx, "status=sent"); err != nil {
		t.Fatal(err)
	}
}

func TestPostfixSendmail(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	sink := StartSink(t)
	pf := StartPostfix(t, Options{RelayHost: sink.Addr()})

	rcpts := []string{"dave@example.test", "erin@example.net"}
	if err := pf.Sendmail(t, "alice@sender.test", rcpts, testMessage("via sendmail")); err != nil {
		t.Fatal(err)
	}
	msgs, err := sink.WaitFor(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	got := slices.Sorted(slices.Values(m.Rcpts))
	if m.From != "alice@sender.test" || !slices.Equal(got, rcpts) {
		t.Errorf("envelope = %q %q", m.From, m.Rcpts)
	}
	if s := m.Header("Subject"); s != "via sendmail" {
		t.Errorf("Subject = %q", s)
	}
	if !strings.Contains(pf.Log(), "postfix/pickup") {
		t.Errorf("the message did not go through pickup:\n%s", pf.Log())
	}
}

func TestTwoPostfixInstances(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	sinks := []*Sink{StartSink(t), StartSink(t)}
	pfs := []*Postfix{
		StartPostfix(t, Options{RelayHost: sinks[0].Addr()}),
		StartPostfix(t, Options{RelayHost: sinks[1].Addr()}),
	}
	if pfs[0].SMTPAddr() == pfs[1].SMTPAddr() || pfs[0].Dir() == pfs[1].Dir() {
		t.Fatalf("instances share %s / %s", pfs[0].SMTPAddr(), pfs[0].Dir())
	}
	for i, pf := range pfs {
		subject := []string{"to first", "to second"}[i]
		res, err := SMTPSend(pf.SMTPAddr(), "alice@sender.test", []string{"bob@example.test"}, testMessage(subject))
		if err != nil || !res.Delivered() {
			t.Fatalf("instance %d: %+v, %v", i, res, err)
		}
	}
	for i, s := range sinks {
		msgs, err := s.WaitFor(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"to first", "to second"}[i]
		if got := msgs[0].Header("Subject"); got != want || msgs[0].Helo != pfs[i].Hostname() {
			t.Errorf("sink %d got %q from %q, want %q from %q", i, got, msgs[0].Helo, want, pfs[i].Hostname())
		}
	}
	for _, pf := range pfs {
		if err := pf.WaitQueueEmpty(ctx); err != nil {
			t.Error(err)
		}
	}
	if n := len(sinks[0].Messages()) + len(sinks[1].Messages()); n != 2 {
		t.Errorf("sinks got %d messages, want 2", n)
	}
}

func TestPostfixDefersWhenSinkFails(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	sink := StartSink(t)
	sink.SetFail(451, "4.3.0 sink says try later")
	pf := StartPostfix(t, Options{RelayHost: sink.Addr()})

	res, err := SMTPSend(pf.SMTPAddr(), "alice@sender.test", []string{"bob@example.test"}, testMessage("deferred"))
	if err != nil || !res.Delivered() {
		t.Fatalf("%+v, %v", res, err)
	}
	q, err := pf.WaitQueue(ctx, func(q []QueueEntry) bool {
		return len(q) == 1 && q[0].QueueName == "deferred" && len(q[0].Recipients) == 1 &&
			strings.Contains(q[0].Recipients[0].DelayReason, "sink says try later")
	})
	if err != nil {
		t.Fatalf("%v: %+v", err, q)
	}
	if q[0].QueueID != res.QueueID() || q[0].Recipients[0].Address != "bob@example.test" {
		t.Errorf("queue = %+v, want %s for bob@", q, res.QueueID())
	}
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("sink accepted %d messages while failing", n)
	}

	// Once the sink works again, a flush delivers the deferred message.
	sink.SetFail(0, "")
	if err := pf.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := sink.WaitFor(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := pf.WaitQueueEmpty(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestPostfixWithoutRelayHostKeepsMail(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	pf := StartPostfix(t, Options{})
	res, err := SMTPSend(pf.SMTPAddr(), "alice@sender.test", []string{"bob@example.test"}, testMessage("kept"))
	if err != nil || !res.Delivered() {
		t.Fatalf("%+v, %v", res, err)
	}
	if q, err := pf.WaitQueue(ctx, func(q []QueueEntry) bool {
		return len(q) == 1 && q[0].QueueName == "deferred" &&
			strings.Contains(q[0].Recipients[0].DelayReason, "deferred transport")
	}); err != nil {
		t.Fatalf("%v: %+v", err, q)
	}
}
