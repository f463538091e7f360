package held

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSubjectOf: for any message a client sends, the subject kept with the held message
// is one line of valid UTF-8 without control characters, trimmed; it comes only from the
// header section (a Subject in the body is never it); and a plain ASCII subject comes
// back unchanged.
func FuzzSubjectOf(f *testing.F) {
	for _, s := range []string{
		"",
		"Subject: plain\r\n\r\nbody",
		"From: a\r\nsubject:  folded\r\n  line\r\nTo: b\r\n\r\n",
		"Subject: =?iso-8859-1?q?caf=E9?=\n\nSubject: body",
		"Subject: =?x-unknown?q?abc?=\r\n\r\n",
		"From: a\r\n\r\nSubject: in body\r\n",
		"Subject: no end",
		"Subject: first\r\nSubject: second\r\n\r\n",
		" continuation first\r\nSubject: x\r\n\r\n",
		"Subject: =?utf-8?b?w6k=?= =?utf-8?q?_and_more?=\r\n\r\n",
		"SUBJECT:\r\n\tonly folded\r\n\r\n",
		"Subject: x\r\n\r\r\nnot a blank line\r\n",
		"Subject: " + strings.Repeat("long ", 300) + "\r\n\r\n",
	} {
		f.Add([]byte(s), "")
	}
	f.Add([]byte("From: a\r\n\r\n"), "plain ASCII subject")
	f.Add([]byte("X: y\n\n"), "Re: [list] 100% done; (ok) <yes>")
	f.Fuzz(func(t *testing.T, raw []byte, plain string) {
		s := subjectOf(raw)
		if !utf8.ValidString(s) {
			t.Fatalf("subjectOf(%q) = %q: not valid UTF-8", raw, s)
		}
		if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
			t.Fatalf("subjectOf(%q) = %q: control character", raw, s)
		}
		if s != strings.TrimSpace(s) {
			t.Fatalf("subjectOf(%q) = %q: not trimmed", raw, s)
		}

		// Whatever follows the blank line is body: no subject there.
		if got := subjectOf(append([]byte("From: a@b.test\r\n\r\n"), raw...)); got != "" {
			t.Fatalf("Subject %q found in the body %q", got, raw)
		}

		// A plain ASCII subject comes back as it was.
		if plain != "" && len(plain) <= maxSubject && plain == strings.TrimSpace(plain) && !strings.Contains(plain, "=?") &&
			!strings.ContainsFunc(plain, func(r rune) bool { return r < ' ' || r >= 0x7f }) {
			msg := "From: a@b.test\r\nSubject: " + plain + "\r\nTo: c@d.test\r\n\r\nSubject: body\r\n"
			if got := subjectOf([]byte(msg)); got != plain {
				t.Fatalf("subjectOf(%q) = %q, want %q", msg, got, plain)
			}
		}
	})
}

func TestSubjectOf(t *testing.T) {
	tests := []struct{ msg, want string }{
		{"Subject: plain\r\n\r\nbody", "plain"},
		{"From: a\r\nsubject:  folded\r\n  line\r\nTo: b\r\n\r\n", "folded  line"},
		{"Subject: =?iso-8859-1?q?caf=E9?=\n\nSubject: body", "café"},
		{"Subject: =?x-unknown?q?abc?=\r\n\r\n", "=?x-unknown?q?abc?="},
		{"From: a\r\n\r\nSubject: in body\r\n", ""},
		{"", ""},
		{"Subject: no end", "no end"},
	}
	for _, tc := range tests {
		if got := subjectOf([]byte(tc.msg)); got != tc.want {
			t.Errorf("subjectOf(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}
