package relay

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/content"
	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/testenv"
)

// passwordDocx is a Word document with a password line, base64 in lines of 76.
func passwordDocx(t *testing.T) string {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for name, text := range map[string]string{
		"[Content_Types].xml": `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
		"word/document.xml": `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` +
			`<w:p><w:r><w:t>Portal access</w:t></w:r></w:p><w:p><w:r><w:t>Password: Tr0ub4dor&amp;3x</w:t></w:r></w:p></w:body></w:document>`,
	} {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(text))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	enc := base64.StdEncoding.EncodeToString(b.Bytes())
	var lines []string
	for len(enc) > 76 {
		lines, enc = append(lines, enc[:76]), enc[76:]
	}
	return strings.Join(append(lines, enc), "\r\n")
}

// TestContentRules runs the relay with content rules and a quarantine: a warned lookalike
// with a password in an attached .docx is held; the same message without it is relayed
// with the warning header; a SECRET//NOFORN message to an unrelated domain is held.
func TestContentRules(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	cl, err := content.New(content.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := startRelay(t, func(s *Server) {
		s.Holder = &storeHolder{store: st}
		s.Content = cl
		s.ContentRules = guard.ContentRules{
			Escalate:      map[content.Category]guard.Verdict{content.Credentials: guard.Hold},
			OnAnyExternal: map[content.Category]guard.Verdict{content.Markings: guard.Hold},
		}
	})
	send := func(rcpt, subject, extra, body string) testenv.SendResult {
		t.Helper()
		msg := "From: alice@contoso.com\r\nTo: " + rcpt + "\r\nSubject: " + subject + "\r\n" + extra + "\r\n" + body
		res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{rcpt}, []byte(msg))
		if err != nil || !res.Delivered() {
			t.Fatalf("%s: %+v %v", subject, res, err)
		}
		return res
	}
	const text = "Hello Bob,\r\n\r\nthe access details for the portal are attached.\r\n"
	const boundary = "b-1"
	withDocx := "--" + boundary + "\r\nContent-Type: text/plain\r\n\r\n" + text + "--" + boundary + "\r\n" +
		"Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document\r\n" +
		"Content-Disposition: attachment; filename=\"access.docx\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		passwordDocx(t) + "\r\n--" + boundary + "--\r\n"

	if res := send("bob@armmy.mil", "with docx", "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\""+boundary+"\"\r\n", withDocx); !strings.Contains(res.Data.Text, "held as ") {
		t.Errorf("with the docx: %v, want held", res.Data)
	}
	if res := send("bob@armmy.mil", "without docx", "", text); !strings.Contains(res.Data.Text, "relayed as ") {
		t.Errorf("without the docx: %v, want relayed", res.Data)
	}
	if res := send("carol@unrelated.example", "marked", "", "SECRET//NOFORN\r\n\r\nThe plan.\r\n\r\nSECRET//NOFORN\r\n"); !strings.Contains(res.Data.Text, "held as ") {
		t.Errorf("marked: %v, want held", res.Data)
	}
	if res := send("carol@unrelated.example", "plain", "", "The plan.\r\n"); !strings.Contains(res.Data.Text, "relayed as ") {
		t.Errorf("plain: %v, want relayed", res.Data)
	}
	got := map[string]bool{}
	for _, m := range storedMessages(t, st) {
		got[m.Subject] = true
		if len(m.Recipients) != 1 || !strings.Contains(m.Recipients[0].Reason, "the message contains what looks like") {
			t.Errorf("%q: recipients %+v", m.Subject, m.Recipients)
		}
	}
	if len(got) != 2 || !got["with docx"] || !got["marked"] {
		t.Errorf("held %v", got)
	}
	msgs := r.sink.Messages()
	if len(msgs) != 2 {
		t.Fatalf("sink got %d messages, want 2", len(msgs))
	}
	for _, m := range msgs {
		warned := m.Header("X-Rcptguard-Verdict") == "warn"
		if s := m.Header("Subject"); warned != (s == "without docx") {
			t.Errorf("%q: warning header %q", s, m.Header("X-Rcptguard-Verdict"))
		}
	}
	var names []string
	for _, e := range r.events.all() {
		names = append(names, strings.Join(e.Content, ","))
	}
	if strings.Join(names, ";") != "credentials;;markings;" {
		t.Errorf("event content %q", names)
	}
}

// TestContentRejectRefusesTheMessage: escalate: reject refuses the whole message at the
// end of DATA, with the reason naming the content; nothing reaches the upstream.
func TestContentRejectRefusesTheMessage(t *testing.T) {
	t.Parallel()
	cl, err := content.New(content.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := startRelay(t, func(s *Server) {
		s.Content = cl
		s.ContentRules = guard.ContentRules{Escalate: map[content.Category]guard.Verdict{content.Credentials: guard.Reject}}
	})
	msg := "From: alice@contoso.com\r\nSubject: creds\r\n\r\nHello,\r\n\r\nPassword: Tr0ub4dor&3x\r\n"
	res, err := testenv.SMTPSend(r.addr, "alice@contoso.com", []string{"bob@armmy.mil"}, []byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	if res.Data.Code != 550 || !strings.Contains(res.Data.Text, "the message contains what looks like a password") {
		t.Errorf("DATA %v, want 550 naming the password", res.Data)
	}
	if n := len(r.sink.Messages()); n != 0 {
		t.Errorf("the upstream got %d messages", n)
	}
	if evs := r.events.all(); len(evs) != 1 || evs[0].Outcome != OutcomeFailed || strings.Join(evs[0].Content, ",") != "credentials" {
		t.Errorf("events %+v", evs)
	}
}
