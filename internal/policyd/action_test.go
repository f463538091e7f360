package policyd

import (
	"mime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rcptguard/rcptguard/internal/guard"
	"github.com/rcptguard/rcptguard/internal/smtptext"
)

func TestActionsAreOneShortLine(t *testing.T) {
	nasty := "Did you mean army.mil?\r\nX-Injected: yes\x00\x7f\xff " + strings.Repeat("é", 400)
	for _, a := range []string{
		rcptAction(guard.Reject, nasty), rcptAction(guard.Invalid, nasty), rcptAction(guard.Warn, nasty),
		eomAction(guard.Hold, nasty, ""), eomAction(guard.Reject, nasty, ""),
	} {
		if strings.ContainsAny(a, "\r\n\x00\x7f") || !smtptext.IsASCII(a) || len(a) > 520 {
			t.Errorf("action %q (%d bytes) is not one short line", a, len(a))
		}
	}
}

func TestReplyTextIsASCII(t *testing.T) {
	a := eomAction(guard.Hold, `x@xn--gmil-63d.com: Did you mean gmail.com? "gmаil" uses a Cyrillic "а".`, "")
	want := `550 5.7.1 x@xn--gmil-63d.com: Did you mean gmail.com? "gm?il" uses a Cyrillic "?". Please check the recipients and send again.`
	if a != want {
		t.Fatalf("got  %q\nwant %q", a, want)
	}
}

func TestHoldReplyKeepsItsAdviceWhenTheReasonIsLong(t *testing.T) {
	a := eomAction(guard.Hold, strings.Repeat("bob@army.ml: Did you mean army.mil? ", 30), "")
	if !strings.HasPrefix(a, "550 5.7.1 bob@army.ml") || !strings.HasSuffix(a, "... Please check the recipients and send again.") {
		t.Fatalf("%q", a)
	}
}

func TestActionsForVerdicts(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{rcptAction(guard.Allow, "x"), "DUNNO"},
		{rcptAction(guard.Hold, "x"), "DUNNO"},
		{rcptAction(guard.Warn, "Why."), "PREPEND X-Rcptguard-Verdict: warn; Why."},
		{rcptAction(guard.Reject, "Why."), "550 5.7.1 Why."},
		{rcptAction(guard.Invalid, "Why."), "553 5.1.3 Why."},
		{eomAction(guard.Allow, "x", ""), "DUNNO"},
		{eomAction(guard.Warn, "x", ""), "DUNNO"},
		{eomAction(guard.Hold, "Why.", ""), "550 5.7.1 Why. Please check the recipients and send again."},
		{replyAction(guard.TempFail), "451 4.3.0 rcptguard cannot check this message now; please try again later"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestWarnHeaderEncodesNonASCII(t *testing.T) {
	a := warnAction(`Did you mean army.mil? "аrmy" uses a Cyrillic "а".`)
	value, ok := strings.CutPrefix(a, "PREPEND X-Rcptguard-Verdict: warn; ")
	if !ok || strings.ContainsFunc(value, func(r rune) bool { return r >= utf8.RuneSelf }) {
		t.Fatalf("%q", a)
	}
	dec, err := new(mime.WordDecoder).DecodeHeader(value)
	if err != nil || !strings.Contains(dec, `"аrmy" uses a Cyrillic`) {
		t.Fatalf("decoded %q, %v", dec, err)
	}
}

func TestHeldMessageGoesToTheFilter(t *testing.T) {
	const f = "smtp:[127.0.0.1]:10026"
	tests := []struct {
		got, want string
	}{
		{eomAction(guard.Hold, "Why.", f), "FILTER smtp:[127.0.0.1]:10026"},
		{eomAction(guard.Allow, "x", f), "DUNNO"},
		{eomAction(guard.Warn, "x", f), "DUNNO"},
		{eomAction(guard.Reject, "Why.", f), "550 5.7.1 Why."},
		{eomAction(guard.Invalid, "Why.", f), "553 5.1.3 Why."},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestValidFilter(t *testing.T) {
	for _, ok := range []string{"smtp:[127.0.0.1]:10026", "rcptguard:[127.0.0.1]:10026", "lmtp:unix:/run/x", "smtp-intake:host.example"} {
		if err := ValidFilter(ok); err != nil {
			t.Errorf("ValidFilter(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "smtp", ":[127.0.0.1]:10026", "smtp:", "smtp :[127.0.0.1]", "smtp:[127.0.0.1]:10026 x",
		"smtp:[127.0.0.1]\n", "smtp:a\x00", "smt/p:x", "smtp:é", "smtp:" + strings.Repeat("a", 300)} {
		if err := ValidFilter(bad); err == nil {
			t.Errorf("ValidFilter(%q) = nil, want an error", bad)
		}
	}
}
