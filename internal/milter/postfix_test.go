package milter

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// milterMain is the main.cf part of the recommended Postfix settings, for a milter on addr.
func milterMain(addr string) []string {
	return []string{
		"smtpd_milters = inet:" + addr,
		"non_smtpd_milters = inet:" + addr,
		"milter_default_action = tempfail",
		"milter_protocol = 6",
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mail(subject string, extra ...string) []byte {
	return []byte(strings.Join(extra, "") + "From: Alice <alice@contoso.com>\nTo: Bob <bob@example.test>\n" +
		"Subject: " + subject + "\nMessage-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@contoso.com>\n\n" +
		"Medical records attached.\n")
}

// waitSubject waits until the sink has a message with the subject and returns it.
func waitSubject(ctx context.Context, sink *testenv.Sink, subject string) (testenv.Message, error) {
	for n := 1; ; {
		msgs, err := sink.WaitFor(ctx, n)
		for _, m := range msgs {
			if m.Header("Subject") == subject {
				return m, nil
			}
		}
		if err != nil {
			return testenv.Message{}, fmt.Errorf("no message %q: %w", subject, err)
		}
		n = len(msgs) + 1
	}
}

// TestPostfix runs the milter behind a real Postfix, for SMTP and for sendmail(1) mail.
func TestPostfix(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	sink := testenv.StartSink(t)
	guards := current(testGuard(t, rejectPolicy()))
	addr := start(t, &Server{Guard: guards})
	pf := testenv.StartPostfix(t, testenv.Options{RelayHost: sink.Addr(), ExtraMain: milterMain(addr)})
	send := func(subject string, rcpts ...string) testenv.SendResult {
		t.Helper()
		res, err := testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.com", rcpts, mail(subject))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	refused := []string{} // subjects that must never reach the sink

	t.Run("allowed recipient reaches the sink", func(t *testing.T) {
		// RCPT TO:<postmaster> has no domain: the milter checks what Postfix made of it.
		if res := send("allowed", "alice@army.mil", "postmaster"); !res.Delivered() || len(res.Accepted()) != 2 {
			t.Fatalf("result %+v", res)
		}
		m, err := waitSubject(ctx, sink, "allowed")
		if err != nil || !slices.Contains(m.Rcpts, "alice@army.mil") || !slices.Contains(m.Rcpts, "postmaster@"+pf.Hostname()) {
			t.Fatalf("%v; recipients %v", err, m.Rcpts)
		}
	})

	t.Run("rejected recipient is refused at RCPT with the explanation", func(t *testing.T) {
		res := send("rejected", "alice@army.ml")
		r, _ := res.Rcpt("alice@army.ml")
		want := `550 5.7.1 Did you mean army.mil? "ml" is one letter short of "mil"; army.mil is protected.`
		if r.String() != want || res.Data.Code != 0 {
			t.Fatalf("RCPT reply %q, DATA %v; want %q and no DATA", r, res.Data, want)
		}
		refused = append(refused, "rejected")
	})

	t.Run("held recipient refuses the whole message", func(t *testing.T) {
		guards.Store(testGuard(t, holdPolicy()))
		res := send("held", "alice@army.mil", "alice@army.ml")
		want := `550 5.7.1 alice@army.ml: Did you mean army.mil? "ml" is one letter short of "mil"; ` +
			`army.mil is protected. Please check the recipients and send again.`
		if len(res.Accepted()) != 2 || res.Data.String() != want {
			t.Fatalf("accepted %v, end of data %q; want both accepted at RCPT, then %q", res.Accepted(), res.Data, want)
		}
		if q, err := pf.Queue(); err != nil || len(q) != 0 {
			t.Fatalf("queue %+v, %v; want empty", q, err)
		}
		refused = append(refused, "held")
	})

	t.Run("warned message reaches the sink with the headers", func(t *testing.T) {
		res, err := testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.com", []string{"bob@armmy.mil"},
			mail("warned", "X-Rcptguard-Verdict: forged by the sender\n"))
		if err != nil || !res.Delivered() {
			t.Fatalf("%+v %v", res, err)
		}
		m, err := waitSubject(ctx, sink, "warned")
		if err != nil {
			t.Fatal(err)
		}
		data := string(m.Data)
		if strings.Count(data, VerdictHeader+":") != 1 || m.Header(VerdictHeader) != "warn" {
			t.Errorf("want exactly one %s: warn, got:\n%s", VerdictHeader, data)
		}
		if r := m.Header(ReasonHeader); !strings.HasPrefix(r, "bob@armmy.mil: Did you mean army.mil?") {
			t.Errorf("%s = %q\n%s", ReasonHeader, r, data)
		}
	})

	t.Run("held sendmail message goes to the hold queue", func(t *testing.T) {
		if err := pf.Sendmail(t, "alice@contoso.com", []string{"bob@army.ml", "carol@army.mil"}, mail("held local")); err != nil {
			t.Fatal(err)
		}
		q, err := pf.WaitQueue(ctx, func(q []testenv.QueueEntry) bool {
			return len(q) == 1 && q[0].QueueName == "hold"
		})
		if err != nil || len(q[0].Recipients) != 2 {
			t.Fatalf("queue %+v: %v; want the message on hold for both recipients", q, err)
		}
		if err := pf.WaitLog(ctx, q[0].QueueID+": milter-hold: END-OF-MESSAGE"); err != nil {
			t.Fatal(err)
		}
		if out, err := pf.Command("postsuper", "-d", q[0].QueueID).CombinedOutput(); err != nil {
			t.Fatalf("postsuper -d: %v: %s", err, out)
		}
		refused = append(refused, "held local")
	})

	t.Run("rejected sendmail message returns to the sender", func(t *testing.T) {
		guards.Store(testGuard(t, rejectPolicy()))
		if err := pf.Sendmail(t, "alice@contoso.com", []string{"bob@army.ml", "carol@army.mil"}, mail("rejected local")); err != nil {
			t.Fatal(err)
		}
		m, err := waitSubject(ctx, sink, "Undelivered Mail Returned to Sender")
		if err != nil {
			t.Fatal(err)
		}
		if m.From != "" || !slices.Equal(m.Rcpts, []string{"alice@contoso.com"}) ||
			!strings.Contains(string(m.Data), `bob@army.ml: Did you mean army.mil? "ml" is one letter short`) {
			t.Fatalf("bounce from %q to %v:\n%s", m.From, m.Rcpts, m.Data)
		}
		refused = append(refused, "rejected local")
	})

	// A last allowed message: once it is through, nothing refused is still on its way.
	if _, err := pf.WaitQueue(ctx, func(q []testenv.QueueEntry) bool { return len(q) == 0 }); err != nil {
		t.Fatal(err)
	}
	send("last", "alice@army.mil")
	if _, err := waitSubject(ctx, sink, "last"); err != nil {
		t.Fatal(err)
	}
	for _, m := range sink.Messages() {
		if slices.Contains(refused, m.Header("Subject")) {
			t.Errorf("refused message %q reached the sink, for %v", m.Header("Subject"), m.Rcpts)
		}
	}
}

// TestPostfixWithTheMilterDown checks that Postfix fails closed: with the milter stopped
// it answers with a temporary error and delivers nothing.
func TestPostfixWithTheMilterDown(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	sink := testenv.StartSink(t)
	s := &Server{Guard: current(testGuard(t, holdPolicy()))}
	addr := start(t, s)
	pf := testenv.StartPostfix(t, testenv.Options{RelayHost: sink.Addr(), ExtraMain: milterMain(addr)})
	res, err := testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.com", []string{"alice@army.mil"}, mail("before"))
	if err != nil || !res.Delivered() {
		t.Fatalf("with the milter up: %+v %v", res, err)
	}
	if _, err := waitSubject(ctx, sink, "before"); err != nil {
		t.Fatal(err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	res, err = testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.com", []string{"alice@army.mil"}, mail("milter down"))
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	codes = append(codes, res.Mail.Code)
	for _, r := range res.Rcpts {
		codes = append(codes, r.Code)
	}
	codes = append(codes, res.Data.Code)
	temp := slices.ContainsFunc(codes, func(c int) bool { return c >= 400 && c < 500 })
	if !temp || res.Delivered() {
		t.Fatalf("replies %+v; want a 4xx and no delivery", res)
	}
	t.Logf("with the milter down: MAIL %v, RCPT %v, DATA %v", res.Mail, res.Rcpts, res.Data)
	if q, err := pf.Queue(); err != nil || len(q) != 0 {
		t.Fatalf("queue %+v, %v; want empty", q, err)
	}

	// Mail from sendmail(1) stays queued, undelivered.
	if err := pf.Sendmail(t, "alice@contoso.com", []string{"alice@army.mil"}, mail("milter down local")); err != nil {
		t.Fatal(err)
	}
	// cleanup(8) logs the milter's absence without the SMTP code that smtpd(8) adds.
	if err := pf.WaitLog(ctx, ": milter-reject: CONNECT from localhost[127.0.0.1]: 4.7.1 "); err != nil {
		t.Fatal(err)
	}
	q, err := pf.Queue()
	if err != nil || len(q) != 1 || q[0].QueueName != "maildrop" {
		t.Fatalf("queue %+v, %v; want the sendmail message waiting in the maildrop", q, err)
	}
	for _, m := range sink.Messages() {
		if s := m.Header("Subject"); s == "milter down" || s == "milter down local" {
			t.Fatalf("%q reached the sink", s)
		}
	}
}
