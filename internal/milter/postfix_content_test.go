package milter

import (
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

// TestPostfixContent runs the milter with content rules and a quarantine behind a real
// Postfix: a warned lookalike with a password in an attached .docx is held, the same
// message without the attachment is delivered with the warning headers, and a message
// with a SECRET//NOFORN banner to an unrelated outside domain is held (on_any_external).
func TestPostfixContent(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	sink := testenv.StartSink(t)
	q := openStore(t)
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy())), Holder: storeHolder(q),
		Content: newClassifier(t), ContentRules: contentRules})
	pf := testenv.StartPostfix(t, testenv.Options{RelayHost: sink.Addr(), ExtraMain: milterMain(addr)})
	send := func(rcpt, header, body string) {
		t.Helper()
		res, err := testenv.SMTPSend(pf.SMTPAddr(), "alice@contoso.com", []string{rcpt}, []byte(header+"\r\n"+body))
		if err != nil || !res.Delivered() {
			t.Fatalf("%+v %v", res, err)
		}
	}
	ct, body := withAttachment(accessText, "access.docx", docx(t, "Portal access", "Password: Tr0ub4dor&amp;3x"))
	head := func(subject string) string {
		return "From: Alice <alice@contoso.com>\r\nTo: Bob <bob@armmy.mil>\r\nSubject: " + subject + "\r\n" +
			"Message-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@contoso.com>\r\n"
	}

	t.Run("warned lookalike with a password in a docx is held", func(t *testing.T) {
		send("bob@armmy.mil", head("access with docx")+"MIME-Version: 1.0\r\nContent-Type: "+ct+"\r\n", body)
		m := waitHeld(t, q, "access with docx")
		if len(m.Recipients) != 1 || m.Recipients[0].Verdict != verdict.Hold ||
			!strings.Contains(m.Recipients[0].Reason, "the message contains what looks like a password") {
			t.Errorf("held recipients %+v", m.Recipients)
		}
		if len(m.Content) != 1 || m.Content[0] != "credentials" || m.ContentSkipped {
			t.Errorf("held with content %q, skipped %v; want [credentials]", m.Content, m.ContentSkipped)
		}
	})

	t.Run("the same message without the docx is delivered with the warning", func(t *testing.T) {
		send("bob@armmy.mil", head("access without docx"), accessText)
		m, err := waitSubject(ctx, sink, "access without docx")
		if err != nil {
			t.Fatal(err)
		}
		if m.Header(VerdictHeader) != "warn" || !strings.HasPrefix(m.Header(ReasonHeader), "bob@armmy.mil: Did you mean army.mil?") ||
			strings.Contains(m.Header(ReasonHeader), "message contains") {
			t.Errorf("headers %q %q", m.Header(VerdictHeader), m.Header(ReasonHeader))
		}
	})

	t.Run("marked message to an unrelated domain is held", func(t *testing.T) {
		send("carol@unrelated.example", head("marked plan"), "SECRET//NOFORN\r\n\r\nThe plan for Tuesday.\r\n\r\nSECRET//NOFORN\r\n")
		m := waitHeld(t, q, "marked plan")
		if len(m.Recipients) != 1 || m.Recipients[0].Verdict != verdict.Hold || !strings.Contains(m.Recipients[0].Reason, "marking") {
			t.Errorf("held recipients %+v", m.Recipients)
		}
	})

	t.Run("an unmarked message to the same domain is delivered", func(t *testing.T) {
		send("carol@unrelated.example", head("plain plan"), "The plan for Tuesday.\r\n")
		m, err := waitSubject(ctx, sink, "plain plan")
		if err != nil {
			t.Fatal(err)
		}
		if m.Header(VerdictHeader) != "" {
			t.Errorf("allowed message has %s: %q", VerdictHeader, m.Header(VerdictHeader))
		}
	})

	for _, m := range sink.Messages() {
		if s := m.Header("Subject"); s == "access with docx" || s == "marked plan" {
			t.Errorf("held message %q reached the sink", s)
		}
	}
}
