package milter

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/quarantine"
)

// build collects two header fields and a body the way a session does, into a content of
// max bytes.
func build(max int64, name1, value1, subject string, body []byte, leadSpace bool) *content {
	c := &content{max: max}
	c.header(name1, value1, leadSpace)
	c.header("Subject", subject, leadSpace)
	c.header("Subject", "second subject, never the one kept", leadSpace)
	c.endHeader()
	c.body(body)
	return c
}

// FuzzContent: whatever header fields and body the MTA sends, the held content has CRLF
// line ends only (no bare CR or LF) in its header section, each field starting a line
// with its name and a colon, then the blank line, then the body bytes exactly; it is
// refused as too large exactly when it is longer than max; and the kept subject is the
// first Subject field's, as one line of printable valid UTF-8, trimmed, at most
// maxSubject bytes, unchanged when it already was plain ASCII text.
func FuzzContent(f *testing.F) {
	f.Add("From", "alice@army.mil", "Quarterly report", []byte("body\r\n"), false)
	f.Add("From", " alice@army.mil", "=?utf-8?q?caf=C3=A9?= plans", []byte("body\r\n.\r\n"), true)
	f.Add("Received", "from a\n\tby b\n\tfor c", "folded\n subject", []byte(""), false)
	f.Add("X-Tab", "\tvalue", "\tleading tab", []byte("\r\n\r\n"), false)
	f.Add("X-Empty", "", "", []byte("no final line end"), false)
	f.Add("subject", "lower-case subject first", "then this", []byte("x\r\n"), false)
	f.Add("X-Crlf", "a\r\n b", "=?iso-8859-1?q?caf=E9?=", []byte("\x00\xff"), false)
	f.Add("X-Long", strings.Repeat("x", 2000), strings.Repeat("ä", 700), bytes.Repeat([]byte("y"), 3000), false)
	f.Add("X-Enc", "v", "=?utf-8?q?a=0Ab=09c=7F?=", []byte("b"), false)
	f.Add("X-Enc", "v", "=?windows-1252?q?=80=93?= =?shift_jis?b?gqA=?=", []byte("b"), true)
	f.Add("X", "v", "\xff\xfe bad utf8 \x01", []byte("b"), false)
	f.Fuzz(func(t *testing.T, name1, value1, subject string, body []byte, leadSpace bool) {
		// The milter protocol ends names and values with NUL: they cannot hold one.
		if strings.ContainsRune(name1+value1+subject, 0) {
			t.Skip()
		}
		c := build(1<<30, name1, value1, subject, body, leadSpace)
		r, err := c.raw()
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(r)
		i := bytes.Index(raw, []byte("\r\n\r\n"))
		if i < 0 {
			t.Fatalf("no blank line in %q", raw)
		}
		hdr := raw[:i+2]
		if bare := bytes.ReplaceAll(hdr, []byte("\r\n"), nil); bytes.ContainsAny(bare, "\r\n") {
			t.Fatalf("bare CR or LF in the header section %q", hdr)
		}
		if got := raw[i+4:]; !bytes.Equal(got, body) {
			t.Fatalf("body %q, want %q (raw %q)", got, body, raw)
		}
		// Each field starts a line with its name, when the name is one (RFC 5322 ftext:
		// printable ASCII but the colon) and the values are folded (every line break
		// followed by white space): the MTA sends no other.
		ftext := (name1 == "" || !strings.ContainsFunc(name1, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == ':' })) &&
			folded(value1) && folded(subject)
		lines := strings.Split(string(hdr), "\r\n")
		var starts []string
		for _, l := range lines {
			if l != "" && l[0] != ' ' && l[0] != '\t' {
				starts = append(starts, l)
			}
		}
		want := []string{"Subject:", "Subject:"}
		if name1 != "" {
			want = append([]string{name1 + ":"}, want...)
		}
		if ftext && len(starts) != len(want) {
			t.Fatalf("%d field lines, want %d: %q", len(starts), len(want), hdr)
		}
		for k, w := range want {
			if ftext && !strings.HasPrefix(starts[k], w) {
				t.Fatalf("field %d is %q, want it to start with %q", k, starts[k], w)
			}
		}

		// The limit: the same content fits in exactly its size, not in one byte less.
		if _, err := build(int64(len(raw)), name1, value1, subject, body, leadSpace).raw(); err != nil {
			t.Fatalf("%d bytes refused with max %d: %v", len(raw), len(raw), err)
		}
		small := build(int64(len(raw)-1), name1, value1, subject, body, leadSpace)
		if _, err := small.raw(); !errors.Is(err, quarantine.ErrTooLarge) {
			t.Fatalf("%d bytes with max %d: err %v, want ErrTooLarge", len(raw), len(raw)-1, err)
		}

		first := subject
		if strings.EqualFold(name1, "Subject") {
			first = value1
		}
		s := c.subjectText()
		if len(s) > maxSubject {
			t.Fatalf("subject of %d bytes, more than %d", len(s), maxSubject)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("subject %q is not valid UTF-8", s)
		}
		if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
			t.Fatalf("control character in subject %q", s)
		}
		if s != strings.TrimSpace(s) {
			t.Fatalf("subject %q not trimmed", s)
		}
		plain := len(first) <= maxSubject && first == strings.TrimSpace(first) && !strings.Contains(first, "=?") &&
			!strings.ContainsFunc(first, func(r rune) bool { return r < ' ' || r >= 0x7f })
		if plain && s != first {
			t.Fatalf("subjectText = %q, want %q", s, first)
		}
	})
}

// folded reports whether every line break in v is followed by a space or a tab.
func folded(v string) bool {
	v = strings.ReplaceAll(v, "\r\n", "\n")
	for i := 0; i < len(v); i++ {
		if (v[i] == '\n' || v[i] == '\r') && (i+1 == len(v) || (v[i+1] != ' ' && v[i+1] != '\t')) {
			return false
		}
	}
	return true
}
