package policyd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// policyPostfix starts s, a sink and a private Postfix that asks s at RCPT and at the end
// of data, with the recommended fail-closed settings.
func policyPostfix(t *testing.T, s *Server) (*testenv.Postfix, *testenv.Sink) {
	t.Helper()
	testenv.RequirePostfix(t)
	addr := start(t, s)
	svc := "check_policy_service { inet:" + addr + ", timeout=5s, default_action=DEFER_IF_PERMIT }"
	sink := testenv.StartSink(t)
	pf := testenv.StartPostfix(t, testenv.Options{RelayHost: sink.Addr(), ExtraMain: []string{
		// vip@army.ml is let in by a permit before the check: a misconfiguration, which
		// must defer the message, not leak it.
		"smtpd_recipient_restrictions = check_recipient_access inline:{ {vip@army.ml = OK} }, " +
			svc + ", permit_mynetworks, reject_unauth_destination",
		"smtpd_end_of_data_restrictions = " + svc,
		"smtpd_policy_service_try_limit = 1", // fail fast once the service is stopped
	}})
	return pf, sink
}

func message(subject string) []byte {
	return []byte("From: Alice <alice@contoso.com>\nTo: someone@example.com\nSubject: " + subject +
		"\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@contoso.com>\n\nHello.\n")
}

func TestWithPostfix(t *testing.T) {
	s := &Server{}
	pf, sink := policyPostfix(t, s)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	send := func(t *testing.T, subject string, rcpts ...string) testenv.SendResult {
		t.Helper()
		res, err := testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.com", rcpts, message(subject))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	delivered := 0
	expectDelivered := func(t *testing.T, subject string) testenv.Message {
		t.Helper()
		delivered++
		msgs, err := sink.WaitFor(ctx, delivered)
		if err != nil {
			t.Fatal(err)
		}
		m := msgs[len(msgs)-1]
		if got := m.Header("Subject"); got != subject {
			t.Fatalf("last delivered %q, want %q", got, subject)
		}
		return m
	}

	t.Run("allowed recipient is delivered", func(t *testing.T) {
		if res := send(t, "allowed", "alice@army.mil"); !res.Delivered() {
			t.Fatalf("%+v", res)
		}
		if m := expectDelivered(t, "allowed"); m.Header(WarnHeader) != "" {
			t.Errorf("allowed mail has %s: %s", WarnHeader, m.Header(WarnHeader))
		}
	})
	t.Run("held lookalike is refused at end of data", func(t *testing.T) {
		res := send(t, "held", "alice@army.ml")
		if len(res.Accepted()) != 1 || res.Data.Code != 550 || res.Data.Enhanced != "5.7.1" ||
			!strings.Contains(res.Data.Text, "Did you mean army.mil?") ||
			!strings.Contains(res.Data.Text, "Please check the recipients and send again.") {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("one held recipient refuses the whole message", func(t *testing.T) {
		res := send(t, "mixed", "alice@army.mil", "bob@army.ml")
		if len(res.Accepted()) != 2 || res.Data.Code != 550 || !strings.Contains(res.Data.Text, "bob@army.ml: Did you mean army.mil?") {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("warned recipient is delivered with the header", func(t *testing.T) {
		if res := send(t, "warned", "bob@armyy.mil", "alice@army.mil"); !res.Delivered() {
			t.Fatalf("%+v", res)
		}
		m := expectDelivered(t, "warned")
		if h := m.Header(WarnHeader); !strings.HasPrefix(h, "warn; Did you mean army.mil?") {
			t.Fatalf("%s: %q\n%s", WarnHeader, h, m.Data)
		}
	})
	t.Run("rejected lookalike is refused at RCPT with the explanation", func(t *testing.T) {
		prev := s.Guard.Load()
		s.Guard.Store(testGuard(t, rejectPolicy()).Load())
		defer s.Guard.Store(prev)
		res := send(t, "rejected", "alice@army.ml", "carol@army.mil")
		r, _ := res.Rcpt("alice@army.ml")
		if r.Code != 550 || r.Enhanced != "5.7.1" || !strings.Contains(r.Text, "Did you mean army.mil?") {
			t.Fatalf("RCPT alice@army.ml = %v", r)
		}
		if !res.Delivered() {
			t.Fatalf("the other recipient: %+v", res)
		}
		if m := expectDelivered(t, "rejected"); len(m.Rcpts) != 1 || m.Rcpts[0] != "carol@army.mil" {
			t.Fatalf("delivered to %v", m.Rcpts)
		}
	})
	t.Run("monitor mode delivers everything", func(t *testing.T) {
		prev := s.Guard.Load()
		s.Guard.Store(testGuard(t, monitorPolicy(guard.DefaultPolicy())).Load())
		defer s.Guard.Store(prev)
		if res := send(t, "monitored", "alice@army.ml", "bob@armyy.mil"); !res.Delivered() {
			t.Fatalf("%+v", res)
		}
		if m := expectDelivered(t, "monitored"); m.Header(WarnHeader) != "" {
			t.Fatalf("monitored mail has %s", WarnHeader)
		}
	})
	t.Run("recipient let in before the check defers the message", func(t *testing.T) {
		res := send(t, "unchecked", "alice@army.mil", "vip@army.ml")
		if len(res.Accepted()) != 2 || res.Data.Code != 451 || res.Data.Enhanced != "4.3.0" {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("stopped policy service defers and delivers nothing", func(t *testing.T) {
		sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
		defer scancel()
		if err := s.Shutdown(sctx); err != nil {
			t.Fatal(err)
		}
		res := send(t, "service down", "alice@army.mil")
		r, _ := res.Rcpt("alice@army.mil")
		if r.Code/100 != 4 || res.Data.Code != 0 {
			t.Fatalf("RCPT = %v, DATA = %v; want 4xx and no DATA", r, res.Data)
		}
		q, err := pf.Queue()
		if err != nil || len(q) != 0 {
			t.Fatalf("queue = %+v, %v", q, err)
		}
	})
	if n := len(sink.Messages()); n != delivered {
		t.Fatalf("sink has %d messages, want %d", n, delivered)
	}
}
