package milter

import (
	"mime"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/smtptext"
)

func TestHeaderValueIsFoldedCleanAndBounded(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("bob@armmy.mil: Did you mean army.mil? ", 30)
	for _, tc := range []struct {
		name, in, want string // want: the value unfolded and decoded
	}{
		{"short", "Did you mean army.mil?", "Did you mean army.mil?"},
		{"line breaks", "a\r\nX-Injected: yes\nb\x00c", "a X-Injected: yes b c"},
		{"non-ASCII", "Did you mean bücher.mil? über straße, ok", "Did you mean bücher.mil? über straße, ok"},
		{"long", long, strings.TrimSpace(smtptext.Clip(long, maxReason))},
	} {
		got := headerValue(ReasonHeader, tc.in)
		lines := strings.Split(got, "\n")
		for i, l := range lines {
			width := len(l)
			if i == 0 {
				width += len(ReasonHeader) + 2
			} else if !strings.HasPrefix(l, " ") {
				t.Errorf("%s: continuation line %q does not start with a space", tc.name, l)
			}
			if width > maxLine || strings.ContainsAny(l, "\r\x00") {
				t.Errorf("%s: line %q (%d wide)", tc.name, l, width)
			}
		}
		for i := 0; i < len(got); i++ {
			if got[i] >= 0x80 {
				t.Fatalf("%s: non-ASCII byte in %q", tc.name, got)
			}
		}
		dec, err := new(mime.WordDecoder).DecodeHeader(strings.ReplaceAll(got, "\n ", " "))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if dec != tc.want {
			t.Errorf("%s: headerValue = %q, decoded %q, want %q", tc.name, got, dec, tc.want)
		}
	}
}

func TestLongHoldReplyKeepsItsRequest(t *testing.T) {
	t.Parallel()
	r := replyFor(guard.Hold, strings.Repeat("bob@army.ml: Did you mean army.mil? ", 100))
	if len(r.Text) > maxText || !strings.HasSuffix(r.Text, "... Please check the recipients and send again.") {
		t.Fatalf("reply text (%d bytes) = %q", len(r.Text), r.Text)
	}
}

func TestClipKeepsCharacters(t *testing.T) {
	t.Parallel()
	if got := smtptext.Clip("ab€cd", 6); got != "ab..." {
		t.Errorf("clip = %q", got)
	}
	if got := smtptext.Clip("abc", 3); got != "abc" {
		t.Errorf("clip = %q", got)
	}
}
