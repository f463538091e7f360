package smtptext

import (
	"mime"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHeaderValueIsFoldedCleanAndBounded(t *testing.T) {
	const name, max = "X-Rcptguard-Reason", 400
	long := strings.Repeat("bob@armmy.mil: Did you mean army.mil? ", 30)
	for _, tc := range []struct {
		name, in, want string // want: the value unfolded and decoded
	}{
		{"short", "Did you mean army.mil?", "Did you mean army.mil?"},
		{"line breaks", "a\r\nX-Injected: yes\nb\x00c", "a X-Injected: yes b c"},
		{"non-ASCII", "Did you mean bücher.mil? über straße, ok", "Did you mean bücher.mil? über straße, ok"},
		{"long", long, strings.TrimSpace(Clip(long, max))},
	} {
		for _, fold := range []string{"\n ", "\r\n ", ""} {
			got := HeaderValue(name, tc.in, max, fold)
			lines := []string{got}
			if fold != "" {
				lines = strings.Split(got, fold)
			}
			for i, l := range lines {
				width := len(l)
				if i == 0 {
					width += len(name) + 2
				}
				if fold != "" && width > maxLine || strings.ContainsAny(l, "\r\n\x00") {
					t.Errorf("%s: line %q (%d wide)", tc.name, l, width)
				}
			}
			if !IsASCII(got) {
				t.Fatalf("%s: non-ASCII byte in %q", tc.name, got)
			}
			unfolded := got
			if fold != "" {
				unfolded = strings.ReplaceAll(got, fold, " ")
			}
			dec, err := new(mime.WordDecoder).DecodeHeader(unfolded)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if dec != tc.want {
				t.Errorf("%s: HeaderValue = %q, decoded %q, want %q", tc.name, got, dec, tc.want)
			}
		}
	}
}

func TestReplyTextIsASCIIUnlessTheClientSaidSMTPUTF8(t *testing.T) {
	in := "bob@bücher.mil: Did you mean bücher.de?\r\nnext ☃ line"
	if got, want := ReplyText(in, false, 400), "bob@xn--bcher-kva.mil: Did you mean xn--bcher-kva.de?  next ? line"; got != want {
		t.Errorf("ASCII reply = %q, want %q", got, want)
	}
	if got, want := ReplyText(in, true, 400), "bob@bücher.mil: Did you mean bücher.de?  next ☃ line"; got != want {
		t.Errorf("SMTPUTF8 reply = %q, want %q", got, want)
	}
	if got := PolicyText(in, 400); got != ReplyText(in, false, 400) {
		t.Errorf("policy text %q differs from the ASCII reply", got)
	}
	if got := ReplyText(strings.Repeat("ü", 300), false, 50); len(got) > 50 || !IsASCII(got) {
		t.Errorf("long reply = %q (%d bytes)", got, len(got))
	}
}

// FuzzRender: whatever the reason holds, each shape is one line of its character set
// within its bound, and a header value decodes back to the one-line text.
func FuzzRender(f *testing.F) {
	for _, s := range []string{"", "Did you mean army.mil?", "bob@bücher.mil\r\nX: y", "\xff\x00 =?utf-8?q?x?=", "( bücher.mil )"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, utf := range []bool{false, true} {
			r := ReplyText(s, utf, 200)
			if len(r) > 200 || strings.ContainsAny(r, "\r\n\x00") || !utf8.ValidString(r) || !utf && !IsASCII(r) {
				t.Fatalf("ReplyText(%q, %v) = %q", s, utf, r)
			}
		}
		h := HeaderValue("X-Rcptguard-Reason", s, 200, "\r\n ")
		if !IsASCII(h) || strings.Contains(strings.ReplaceAll(h, "\r\n ", ""), "\n") || strings.Contains(strings.ReplaceAll(h, "\r\n ", ""), "\r") {
			t.Fatalf("HeaderValue(%q) = %q", s, h)
		}
		one := HeaderValue("X-Rcptguard-Reason", s, 200, "")
		if strings.ContainsAny(one, "\r\n") {
			t.Fatalf("one-line HeaderValue(%q) = %q", s, one)
		}
	})
}
