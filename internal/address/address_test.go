package address

import (
	"errors"
	"strings"
	"testing"
)

// TestParseAddressForms: addresses as people and MTAs write them.
func TestParseAddressForms(t *testing.T) {
	local64 := strings.Repeat("a", 64)
	tests := []struct {
		in, local, domain string
	}{
		{"alice@army.ml", "alice", "army.ml"},
		{"ALICE@ARMY.ML", "ALICE", "army.ml"}, // the local part is kept as written
		{"  alice@army.ml\t", "alice", "army.ml"},
		{"alice@army.mil.", "alice", "army.mil"},
		{"alice@ａｒｍｙ。ｍｉｌ", "alice", "army.mil"},
		{"alice@gmаil.com", "alice", "xn--gmil-63d.com"},
		{"alice@xn--gmil-63d.com", "alice", "xn--gmil-63d.com"},
		{"jöran@bücher.de", "jöran", "xn--bcher-kva.de"},
		{"a.b.c@x.com", "a.b.c", "x.com"},
		{"!#$%&'*+-/=?^_`{|}~@x.com", "!#$%&'*+-/=?^_`{|}~", "x.com"},
		{local64 + "@x.com", local64, "x.com"},
		// Angle brackets and display names.
		{"<alice@army.ml>", "alice", "army.ml"},
		{" < alice@army.ml > ", "alice", "army.ml"},
		{"Alice Smith <alice@army.ml>", "alice", "army.ml"},
		{`"Smith, Alice" <alice@army.ml>`, "alice", "army.ml"},
		{`"Smith <x@evil.example>" <alice@army.ml>`, "alice", "army.ml"},
		{`"Smith \"<x@evil.example>\"" <alice@army.ml>`, "alice", "army.ml"},
		{`"bob@other.example" <alice@army.ml>`, "alice", "army.ml"},
		{`"a, b (c) <d>" <alice@army.ml>`, "alice", "army.ml"},
		// Comments around an angle address.
		{"Alice (comment) <alice@army.mil>", "alice", "army.mil"},
		{"Alice (x <y@z.example>) <alice@army.mil>", "alice", "army.mil"},
		{"Alice <alice@army.mil> (comment)", "alice", "army.mil"},
		{"Alice <alice@army.mil> (a (nested) comment)", "alice", "army.mil"},
		// Quoted local parts, with @, < and > and escaped quotes inside.
		{`"john doe"@example.com`, `"john doe"`, "example.com"},
		{`<"john doe"@example.com>`, `"john doe"`, "example.com"},
		{`"a@b"@x.com`, `"a@b"`, "x.com"},
		{`"a@b@c"@x.com`, `"a@b@c"`, "x.com"},
		{`"a\"@b"@x.com`, `"a\"@b"`, "x.com"},
		{`<"a>b"@x.com>`, `"a>b"`, "x.com"},
		{`Alice <"a<b"@x.com>`, `"a<b"`, "x.com"},
		{`""@x.com`, `""`, "x.com"},
		// Source routes (RFC 5321 4.1.2) are dropped.
		{"<@a.example,@b.example:u@h.example>", "u", "h.example"},
		{"<@relay.example:alice@army.mil>", "alice", "army.mil"},
		{"@a.example,@b.example:u@h.example", "u", "h.example"},
	}
	for _, tt := range tests {
		a, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if a.Local != tt.local || a.Domain.ASCII != tt.domain || a.IsDomain() {
			t.Errorf("Parse(%q) = local %q domain %q (IsDomain %v), want %q %q", tt.in, a.Local, a.Domain.ASCII, a.IsDomain(), tt.local, tt.domain)
		}
		if want := tt.local + "@" + tt.domain; a.String() != want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, a.String(), want)
		}
		if d, _ := ParseDomain(tt.domain); a.Domain != d {
			t.Errorf("Parse(%q).Domain = %+v, want %+v", tt.in, a.Domain, d)
		}
	}
}

func TestParseBareDomain(t *testing.T) {
	for in, want := range map[string]string{
		"army.ml": "army.ml", "ARMY.ML.": "army.ml", " army.ml ": "army.ml", "<army.ml>": "", "ａｒｍｙ。ｍｌ": "army.ml",
		"gmаil.com": "xn--gmil-63d.com", "us.ibm.com": "us.ibm.com",
	} {
		a, err := Parse(in)
		if want == "" {
			// In angle brackets a mailbox is required.
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no @") {
				t.Errorf("Parse(%q) = %+v, %v; want an error saying there is no @", in, a, err)
			}
			continue
		}
		if err != nil || !a.IsDomain() || a.Domain.ASCII != want || a.String() != want {
			t.Errorf("Parse(%q) = %+v (IsDomain %v), %v; want bare domain %q", in, a, a.IsDomain(), err, want)
		}
	}
}

// TestParseAddressErrorsNameTheProblem: every error wraps ErrInvalid and says what is wrong.
func TestParseAddressErrorsNameTheProblem(t *testing.T) {
	tests := []struct {
		in   string
		want []string // substrings of the lower-cased message
	}{
		{"", []string{"empty"}},
		{"   ", []string{"empty"}},
		{"<>", []string{"empty address"}},
		{"alice@", []string{"no domain after @"}},
		{"<alice@>", []string{"no domain after @"}},
		{"Alice <alice@>", []string{"no domain after @"}},
		{"@army.mil", []string{"empty local part"}},
		{"<@army.mil>", []string{"empty local part"}},
		{"<alice@army.mil", []string{"missing >"}},
		{"Alice <alice@army.mil", []string{"missing >"}},
		{"alice@army.mil>", []string{"> without <"}},
		{"a..b@x.com", []string{"misplaced dot", "a..b"}},
		{".alice@x.com", []string{"misplaced dot"}},
		{"alice.@x.com", []string{"misplaced dot"}},
		{strings.Repeat("a", 65) + "@x.com", []string{"local part", "65 octets", "64"}},
		{`"` + strings.Repeat("a", 63) + `"@x.com`, []string{"local part", "65 octets", "64"}},
		{strings.Repeat("ä", 33) + "@x.com", []string{"local part", "66 octets", "64"}},
		{`"john@x.com`, []string{"unterminated quoted string"}},
		{`"a\`, []string{"unterminated quoted string"}},
		{`"a"b@x.com`, []string{"after its closing quote"}},
		{"\"a\x01\"@x.com", []string{"control character"}},
		{"a\x01b@x.com", []string{`'\x01'`, "local part"}},
		{"a b@x.com", []string{"' '", "local part"}},
		{"a@b@c.com", []string{`more than one @ in "a@b@c.com"`, "quoted string"}},
		{"@@x.com", []string{`more than one @ in "@@x.com"`}},
		{"@@", []string{`no domain after @ in "@@"`}},
		{"<@@>", []string{`no domain after @ in "@@"`}},
		{"a@b@", []string{`no domain after @ in "a@b@"`}},
		{"@", []string{`no domain after @ in "@"`}},
		{"alice@army.mil,bob@x.com", []string{"local part"}},
		{"<alice>", []string{"no @"}},
		{"Alice <alice@army.mil> Bob", []string{"unexpected text", "bob"}},
		{"Alice <alice@army.mil>, Bob <bob@x.com>", []string{"unexpected text"}},
		{"alice@[1.2.3.4]", []string{"address literal"}},
		{"<alice@[IPv6:::1]>", []string{"address literal"}},
		{"alice@1.2.3.4", []string{"ip address"}},
		{"alice@mil", []string{"single label"}},
		{"alice@army..mil", []string{"empty label"}},
		{"alice@-army.mil", []string{"hyphen"}},
		{"alice@army_1.mil", []string{"'_'"}},
		{"alice@\xffarmy.mil", []string{"utf-8"}},
		{"\xff", []string{"utf-8"}},
		{"alice@" + strings.Repeat("a", 64) + ".com", []string{"64 octets", "63"}},
		{strings.Repeat("a", MaxInput+1), []string{"4097 octets", "4096"}},
		{"alice@army.mil:25", []string{"':'"}},
		{"alice＠army.ml", []string{"'@'"}}, // a fullwidth at sign maps to '@' inside the domain
	}
	for _, tt := range tests {
		a, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", shorten(tt.in), a)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) error %v does not wrap ErrInvalid", shorten(tt.in), err)
		}
		if a != (Address{}) {
			t.Errorf("Parse(%q) returned %+v with its error", shorten(tt.in), a)
		}
		msg := strings.ToLower(err.Error())
		for _, w := range tt.want {
			if !strings.Contains(msg, strings.ToLower(w)) {
				t.Errorf("Parse(%q) error %q does not say %q", shorten(tt.in), err, w)
			}
		}
	}
}

// TestParseCommentAfterBareAddress: RFC 5322 allows a comment after an addr-spec that is
// not in angle brackets ("alice@army.mil (Alice)", the old From-line style) and before a
// display name. Parse accepts comments around <...> but not these: it says "character
// ' ' is not allowed in a domain name". That fails closed (the address is refused, not
// allowed), so it is not a leak, but it refuses addresses people do write.
func TestParseCommentAfterBareAddress(t *testing.T) {
	for _, in := range []string{"alice@army.mil (Alice)", "alice@army.mil(Alice)", "(Alice <x>) <alice@army.mil>"} {
		a, err := Parse(in)
		if err != nil || a.Local != "alice" || a.Domain.ASCII != "army.mil" {
			t.Errorf("Parse(%q) = %+v, %v; want alice@army.mil", in, a, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"alice@army.ml", "<alice@army.ml>", `"Smith, Alice" <alice@army.ml>`, `"john doe"@example.com`,
		"<@a,@b:u@h.example>", "army.ml", `"a@b"@x.com`, `"Smith <x@y.com>" <alice@army.ml>`,
		"Alice (c <d>) <alice@army.mil> (e)", "alice@", "@army.mil", "<alice@army.mil", "alice@army.mil>",
		"a..b@x.com", strings.Repeat("a", 65) + "@x.com", `"a\"@b"@x.com`, "<>", "alice@[1.2.3.4]",
		"jöran@bücher.de", "alice@ａｒｍｙ。ｍｉｌ", `"a\`, "alice@army.mil (Alice)", "@@", "a@b@c.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", s, err)
			}
			if a != (Address{}) {
				t.Fatalf("Parse(%q) returned %+v with an error", s, a)
			}
			return
		}
		if len(a.Local) > 64 {
			t.Fatalf("Parse(%q): local part %q has %d octets", s, a.Local, len(a.Local))
		}
		checkDomain(t, s, a.Domain)
		if a.IsDomain() {
			if d, err := ParseDomain(a.Domain.ASCII); err != nil || d != a.Domain {
				t.Fatalf("Parse(%q) = bare domain %+v; ParseDomain gives %+v, %v", s, a.Domain, d, err)
			}
		}
	})
}
