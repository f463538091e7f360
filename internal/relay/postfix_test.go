package relay

import (
	"slices"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
)

// TestThroughPostfix: client -> relay -> Postfix -> sink. Postfix refuses one recipient
// at RCPT: the client gets Postfix's answer for it, the others are delivered.
func TestThroughPostfix(t *testing.T) {
	t.Parallel()
	testenv.RequirePostfix(t)
	ctx := testCtx(t)
	sink := testenv.StartSink(t)
	pf := testenv.StartPostfix(t, testenv.Options{
		RelayHost: sink.Addr(),
		ExtraMain: []string{
			"smtpd_recipient_restrictions =",
			"    check_recipient_access inline:{ {nobody@example.org = REJECT no such user here} },",
			"    permit",
		},
	})
	r := startRelay(t, func(s *Server) { s.Upstream.Address = pf.SMTPAddr() })

	rcpts := []string{"amy@army.mil", "nobody@example.org", "bob@army.ml", "carol@example.org"}
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", rcpts, message("via postfix"))
	if err != nil {
		t.Fatal(err)
	}
	if rep, _ := res.Rcpt("nobody@example.org"); rep.Code != 554 || !strings.Contains(rep.Text, "Upstream: ") || !strings.Contains(rep.Text, "no such user here") {
		t.Errorf("RCPT nobody@ = %v, want Postfix's 554", rep)
	}
	if rep, _ := res.Rcpt("bob@army.ml"); rep.Code != 250 {
		t.Errorf("RCPT bob@army.ml = %v, want 250 (held at end of data)", rep)
	}
	if res.Data.Code != 550 {
		t.Fatalf("DATA = %v, want 550: bob@army.ml is held", res.Data)
	}

	// The same without the held recipient goes through.
	rcpts = slices.DeleteFunc(rcpts, func(s string) bool { return s == "bob@army.ml" })
	res, err = testenv.SMTPSend(r.addr, "alice@contoso.com", rcpts, message("via postfix"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Delivered() || !slices.Equal(res.Accepted(), []string{"amy@army.mil", "carol@example.org"}) {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(res.Data.Text, "queued as") {
		t.Errorf("DATA = %v, want Postfix's queue id passed on", res.Data)
	}
	msgs, err := sink.WaitFor(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	if got := slices.Sorted(slices.Values(m.Rcpts)); !slices.Equal(got, []string{"amy@army.mil", "carol@example.org"}) {
		t.Errorf("sink recipients %q", m.Rcpts)
	}
	if !strings.Contains(string(m.Data), "(rcptguard) with ESMTP id") || !strings.Contains(string(m.Data), pf.Hostname()) {
		t.Errorf("trace fields missing:\n%s", m.Data)
	}
	if err := pf.WaitQueueEmpty(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.Messages()); n != 1 {
		t.Errorf("sink got %d messages, want 1", n)
	}
}
