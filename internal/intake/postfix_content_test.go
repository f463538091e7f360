package intake

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/policyd"
	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/testenv"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

// TestPostfixIntakeContent: with content rules, the policy service behind a real Postfix
// answers FILTER for a message whose content could change its decision, not only for one
// to hold, and the intake reads it: a warned lookalike with a password in an attached
// .docx is held, the same message without it is handed back and delivered, a message
// marked SECRET//NOFORN to an unrelated outside domain is held (on_any_external), and an
// unmarked one to that domain is delivered.
func TestPostfixIntakeContent(t *testing.T) {
	testenv.RequirePostfix(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	f := newFixture(t)
	cl, err := content.New(content.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rules := guard.ContentRules{
		Escalate:      map[content.Category]guard.Verdict{content.Credentials: guard.Hold},
		OnAnyExternal: map[content.Category]guard.Verdict{content.Markings: guard.Hold},
	}
	reinject := testenv.FreePort(t)
	f.srv.Close()
	f.reinject = "127.0.0.1:" + strconv.Itoa(reinject)
	f.content, f.rules = cl, rules
	intakePort := testenv.FreePort(t)
	f.start(t, "127.0.0.1:"+strconv.Itoa(intakePort))

	p := &policyd.Server{Guard: &f.guard, Handovers: f.store, Filter: "rcptguard:[127.0.0.1]:" + strconv.Itoa(intakePort),
		ContentRules: &rules, Logger: slog.New(slog.NewTextHandler(f.logs, nil))}
	sink := testenv.StartSink(t)
	pf := startFilterPostfix(t, p, sink, reinject)
	head := func(to, subject string) string {
		return "From: Alice <alice@contoso.com>\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n"
	}
	ct, body := testenv.WithAttachment("Hello Bob,\r\n\r\nthe access details are in the attached document.\r\n",
		"access.docx", testenv.Docx(t, "Portal access", "Password: Tr0ub4dor&amp;3x"))
	heldAs := func(t *testing.T, n int, subject, reason string) {
		t.Helper()
		msgs, err := waitHeld(ctx, f.store, n)
		if err != nil {
			t.Fatal(err)
		}
		m := msgs[0]
		if m.Subject != subject || len(m.Recipients) != 1 || m.Recipients[0].Verdict != verdict.Hold ||
			!strings.Contains(m.Recipients[0].Reason, reason) {
			t.Fatalf("held %+v", m)
		}
		if ev := f.event(t); !ev.Handover || ev.Outcome != guard.Held || len(ev.Content) == 0 {
			t.Errorf("event %+v", ev)
		} else if strings.Join(m.Content, ",") != strings.Join(ev.Content, ",") {
			t.Errorf("held with content %q, the event says %q", m.Content, ev.Content)
		}
	}
	delivered := func(t *testing.T, n int, subject string) {
		t.Helper()
		msgs, err := sink.WaitFor(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if m := msgs[n-1]; m.Header("Subject") != subject {
			t.Fatalf("delivered %q, want %q", m.Header("Subject"), subject)
		}
		if ev := f.event(t); !ev.Handover || ev.Outcome != guard.Delivered {
			t.Errorf("event %+v: the policy service did not hand it to the intake", ev)
		}
	}

	t.Run("warned lookalike with a password in a docx is held", func(t *testing.T) {
		qid := submit(t, pf, "192.0.2.7", "alice", "alice@contoso.com", "bob@armmy.mil",
			[]byte(head("Bob <bob@armmy.mil>", "access with docx")+"MIME-Version: 1.0\r\nContent-Type: "+ct+"\r\n\r\n"+body))
		heldAs(t, 1, "access with docx", "the message contains what looks like a password")
		if err := pf.WaitLog(ctx, qid+": filter: END-OF-MESSAGE"); err != nil {
			t.Error(err)
		}
	})
	t.Run("the same message without the docx is delivered", func(t *testing.T) {
		submit(t, pf, "192.0.2.7", "alice", "alice@contoso.com", "bob@armmy.mil",
			[]byte(head("Bob <bob@armmy.mil>", "access without docx")+"\r\nHello Bob, see you at the portal.\r\n"))
		delivered(t, 1, "access without docx")
	})
	t.Run("marked message to an unrelated domain is held", func(t *testing.T) {
		submit(t, pf, "192.0.2.7", "alice", "alice@contoso.com", "carol@unrelated.example",
			[]byte(head("carol@unrelated.example", "marked plan")+"\r\nSECRET//NOFORN\r\n\r\nThe plan for Tuesday.\r\n\r\nSECRET//NOFORN\r\n"))
		heldAs(t, 2, "marked plan", "marking")
	})
	t.Run("an unmarked message to that domain is delivered", func(t *testing.T) {
		submit(t, pf, "192.0.2.7", "alice", "alice@contoso.com", "carol@unrelated.example",
			[]byte(head("carol@unrelated.example", "plain plan")+"\r\nThe plan for Tuesday.\r\n"))
		delivered(t, 2, "plain plan")
	})
	if msgs, _ := f.store.List(ctx, quarantine.Filter{}); len(msgs) != 2 {
		t.Errorf("%d messages held, want 2", len(msgs))
	}
}
