package notice

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

var now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

const link = "https://rcptguard.army.mil/v/abc123?t=tok_EN-x"

func testNotice() Notice {
	return Notice{
		To: "alice@army.mil", From: "rcptguard@army.mil", Link: link, Org: "US Army",
		Message: quarantine.Message{
			ID: "AAAAAAAAAAAAAAAAAAAAAA", Sender: "alice@army.mil", Subject: "Quarterly report",
			Received: now.Add(-time.Hour), ExpiresAt: now.Add(72 * time.Hour),
			Recipients: []quarantine.Recipient{
				{Address: "bob@army.ml", Verdict: verdict.Hold, Intended: []string{"army.mil"}, Techniques: []string{"tld-swap"}, Reason: "army.ml differs from army.mil by one letter"},
				{Address: "<script>@x.ml", Verdict: verdict.Hold, Intended: []string{"x.mil"}, Reason: "x.ml <b>looks</b> like x.mil"},
				{Address: "carol@army.mil", Verdict: verdict.Allow},
			},
		},
	}
}

type parsed struct {
	hdr        mail.Header
	text, html string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) > 998 {
			t.Errorf("line of %d octets", len(sc.Bytes()))
		}
	}
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Error("bare LF in message")
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, raw)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	p := parsed{hdr: m.Header}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		switch ct := part.Header.Get("Content-Type"); ct {
		case "text/plain; charset=utf-8":
			p.text = string(b)
		case "text/html; charset=utf-8":
			p.html = string(b)
		default:
			t.Errorf("unexpected part %q", ct)
		}
	}
	if p.text == "" || p.html == "" {
		t.Fatalf("missing part: text %d, html %d octets", len(p.text), len(p.html))
	}
	return p
}

func TestCompose(t *testing.T) {
	n := testNotice()
	raw, err := Compose(n, now)
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, raw)
	for k, want := range map[string]string{
		"From": "rcptguard@army.mil", "To": "alice@army.mil", "MIME-Version": "1.0",
		"Auto-Submitted": "auto-generated", "X-Rcptguard-Notice": n.Message.ID,
		"Subject": `Check the recipients of your message "Quarterly report"`,
	} {
		if got := p.hdr.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if d, err := p.hdr.Date(); err != nil || !d.Equal(now) {
		t.Errorf("Date %v, %v", d, err)
	}
	if id := p.hdr.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@army.mil>") {
		t.Errorf("Message-ID %q", id)
	}
	for _, s := range []string{"bob@army.ml", "<script>@x.ml", link, n.Message.Recipients[0].Reason, "x.ml <b>looks</b> like x.mil"} {
		if c := strings.Count(p.text, s); c != 1 {
			t.Errorf("text has %q %d times, want once:\n%s", s, c, p.text)
		}
	}
	for _, s := range []string{"army.mil", "tld-swap", "Monday 30 November 2026", "US Army", "1 other recipient"} {
		if !strings.Contains(p.text, s) || !strings.Contains(p.html, s) {
			t.Errorf("%q missing from text or html", s)
		}
	}
	if strings.Contains(p.text, "carol@army.mil") {
		t.Error("unflagged recipient listed as held")
	}
	if strings.Contains(p.html, "<script>") || !strings.Contains(p.html, "&lt;script&gt;@x.ml") || strings.Contains(p.html, "<b>") {
		t.Errorf("html not escaped:\n%s", p.html)
	}
	htmlLink := strings.ReplaceAll(link, "&", "&amp;")
	if c := strings.Count(p.html, "href="); c != 1 || !strings.Contains(p.html, `href="`+htmlLink+`"`) {
		t.Errorf("html has %d links, want one to %s:\n%s", c, link, p.html)
	}
	for _, bad := range []string{"<img", "<script", "javascript:", "onclick", "<link", "@import"} {
		if strings.Contains(strings.ToLower(p.html), bad) {
			t.Errorf("html contains %q", bad)
		}
	}
	if strings.Contains(p.text, "Reminder") || strings.Contains(p.text, "REMINDER") {
		t.Error("reminder text in a first notice")
	}
}

func TestComposeReminderAndNonASCII(t *testing.T) {
	n := testNotice()
	n.Reminder = true
	n.Message.Subject = "Rapport trimestriel – données 🚀 " + strings.Repeat("é", 100)
	raw, err := Compose(n, now)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsFunc(raw[:bytes.Index(raw, []byte("\r\n\r\n"))], func(r rune) bool { return r >= 0x80 }) {
		t.Error("non-ASCII in header")
	}
	p := parse(t, raw)
	var dec mime.WordDecoder
	subj, err := dec.DecodeHeader(p.hdr.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(subj, `Reminder: Check the recipients of your message "Rapport trimestriel – données 🚀 éé`) || !strings.HasSuffix(subj, `..."`) {
		t.Errorf("Subject %q", subj)
	}
	if !strings.Contains(p.text, "REMINDER") || !strings.Contains(p.html, "Reminder:") {
		t.Error("reminder not said in the body")
	}
}

func TestComposeHeaderInjection(t *testing.T) {
	n := testNotice()
	n.Message.Subject = "hi\r\nBcc: x@y\r\n\r\nbody"
	n.Message.ID = "id\r\nBcc: x@y"
	n.Message.Recipients[0].Address = "bob@army.ml\r\nBcc: x@y"
	n.Message.Recipients[0].Reason = "reason\nBcc: x@y"
	n.Org = "Org\rBcc: x@y"
	raw, err := Compose(n, now)
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, raw)
	if b := p.hdr.Get("Bcc"); b != "" || len(p.hdr["Bcc"]) != 0 {
		t.Errorf("Bcc header injected: %q", b)
	}
	if got := p.hdr.Get("Subject"); got != `Check the recipients of your message "hi  Bcc: x@y    body"` {
		t.Errorf("Subject %q", got)
	}
	for _, line := range strings.Split(p.text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "Bcc:") {
			t.Errorf("text line starts with Bcc: %q", line)
		}
	}
	for _, bad := range []Notice{
		func() Notice { n := testNotice(); n.To = "alice@army.mil\r\nBcc: x@y"; return n }(),
		func() Notice { n := testNotice(); n.From = "a@b\nBcc: x@y"; return n }(),
		func() Notice { n := testNotice(); n.To = "Alice <alice@army.mil>"; return n }(),
		func() Notice { n := testNotice(); n.To = "a@b, c@d"; return n }(),
		func() Notice { n := testNotice(); n.To = ""; return n }(),
		func() Notice { n := testNotice(); n.Link = "javascript:alert(1)"; return n }(),
		func() Notice { n := testNotice(); n.Link = "https://x.test/\r\nBcc: x@y"; return n }(),
		func() Notice { n := testNotice(); n.Link = "/relative"; return n }(),
	} {
		if _, err := Compose(bad, now); err == nil {
			t.Errorf("Compose(To %q, From %q, Link %q): want an error", bad.To, bad.From, bad.Link)
		}
	}
}

func TestSubjectShort(t *testing.T) {
	if got := Subject("", false); got != "Check the recipients of your message" {
		t.Errorf("empty subject: %q", got)
	}
	long := Subject(strings.Repeat("a", 500), false)
	if len(long) > 110 || !strings.HasSuffix(long, `..."`) {
		t.Errorf("subject not cut: %d octets", len(long))
	}
}

// TestComposeSaysWhatExpiryDoes: the notice says whether an undecided message is deleted
// or returned at expiry, as configured.
func TestComposeSaysWhatExpiryDoes(t *testing.T) {
	for _, returned := range []bool{false, true} {
		n := testNotice()
		n.Returned = returned
		raw, err := Compose(n, now)
		if err != nil {
			t.Fatal(err)
		}
		p := parse(t, raw)
		want, not := "deleted without being sent", "returned to you unsent"
		if returned {
			want, not = not, want
		}
		for _, body := range []string{p.text, p.html} {
			if !strings.Contains(body, want) || strings.Contains(body, not) {
				t.Errorf("returned=%v: body does not say %q only:\n%s", returned, want, body)
			}
		}
	}
}

// TestComposeSaysWhatTheMessageCarries: a message held with content categories says, in
// plain words and in both parts, what it seems to carry; one over the content limits says
// it was not checked; one without content rules says neither.
func TestComposeSaysWhatTheMessageCarries(t *testing.T) {
	for _, c := range []struct {
		content      []string
		skipped      bool
		want, absent []string
	}{
		{[]string{"credentials", "medical"}, false,
			[]string{"The message seems to carry a password, key or token and a medical record"}, []string{"too large to be checked"}},
		{nil, true, []string{"too large to be checked for sensitive content"}, []string{"seems to carry"}},
		{nil, false, nil, []string{"seems to carry", "too large to be checked"}},
	} {
		n := testNotice()
		n.Message.Content, n.Message.ContentSkipped = c.content, c.skipped
		raw, err := Compose(n, now)
		if err != nil {
			t.Fatal(err)
		}
		p := parse(t, raw)
		for _, w := range c.want {
			if !strings.Contains(p.text, w) || !strings.Contains(p.html, w) {
				t.Errorf("%v %v: %q missing from text or html:\n%s", c.content, c.skipped, w, p.text)
			}
		}
		for _, a := range c.absent {
			if strings.Contains(p.text, a) || strings.Contains(p.html, a) {
				t.Errorf("%v %v: %q in the notice", c.content, c.skipped, a)
			}
		}
	}
}
