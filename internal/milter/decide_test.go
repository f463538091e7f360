package milter

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	gomilter "github.com/d--j/go-milter"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

var plainHeader = [][2]string{{"From", "alice@contoso.com"}, {"Subject", "Travel plans of the general"}}

func TestAllowedMessagePasses(t *testing.T) {
	t.Parallel()
	var ev events
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy())), Observe: ev.observe})
	res := dial(t, addr, smtpClient).send("alice@contoso.com", []string{"bob@army.mil"}, plainHeader, true)
	if res.rcptReply("bob@army.mil") != "" || res.eom == nil || res.eom.Type != gomilter.ActionAccept {
		t.Fatalf("rcpt %v, eom %v; want both accepted", res.rcpt["bob@army.mil"], res.eom)
	}
	if len(res.mods) != 0 {
		t.Errorf("modifications %v, want none", res.mods)
	}
	got := ev.all()
	if len(got) != 1 || got[0].Stage != StageEOM || got[0].Action != ActionAccept || got[0].QueueID != "4XyZ1234AB" {
		t.Fatalf("events %+v, want one accept at eom with the queue id", got)
	}
}

func TestRejectedRecipientIsRefusedAtRcptWithTheReason(t *testing.T) {
	t.Parallel()
	var ev events
	addr := start(t, &Server{Guard: current(testGuard(t, rejectPolicy())), Observe: ev.observe})
	res := dial(t, addr, smtpClient).send("alice@contoso.com", []string{"bob@army.ml", "carol@army.mil"}, plainHeader, true)
	want := `550 5.7.1 Did you mean army.mil? "ml" is one letter short of "mil"; army.mil is protected.`
	if got := res.rcptReply("bob@army.ml"); got != want {
		t.Fatalf("reply to bob@army.ml = %q, want %q", got, want)
	}
	if res.rcptReply("carol@army.mil") != "" || res.eom == nil || res.eom.Type != gomilter.ActionAccept {
		t.Fatalf("carol@army.mil: rcpt %v, eom %v; want accepted", res.rcpt["carol@army.mil"], res.eom)
	}
	got := ev.all()
	if len(got) != 2 || got[0].Stage != StageRcpt || got[0].Action != ActionReject || got[0].Reply.Code != 550 ||
		!slices.Equal(got[0].Recipients, []string{"bob@army.ml"}) || got[0].Verdict != guard.Reject {
		t.Fatalf("events %+v, want a reject of bob@army.ml at rcpt first", got)
	}
	if !slices.Equal(got[1].Recipients, []string{"carol@army.mil"}) {
		t.Errorf("message recipients %v, want only the accepted one", got[1].Recipients)
	}
}

func TestHoldRefusesTheWholeMessageAtEndOfBody(t *testing.T) {
	t.Parallel()
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy()))})
	res := dial(t, addr, smtpClient).send("alice@contoso.com", []string{"carol@army.mil", "bob@army.ml"}, plainHeader, true)
	if res.rcptReply("carol@army.mil") != "" || res.rcptReply("bob@army.ml") != "" {
		t.Fatalf("a recipient was refused at RCPT: %v", res.rcpt)
	}
	want := `550 5.7.1 bob@army.ml: Did you mean army.mil? "ml" is one letter short of "mil"; ` +
		`army.mil is protected. Please check the recipients and send again.`
	if res.eom == nil || res.eom.Type != gomilter.ActionRejectWithCode || res.eom.SMTPReply != want {
		t.Fatalf("end of message = %v, want %q", res.eom, want)
	}
}

func TestWarnAddsTheHeaders(t *testing.T) {
	t.Parallel()
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy()))})
	res := dial(t, addr, smtpClient).send("alice@contoso.com", []string{"bob@armmy.mil"}, plainHeader, true)
	if res.eom == nil || res.eom.Type != gomilter.ActionAccept {
		t.Fatalf("end of message = %v, want accept", res.eom)
	}
	h := headers(res.mods)
	if h[VerdictHeader] != "warn" {
		t.Errorf("%s = %q, want warn", VerdictHeader, h[VerdictHeader])
	}
	reason := strings.ReplaceAll(h[ReasonHeader], "\n ", " ")
	if !strings.HasPrefix(reason, "bob@armmy.mil: Did you mean army.mil?") || strings.ContainsAny(reason, "\r\n") {
		t.Errorf("%s = %q", ReasonHeader, h[ReasonHeader])
	}
}

func TestForgedWarningHeadersAreRemoved(t *testing.T) {
	t.Parallel()
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy()))})
	header := append(slices.Clone(plainHeader), [2]string{"x-rcptguard-verdict", "none"}, [2]string{"X-Rcptguard-Verdict", "ok"})
	res := dial(t, addr, smtpClient).send("alice@contoso.com", []string{"bob@army.mil"}, header, true)
	var removed []uint32
	for _, m := range res.mods {
		if m.Type == gomilter.ActionChangeHeader && m.HeaderName == VerdictHeader && m.HeaderValue == "" {
			removed = append(removed, m.HeaderIndex)
		}
	}
	if !slices.Equal(removed, []uint32{2, 1}) || res.eom.Type != gomilter.ActionAccept {
		t.Fatalf("modifications %v, eom %v; want both forged headers removed, the last first", res.mods, res.eom)
	}
}

func TestMonitorModeAcceptsAndLogs(t *testing.T) {
	t.Parallel()
	var logs testenv.SyncBuffer
	var ev events
	addr := start(t, &Server{Guard: current(testGuard(t, monitorPolicy())), Logger: jsonLogger(&logs), Observe: ev.observe})
	res := dial(t, addr, smtpClient).send("alice@contoso.com", []string{"bob@army.ml", "carol@army.mil"}, plainHeader, true)
	if res.rcptReply("bob@army.ml") != "" || res.eom == nil || res.eom.Type != gomilter.ActionAccept || len(res.mods) != 0 {
		t.Fatalf("rcpt %v, eom %v, mods %v; want everything accepted, unchanged", res.rcpt, res.eom, res.mods)
	}
	got := ev.all()
	if len(got) != 1 || got[0].Verdict != guard.Hold || !got[0].Monitor || got[0].Action != ActionAccept {
		t.Fatalf("events %+v, want one hold in monitor mode, accepted", got)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(logs.String()), &line); err != nil {
		t.Fatalf("want one JSON log line: %v\n%s", err, logs.String())
	}
	want := map[string]any{"msg": "milter decision", "adapter": "milter", "stage": "eom", "queue_id": "4XyZ1234AB",
		"sender": "alice@contoso.com", "verdict": "hold", "monitor": true, "action": "accept", "non_smtp": false}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	for k, v := range map[string]string{"recipients": "[bob@army.ml carol@army.mil]", "flagged": "[bob@army.ml]",
		"techniques": "[suffix-typo]", "intended": "[army.mil]"} {
		if got := jsonList(line[k]); got != v {
			t.Errorf("log %s = %s, want %s", k, got, v)
		}
	}
	if s := logs.String(); strings.Contains(s, "Travel plans") || strings.Contains(s, "Secret body") {
		t.Errorf("message content in the log: %s", s)
	}
}

func jsonList(v any) string {
	list, _ := v.([]any)
	var parts []string
	for _, x := range list {
		s, _ := x.(string)
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestPercentInTheReasonIsDoubledOnTheWire(t *testing.T) {
	t.Parallel()
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy()))})
	// An invalid recipient: the guard's reason quotes it, with its "%".
	res := dial(t, addr, smtpClient).send("alice@contoso.com", []string{"100%sure@", "bob@army.mil"}, plainHeader, true)
	got := res.rcptReply("100%sure@")
	if !strings.HasPrefix(got, "553 5.1.3 ") || !strings.Contains(got, `"100%%sure@"`) || strings.Contains(got, "%%%") {
		t.Fatalf("reply = %q, want 553 5.1.3 with the %% doubled once", got)
	}
}

func TestNonSMTPMailIsDecidedAtEndOfMessage(t *testing.T) {
	t.Parallel()
	postfixPickup := connectInfo{"localhost", gomilter.FamilyInet, 4321, "127.0.0.1", "Postfix 3.7.11"}
	for _, tc := range []struct {
		name       string
		ci         connectInfo
		rcptMailer bool
	}{
		{"port 0", localSubmission, true},
		{"no rcpt_mailer from Postfix", postfixPickup, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ev events
			guards := current(testGuard(t, rejectPolicy()))
			addr := start(t, &Server{Guard: guards, Observe: ev.observe})
			c := dial(t, addr, tc.ci)
			res := c.send("root@contoso.com", []string{"bob@army.ml", "carol@army.mil"}, plainHeader, tc.rcptMailer)
			if res.rcptReply("bob@army.ml") != "" {
				t.Fatalf("recipient refused at RCPT: %q", res.rcptReply("bob@army.ml"))
			}
			if res.eom == nil || res.eom.Type != gomilter.ActionRejectWithCode || !strings.HasPrefix(res.eom.SMTPReply, "550 5.7.1 bob@army.ml: Did you mean army.mil?") {
				t.Fatalf("end of message = %v, want the whole message refused", res.eom)
			}

			guards.Store(testGuard(t, holdPolicy()))
			res = c.send("root@contoso.com", []string{"bob@army.ml", "carol@army.mil"}, plainHeader, tc.rcptMailer)
			var quarantine []string
			for _, m := range res.mods {
				if m.Type == gomilter.ActionQuarantine {
					quarantine = append(quarantine, m.Reason)
				}
			}
			if res.eom.Type != gomilter.ActionAccept || len(quarantine) != 1 || !strings.HasPrefix(quarantine[0], "bob@army.ml: Did you mean army.mil?") {
				t.Fatalf("end of message %v, quarantine %q; want accepted into quarantine with the reason", res.eom, quarantine)
			}
			got := ev.all()
			if len(got) != 2 || !got[0].NonSMTP || got[0].Action != ActionReject || got[1].Action != ActionQuarantine {
				t.Fatalf("events %+v, want a non-SMTP reject, then a quarantine", got)
			}
		})
	}
}

func TestMessagesOnOneConnectionShareNothing(t *testing.T) {
	t.Parallel()
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy()))})
	c := dial(t, addr, smtpClient)
	// A held message, aborted after its recipients (the client sent RSET).
	c.macros.Set(gomilter.MacroMailAddr, "alice@contoso.com")
	if _, err := c.sess.Mail("alice@contoso.com", ""); err != nil {
		t.Fatal(err)
	}
	if act, err := c.sess.Rcpt("bob@army.ml", ""); err != nil || act.StopProcessing() {
		t.Fatalf("rcpt: %v %v", act, err)
	}
	if err := c.sess.Abort(nil); err != nil {
		t.Fatal(err)
	}
	res := c.send("alice@contoso.com", []string{"carol@army.mil"}, plainHeader, true)
	if res.eom == nil || res.eom.Type != gomilter.ActionAccept {
		t.Fatalf("next message: %v, want accepted (the aborted recipient must not count)", res.eom)
	}
	res = c.send("alice@contoso.com", []string{"bob@army.ml"}, plainHeader, true)
	if res.eom == nil || res.eom.Type != gomilter.ActionRejectWithCode {
		t.Fatalf("third message: %v, want refused", res.eom)
	}
	res = c.send("alice@contoso.com", []string{"carol@army.mil"}, plainHeader, true)
	if res.eom == nil || res.eom.Type != gomilter.ActionAccept {
		t.Fatalf("fourth message: %v, want accepted", res.eom)
	}
}

func TestAddressWithoutDomainIsCheckedAsTheMTAQualifiedIt(t *testing.T) {
	t.Parallel()
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy()))})
	c := dial(t, addr, smtpClient)
	if _, err := c.sess.Mail("alice@contoso.com", ""); err != nil {
		t.Fatal(err)
	}
	c.macros.Set(gomilter.MacroRcptMailer, "smtp")
	c.macros.Set(gomilter.MacroRcptAddr, "postmaster@mta-1.contoso.com") // Postfix appended $myorigin
	if act, err := c.sess.Rcpt("postmaster", ""); err != nil || act.StopProcessing() {
		t.Fatalf("RCPT TO:<postmaster> = %v, %v; want accepted (RFC 5321 section 4.5.1)", act, err)
	}
	c.macros.Set(gomilter.MacroRcptAddr, "")
	act, err := c.sess.Rcpt("postmaster", "")
	if err != nil || !act.StopProcessing() || !strings.HasPrefix(act.SMTPReply, "553 5.1.3 ") {
		t.Fatalf("without {rcpt_addr}: %v, %v; want the guard's 553", act, err)
	}
}
