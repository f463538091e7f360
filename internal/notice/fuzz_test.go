package notice

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/quarantine"
	"github.com/rcptguard/rcptguard/internal/verdict"
)

// composedFields are the header fields Compose writes, each once.
var composedFields = []string{"Auto-Submitted", "Content-Type", "Date", "From", "Message-Id", "Mime-Version",
	"Subject", "To", "X-Auto-Response-Suppress", "X-Rcptguard-Notice"}

// FuzzCompose: whatever the held message says (subject, envelope sender, recipients,
// reasons, intended domains, techniques), and whatever sender address the notice goes
// to (as Recipient chose it), Compose either fails or writes a message that net/mail
// reads, with exactly the header fields Compose writes, each once (nothing injected),
// an ASCII header section (but for a UTF-8 local part of To), CRLF line ends only and no line longer than 998 octets, a
// Subject that decodes to one line, and both parts listing each held recipient.
func FuzzCompose(f *testing.F) {
	f.Add("Quarterly report", "alice@army.mil", "bob@army.ml", "army.ml differs from army.mil by one letter", "army.mil", "tld-swap", false)
	f.Add("hi\r\nBcc: x@y\r\n\r\nbody", "alice@army.mil\r\nBcc: x@y", "bob@army.ml\r\nBcc: x@y", "reason\nBcc: x@y", "army.mil\r\nBcc: x@y", "x\ry", true)
	f.Add("Rapport trimestriel – données 🚀 "+strings.Repeat("é", 100), "élise@army.mil", "<script>@x.ml", "x.ml <b>looks</b> like x.mil", "x.mil", "", true)
	f.Add(strings.Repeat("x", 2000), strings.Repeat("a", 64)+"@army.mil", strings.Repeat("b", 1500)+"@army.ml", strings.Repeat("r", 3000), strings.Repeat("d", 1200), "", false)
	f.Add("=?utf-8?q?encoded?= \x00\x7f\u0085\u2028\xff", "\"quoted local\"@army.mil", "", "", "", "", false)
	f.Add("", "<>", "\u202eevil@army.ml", "\t", " , ", "a,b", false)
	f.Add("?= =?", "a@sub.army.mil", "?=\r\n =?", "=?utf-8?q?x?=", "?=", "", true)
	f.Fuzz(func(t *testing.T, subject, sender, rcpt, reason, intended, technique string, reminder bool) {
		n := testNotice()
		n.Reminder = reminder
		n.Message.Subject = subject
		n.Message.Sender = sender
		n.Message.Recipients = []quarantine.Recipient{
			{Address: rcpt, Verdict: verdict.Hold, Reason: reason, Intended: []string{intended, "army.mil"}, Techniques: []string{technique}},
			{Address: rcpt + "x", Verdict: verdict.Allow, Reason: reason},
		}
		fixedTo := true
		if to, ok := Recipient(sender, "", []string{"army.mil"}); ok {
			n.To, fixedTo = to, false
		}
		raw, err := Compose(n, now)
		if err != nil {
			if fixedTo {
				t.Fatalf("Compose with valid addresses and link: %v", err)
			}
			return // To as Recipient chose it may still be refused
		}

		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(nil, 1<<20)
		for i := 1; sc.Scan(); i++ {
			if l := len(sc.Bytes()); l > 998 {
				t.Fatalf("line %d is %d octets long", i, l)
			}
		}
		if bytes.ContainsAny(bytes.ReplaceAll(raw, []byte("\r\n"), nil), "\r\n") {
			t.Fatalf("bare CR or LF in\n%q", raw)
		}
		end := bytes.Index(raw, []byte("\r\n\r\n"))
		if end < 0 {
			t.Fatalf("no header section in %q", raw)
		}
		hdr := raw[:end+2]
		// ASCII but for the To address, which may have a UTF-8 local part (RFC 6532).
		ascii := bytes.Replace(hdr, []byte("\r\nTo: "+n.To+"\r\n"), []byte("\r\nTo: x\r\n"), 1)
		if i := bytes.IndexFunc(ascii, func(r rune) bool { return r >= 0x80 || (r < ' ' && r != '\r' && r != '\n') || r == 0x7f }); i >= 0 {
			t.Fatalf("non-ASCII or control octet in the header section at %d: %q", i, ascii)
		}
		if !utf8.Valid(hdr) {
			t.Fatalf("header section not valid UTF-8: %q", hdr)
		}
		// The field names as written, one per line that does not continue a field.
		var names []string
		for _, l := range strings.Split(strings.TrimSuffix(string(hdr), "\r\n"), "\r\n") {
			if l[0] == ' ' || l[0] == '\t' {
				continue
			}
			name, _, ok := strings.Cut(l, ":")
			if !ok {
				t.Fatalf("header line without a colon: %q", l)
			}
			names = append(names, textproto.CanonicalMIMEHeaderKey(name))
		}
		slices.Sort(names)
		if !slices.Equal(names, composedFields) {
			t.Fatalf("header fields %q, want %q", names, composedFields)
		}

		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("ReadMessage: %v", err)
		}
		var keys []string
		for k, vs := range m.Header {
			if len(vs) != 1 {
				t.Errorf("%s %d times", k, len(vs))
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, composedFields) {
			t.Fatalf("net/mail reads fields %q, want %q", keys, composedFields)
		}
		if got := m.Header.Get("To"); got != n.To {
			t.Fatalf("To %q, want %q", got, n.To)
		}
		var dec mime.WordDecoder
		subj, err := dec.DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			t.Fatalf("Subject %q: %v", m.Header.Get("Subject"), err)
		}
		if !utf8.ValidString(subj) || strings.ContainsFunc(subj, isControl) ||
			!strings.HasPrefix(strings.TrimPrefix(subj, "Reminder: "), "Check the recipients of your message") {
			t.Fatalf("Subject decodes to %q", subj)
		}
		if utf8.RuneCountInString(subj) > len("Reminder: Check the recipients of your message \"\"")+MaxSubjectRunes {
			t.Fatalf("Subject %q too long", subj)
		}

		_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		mr := multipart.NewReader(m.Body, params["boundary"])
		parts := 0
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(p)
			if err != nil {
				t.Fatal(err)
			}
			parts++
			if !utf8.Valid(b) {
				t.Errorf("part %d is not valid UTF-8", parts)
			}
			if p.Header.Get("Content-Type") == "text/plain; charset=utf-8" {
				if a := clean(rcpt); a != "" && !strings.Contains(string(b), "* "+a+"\r\n") {
					t.Errorf("held recipient %q not listed in the text part:\n%s", a, b)
				}
				if strings.Contains(string(b), "* "+clean(rcpt+"x")+"\r\n") {
					t.Errorf("allowed recipient listed as held")
				}
			}
		}
		if parts != 2 {
			t.Fatalf("%d parts, want 2", parts)
		}
	})
}
