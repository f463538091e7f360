package milter

import (
	"strings"
	"testing"

	gomilter "github.com/d--j/go-milter"

	classifier "github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// contentRules are the rules of the content tests: credentials turn a warning into a
// hold, markings hold mail to any outside domain.
var contentRules = guard.ContentRules{
	Escalate:      map[classifier.Category]guard.Verdict{classifier.Credentials: guard.Hold},
	OnAnyExternal: map[classifier.Category]guard.Verdict{classifier.Markings: guard.Hold},
}

func newClassifier(t testing.TB) *classifier.Classifier {
	t.Helper()
	cl, err := classifier.New(classifier.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// docx and withAttachment build the test messages' attachments (testenv).
var (
	docx           = testenv.Docx
	withAttachment = testenv.WithAttachment
)

const accessText = "Hello Bob,\r\n\r\nthe access details for the portal are in the attached document.\r\n\r\nAlice\r\n"

// TestContentEscalatesAtEndOfMessage: without a Holder, a warned recipient of a message
// that carries a password in an attached .docx is refused at the end of the message with
// the reason naming the password; the same message without the attachment is warned; a
// marked message to an unflagged outside domain is refused.
func TestContentEscalatesAtEndOfMessage(t *testing.T) {
	t.Parallel()
	var ev events
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy())), Content: newClassifier(t), ContentRules: contentRules, Observe: ev.observe})
	ct, body := withAttachment(accessText, "access.docx", docx(t, "Portal access", "Password: Tr0ub4dor&amp;3x"))
	header := [][2]string{{"From", "alice@contoso.com"}, {"Subject", "Portal access"}, {"MIME-Version", "1.0"}, {"Content-Type", ct}}

	res := dial(t, addr, smtpClient).sendBody("alice@contoso.com", []string{"bob@armmy.mil"}, header, body, true)
	if res.eom == nil || res.eom.Type != gomilter.ActionRejectWithCode || !strings.Contains(res.eom.SMTPReply, "the message contains what looks like a password") {
		t.Fatalf("with the password: end of message %+v", res.eom)
	}
	res = dial(t, addr, smtpClient).sendBody("alice@contoso.com", []string{"bob@armmy.mil"}, header[:2], accessText, true)
	if res.eom == nil || res.eom.Type != gomilter.ActionAccept || headers(res.mods)[VerdictHeader] != "warn" {
		t.Fatalf("without it: end of message %+v, headers %v", res.eom, headers(res.mods))
	}
	res = dial(t, addr, smtpClient).sendBody("alice@contoso.com", []string{"carol@unrelated.example"}, header[:2],
		"SECRET//NOFORN\r\n\r\nThe plan.\r\n\r\nSECRET//NOFORN\r\n", true)
	if res.eom == nil || res.eom.Type != gomilter.ActionRejectWithCode {
		t.Fatalf("marked: end of message %+v", res.eom)
	}
	// The same to a colleague: on_any_external does not apply, and the message is not
	// even read (no recipient flagged, none outside).
	res = dial(t, addr, smtpClient).sendBody("alice@contoso.com", []string{"dave@contoso.com"}, header[:2],
		"SECRET//NOFORN\r\n\r\nThe plan.\r\n\r\nSECRET//NOFORN\r\n", true)
	if res.eom == nil || res.eom.Type != gomilter.ActionAccept {
		t.Fatalf("marked, to a colleague: end of message %+v", res.eom)
	}
	var names [][]string
	for _, e := range ev.all() {
		if e.Stage == StageEOM {
			names = append(names, e.Content)
		}
	}
	if len(names) != 4 || strings.Join(names[0], ",") != "credentials" || len(names[1]) != 0 || strings.Join(names[2], ",") != "markings" ||
		len(names[3]) != 0 {
		t.Errorf("event content %q", names)
	}
}

// TestContentOverTheLimitIsSkipped: a message larger than the content kept is decided
// without content: the warned recipient stays warned, and the reason says it was not
// checked.
func TestContentOverTheLimitIsSkipped(t *testing.T) {
	t.Parallel()
	var ev events
	addr := start(t, &Server{Guard: current(testGuard(t, holdPolicy())), Content: newClassifier(t), ContentRules: contentRules,
		MaxMessageBytes: 2048, Observe: ev.observe})
	body := "Password: Tr0ub4dor&3x\r\n" + strings.Repeat("filler line of the message body\r\n", 200)
	res := dial(t, addr, smtpClient).sendBody("alice@contoso.com", []string{"bob@armmy.mil"}, plainHeader, body, true)
	h := headers(res.mods)
	if res.eom == nil || res.eom.Type != gomilter.ActionAccept || h[VerdictHeader] != "warn" ||
		!strings.Contains(strings.ReplaceAll(h[ReasonHeader], "\n ", " "), "not checked for content") {
		t.Fatalf("end of message %+v, headers %v", res.eom, h)
	}
	if e := ev.all(); len(e) == 0 || !e[len(e)-1].ContentSkipped {
		t.Errorf("events %+v", e)
	}
}

// TestContentInMonitorMode: in monitor mode the escalated verdict is recorded, and the
// message is accepted.
func TestContentInMonitorMode(t *testing.T) {
	t.Parallel()
	var ev events
	addr := start(t, &Server{Guard: current(testGuard(t, monitorPolicy())), Content: newClassifier(t), ContentRules: contentRules, Observe: ev.observe})
	res := dial(t, addr, smtpClient).sendBody("alice@contoso.com", []string{"bob@armmy.mil"}, plainHeader, "Password: Tr0ub4dor&3x\r\n", true)
	if res.eom == nil || res.eom.Type != gomilter.ActionAccept {
		t.Fatalf("end of message %+v", res.eom)
	}
	e := ev.all()
	if len(e) == 0 || e[len(e)-1].Verdict != guard.Hold || !e[len(e)-1].Monitor {
		t.Errorf("events %+v", e)
	}
}
