package smtptext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOneLineLeavesNoLineBreakOrControl(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":      "plain text",
		"two\r\nlines":    "two  lines",
		"tab\there":       "tab here",
		"bad \xff utf8":   "bad   utf8",
		"del\x7f":         "del ",
		"Did you mean ü?": "Did you mean ü?",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClipCutsOnACharacterBoundary(t *testing.T) {
	s := strings.Repeat("ä", 10) // 20 bytes
	got := Clip(s, 10)
	if len(got) > 10 || !utf8.ValidString(got) || !strings.HasSuffix(got, "...") {
		t.Fatalf("Clip = %q", got)
	}
	if Clip("short", 10) != "short" {
		t.Fatal("a short string was cut")
	}
	if Clip("abcdef", 2) != "..." {
		t.Fatalf("tiny limit: %q", Clip("abcdef", 2))
	}
}

func TestIsASCII(t *testing.T) {
	if !IsASCII("army.mil") || IsASCII("gmаil.com") {
		t.Fatal("IsASCII")
	}
}
