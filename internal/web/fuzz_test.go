package web

import (
	"bytes"
	"mime"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/smtptext"
)

// Seeds shared by the raw-message targets: real shapes of held messages and the edge
// cases of their parsers.
var rawSeeds = []string{
	"",
	"X: y\r\n\r\n",
	"X: y\r\n\n\nbody",
	"Subject: plain\r\n\r\nbody\r\n",
	"Subject: lf only\n\nbody\n",
	"Subject: x\r\n\nbody",
	"Subject: x\r\n folded\r\n\tagain\r\n\r\nbody\r\n\r\nmore body\r\n",
	"Subject: no end",
	"Subject: \xff\xfe bad utf8\r\n\r\n\xff body",
	"Subject: caf\xc3\r\n\r\n",
	"X: \x00nul\r\n\r\n\x00",
	"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhi\r\n" +
		"--B\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\n\r\nPDF\r\n" +
		"--B\r\nContent-Type: image/png\r\nContent-Disposition: inline; filename*=utf-8''caf%C3%A9.png\r\n\r\nPNG\r\n--B--\r\n",
	"Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: multipart/alternative; boundary=\"C\"\r\n\r\n" +
		"--C\r\nContent-Type: text/plain; name==?utf-8?q?r=C3=A9sum=C3=A9.txt?=\r\n\r\nx\r\n--C--\r\n--B--\r\n",
	"Content-Type: application/octet-stream; name=\"=?utf-8?q?a=0Ab?=\"\r\n\r\nx",
	"Content-Type: application/octet-stream; name*=utf-8''%C3%A9%0A\r\n\r\nx",
	"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"caf\xc3\xa9\x01\"\r\n\r\nx",
	"Content-Type: multipart/mixed; boundary=B\r\n\r\n" + strings.Repeat("--B\r\nContent-Disposition: attachment; filename=f\r\n\r\nx\r\n", 60) + "--B--\r\n",
	nested(8),
}

// nested is a message of depth multipart parts, one inside the other, each with a named
// part of its own.
func nested(depth int) string {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n")
	for i := range depth {
		b.WriteString("--b" + strconv.Itoa(i) + "\r\nContent-Disposition: attachment; filename=d" + strconv.Itoa(i) + "\r\n\r\nx\r\n")
		b.WriteString("--b" + strconv.Itoa(i) + "\r\nContent-Type: multipart/mixed; boundary=\"b" + strconv.Itoa(i+1) + "\"\r\n\r\n")
	}
	for i := depth; i >= 0; i-- {
		b.WriteString("--b" + strconv.Itoa(i) + "--\r\n")
	}
	return b.String()
}

// FuzzAttachmentNames: for any raw message, attachmentNames does not panic and returns at
// most maxAttachments names, each non-empty valid UTF-8 (what the pages need to show it
// as text). It promises no more cleaning than that: html/template escapes the rest.
func FuzzAttachmentNames(f *testing.F) {
	for _, s := range rawSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		names := attachmentNames(raw)
		if len(names) > maxAttachments {
			t.Fatalf("%d names, more than %d", len(names), maxAttachments)
		}
		for _, n := range names {
			if n == "" {
				t.Errorf("empty name in %q", names)
			}
			if !utf8.ValidString(n) {
				t.Errorf("name %q is not valid UTF-8", n)
			}
		}
	})
}

// FuzzAttachmentNamesRoundTrip: a name written the standard way (mime.FormatMediaType,
// which uses RFC 2231 for non-ASCII) in a Content-Disposition of a multipart/mixed part
// comes back exactly, once, in order, next to a part without one.
func FuzzAttachmentNamesRoundTrip(f *testing.F) {
	f.Add("report.pdf", "résumé 2026.docx", false)
	f.Add("a b", "x;y\"z", true)
	f.Add("日本語.txt", "~!#$%&'*+-.^_`|", true)
	f.Add("back\\slash", "percent%20", false)
	f.Fuzz(func(t *testing.T, a, b string, inName bool) {
		for _, n := range []string{a, b} {
			// Names the standard encoding cannot carry faithfully, that the decoder
			// reads as RFC 2047 on purpose, or that the page shows trimmed (blank
			// ones as unnamed attachments) or clipped, are out of scope here.
			// The page's cleaning (smtptext.HeaderText) decides what is shown: a name it
			// changes (control characters, C1 ones too, blanks at the ends) is out of scope.
			if n == "" || !utf8.ValidString(n) || strings.Contains(n, "=?") || strings.TrimSpace(n) != n ||
				len(n) > maxAttachmentName || smtptext.HeaderText(n, maxAttachmentName) != n {
				t.Skip()
			}
		}
		da := mime.FormatMediaType("attachment", map[string]string{"filename": a})
		cb := mime.FormatMediaType("application/octet-stream", map[string]string{"name": b})
		if da == "" || cb == "" {
			t.Skip() // FormatMediaType refuses it
		}
		var msg bytes.Buffer
		msg.WriteString("From: a@b.test\r\nContent-Type: multipart/mixed; boundary=\"=_B\"\r\n\r\npreamble\r\n")
		msg.WriteString("--=_B\r\nContent-Type: text/plain\r\n\r\nno name here\r\n")
		msg.WriteString("--=_B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: " + da + "\r\n\r\nA\r\n")
		if inName {
			msg.WriteString("--=_B\r\nContent-Type: " + cb + "\r\n\r\nB\r\n")
		} else {
			db := mime.FormatMediaType("inline", map[string]string{"filename": b})
			msg.WriteString("--=_B\r\nContent-Type: image/png\r\nContent-Disposition: " + db + "\r\n\r\nB\r\n")
		}
		msg.WriteString("--=_B--\r\nepilogue\r\n")
		got := attachmentNames(msg.Bytes())
		if len(got) != 2 || got[0] != a || got[1] != b {
			t.Fatalf("attachmentNames = %q, want %q\n%s", got, []string{a, b}, msg.Bytes())
		}
	})
}

// headerEnd returns where the header section of raw ends and where its body starts, the
// way net/mail (net/textproto) reads it: the header ends at the first empty line, a line
// ending in LF that is empty once one CR before the LF is dropped. Without an empty line
// the whole of raw is header.
func headerEnd(raw []byte) (end, body int) {
	for start := 0; start < len(raw); {
		i := bytes.IndexByte(raw[start:], '\n')
		if i < 0 {
			break
		}
		line := raw[start : start+i]
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			return start, start + i + 1
		}
		start += i + 1
	}
	return len(raw), len(raw)
}

// FuzzHeaderSection: the admin page's header view of any raw content is valid UTF-8 with
// LF line ends, shows at most maxHeaderBytes of the raw content (each U+FFFD standing
// for at least one raw byte), nothing after the first empty line (the body), says truncated exactly when the header section is longer than
// maxHeaderBytes, and does not change when the body does.
func FuzzHeaderSection(f *testing.F) {
	for _, s := range rawSeeds {
		f.Add([]byte(s))
	}
	long := "X-Long: " + strings.Repeat("a", maxHeaderBytes) + "\r\n\r\nbody"
	f.Add([]byte(long))
	f.Add([]byte(strings.Repeat("\xff", maxHeaderBytes+10)))
	f.Add([]byte(strings.Repeat("X: \xe2\x82\r\n", maxHeaderBytes/5) + "\r\nbody"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, truncated := headerSection(raw)
		if !utf8.ValidString(got) {
			t.Fatalf("not valid UTF-8: %q", got)
		}
		if strings.Contains(got, "\r\n") && !bytes.Contains(raw, []byte("\r\r")) {
			// (CR CR LF is a bare CR before a CRLF: the CR stays, before the LF.)
			t.Fatalf("CRLF left in %q", got)
		}
		shown := len(strings.ReplaceAll(got, "\uFFFD", "?"))
		if shown > maxHeaderBytes {
			t.Fatalf("shows %d raw bytes, more than %d", shown, maxHeaderBytes)
		}
		end, body := headerEnd(raw)
		if shown > body {
			t.Fatalf("shows %d bytes of %q, whose body starts at byte %d: %q", shown, raw, body, got)
		}
		if truncated != (end > maxHeaderBytes) {
			t.Fatalf("truncated = %v for a %d-byte header section", truncated, end)
		}
		if body < len(raw) || end < len(raw) {
			other := append(bytes.Clone(raw[:body]), "\x00other body\r\n\r\n"...)
			if g2, t2 := headerSection(other); g2 != got || t2 != truncated {
				t.Fatalf("the body changed the header view of %q: %q, then %q", raw, got, g2)
			}
		}
		if end == len(raw) && end <= maxHeaderBytes && utf8.Valid(raw) {
			// All header, short and valid: shown whole, CRLF as LF.
			if want := strings.ReplaceAll(string(raw), "\r\n", "\n"); got != want {
				t.Fatalf("headerSection(%q) = %q, want %q", raw, got, want)
			}
		}
	})
}
