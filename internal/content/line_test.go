package content

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/rcptguard/rcptguard/internal/confusables"
)

// refLine is what newLine must agree with, computed the plain way: lower case,
// lineHints on it, and each flag from its definition.
func refLine(l string) (digits int, hints hint, flags lineFlag) {
	lower := strings.ToLower(l)
	hints = lineHints(lower)
	digits = countDigits(l)
	set := func(f lineFlag, ok bool) {
		if ok {
			flags |= f
		}
	}
	set(flagBlank, strings.TrimSpace(l) == "")
	set(flagColonEq, strings.ContainsAny(l, ":="))
	set(flagDash, strings.Contains(l, "-"))
	set(flagAt, strings.Contains(l, "@"))
	set(flagSlashes, strings.Contains(l, "//"))
	upper, pair := false, false
	for i := 0; i < len(l); i++ {
		if isUpper(l[i]) {
			upper = true
			if i > 0 && isUpper(l[i-1]) {
				pair = true
			}
		}
	}
	set(flagUpper, upper)
	set(flagUpperPair, pair)
	token := strings.Contains(l, "_")
	confirm := false
	for i := 0; i < len(l); i++ {
		if isWordByte(l[i]) && (i == 0 || !isWordByte(l[i-1])) {
			w := l[i:]
			token = token || strings.HasPrefix(w, "AKIA") || strings.HasPrefix(w, "AIza") ||
				strings.HasPrefix(w, "xox") || strings.HasPrefix(w, "eyJ")
			confirm = confirm || strings.HasPrefix(strings.ToLower(w), "conf")
		}
	}
	set(flagToken, token)
	set(flagConfirm, confirm)
	return digits, hints, flags
}

// TestNewLineAgrees holds the one-pass analysis of ASCII lines to the plain
// one on random lines made of hint words, their prefixes and other words in
// any case, digits, and the bytes the flags look for; a line past ASCII takes
// the plain way and has every flag (the matchers' expressions then decide).
func TestNewLineAgrees(t *testing.T) {
	var words []string
	for w := range hintTable {
		if confusables.IsASCII(w) {
			words = append(words, w, strings.ToUpper(w), w[:len(w)/2+1])
		}
	}
	words = append(words, "password", "Passwort", "DOB", "conf", "Confirmation", "reconfirm", "AKIAIOSFODNN7EXAMPLE",
		"AIzaSy", "xoxb-1", "eyJhbGciOi", "ghp_x", "BA117", "IBAN", "DE89", "meeting", "ct", "mg", "CT", "Mg", "a", "")
	seps := []string{" ", "  ", "\t", ":", "=", "-", "--", "@", "/", "//", ".", ",", "(", ")", "[", "]", "'", "\"", "_", "0", "42", "4111 1111"}
	rnd := rand.New(rand.NewSource(7))
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		for k := rnd.Intn(12); k >= 0; k-- {
			if rnd.Intn(2) == 0 {
				b.WriteString(words[rnd.Intn(len(words))])
			}
			b.WriteString(seps[rnd.Intn(len(seps))])
		}
		l := b.String()
		got := newLine(l)
		digits, hints, flags := refLine(l)
		if got.digits != digits || got.hints != hints || got.flags != flags {
			t.Fatalf("%q: got digits %d hints %b flags %b, want %d %b %b", l, got.digits, got.hints, got.flags, digits, hints, flags)
		}
		if got.lower() != strings.ToLower(l) {
			t.Fatalf("%q: lower %q", l, got.lower())
		}
	}
	for _, l := range []string{"Mot de passe : été", "Geburtsdatum: 1.2.1980 — née", "\u00a0", "ＰＡＳＳ：x"} {
		got := newLine(l)
		digits, hints, _ := refLine(l)
		if got.digits != digits || got.hints != hints || got.flags&anyFlags != anyFlags {
			t.Errorf("%q: got digits %d hints %b flags %b, want %d %b and every flag", l, got.digits, got.hints, got.flags, digits, hints)
		}
	}
	for l, blank := range map[string]bool{" \t ": true, " x ": false, "\u3000é": false, "\u00a0 ": true, "": true} {
		if ln := newLine(l); ln.is(flagBlank) != blank {
			t.Errorf("%q: blank %v", l, !blank)
		}
	}
}

// TestBannerStartsNeverRejectsABanner: the first look at a line lets through
// every line bannerLine takes, built-in and configured markings, with and
// without brackets, and stops ordinary sentences.
func TestBannerStartsNeverRejectsABanner(t *testing.T) {
	custom := []string{"INTERNAL ONLY", "Acme Restricted", "X"}
	bs := newBannerStarts(defaultMarkings, custom)
	for _, list := range [][]string{defaultMarkings, custom} {
		for _, m := range list {
			for _, l := range []string{m, m + "//NOFORN", "[" + m + "] plans", m + " - DO NOT FORWARD", "[" + m + "]"} {
				tr := trimMarking(l)
				if bannerLine(tr, list) && !bs.may(tr) {
					t.Errorf("%q: bannerLine takes it, bannerStarts does not", l)
				}
			}
		}
	}
	for _, l := range []string{"The meeting is at noon", "Thanks", "see you", "[link] here"} {
		if newBannerStarts(defaultMarkings).may(trimMarking(l)) {
			t.Errorf("%q: let through", l)
		}
	}
	if got := trimMarking("  ** SECRET ** "); got != "SECRET" {
		t.Errorf("trimMarking: %q", got)
	}
}

// FuzzNewLine: on any line of ASCII, the one-pass analysis is the plain one (refLine);
// past ASCII it has the plain digits and hints and every flag.
func FuzzNewLine(f *testing.F) {
	for _, s := range []string{"Password: x7!kQ", "SSN 536-22-1234", "ghp_abc AKIAIOSFODNN7EXAMPLE", "SECRET//NOFORN",
		"Confirmation no. 12345", "e-mail,name", "Geburtsdatum: 1.2.1980", "  \t", "CT MRI mg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, l string) {
		got := newLine(l)
		digits, hints, flags := refLine(l)
		if !confusables.IsASCII(l) {
			flags = flags&flagBlank | anyFlags
		}
		if got.digits != digits || got.hints != hints || got.flags != flags {
			t.Fatalf("%q: got digits %d hints %b flags %b, want %d %b %b", l, got.digits, got.hints, got.flags, digits, hints, flags)
		}
	})
}

// TestFlagsOnlySkipWork: classifying with every flag set on every line (slowLine, as a
// line past ASCII is) finds exactly what the flags of the one-pass analysis let the
// matchers find, on random messages made of the pieces each matcher looks for, in any
// order and case, across lines (the proximity windows).
func TestFlagsOnlySkipWork(t *testing.T) {
	pieces := []string{"Password:", "password", "pin", "PIN =", "=", ":", "x7!kQ2", "1234", "Tr0ub4dor&3", "BA 117", "LH400",
		"12 Mar 2025", "14/03/2025", "2025-03-14", "DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32", "4111 1111 1111 1111",
		"4111-1111-1111-1112", "536-22-1234", "536 22 1234", "SSN", "social security", "Date of birth", "DOB", "born on",
		"passport", "Passport No", "X1234567", "SECRET//NOFORN", "(S//NF)", "(C)", "(S) The", "CONFIDENTIAL", "[SECRET]",
		"TOP SECRET", "booking reference", "PNR", "XKJ4QL", "hotel", "check-in", "Confirmation number:", "12345678",
		"Diagnosis:", "E11.9", "ICD-10", "insulin", "patient", "biopsy", "MRI", "name,email", "first name;last name",
		"a@b.example", "ann.lee@contoso.com", "AKIAIOSFODNN7EXAMPLE", "ghp_" + strings.Repeat("a1B2", 9),
		"xoxb-1234567890-abcdef", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
		"-----BEGIN RSA PRIVATE KEY-----", "the", "Meeting", "budget", "Q3", "EUR 1,440.00", "+44 20 7946 0958",
		"reconfirmation", "conference", "mot de passe", "née le", "Geburtsdatum", "-", "--", "//", ",", ";", "\t", "  "}
	fast := classifier(t, Config{})
	rnd := rand.New(rand.NewSource(11))
	for n := 0; n < 3000; n++ {
		var b strings.Builder
		for l := rnd.Intn(8); l >= 0; l-- {
			for k := rnd.Intn(6); k >= 0; k-- {
				p := pieces[rnd.Intn(len(pieces))]
				switch rnd.Intn(5) {
				case 0:
					p = strings.ToUpper(p)
				case 1:
					p = strings.ToLower(p)
				}
				b.WriteString(p)
				b.WriteString([]string{" ", " ", "", ": ", ", "}[rnd.Intn(5)])
			}
			b.WriteString("\n")
		}
		text := b.String()
		analyse = newLine
		want := body(t, fast, text)
		analyse = slowLine
		got := body(t, fast, text)
		analyse = newLine
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nevery flag set: %+v\none pass:       %+v", text, got, want)
		}
	}
}
